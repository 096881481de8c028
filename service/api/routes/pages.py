"""Pages for people: the playground at ``/`` and its assets, all served from the package.

The playground is plain HTML, CSS and JavaScript with no build step; it calls the public API
only, as any client would. API docs (/docs, /redoc) are served offline by fastapi-offline
(see main.py).
"""

from __future__ import annotations

import functools
from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response

router = APIRouter(include_in_schema=False)

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


@router.get("/static/{name}")
def static_asset(name: str) -> Response:
    # A fixed list rather than a directory: nothing else in the package can be asked for.
    if name not in ASSETS:
        raise HTTPException(status_code=404, detail=f"no asset {name!r}")
    return Response(_static(name), media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
