"""The production configuration: what ships (docker-compose.yml, Dockerfile, deploy/) runs
the commands that `make prod-local` and the e2e test run, and the instance files agree."""

import json
import re
from pathlib import Path

import pytest
import yaml

from jobping_dagster.preflight import StartupError, env_references
from jobping_dagster.prod_local import serve_args
from jobping_dagster.serve import DAGSTER_ROLES, ROLES, check

ROOT = Path(__file__).resolve().parents[1]
PORTS = {"code-server": 4000, "webserver": 3000, "api": 8000}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _instance(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def test_compose_services_run_the_commands_prod_local_runs():
    services = _compose()["services"]
    for role in ROLES:
        expected = [
            "jobping",
            *serve_args(role, "0.0.0.0", PORTS.get(role), "deploy/workspace.yaml"),
        ]
        assert services[role]["command"] == expected, role


def test_the_image_starts_the_code_server_as_compose_does():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE).group(1))
    assert cmd == _compose()["services"]["code-server"]["command"]
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    assert "COPY sql ./sql" in dockerfile and "COPY deploy ./deploy" in dockerfile


def test_compose_gives_each_process_every_variable_its_config_reads():
    services = _compose()["services"]
    instance_vars = {name for name, _ in env_references(_instance("deploy/dagster.yaml"))}
    workspace_vars = {name for name, _ in env_references(_instance("deploy/workspace.yaml"))}
    for role in DAGSTER_ROLES:
        assert instance_vars <= set(services[role]["environment"]), role
    for role in ("daemon", "webserver"):
        assert workspace_vars <= set(services[role]["environment"]), role
    assert "JOBPING_DATABASE_URL" in services["code-server"]["environment"]
    assert "OPENAI_API_KEY" in services["code-server"]["environment"]
    # Secrets come from the operator's environment, never written in the file.
    text = (ROOT / "docker-compose.yml").read_text()
    assert "DAGSTER_PG_PASSWORD: ${POSTGRES_PASSWORD:?" in text
    assert "JOBPING_JWT_SECRET: ${JOBPING_JWT_SECRET:?" in text


def test_the_api_has_what_its_own_check_needs():
    api = _compose()["services"]["api"]["environment"]
    assert {"JOBPING_DATABASE_URL", "JOBPING_JWT_SECRET", "JOBPING_DAGSTER_GRAPHQL_URL"} <= set(api)
    assert api["JOBPING_DAGSTER_GRAPHQL_URL"].startswith("http://webserver:3000/")
    assert "DAGSTER_PG_PASSWORD" not in api, "the API reaches Dagster only through GraphQL"
    with pytest.raises(StartupError, match="JOBPING_JWT_SECRET"):
        check("api", "deploy/workspace.yaml", {"JOBPING_LLM": "local"})


def test_the_ecs_instance_is_the_production_instance_with_runs_on_ecs():
    local = _instance("deploy/dagster.yaml")
    ecs = _instance("deploy/ecs/dagster.yaml")
    assert ecs["run_launcher"]["class"] == "EcsRunLauncher"
    # Locally runs are subprocesses of the code server, whose health the launcher checks.
    assert local["run_launcher"]["class"] == "HealthCheckedRunLauncher"
    ecs_runs, local_runs = ecs["concurrency"].pop("runs"), local["concurrency"].pop("runs")
    assert ecs_runs["max_concurrent_runs"] >= local_runs["max_concurrent_runs"]
    del ecs["run_launcher"], local["run_launcher"]
    assert ecs == local


def test_production_instance_keeps_the_reliability_settings():
    instance = _instance("deploy/dagster.yaml")
    postgres = instance["storage"]["postgres"]["postgres_db"]
    assert postgres["scheme"] == "postgresql+psycopg2"
    assert postgres["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    assert instance["run_retries"]["retry_on_asset_or_op_failure"] is False
    assert instance["run_monitoring"]["max_runtime_seconds"] > 0
    assert instance["run_monitoring"]["free_slots_after_run_end_seconds"] > 0
    assert instance["concurrency"]["pools"]["default_limit"] >= 1
