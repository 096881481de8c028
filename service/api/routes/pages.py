"""Pages for people: the playground at ``/`` and its assets, all served from the package.

The playground is plain HTML, CSS and JavaScript with no build step; it calls the public API
only, as any client would. /docs is fastapi-offline's (main.py); /redoc is served here from
the same package's ReDoc bundle.
"""

from __future__ import annotations

import functools
from importlib import resources

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.api.routes.ids import operation_id

router = APIRouter(include_in_schema=False, generate_unique_id_function=operation_id)

ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


@functools.cache
def _static(name: str) -> bytes:
    return resources.files("service.api").joinpath("static", name).read_bytes()


@router.get("/", response_class=HTMLResponse)
def playground() -> HTMLResponse:
    """Search, shape, plan and invert as forms, answers as tables and pictures."""
    return HTMLResponse(_static("playground.html"))


@router.get("/playground")
def playground_redirect() -> RedirectResponse:
    # Permanent: the playground moved to the home page; old links and bookmarks follow it.
    return RedirectResponse("/", status_code=308)


# ReDoc's sidebar always shows its maker's logo from their CDN; the bundle is served with that one
# address pointed at the service's own icon, so the page makes no outside request.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
OFFLINE_DOCS = "/static-offline-docs"  # where fastapi-offline mounts its assets


@functools.cache
def _redoc_bundle() -> bytes:
    bundle = resources.files("fastapi_offline").joinpath("static", "redoc.standalone.js").read_text("utf-8")
    return bundle.replace(REDOC_LOGO, f"{OFFLINE_DOCS}/favicon.png").encode()


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}/static/redoc.standalone.js",
        redoc_favicon_url=f"{root}{OFFLINE_DOCS}/favicon.png",
        with_google_fonts=False,
    )


@router.get("/static/redoc.standalone.js")
def redoc_bundle() -> Response:
    return Response(_redoc_bundle(), media_type=ASSETS["app.js"], headers={"Cache-Control": "no-cache"})


@router.get("/static/{name}")
def static_asset(name: str) -> Response:
    # A fixed list rather than a directory: nothing else in the package can be asked for.
    if name not in ASSETS:
        raise HTTPException(status_code=404, detail=f"no asset {name!r}")
    return Response(_static(name), media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
