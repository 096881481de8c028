"""One APIRouter per resource, gathered here.

``create_app`` includes each of them into the app itself: every level of included routers is
one more level of route matching on every request (FastAPI 0.165 matches included routers
recursively), which a single gathering router added for nothing.
"""

from fastapi import APIRouter

from service.api.routes import batch, invert, ops, pages, pictures, plan, search, shape, verify

ROUTERS: tuple[APIRouter, ...] = (
    shape.router,
    search.router,
    batch.router,
    invert.router,
    plan.router,
    verify.router,
    pictures.router,
    ops.router,
    pages.router,
)
