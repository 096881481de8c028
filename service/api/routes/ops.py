"""Operations: liveness, readiness, service information."""

import platform

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service import __version__
from service.api.deps import settings_of, verifier_of
from service.api.routes.ids import operation_id
from service.http.metrics import WORKER_AVAILABLE, metrics_response
from service.http.responses import ModelResponse
from service.http.routing import OrjsonRoute
from service.solver import limits
from service.solver.ranking import OBJECTIVES
from service.wire.schemas import HealthResponse, InfoResponse, ObjectiveOut, ReadyResponse

LATENCY_DESCRIPTION = (
    "Fastest first, as measured on the verification worker (median forward time for the request's "
    "channel context); needs a worker."
)

router = APIRouter(tags=["ops"], route_class=OrjsonRoute, generate_unique_id_function=operation_id)


# Encoded once: liveness probes and load balancers call this more than anything else.
_HEALTHY = b'{"status":"ok"}'


@router.get(
    "/healthz",
    summary="Liveness: the process answers; checks no dependency",
    response_model=HealthResponse,
    response_class=ModelResponse,
)
async def healthz() -> ModelResponse:
    return ModelResponse(_HEALTHY)


@router.get("/readyz", summary="Readiness: ready to serve; reports the verification worker")
async def readyz(http: Request) -> ReadyResponse:
    # The solver has no dependencies, so the API is ready; verification is reported, not required.
    worker = await verifier_of(http).describe()
    WORKER_AVAILABLE.set(1 if worker.get("available") else 0)
    return ReadyResponse(status="ready", worker=worker)


@router.get("/v1/info", summary="Versions, limits, objectives and the verification worker")
async def info(http: Request) -> InfoResponse:
    settings = settings_of(http)
    caps = {
        name.lower(): value
        for name, value in vars(limits).items()
        if name.startswith("MAX_") and isinstance(value, int)
    }
    caps["max_search_triples"] = settings.max_search_triples
    caps["max_search_options"] = settings.max_search_options
    caps["max_latency_candidates"] = settings.max_latency_candidates
    worker = await verifier_of(http).describe()
    return InfoResponse(
        service="tconv",
        version=__version__,
        api_version="v1",
        python=platform.python_version() if settings.expose_internals else "hidden",
        limits=caps,
        objectives=[
            *(ObjectiveOut(name=o.name, description=o.description) for o in OBJECTIVES.values()),
            ObjectiveOut(
                name="latency", description=LATENCY_DESCRIPTION, available=bool(worker["available"])
            ),
        ],
        verification=worker,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (text format)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format."}},
)
def metrics(request: Request) -> Response:
    """Per-route request counts and latency histograms, search space sizes, candidates returned,
    verification latency and outcomes, and worker availability (as of the last /readyz)."""
    return metrics_response(request)
