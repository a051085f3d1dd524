"""`jobping serve api`, the command docker-compose.yml and `make prod-local` run: it refuses
to start without its secret, and otherwise serves the API and the page over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from jobping_dagster_tests.stack import free_port

JOBPING = str(Path(sys.executable).parent / "jobping")


def _env(pg_url: str, tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBPING_", "OPENAI_"))}
    return {
        **env,
        "JOBPING_HOME": str(tmp_path),
        "JOBPING_DATABASE_URL": pg_url,
        "JOBPING_LLM": "local",
        **extra,
    }


def _wait_until_healthy(base: str, process: subprocess.Popen, log: Path) -> httpx.Response:
    deadline = time.monotonic() + 90
    while True:
        try:
            return httpx.get(f"{base}/healthz", timeout=2)
        except httpx.TransportError:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the API did not start in 90 s"
            time.sleep(0.5)


def test_jobping_api_serves_the_embedded_default(tmp_path):
    """What `make dev` starts beside the Dagster UI: SQLite under JOBPING_HOME, a session
    secret generated there."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBPING_", "OPENAI_"))}
    env["JOBPING_HOME"] = str(tmp_path)
    log_path = tmp_path / "api.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [JOBPING, "api", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        try:
            health = _wait_until_healthy(f"http://127.0.0.1:{port}", process, log_path)
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert health.json() == {"status": "ok"}
    assert (tmp_path / "jobping.db").exists() and (tmp_path / "jwt_secret").exists()
    assert f"http://127.0.0.1:{port}/" in log_path.read_text()


@pytest.mark.postgres
def test_serve_api_refuses_to_start_without_its_secret(pg_url, tmp_path):
    done = subprocess.run(
        [JOBPING, "serve", "api", "--port", str(free_port())],
        env=_env(pg_url, tmp_path), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "JOBPING_JWT_SECRET is not set" in done.stderr


@pytest.mark.postgres
def test_serve_api_answers_over_http(pg_url, tmp_path):
    port = free_port()
    secret = "x" * 16 + "y" * 16
    env = _env(pg_url, tmp_path, JOBPING_JWT_SECRET=secret, JOBPING_COOKIE_SECURE="false")
    log = (tmp_path / "api.log").open("wb")
    process = subprocess.Popen(
        [JOBPING, "serve", "api", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = _wait_until_healthy(base, process, tmp_path / "api.log")
        assert health.json() == {"status": "ok"}
        assert "server" not in health.headers
        answer = httpx.post(
            f"{base}/api/register",
            json={"email": "ada@example.com", "password": "a long enough passphrase"},
        )
        assert answer.status_code == 201
        me = httpx.get(
            f"{base}/api/me", headers={"Authorization": f"Bearer {answer.json()['token']}"}
        )
        assert me.json()["email"] == "ada@example.com"
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "JobPing"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert secret not in (tmp_path / "api.log").read_text()
