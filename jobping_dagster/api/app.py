"""Builds the FastAPI app: settings, the app database, the LLM (to read wishes) and the
rate limits on `app.state`, one router per concept. Nothing here reads the environment but
`app_from_env`, the factory `jobping serve api` gives uvicorn."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from jobping_dagster.api import (
    accounts,
    errors,
    feedback,
    jobs,
    notifications,
    tokens,
    unsubscribe,
    web,
)
from jobping_dagster.api.dagster_runs import launch_pair_run
from jobping_dagster.api.rate_limit import SlidingWindow
from jobping_dagster.api.security import BodyLimit, SecurityHeaders
from jobping_dagster.db.engine import get_engine
from jobping_dagster.llm.resources import llm_outside_dagster
from jobping_dagster.settings import Settings

# Above any field's limit: a 1 MB prompt is read and refused naming the field.
MAX_BODY_BYTES = 2 * 1024 * 1024
# Guessing: 5 wrong passwords per address in 15 minutes, 30 logins per client IP a minute.
LOGIN_FAILURES_PER_EMAIL = (5, 15 * 60)
LOGINS_PER_IP = (30, 60)
REGISTRATIONS_PER_IP = (20, 60 * 60)
# Each on-demand score is an LLM call.
ON_DEMAND_SCORES_PER_USER = (30, 60 * 60)


def create_app(settings: Settings, engine: sa.Engine | None = None) -> FastAPI:
    app = FastAPI(
        title="JobPing",
        summary="Job alerts matched to your own words.",
        description="Sign up or log in for a token; send it as `Authorization: Bearer …`. "
        "The web page at / uses an HttpOnly cookie and an X-CSRF-Token header instead.",
    )
    state = app.state
    state.settings = settings
    state.engine = engine if engine is not None else get_engine(settings.database_url)
    state.jwt_secret = tokens.signing_secret(settings)
    state.llm = llm_outside_dagster(settings)
    state.login_failures_by_email = SlidingWindow(*LOGIN_FAILURES_PER_EMAIL)
    state.login_by_ip = SlidingWindow(*LOGINS_PER_IP)
    state.register_by_ip = SlidingWindow(*REGISTRATIONS_PER_IP)
    state.score_by_user = SlidingWindow(*ON_DEMAND_SCORES_PER_USER)
    state.launch_pair_run = launch_pair_run

    @app.get("/healthz", tags=["health"], responses={503: {"description": "database down"}})
    def healthz() -> JSONResponse:
        """For the container's health check: the app database answers."""
        try:
            with state.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.SQLAlchemyError:
            return JSONResponse({"status": "the app database is unreachable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    errors.install(app)
    for module in (accounts, jobs, notifications, feedback, unsubscribe, web):
        app.include_router(module.router)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    return app


def app_from_env() -> FastAPI:
    return create_app(Settings.from_env())
