"""What the routes need from the application: settings, the search budget and the verifier.

Plain functions of the request rather than FastAPI ``Depends``: each dependency FastAPI solves
costs a request about 15-20 µs here (three of them were an eighth of a default /v1/search), and
these only read ``app.state``, which ``create_app`` and the lifespan fill.
"""

from __future__ import annotations

from fastapi import Request

from service.api.config import Settings, get_settings
from service.solver.search import Budget
from service.worker import UnavailableVerifier, Verifier


def settings_of(request: Request) -> Settings:
    # create_app(settings) pins the app's settings; get_settings() is the process default.
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def budget_of(request: Request) -> Budget:
    settings = settings_of(request)
    return Budget(
        max_triples=settings.max_search_triples,
        max_options=settings.max_search_options,
        max_work=settings.max_search_work,
    )


def verifier_of(request: Request) -> Verifier:
    verifier = getattr(request.app.state, "verifier", None)
    # Without the lifespan (an app used without starting it) there is nothing to verify with.
    return verifier if verifier is not None else UnavailableVerifier("the server's lifespan did not start")
