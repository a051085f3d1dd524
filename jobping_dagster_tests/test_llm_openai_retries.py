"""Our retry rules for OpenAI requests (the SDK's own retries are off): what is retried, how
long we wait, and how many attempts are made."""

import dataclasses
import email.utils
import time

import httpx2
import openai
import pytest

from jobping_dagster.llm import openai_retries
from jobping_dagster.llm.models import JobForScoring, LLMError, QuotaExceededError
from jobping_dagster.llm.openai_client import OpenAIClient
from jobping_dagster.llm.openai_retries import (
    call_with_retries,
    retry_after_seconds,
    seconds_before_retry,
    should_retry,
)
from jobping_dagster_tests.fakes.openai_server import (
    FakeOpenAI,
    rate_limited,
    server_error,
)

API_KEY = "test-key-0123456789"
JOB = JobForScoring(title="Python Engineer", company="Acme", description="Build APIs.")
REQUEST = httpx2.Request("POST", "https://api.openai.test/v1/chat/completions")


def status_error(status: int, headers: dict | None = None, code: str | None = None):
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    return openai.APIStatusError("error", response=response, body={"code": code, "type": code})


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_transient_statuses_are_retried(status):
    assert should_retry(status_error(status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status):
    assert not should_retry(status_error(status))


def test_insufficient_quota_is_the_one_429_not_retried():
    assert not should_retry(status_error(429, code="insufficient_quota"))
    assert should_retry(status_error(429, code="rate_limit_exceeded"))


def test_connection_errors_and_timeouts_are_retried():
    assert should_retry(openai.APIConnectionError(request=REQUEST))
    assert should_retry(openai.APITimeoutError(request=REQUEST))


def test_the_server_header_overrides_the_status():
    assert not should_retry(status_error(500, {"x-should-retry": "false"}))
    assert should_retry(status_error(400, {"x-should-retry": "true"}))


def test_a_retry_after_beyond_two_minutes_is_not_waited_for():
    assert not should_retry(status_error(429, {"retry-after": "121"}))
    assert should_retry(status_error(429, {"retry-after": "120"}))


def test_retry_after_headers():
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "1.5"}) == 1.5
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 < retry_after_seconds({"retry-after": in_a_minute}) <= 60


def test_wait_is_the_servers_or_exponential_with_jitter():
    assert seconds_before_retry(status_error(429, {"retry-after": "3"}), retry=0) == 3
    for retry, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (5, 8.0), (30, 8.0)]:
        wait = seconds_before_retry(status_error(503), retry)
        assert 0.75 * ceiling <= wait <= ceiling
    # A Retry-After of 0 or beyond two minutes is no guide: backoff instead.
    assert seconds_before_retry(status_error(429, {"retry-after": "0"}), retry=0) <= 0.5


def test_call_with_retries_counts_in_a_header_and_stops(monkeypatch):
    waits = []
    monkeypatch.setattr(openai_retries.time, "sleep", waits.append)
    sent = []

    def send(headers):
        sent.append(headers[openai_retries.RETRY_COUNT_HEADER])
        raise status_error(500)

    with pytest.raises(openai.APIStatusError):
        call_with_retries(send, max_retries=2)
    assert sent == ["0", "1", "2"]
    assert len(waits) == 2

    sent.clear()
    with pytest.raises(openai.APIStatusError):
        call_with_retries(send, max_retries=0)
    assert sent == ["0"]
    assert call_with_retries(lambda headers: "answer", max_retries=1) == "answer"


# --- through the real SDK and the fake server --------------------------------------------------


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def test_long_retry_after_fails_at_once(fake):
    client = OpenAIClient(api_key=API_KEY, base_url=fake.base_url, max_retries=3)
    fake.enqueue(rate_limited(retry_after=600))
    with pytest.raises(LLMError) as caught:
        client.score(JOB, "python", None)
    assert caught.value.retryable
    assert caught.value.reason.endswith("after 1 attempt")
    assert len(fake.requests) == 1


def test_server_can_forbid_a_retry(fake):
    client = OpenAIClient(api_key=API_KEY, base_url=fake.base_url, max_retries=3)
    fake.enqueue(dataclasses.replace(server_error(500), headers={"x-should-retry": "false"}))
    with pytest.raises(LLMError):
        client.score(JOB, "python", None)
    assert len(fake.requests) == 1


def test_retries_up_to_max_retries(fake):
    client = OpenAIClient(api_key=API_KEY, base_url=fake.base_url, max_retries=2)
    fake.enqueue(rate_limited(retry_after=0.01), times=3)
    with pytest.raises(LLMError) as caught:
        client.score(JOB, "python", None)
    assert not isinstance(caught.value, QuotaExceededError)
    assert caught.value.reason.endswith("after 3 attempts")
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1", "2"]


def test_negative_max_retries_is_refused():
    with pytest.raises(ValueError):
        OpenAIClient(api_key=API_KEY, max_retries=-1)
