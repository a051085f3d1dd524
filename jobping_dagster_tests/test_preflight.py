"""Start-up checks of the production processes: one clear message naming the setting, no
stack trace, no secret."""

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from jobping_dagster.preflight import StartupError, check_app, check_instance, env_references
from jobping_dagster.serve import check, command

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "s3cret-pw-1234"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def dagster_home(tmp_path) -> Path:
    shutil.copy(ROOT / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    return tmp_path


def _instance_env(home: Path, **overrides) -> dict:
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": "postgres",
    }
    env.update(overrides)
    return env


def test_env_references_lists_every_variable_with_its_place():
    config = {"storage": {"postgres": {"postgres_db": {"hostname": {"env": "H"}, "port": 5}}}}
    assert list(env_references(config)) == [("H", "storage.postgres.postgres_db.hostname")]


def test_missing_dagster_home_is_named(tmp_path):
    with pytest.raises(StartupError, match="DAGSTER_HOME is not set"):
        check_instance({})
    with pytest.raises(StartupError, match="holds no dagster.yaml"):
        check_instance({"DAGSTER_HOME": str(tmp_path)})


def test_each_missing_instance_variable_is_named(dagster_home):
    env = _instance_env(dagster_home)
    del env["DAGSTER_PG_HOST"], env["DAGSTER_PG_PASSWORD"]
    with pytest.raises(StartupError) as error:
        check_instance(env)
    message = str(error.value)
    assert "DAGSTER_PG_HOST is not set (needed by storage.postgres.postgres_db.hostname" in message
    assert "DAGSTER_PG_PASSWORD is not set" in message


def test_unreachable_dagster_postgres_names_the_settings_and_hides_the_password(dagster_home):
    env = _instance_env(
        dagster_home, DAGSTER_PG_PORT=str(_closed_port()), DAGSTER_PG_PASSWORD=PASSWORD
    )
    with pytest.raises(StartupError) as error:
        check_instance(env)
    message = str(error.value)
    assert message.startswith("cannot reach Dagster's PostgreSQL")
    assert "DAGSTER_PG_HOST, DAGSTER_PG_PASSWORD, DAGSTER_PG_PORT" in message
    assert PASSWORD not in message


@pytest.mark.postgres
def test_reachable_dagster_postgres_passes(dagster_home, pg_admin_engine):
    check_instance(_instance_env(dagster_home))


def test_production_wants_openai_or_an_explicit_local_scorer():
    with pytest.raises(StartupError, match="OPENAI_API_KEY is not set"):
        check_app({"JOBPING_DATABASE_URL": "postgresql://u@127.0.0.1/db"})
    with pytest.raises(StartupError, match="OPENAI_API_KEY is not set"):
        check_app({"JOBPING_LLM": "openai", "JOBPING_DATABASE_URL": "postgresql://u@h/db"})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, "JOBPING_DATABASE_URL is not set"),
        ("sqlite:///tmp/jobping.db", "JOBPING_DATABASE_URL must be a PostgreSQL URL"),
        ("not a url", "JOBPING_DATABASE_URL is not a database URL"),
    ],
)
def test_production_app_database_must_be_postgresql(url, expected):
    env = {"JOBPING_LLM": "local"}
    if url:
        env["JOBPING_DATABASE_URL"] = url
    with pytest.raises(StartupError, match=expected):
        check_app(env)


def test_unreachable_app_database_names_the_setting_and_hides_the_password():
    url = f"postgresql://jobping:{PASSWORD}@127.0.0.1:{_closed_port()}/jobping"
    with pytest.raises(StartupError) as error:
        check_app({"JOBPING_LLM": "local", "JOBPING_DATABASE_URL": url})
    assert "(JOBPING_DATABASE_URL)" in str(error.value)
    assert PASSWORD not in str(error.value)


def test_invalid_setting_is_reported_by_name(pg_url):
    env = {"JOBPING_LLM": "local", "JOBPING_DATABASE_URL": pg_url, "JOBPING_HOURS_OLD": "soon"}
    with pytest.raises(StartupError, match="JOBPING_HOURS_OLD must be a whole number"):
        check_app(env)


@pytest.mark.postgres
def test_reachable_app_database_is_migrated(pg_url):
    settings = check_app({"OPENAI_API_KEY": "fake-key", "JOBPING_DATABASE_URL": pg_url})
    assert settings.openai_enabled
    with sa.create_engine(pg_url).connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def test_daemon_and_webserver_need_the_workspace_variables(dagster_home, pg_admin_engine):
    env = _instance_env(dagster_home)
    workspace = str(ROOT / "deploy" / "workspace.yaml")
    with pytest.raises(StartupError, match="JOBPING_CODE_SERVER_HOST is not set"):
        check("daemon", workspace, env)
    with pytest.raises(StartupError, match="workspace file nowhere.yaml does not exist"):
        check("webserver", "nowhere.yaml", env)
    check(
        "webserver",
        workspace,
        {**env, "JOBPING_CODE_SERVER_HOST": "127.0.0.1", "JOBPING_CODE_SERVER_PORT": "4000"},
    )


def test_commands_are_the_dagster_processes():
    assert command("daemon", "0.0.0.0", None, "w.yaml")[1:] == ["run", "--workspace", "w.yaml"]
    code_server = command("code-server", "0.0.0.0", None, "w.yaml")
    assert code_server[1:7] == ["code-server", "start", "--host", "0.0.0.0", "--port", "4000"]
    assert "jobping_dagster.definitions" in code_server
    webserver = command("webserver", "127.0.0.1", 3001, "w.yaml")
    assert webserver[1:] == ["--host", "127.0.0.1", "--port", "3001", "--workspace", "w.yaml"]


def test_serve_stops_with_one_line_and_status_2(tmp_path):
    jobping = str(Path(sys.executable).parent / "jobping")
    env = {"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [jobping, "serve", "daemon"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"jobping serve daemon: DAGSTER_HOME={tmp_path} holds no dagster.yaml "
        "(copy deploy/dagster.yaml there)"
    ]


def test_ecs_instance_needs_the_variables_it_passes_to_runs(tmp_path):
    shutil.copy(ROOT / "deploy" / "ecs" / "dagster.yaml", tmp_path / "dagster.yaml")
    env = _instance_env(
        tmp_path, JOBPING_ECS_EXECUTION_ROLE_ARN="arn:role", JOBPING_ECS_LOG_GROUP="/ecs/jp"
    )
    with pytest.raises(StartupError, match="JOBPING_JOB_SOURCE, .* not set .*env_vars"):
        check_instance(env)
