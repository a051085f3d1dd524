"""Builds the FastAPI app: settings and the app database on `app.state`, one router per
concept. Nothing here reads the environment: `jobping serve api` passes the settings in."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI

from jobping_dagster.api import accounts, feedback, jobs, notifications, web
from jobping_dagster.db.engine import get_engine
from jobping_dagster.settings import Settings


def create_app(settings: Settings, engine: sa.Engine | None = None) -> FastAPI:
    app = FastAPI(title="JobPing", summary="Job alerts matched to your own words.")
    app.state.settings = settings
    app.state.engine = engine if engine is not None else get_engine(settings.database_url)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for module in (accounts, jobs, notifications, feedback, web):
        app.include_router(module.router)
    return app
