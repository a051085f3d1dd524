"""Start-up checks for the production processes. A missing secret, a wrong URL or an
unreachable PostgreSQL stops start-up with one message naming the setting, instead of a
stack trace from deep inside Dagster or the database driver."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from dagster_postgres.utils import pg_url_from_config

from jobping_dagster.db.engine import (
    DatabaseUnavailable,
    describe_url,
    driver_reason,
    get_engine,
    normalize_url,
)
from jobping_dagster.settings import InvalidConfiguration, Settings

CONNECT_TIMEOUT_SECONDS = 5


class StartupError(RuntimeError):
    """A production process cannot start; the message names the setting to fix."""


def env_references(config: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(variable, dotted path) for every `{env: VARIABLE}` in an instance config."""
    if isinstance(config, Mapping):
        if set(config) == {"env"}:
            yield str(config["env"]), where
            return
        for key, value in config.items():
            yield from env_references(value, f"{where}.{key}" if where else str(key))
    elif isinstance(config, list):
        for index, value in enumerate(config):
            yield from env_references(value, f"{where}[{index}]")


def _resolve(config: Any, env: Mapping[str, str]) -> Any:
    if isinstance(config, Mapping):
        if set(config) == {"env"}:
            return env[config["env"]]
        return {key: _resolve(value, env) for key, value in config.items()}
    if isinstance(config, list):
        return [_resolve(value, env) for value in config]
    return config


def check_instance(env: Mapping[str, str]) -> None:
    """DAGSTER_HOME holds a dagster.yaml whose variables are all set, and its PostgreSQL
    storage answers."""
    home = env.get("DAGSTER_HOME")
    if not home:
        raise StartupError("DAGSTER_HOME is not set (the folder holding the dagster.yaml)")
    path = Path(home) / "dagster.yaml"
    if not path.is_file():
        raise StartupError(
            f"DAGSTER_HOME={home} holds no dagster.yaml (copy deploy/dagster.yaml there)"
        )
    config = _load_config(path, env)
    # The ECS launcher copies these from this process into every run, and refuses a run
    # while one is missing: better to refuse now.
    launcher = (config.get("run_launcher") or {}).get("config") or {}
    unset = [name for name in launcher.get("env_vars") or [] if "=" not in name and name not in env]
    if unset:
        raise StartupError(
            f"{', '.join(unset)} not set (needed by run_launcher.config.env_vars in {path})"
        )
    postgres = (config.get("storage") or {}).get("postgres")
    if postgres:
        names = sorted({name for name, _ in env_references(postgres)})
        _check_reachable(pg_url_from_config(_resolve(postgres, env)), ", ".join(names))


def check_workspace(path: str, env: Mapping[str, str]) -> None:
    if not Path(path).is_file():
        raise StartupError(f"workspace file {path} does not exist")
    _load_config(Path(path), env)


def _load_config(path: Path, env: Mapping[str, str]) -> dict:
    """The YAML file, once every variable it reads through `env:` is known to be set."""
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise StartupError(f"{path} is not valid YAML: {error}") from None
    missing = [(name, where) for name, where in env_references(config) if name not in env]
    if missing:
        raise StartupError(
            "; ".join(f"{name} is not set (needed by {where} in {path})" for name, where in missing)
        )
    return config


def _check_reachable(url: str, settings: str) -> None:
    engine = sa.create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    try:
        with engine.connect():
            pass
    except sa.exc.SQLAlchemyError as error:
        raise StartupError(
            f"cannot reach Dagster's PostgreSQL {describe_url(url)} ({settings}): "
            f"{driver_reason(error)}"
        ) from None
    finally:
        engine.dispose()


def check_app(env: Mapping[str, str]) -> Settings:
    """Settings are valid, OpenAI is configured (or the local scorer chosen on purpose),
    and the app database is PostgreSQL, reachable and migrated."""
    if not env.get("OPENAI_API_KEY") and not env.get("JOBPING_LLM"):
        raise StartupError(
            "OPENAI_API_KEY is not set: production scores with OpenAI "
            "(set JOBPING_LLM=local to use the local scorer on purpose)"
        )
    try:
        settings = Settings.from_env(env)
    except InvalidConfiguration as error:
        raise StartupError(str(error)) from None
    if not settings.database_url_from_env:
        raise StartupError(
            "JOBPING_DATABASE_URL is not set: production keeps the app database on PostgreSQL"
        )
    try:
        backend = sa.make_url(normalize_url(settings.database_url)).get_backend_name()
    except sa.exc.ArgumentError:
        raise StartupError(
            "JOBPING_DATABASE_URL is not a database URL "
            "(expected postgresql://user:password@host:5432/db)"
        ) from None
    if backend != "postgresql":
        raise StartupError(
            f"JOBPING_DATABASE_URL must be a PostgreSQL URL in production "
            f"(got {describe_url(settings.database_url)})"
        )
    try:
        # Connecting migrates; the pool is then closed so no socket outlives the exec.
        get_engine(settings.database_url).dispose()
    except DatabaseUnavailable as error:
        raise StartupError(str(error)) from None
    return settings
