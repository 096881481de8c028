"""Annotated dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.api.config import Settings, get_settings
from service.solver.search import Budget


async def _settings(request: Request) -> Settings:
    # create_app(settings) pins the app's settings; get_settings() is the process default.
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


async def _budget(settings: Annotated[Settings, Depends(_settings)]) -> Budget:
    return Budget(max_triples=settings.max_search_triples, max_options=settings.max_search_options)


SettingsDep = Annotated[Settings, Depends(_settings)]
BudgetDep = Annotated[Budget, Depends(_budget)]
