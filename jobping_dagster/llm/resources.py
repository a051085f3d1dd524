"""The LLM seam as Dagster resources: OpenAI for real, a local scorer for demos and tests.

Assets declare `llm: LLMResource`; the definitions bind either implementation to the key.
"""

from __future__ import annotations

import functools
import threading

import dagster as dg
from pydantic import Field, PrivateAttr

from jobping_dagster.llm.local.researcher import LocalResearcher
from jobping_dagster.llm.local.scorer import LocalScorer
from jobping_dagster.llm.local.wish_reader import LOCAL_WISHES_PARSER, read_wishes_locally
from jobping_dagster.llm.models import (
    CompanyFacts,
    CompanyProfile,
    JobForScoring,
    MatchAnalysis,
    WishProfile,
)
from jobping_dagster.llm.openai_client import OpenAIClient
from jobping_dagster.llm.prompts import WISHES_PROMPT_VERSION
from jobping_dagster.llm.usage import Usage, UsageLog
from jobping_dagster.settings import Settings

# Guards lazy client creation. Module level: a lock inside the resource would not survive
# the copies Dagster and pydantic make of resource instances.
_CLIENT_LOCK = threading.Lock()
# Concurrency pool of the assets that call the LLM: the instance caps how many of their runs
# go at once (deploy/dagster.yaml), so OpenAI's rate limits are shared, not raced for.
LLM_POOL = "openai"


class LLMResource(dg.ConfigurableResource):
    """Scores user x job pairs and researches companies. Methods are safe to call from
    several threads of one run; `max_concurrency` is how many the assets should use."""

    max_concurrency: int = 4

    @property
    def model_name(self) -> str:
        """The scorer's model, recorded with each match."""
        raise NotImplementedError

    @property
    def research_model_name(self) -> str:
        """The researcher's model, recorded with each company profile."""
        return self.model_name

    def score(
        self,
        job: JobForScoring,
        user_prompt: str,
        company: CompanyProfile | None,
        usage: UsageLog | None = None,
    ) -> MatchAnalysis:
        """Appends the call's Usage to `usage` when given (the cost ledger)."""
        raise NotImplementedError

    @property
    def wishes_parser_name(self) -> str:
        """Who read a wish (model and prompt version), recorded with each stored reading."""
        raise NotImplementedError

    def research(self, facts: CompanyFacts, usage: UsageLog | None = None) -> CompanyProfile:
        raise NotImplementedError

    def read_wishes(self, prompt: str, usage: UsageLog | None = None) -> WishProfile:
        """The user's free-text wish in structured form. Raises LLMError on failure."""
        raise NotImplementedError

    @property
    def supports_batch(self) -> bool:
        """Whether non-urgent pairs can go through a Batch API (half price, hours later)."""
        return False

    def batch_client(self) -> OpenAIClient:
        """The client whose score_request / submit_batch / batch_status / batch_results
        serve the batch path (only when supports_batch)."""
        raise NotImplementedError("this LLM has no batch path")


class OpenAIResource(LLMResource):
    """OpenAI structured outputs. Errors arrive as LLMError / QuotaExceededError with a
    reason that is safe to show (never the key or the posting)."""

    # repr=False: a logged or printed resource must not show the key.
    api_key: str = Field(repr=False, description="OpenAI API key; pass dg.EnvVar(...)")
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    timeout_seconds: float = 60.0
    max_retries: int = 1

    _client: OpenAIClient | None = PrivateAttr(default=None)

    @property
    def model_name(self) -> str:
        return self.model

    def score(
        self,
        job: JobForScoring,
        user_prompt: str,
        company: CompanyProfile | None,
        usage: UsageLog | None = None,
    ) -> MatchAnalysis:
        return self._get_client().score(job, user_prompt, company, usage)

    @property
    def wishes_parser_name(self) -> str:
        return f"{self.model}:{WISHES_PROMPT_VERSION}"

    def research(self, facts: CompanyFacts, usage: UsageLog | None = None) -> CompanyProfile:
        return self._get_client().research(facts, usage)

    def read_wishes(self, prompt: str, usage: UsageLog | None = None) -> WishProfile:
        return self._get_client().read_wishes(prompt, usage)

    @property
    def supports_batch(self) -> bool:
        return True

    def batch_client(self) -> OpenAIClient:
        return self._get_client()

    def _get_client(self) -> OpenAIClient:
        # One client (one connection pool) per resource instance, made on first use. No
        # teardown hook on purpose: it would make this a generator resource, which sensors
        # evaluated without a context manager cannot use; the pool closes with the client.
        if self._client is None:
            with _CLIENT_LOCK:
                if self._client is None:
                    self._client = OpenAIClient(
                        api_key=self.api_key,
                        model=self.model,
                        base_url=self.base_url,
                        timeout_seconds=self.timeout_seconds,
                        max_retries=self.max_retries,
                    )
        return self._client


class LocalLLMResource(LLMResource):
    """The deterministic keyword scorer and facts-only researcher: no key, no network."""

    @property
    def model_name(self) -> str:
        return LocalScorer.model_name

    @property
    def research_model_name(self) -> str:
        return LocalResearcher.model_name

    def score(
        self,
        job: JobForScoring,
        user_prompt: str,
        company: CompanyProfile | None,
        usage: UsageLog | None = None,
    ) -> MatchAnalysis:
        _count_free_call(usage, self.model_name)
        return LocalScorer().score(job, user_prompt, company)

    @property
    def wishes_parser_name(self) -> str:
        return LOCAL_WISHES_PARSER

    def research(self, facts: CompanyFacts, usage: UsageLog | None = None) -> CompanyProfile:
        _count_free_call(usage, self.research_model_name)
        return LocalResearcher().research(facts)

    def read_wishes(self, prompt: str, usage: UsageLog | None = None) -> WishProfile:
        _count_free_call(usage, LOCAL_WISHES_PARSER)
        return read_wishes_locally(prompt)


def _count_free_call(usage: UsageLog | None, model: str) -> None:
    # Counted in the ledger like any call, at no tokens and no cost.
    if usage is not None:
        usage.append(Usage(model=model))


def llm_from_settings(settings: Settings) -> LLMResource:
    """The LLM the settings choose: OpenAI (its key read as a Dagster EnvVar, so no run
    config holds it) or the local scorer and researcher."""
    if settings.openai_enabled:
        return OpenAIResource(
            api_key=dg.EnvVar("OPENAI_API_KEY"),
            model=settings.openai_model,
            base_url=settings.openai_base_url,
            max_concurrency=settings.llm_concurrency,
        )
    _say_local_llm_once()
    return LocalLLMResource(max_concurrency=settings.llm_concurrency)


@functools.cache
def _say_local_llm_once() -> None:
    dg.get_dagster_logger().info(
        "OPENAI_API_KEY is not set: JobPing uses its local scorer and researcher"
    )


def llm_outside_dagster(settings: Settings) -> LLMResource:
    """The same LLM for code that calls it outside a Dagster run (the API, the CLI): a run
    resolves the key's EnvVar when it starts; here it is resolved now, from the environment."""
    return llm_from_settings(settings).process_config_and_initialize()
