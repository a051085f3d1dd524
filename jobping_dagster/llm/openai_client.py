"""Scoring and research through OpenAI structured outputs.

Every failure leaves this module as `LLMError` (or `QuotaExceededError`) whose `reason` is
safe to show in the UI: it is built only from the status code, the error code and our own
words, never from the SDK's message (OpenAI echoes a masked API key on 401), the request
body or the model output (which may quote the posting). The LLMError is raised outside the
`except` block so that no SDK exception is chained to it in tracebacks.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TypeVar

import openai
import pydantic

from jobping_dagster.llm.models import (
    CompanyFacts,
    CompanyProfile,
    JobForScoring,
    LLMError,
    MatchAnalysis,
    QuotaExceededError,
    WishProfile,
)
from jobping_dagster.llm.openai_retries import RETRY_COUNT_HEADER, call_with_retries
from jobping_dagster.llm.prompts import (
    build_match_messages,
    build_research_messages,
    build_wishes_messages,
)
from jobping_dagster.llm.usage import Usage, UsageLog, usage_of

OutputT = TypeVar("OutputT", bound=pydantic.BaseModel)

# Caps the cost of a runaway answer; a cut-off answer fails as malformed output.
MAX_OUTPUT_TOKENS = 1000

_STATUS_WORDS = {
    400: "bad request",
    401: "authentication failed: check OPENAI_API_KEY",
    403: "permission denied",
    404: "model or endpoint not found",
    408: "request timeout",
    409: "conflict",
    422: "unprocessable request",
    429: "rate limited",
}
BATCH_ENDPOINT = "/v1/chat/completions"


@dataclasses.dataclass(frozen=True)
class BatchStatus:
    # validating | in_progress | finalizing | completed | failed | expired | cancelling |
    # cancelled
    status: str
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0


def _response_format(output_type: type[pydantic.BaseModel]) -> dict:
    """The `response_format` the SDK's `parse` sends for `output_type` (strict JSON schema),
    for Batch API lines (the SDK's own helper is private)."""
    return {
        "type": "json_schema",
        "json_schema": {
            "schema": _strict(output_type.model_json_schema()),
            "name": output_type.__name__,
            "strict": True,
        },
    }


def _strict(schema):
    """OpenAI's strict mode: every object closed and every property required, no null
    defaults (as openai.lib's to_strict_json_schema)."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: _strict(value) for key, value in schema.items()}
    if schema.get("type") == "object":
        schema.setdefault("additionalProperties", False)
        schema["required"] = list(schema.get("properties", {}))
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    return schema


class _Obj:
    """Attribute access over a JSON dict, for usage_of."""

    def __init__(self, data):
        self._data = data if isinstance(data, dict) else {}

    def __getattr__(self, name):
        value = self._data.get(name)
        return _Obj(value) if isinstance(value, dict) else value


_SAFE_CODE = re.compile(r"^[a-z0-9_.-]{1,60}$")

# What the model must return for a wish. Strict structured outputs require every property
# and reject `default` in the schema, while WishProfile has defaults (so `WishProfile()` is
# "nothing said"). This twin has WishProfile's fields, types and descriptions, all required
# and without defaults; its name keeps the schema name "WishProfile".
WishProfileOutput = pydantic.create_model(
    "WishProfile",
    __config__=pydantic.ConfigDict(extra="forbid"),
    __doc__=WishProfile.__doc__,
    **{
        name: (info.annotation, pydantic.Field(description=info.description))
        for name, info in WishProfile.model_fields.items()
    },
)

MAX_WISH_ITEMS = 30
MAX_WISH_ITEM_CHARS = 120
_SENIORITY_LEVELS = ("intern", "junior", "mid", "senior", "lead", "principal")


class OpenAIClient:
    """Thread-safe: one instance can serve many concurrent calls."""

    def __init__(
        self,
        api_key: str,
        model: str = "gpt-4o-mini",
        base_url: str | None = None,
        timeout_seconds: float = 60.0,
        max_retries: int = 1,
    ):
        if not api_key:
            raise LLMError("no OpenAI API key configured (OPENAI_API_KEY)", retryable=False)
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self.model_name = model
        self._max_retries = max_retries
        self._timeout_seconds = timeout_seconds
        # Retries are ours (`openai_retries`): the SDK would retry insufficient_quota too.
        self._client = openai.OpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )

    def score(
        self,
        job: JobForScoring,
        user_prompt: str,
        company: CompanyProfile | None,
        usage: UsageLog | None = None,
    ) -> MatchAnalysis:
        messages = build_match_messages(job, user_prompt, company)
        return self._parse(messages, MatchAnalysis, usage)

    def research(self, facts: CompanyFacts, usage: UsageLog | None = None) -> CompanyProfile:
        return self._parse(build_research_messages(facts), CompanyProfile, usage)

    def read_wishes(self, prompt: str, usage: UsageLog | None = None) -> WishProfile:
        """The seeker's wish as a WishProfile, normalized (codes upper-cased, blanks and
        duplicates dropped, unknown levels and malformed codes left out)."""
        output = self._parse(build_wishes_messages(prompt), WishProfileOutput, usage)
        return normalize_wishes(WishProfile.model_validate(output.model_dump()))

    def close(self) -> None:
        self._client.close()

    # The Batch API (half price, results within 24 h): the same requests as `score`, in a
    # JSONL file, one line per pair named by `custom_id`.

    def score_request(
        self, custom_id: str, job: JobForScoring, user_prompt: str, company: CompanyProfile | None
    ) -> dict:
        """The batch line of the chat completion `score` would send."""
        return {
            "custom_id": custom_id,
            "method": "POST",
            "url": BATCH_ENDPOINT,
            "body": {
                "model": self.model_name,
                "messages": build_match_messages(job, user_prompt, company),
                "response_format": _response_format(MatchAnalysis),
                "temperature": 0,
                "max_completion_tokens": MAX_OUTPUT_TOKENS,
            },
        }

    def submit_batch(self, lines: list[dict]) -> str:
        """Uploads the requests and creates the batch; its provider id."""
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        error: LLMError
        try:
            uploaded = self._client.files.create(file=("batch.jsonl", data), purpose="batch")
            batch = self._client.batches.create(
                input_file_id=uploaded.id, endpoint=BATCH_ENDPOINT, completion_window="24h"
            )
        except openai.OpenAIError as exc:
            error = self._map_sdk_error(exc)
        else:
            return batch.id
        raise error

    def batch_status(self, batch_id: str) -> BatchStatus:
        error: LLMError
        try:
            batch = self._client.batches.retrieve(batch_id)
        except openai.OpenAIError as exc:
            error = self._map_sdk_error(exc)
        else:
            counts = batch.request_counts
            return BatchStatus(
                status=batch.status,
                output_file_id=batch.output_file_id,
                error_file_id=batch.error_file_id,
                completed=counts.completed if counts else 0,
                failed=counts.failed if counts else 0,
            )
        raise error

    def batch_results(
        self, output_file_id: str | None, error_file_id: str | None = None
    ) -> dict[str, tuple[MatchAnalysis | LLMError, Usage | None]]:
        """custom_id -> (the validated answer or why it failed, what the call used, marked
        batch: half price). A line that does not parse as MatchAnalysis fails as malformed,
        like an instant answer."""
        results: dict[str, tuple[MatchAnalysis | LLMError, Usage | None]] = {}
        for file_id in (output_file_id, error_file_id):
            if not file_id:
                continue
            error: LLMError | None = None
            try:
                text = self._client.files.content(file_id).text
            except openai.OpenAIError as exc:
                error = self._map_sdk_error(exc)
            if error is not None:
                raise error
            for raw in text.splitlines():
                if raw.strip():
                    custom_id, outcome = self._batch_line(raw)
                    if custom_id is not None:
                        results[custom_id] = outcome
        return results

    def _batch_line(self, raw: str) -> tuple[str | None, tuple]:
        try:
            line = json.loads(raw)
            custom_id = str(line["custom_id"])
        except (ValueError, KeyError, TypeError):
            return None, (None, None)
        response = line.get("response") or {}
        body = response.get("body") or {}
        if line.get("error") or response.get("status_code") != 200:
            status = response.get("status_code") or 0
            code = (body.get("error") or {}).get("code") if isinstance(body, dict) else None
            code = code if isinstance(code, str) and _SAFE_CODE.match(code) else None
            reason = f"batch request failed ({status}{', ' + code if code else ''})"
            return custom_id, (LLMError(reason, retryable=True), None)
        completion = _Obj(body)
        usage = dataclasses.replace(usage_of(completion, self.model_name), batch=True)
        choices = body.get("choices") or []
        if not choices:
            return custom_id, (_malformed("no choices"), usage)
        message = choices[0].get("message") or {}
        if message.get("refusal"):
            return custom_id, (_malformed("the model refused"), usage)
        if choices[0].get("finish_reason") == "length":
            return custom_id, (_malformed("truncated at the token limit"), usage)
        try:
            return custom_id, (
                MatchAnalysis.model_validate_json(message.get("content") or ""),
                usage,
            )
        except pydantic.ValidationError as exc:
            return custom_id, (_malformed(_validation_summary(exc, MatchAnalysis)), usage)

    def _parse(
        self, messages: list[dict], output_type: type[OutputT], usage: UsageLog | None
    ) -> OutputT:
        """The parsed answer; an answered call's tokens go to `usage` even when its output
        is refused below (they are paid for)."""
        error: LLMError
        try:
            completion = call_with_retries(
                lambda headers: self._client.chat.completions.parse(
                    model=self.model_name,
                    messages=messages,
                    response_format=output_type,
                    temperature=0,
                    max_completion_tokens=MAX_OUTPUT_TOKENS,
                    extra_headers=headers,
                ),
                self._max_retries,
            )
        except openai.OpenAIError as exc:
            error = self._map_sdk_error(exc)
        except pydantic.ValidationError as exc:
            error = _malformed(_validation_summary(exc, output_type))
        else:
            if usage is not None:
                usage.append(usage_of(completion, self.model_name))
            if not completion.choices:
                raise _malformed("no choices")
            message = completion.choices[0].message
            if message.refusal:
                raise _malformed("the model refused")
            if message.parsed is None:
                raise _malformed("empty content")
            return message.parsed
        raise error

    def _map_sdk_error(self, exc: openai.OpenAIError) -> LLMError:
        if isinstance(exc, openai.LengthFinishReasonError):
            return _malformed("truncated at the token limit")
        if isinstance(exc, openai.ContentFilterFinishReasonError):
            return _malformed("stopped by the content filter")
        if isinstance(exc, openai.APIResponseValidationError):
            return _malformed("response did not match the API schema")
        attempts = _attempts(exc)
        if isinstance(exc, openai.APITimeoutError):
            return LLMError(
                f"OpenAI request timed out (limit {self._timeout_seconds:g} s){attempts}",
                retryable=True,
            )
        if isinstance(exc, openai.APIConnectionError):
            return LLMError(f"could not connect to OpenAI{attempts}", retryable=True)
        if isinstance(exc, openai.APIStatusError):
            return _status_error(exc, attempts)
        # Configuration mistakes (e.g. missing credentials) do not fix themselves.
        return LLMError(f"OpenAI client error ({type(exc).__name__})", retryable=False)


def _status_error(exc: openai.APIStatusError, attempts: str) -> LLMError:
    status = exc.status_code
    code = exc.code if exc.code and _SAFE_CODE.match(exc.code) else None
    if status == 429 and "insufficient_quota" in (code, exc.type):
        return QuotaExceededError(
            "OpenAI quota exhausted (insufficient_quota): add credit or raise the limit; "
            "retrying will not help"
        )
    words = _STATUS_WORDS.get(status, "server error" if status >= 500 else "error")
    detail = f"{words}, {code}" if code else words
    retryable = status in (408, 409, 429) or status >= 500
    return LLMError(f"OpenAI returned {status} ({detail}){attempts}", retryable=retryable)


def _attempts(exc: openai.OpenAIError) -> str:
    """' after N attempts', read from the retry count `call_with_retries` put on the last
    request."""
    request = getattr(exc, "request", None)
    try:
        count = int(request.headers.get(RETRY_COUNT_HEADER, "")) + 1
    except (AttributeError, ValueError):
        return ""
    return f" after {count} attempt{'s' if count != 1 else ''}"


def _malformed(what: str) -> LLMError:
    # Retryable: sampling may differ next time, and the asset's retry policy bounds the cost.
    return LLMError(f"malformed model output ({what})", retryable=True)


def _validation_summary(exc: pydantic.ValidationError, output_type: type) -> str:
    """Names the failing fields only: the error text itself quotes the model output."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if any(error["type"] in ("json_invalid", "json_type") for error in errors):
        return "not valid JSON"
    known = set(output_type.model_fields)
    fields = sorted(
        {str(error["loc"][0]) for error in errors if error["loc"] and error["loc"][0] in known}
    )
    unknown = any(not error["loc"] or error["loc"][0] not in known for error in errors)
    parts = fields + (["unexpected field"] if unknown else [])
    return "missing or invalid: " + ", ".join(parts) if parts else "schema validation failed"


def normalize_wishes(wishes: WishProfile) -> WishProfile:
    """A model's reading made safe to gate with: trimmed, bounded, deduplicated lists;
    upper-case country and currency codes; lower-case language codes and levels. Entries
    that are not a valid code or level are dropped (a dropped constraint gates nothing)."""

    def texts(values: list[str], case=None, pattern: str | None = None) -> list[str]:
        seen: dict[str, str] = {}
        for value in values:
            text = " ".join(str(value).split())[:MAX_WISH_ITEM_CHARS]
            if case is not None:
                text = case(text)
            if text and (pattern is None or re.fullmatch(pattern, text)):
                seen.setdefault(text.casefold(), text)
        return list(seen.values())[:MAX_WISH_ITEMS]

    countries = ["GB" if code == "UK" else code for code in texts(wishes.countries, str.upper)]
    currency = (wishes.salary_currency or "").strip().upper()
    floor = wishes.salary_floor
    return WishProfile(
        roles=texts(wishes.roles),
        skills=texts(wishes.skills),
        countries=texts(countries, pattern=r"[A-Z]{2}"),
        cities=texts(wishes.cities),
        remote_only=wishes.remote_only,
        seniority=[
            level for level in texts(wishes.seniority, str.lower) if level in _SENIORITY_LEVELS
        ],
        salary_floor=floor if floor is not None and floor > 0 else None,
        salary_currency=currency if re.fullmatch(r"[A-Z]{3}", currency) else None,
        excluded_companies=texts(wishes.excluded_companies),
        excluded_industries=texts(wishes.excluded_industries),
        excluded_roles=texts(wishes.excluded_roles),
        languages=texts(wishes.languages, str.lower, r"[a-z]{2}"),
        notes=texts(wishes.notes),
    )
