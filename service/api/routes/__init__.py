"""One APIRouter per resource, gathered here."""

from fastapi import APIRouter

from service.api.routes import batch, invert, ops, plan, search, shape, verify

api_router = APIRouter()
api_router.include_router(shape.router)
api_router.include_router(search.router)
api_router.include_router(batch.router)
api_router.include_router(invert.router)
api_router.include_router(plan.router)
api_router.include_router(verify.router)
api_router.include_router(ops.router)
