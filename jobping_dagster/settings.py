"""The one place that reads the environment and decides local vs production behaviour: read
once, typed, and passed in (nothing reads os.environ at import time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from jobping_dagster.llm.prices import DEFAULT_PRICES, Price, parse_prices
from jobping_dagster.users.validation import parse_allowed_hosts

JOB_SOURCES = ("sample", "jobspy")
LLM_BACKENDS = ("openai", "local")
SMTP_TLS_MODES = ("starttls", "ssl", "none")
BATCH_API_MODES = ("off", "shadow", "non-urgent")


class InvalidConfiguration(ValueError):
    """A setting has a value JobPing cannot use; the message names the variable."""


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _choice(choices: tuple[str, ...]):
    def check(value: Any) -> Any:
        word = str(value).strip().lower()
        if word not in choices:
            raise ValueError(f"must be one of {', '.join(choices)} (got {word!r})")
        return word

    return BeforeValidator(check)


def _prices(value: Any) -> Any:
    if isinstance(value, str):
        return parse_prices(value)
    return value


def _allowed_hosts(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return tuple(sorted(parse_allowed_hosts(value)))
        except ValueError as error:
            raise ValueError(f"is not a list of host[:port] entries: {error}") from None
    return value


CommaList = Annotated[tuple[str, ...], BeforeValidator(_comma_list)]


def _env(name: str, default: Any = None, **bounds: Any) -> Any:
    return Field(default, validation_alias=AliasChoices(name), **bounds)


class Settings(BaseSettings):
    # Only what from_env passes in: it reads the variables, from os.environ or from the
    # mapping a caller gives (tests, the ECS deploy check), so the two never mix.
    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=True)

    home: Path = _env("JOBPING_HOME", Path(".jobping"))
    # Unset: SQLite under home (see database_url). It may hold a password, so the
    # definitions pass it as an EnvVar instead of a literal.
    database_url_setting: SecretStr | None = _env("JOBPING_DATABASE_URL")
    job_source: Annotated[str, _choice(JOB_SOURCES)] = _env("JOBPING_JOB_SOURCE", "sample")
    jobspy_sites: CommaList = _env("JOBPING_JOBSPY_SITES", ("indeed", "linkedin"))
    search_terms: CommaList = _env("JOBPING_SEARCH_TERMS", ("software engineer",))
    location: str | None = _env("JOBPING_LOCATION")
    results_wanted: int = _env("JOBPING_RESULTS_WANTED", 50, ge=1, le=1000)
    hours_old: int = _env("JOBPING_HOURS_OLD", 24, ge=1, le=24 * 30)
    # "openai" or "local": the local scorer and researcher need no key and no network.
    # Unset: openai when OPENAI_API_KEY is set (see _default_llm).
    llm: Annotated[str, _choice(LLM_BACKENDS)] = _env("JOBPING_LLM", "local")
    # Only checked for: the OpenAI resource reads it as a Dagster EnvVar, so no run config
    # or snapshot ever holds it.
    openai_api_key: SecretStr | None = _env("OPENAI_API_KEY")
    openai_model: str = _env("JOBPING_OPENAI_MODEL", "gpt-4o-mini")
    openai_base_url: str | None = _env("OPENAI_BASE_URL")
    # USD per million tokens per model, "model=input/cached/output, ...": the cost ledger's
    # dollars and the users' monthly budgets (llm/prices.py).
    llm_prices: Annotated[dict[str, Price], BeforeValidator(_prices)] = _env(
        "JOBPING_LLM_PRICES", DEFAULT_PRICES
    )
    webhook_allowed_hosts: Annotated[tuple[str, ...], BeforeValidator(_allowed_hosts)] = _env(
        "JOBPING_WEBHOOK_ALLOWED_HOSTS", ()
    )
    # Signs the seekers' session tokens (api/tokens.py): required when JOBPING_DATABASE_URL
    # is set; unset otherwise, one is generated and kept under home.
    jwt_secret: SecretStr | None = _env("JOBPING_JWT_SECRET")
    session_hours: int = _env("JOBPING_SESSION_HOURS", 24, ge=1, le=24 * 30)
    # Session cookies only over https; unset: on in production (JOBPING_DATABASE_URL set).
    cookie_secure: bool | None = _env("JOBPING_COOKIE_SECURE")
    scrape_cron: str = _env("JOBPING_SCRAPE_CRON", "0 * * * *")
    # The first day of the scraped_jobs partitions. Unset: the day JobPing was installed
    # under home (see postings/partitions.py).
    scrape_start_date: date | None = _env("JOBPING_SCRAPE_START_DATE")
    llm_concurrency: int = _env("JOBPING_LLM_CONCURRENCY", 4, ge=1, le=64)
    # How often each sensor looks for new work: the latency from a scrape to a
    # notification is a few of these.
    sensor_interval_seconds: int = _env("JOBPING_SENSOR_INTERVAL_SECONDS", 30, ge=5, le=3600)
    # The pre-filter cascade (see matching/cascade.py) and the fan-out's bounds.
    prefilter_user_share: float = _env("JOBPING_PREFILTER_USER_SHARE", 0.08, ge=0.001, le=1.0)
    prefilter_max_per_user: int = _env("JOBPING_PREFILTER_MAX_PER_USER", 40, ge=1, le=100_000)
    prefilter_max_users_per_posting: int = _env(
        "JOBPING_PREFILTER_MAX_USERS_PER_POSTING", 100, ge=1, le=10_000_000
    )
    prefilter_shadow_rate: float = _env("JOBPING_PREFILTER_SHADOW_RATE", 0.002, ge=0.0, le=1.0)
    prefilter_min_relevance: float = _env("JOBPING_PREFILTER_MIN_RELEVANCE", 0.015, ge=0.0, le=0.99)
    pair_retention_days: int = _env("JOBPING_PAIR_RETENTION_DAYS", 14, ge=1, le=3650)
    max_active_match_runs: int = _env("JOBPING_MAX_ACTIVE_MATCH_RUNS", 8, ge=1, le=1000)
    # Pairs scored through OpenAI's Batch API at half price, hours later: off, shadow (the
    # shadow sample) or non-urgent (shadow pairs and backfills: pairs of past days).
    # Only with OpenAI; the local scorer scores everything the instant way.
    batch_api: Annotated[str, _choice(BATCH_API_MODES)] = _env("JOBPING_BATCH_API", "off")
    # The Dagster webserver's GraphQL endpoint, where the API launches "score this now" runs.
    dagster_graphql_url: str = _env("JOBPING_DAGSTER_GRAPHQL_URL", "http://127.0.0.1:3000/graphql")
    # Email delivery (notify/email.py), read where delivery runs (the code server). Unset
    # host: the email channel is not available and its notifications fail with that reason.
    smtp_host: str | None = _env("JOBPING_SMTP_HOST")
    smtp_port: int = _env("JOBPING_SMTP_PORT", 587, ge=1, le=65535)
    smtp_username: str | None = _env("JOBPING_SMTP_USERNAME")
    smtp_password: SecretStr | None = _env("JOBPING_SMTP_PASSWORD")
    # starttls (port 587), ssl (implicit TLS, port 465) or none (a relay on localhost only).
    smtp_tls: Annotated[str, _choice(SMTP_TLS_MODES)] = _env("JOBPING_SMTP_TLS", "starttls")
    smtp_from: str = _env("JOBPING_SMTP_FROM", "JobPing <jobping@localhost>")
    # Where seekers reach the API: the emails' unsubscribe links point there.
    public_url: str = _env("JOBPING_PUBLIC_URL", "http://127.0.0.1:8000")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings from the environment (os.environ unless a mapping is given). An
        empty variable means its default. Raises InvalidConfiguration naming the variable."""
        env = os.environ if environ is None else environ
        values = {}
        for name in variable_names():
            raw = env.get(name)
            if raw:
                values[name] = raw
        try:
            return cls(**values)
        except ValidationError as error:
            raise InvalidConfiguration(describe(error.errors()[0], values)) from None

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return secret

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, url: str) -> str:
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")) or " " in url:
            raise ValueError(f"must be an http(s):// URL (got {url!r})")
        return url

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, home: Path) -> Path:
        return home.resolve()

    @field_validator("scrape_start_date", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"must be a date as YYYY-MM-DD (got {value!r})") from None
        if isinstance(value, date) and value > datetime.now(UTC).date():
            raise ValueError(f"must not be in the future (got {value.isoformat()})")
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_llm(cls, values: Any) -> Any:
        if isinstance(values, dict) and not values.get("JOBPING_LLM"):
            values = {
                **values,
                "JOBPING_LLM": "openai" if values.get("OPENAI_API_KEY") else "local",
            }
        return values

    @model_validator(mode="after")
    def _openai_needs_its_key(self) -> Settings:
        if self.llm == "openai" and self.openai_api_key is None:
            raise ValueError("OPENAI_API_KEY is not set (JOBPING_LLM=openai needs it)")
        return self

    @property
    def database_url(self) -> str:
        if self.database_url_setting is not None:
            return self.database_url_setting.get_secret_value()
        return f"sqlite:///{self.home / 'jobping.db'}"

    @property
    def database_url_from_env(self) -> bool:
        return self.database_url_setting is not None

    @property
    def production(self) -> bool:
        """Whether this is a production deployment: the app database is given."""
        return self.database_url_from_env

    @property
    def secure_cookies(self) -> bool:
        return self.production if self.cookie_secure is None else self.cookie_secure

    @property
    def openai_enabled(self) -> bool:
        return self.llm == "openai"


def variable_names() -> list[str]:
    """Every environment variable the settings read."""
    return [
        name
        for field in Settings.model_fields.values()
        for name in field.validation_alias.choices  # type: ignore[union-attr]
    ]


# Read by the API process only (`jobping serve api`): Dagster's processes and runs need none.
API_ONLY_VARIABLES = frozenset(
    {
        "JOBPING_JWT_SECRET",
        "JOBPING_SESSION_HOURS",
        "JOBPING_COOKIE_SECURE",
        "JOBPING_DAGSTER_GRAPHQL_URL",
    }
)
# The variables whose value must never appear in a message.
SECRET_VARIABLES = frozenset(
    {"JOBPING_DATABASE_URL", "OPENAI_API_KEY", "JOBPING_JWT_SECRET", "JOBPING_SMTP_PASSWORD"}
)
_WHAT = {"int_parsing": "a whole number", "int_from_float": "a whole number"}
_BOUNDS = {"greater_than_equal", "less_than_equal"}


def describe(error: Mapping[str, Any], values: Mapping[str, str]) -> str:
    """One line naming the variable and, unless it is a secret, the value it had."""
    name = str(error["loc"][0]) if error["loc"] else ""
    raw = values.get(name, "")
    kind = error["type"]
    if kind == "value_error":
        reason = str(error["ctx"]["error"])
        return f"{name} {reason}" if name else reason
    if name in SECRET_VARIABLES:
        return f"{name} is not valid"
    if kind in _WHAT or kind == "float_parsing":
        return f"{name} must be {_WHAT.get(kind, 'a number')} (got {raw!r})"
    if kind in _BOUNDS:
        field = next(f for f in Settings.model_fields.values() if name in _names(f))
        low, high = _bounds(field)
        return f"{name} must be between {low:g} and {high:g} (got {raw})"
    return f"{name}: {error['msg']} (got {raw!r})"


def _names(field) -> tuple[str, ...]:
    return tuple(field.validation_alias.choices)


def _bounds(field) -> tuple[float, float]:
    low = next(m.ge for m in field.metadata if getattr(m, "ge", None) is not None)
    high = next(m.le for m in field.metadata if getattr(m, "le", None) is not None)
    return low, high
