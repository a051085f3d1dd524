"""`jobping serve ROLE`: checks what a production process needs, then becomes that process
(exec). docker-compose.yml, the Dockerfile and `make prod-local` start JobPing's processes
only through it, so the commands tested here are the ones that ship."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from jobping_dagster.preflight import StartupError, check_app, check_instance, check_workspace

# Dagster's processes, then the seekers' API and web page (uvicorn).
DAGSTER_ROLES = ("code-server", "daemon", "webserver")
ROLES = (*DAGSTER_ROLES, "api")
DEFINITIONS_MODULE = "jobping_dagster.definitions"
LOCATION_NAME = "jobping"
DEFAULT_PORTS = {"code-server": 4000, "webserver": 3000, "api": 8000}
API_FACTORY = "jobping_dagster.api.app:app_from_env"


def command(role: str, host: str, port: int | None, workspace: str) -> list[str]:
    """The Dagster command line for one role."""
    port = port or DEFAULT_PORTS.get(role)
    if role == "code-server":
        return [
            executable("dagster"), "code-server", "start",
            "--host", host, "--port", str(port),
            "--module-name", DEFINITIONS_MODULE, "--location-name", LOCATION_NAME,
            # Run workers start as `<this python> -m dagster`: no PATH needed.
            "--use-python-environment-entry-point",
        ]  # fmt: skip
    if role == "daemon":
        return [executable("dagster-daemon"), "run", "--workspace", workspace]
    if role == "webserver":
        return [
            executable("dagster-webserver"),
            "--host", host, "--port", str(port), "--workspace", workspace,
        ]  # fmt: skip
    if role == "api":
        return [
            executable("uvicorn"), "--factory", API_FACTORY,
            "--host", host, "--port", str(port), "--no-server-header",
        ]  # fmt: skip
    raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLES)})")


def executable(name: str) -> str:
    # Next to this interpreter first: `.venv/bin/jobping` works without an activated venv.
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def check(role: str, workspace: str, env: Mapping[str, str]) -> None:
    """Raises StartupError naming the setting that keeps `role` from starting."""
    if role == "api":
        # The API reads and writes the app database and launches runs through the
        # webserver: it needs the app's settings and a session-signing secret, not Dagster's.
        if not env.get("JOBPING_JWT_SECRET"):
            raise StartupError(
                "JOBPING_JWT_SECRET is not set: the API signs sessions with it "
                "(at least 32 characters, e.g. `openssl rand -hex 32`)"
            )
        check_app(env)
        return
    check_instance(env)
    if role == "code-server":
        # Sensors and run workers live in the code server's process tree: it alone needs
        # the app database and the OpenAI key.
        check_app(env)
        return
    check_workspace(workspace, env)


def serve(role: str, host: str, port: int | None, workspace: str) -> int:
    try:
        check(role, workspace, os.environ)
    except StartupError as error:
        print(f"jobping serve {role}: {error}", file=sys.stderr)
        return 2
    argv = command(role, host, port, workspace)
    sys.stdout.flush()
    os.execv(argv[0], argv)
    return 0  # not reached: exec replaces this process
