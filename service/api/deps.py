"""Annotated dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.api.config import Settings, get_settings
from service.solver.search import Budget
from service.worker import UnavailableVerifier, Verifier


async def _settings(request: Request) -> Settings:
    # create_app(settings) pins the app's settings; get_settings() is the process default.
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


async def _budget(settings: Annotated[Settings, Depends(_settings)]) -> Budget:
    return Budget(max_triples=settings.max_search_triples, max_options=settings.max_search_options)


SettingsDep = Annotated[Settings, Depends(_settings)]
BudgetDep = Annotated[Budget, Depends(_budget)]


async def _verifier(request: Request) -> Verifier:
    verifier = getattr(request.app.state, "verifier", None)
    # Without the lifespan (an app used without starting it) there is nothing to verify with.
    return verifier if verifier is not None else UnavailableVerifier("the server's lifespan did not start")


VerifierDep = Annotated[Verifier, Depends(_verifier)]
