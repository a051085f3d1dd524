"""The one place that reads the environment and decides local vs production behaviour."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jobping_dagster.users.validation import parse_allowed_hosts

JOB_SOURCES = ("sample", "jobspy")
LLM_BACKENDS = ("openai", "local")


class InvalidConfiguration(ValueError):
    """A setting has a value JobPing cannot use; the message names the variable."""


def _list(value: str | None, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    if not value:
        return default
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _allowed_hosts(value: str | None) -> tuple[str, ...]:
    try:
        return tuple(sorted(parse_allowed_hosts(value)))
    except ValueError as error:
        raise InvalidConfiguration(f"JOBPING_WEBHOOK_ALLOWED_HOSTS: {error}") from None


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    return _number(environ, name, default, low, high, int, "a whole number")


def _float(environ: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    return _number(environ, name, default, low, high, float, "a number")


def _number(environ, name: str, default, low, high, kind: type, what: str):
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InvalidConfiguration(f"{name} must be {what} (got {raw!r})") from None
    if not low <= value <= high:
        raise InvalidConfiguration(f"{name} must be between {low:g} and {high:g} (got {raw})")
    return value


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    # True when the URL came from JOBPING_DATABASE_URL: it may hold a password, so the
    # definitions pass it as an EnvVar instead of a literal.
    database_url_from_env: bool
    job_source: str
    jobspy_sites: tuple[str, ...]
    search_terms: tuple[str, ...]
    location: str | None
    results_wanted: int
    hours_old: int
    # "openai" or "local": the local scorer and researcher need no key and no network.
    llm: str
    openai_model: str
    openai_base_url: str | None
    webhook_allowed_hosts: tuple[str, ...]
    scrape_cron: str
    llm_concurrency: int
    sensor_interval_seconds: int
    # The pre-filter cascade (see matching/cascade.py) and the fan-out's bounds.
    prefilter_user_share: float
    prefilter_max_per_user: int
    prefilter_max_users_per_posting: int
    prefilter_shadow_rate: float
    prefilter_min_relevance: float
    pair_retention_days: int
    max_active_match_runs: int

    @property
    def openai_enabled(self) -> bool:
        return self.llm == "openai"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("JOBPING_HOME") or ".jobping").resolve()
        db_url = env.get("JOBPING_DATABASE_URL") or ""
        source = (env.get("JOBPING_JOB_SOURCE") or "sample").strip().lower()
        if source not in JOB_SOURCES:
            raise InvalidConfiguration(
                f"JOBPING_JOB_SOURCE must be one of {', '.join(JOB_SOURCES)} (got {source!r})"
            )
        llm = env.get("JOBPING_LLM") or ("openai" if env.get("OPENAI_API_KEY") else "local")
        llm = llm.strip().lower()
        if llm not in LLM_BACKENDS:
            raise InvalidConfiguration(
                f"JOBPING_LLM must be one of {', '.join(LLM_BACKENDS)} (got {llm!r})"
            )
        if llm == "openai" and not env.get("OPENAI_API_KEY"):
            raise InvalidConfiguration("OPENAI_API_KEY is not set (JOBPING_LLM=openai needs it)")
        return cls(
            home=home,
            database_url=db_url or f"sqlite:///{home / 'jobping.db'}",
            database_url_from_env=bool(db_url),
            job_source=source,
            jobspy_sites=_list(env.get("JOBPING_JOBSPY_SITES"), ("indeed", "linkedin")),
            search_terms=_list(env.get("JOBPING_SEARCH_TERMS"), ("software engineer",)),
            location=env.get("JOBPING_LOCATION") or None,
            results_wanted=_int(env, "JOBPING_RESULTS_WANTED", 50, 1, 1000),
            hours_old=_int(env, "JOBPING_HOURS_OLD", 24, 1, 24 * 30),
            llm=llm,
            openai_model=env.get("JOBPING_OPENAI_MODEL") or "gpt-4o-mini",
            openai_base_url=env.get("OPENAI_BASE_URL") or None,
            webhook_allowed_hosts=_allowed_hosts(env.get("JOBPING_WEBHOOK_ALLOWED_HOSTS")),
            scrape_cron=env.get("JOBPING_SCRAPE_CRON") or "0 * * * *",
            llm_concurrency=_int(env, "JOBPING_LLM_CONCURRENCY", 4, 1, 64),
            sensor_interval_seconds=sensor_interval_seconds(env),
            prefilter_user_share=_float(env, "JOBPING_PREFILTER_USER_SHARE", 0.08, 0.001, 1.0),
            prefilter_max_per_user=_int(env, "JOBPING_PREFILTER_MAX_PER_USER", 40, 1, 100_000),
            prefilter_max_users_per_posting=_int(
                env, "JOBPING_PREFILTER_MAX_USERS_PER_POSTING", 100, 1, 10_000_000
            ),
            prefilter_shadow_rate=_float(env, "JOBPING_PREFILTER_SHADOW_RATE", 0.002, 0.0, 1.0),
            prefilter_min_relevance=_float(
                env, "JOBPING_PREFILTER_MIN_RELEVANCE", 0.015, 0.0, 0.99
            ),
            pair_retention_days=_int(env, "JOBPING_PAIR_RETENTION_DAYS", 14, 1, 3650),
            max_active_match_runs=_int(env, "JOBPING_MAX_ACTIVE_MATCH_RUNS", 8, 1, 1000),
        )


def sensor_interval_seconds(environ: Mapping[str, str] | None = None) -> int:
    """How often each sensor looks for new work: the latency from a scrape to a
    notification is a few of these. Read when the sensors are defined."""
    env = os.environ if environ is None else environ
    return _int(env, "JOBPING_SENSOR_INTERVAL_SECONDS", 30, 5, 3600)
