"""The seeker API under test: the real app over HTTP (FastAPI's test client, httpx) on a
real app database, and sign-up in one call."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from jobping_dagster.api.app import create_app
from jobping_dagster.settings import Settings

PASSWORD = "a long enough passphrase"
WEBHOOK = "https://discord.com/api/webhooks/123456789012345678/example-token-for-tests"


def api_client(engine: sa.Engine, home: Path, **env: str) -> TestClient:
    settings = Settings.from_env({"JOBPING_HOME": str(home), "JOBPING_LLM": "local", **env})
    return TestClient(create_app(settings, engine))


def sign_up(client: TestClient, email: str, **fields) -> dict:
    """Registers `email`; returns bearer headers. The client also keeps the cookies."""
    answer = client.post("/api/register", json={"email": email, "password": PASSWORD, **fields})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def csrf_headers(client: TestClient) -> dict:
    return {"X-CSRF-Token": client.cookies.get("jobping_csrf")}
