"""The real OpenAI SDK against the fake server: request shape, retries and error mapping."""

import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pytest

from jobping_dagster.llm.models import (
    CompanyFacts,
    CompanyProfile,
    JobForScoring,
    LLMError,
    MatchAnalysis,
    QuotaExceededError,
)
from jobping_dagster.llm.openai_client import OpenAIClient
from jobping_dagster.llm.resources import LLMResource, LocalLLMResource, OpenAIResource
from jobping_dagster_tests.fakes.openai_server import (
    FakeOpenAI,
    drop_connection,
    job_title,
    malformed,
    missing_fields,
    quota_exceeded,
    rate_limited,
    refusal,
    score_out_of_range,
    server_error,
    slow,
    status_error,
    truncated,
    unauthorized,
    user_wishes,
)

API_KEY = "test-key-SECRET-0123456789"
POSTING_TEXT = "UNIQUE-POSTING-TEXT-4711"
JOB = JobForScoring(
    title="Senior Python Engineer",
    company="Acme",
    description=f"Build APIs. {POSTING_TEXT}",
    location="Berlin, Germany",
    is_remote=True,
)


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def client(fake):
    return OpenAIClient(api_key=API_KEY, base_url=fake.base_url, timeout_seconds=5)


def failure(call) -> LLMError:
    with pytest.raises(LLMError) as caught:
        call()
    return caught.value


def assert_safe(error: LLMError):
    """Nothing secret or untrusted in anything the UI could show, tracebacks included."""
    shown = [error.reason, str(error), repr(error), "".join(traceback.format_exception(error))]
    for text in shown:
        assert API_KEY not in text
        assert "SECRET" not in text
        assert POSTING_TEXT not in text
    assert error.__cause__ is None and error.__context__ is None


# --- the happy path ---------------------------------------------------------------------------


def test_structured_output_is_parsed(fake, client):
    result = client.score(JOB, "python backend", None)
    assert isinstance(result, MatchAnalysis)
    assert (result.score, result.recommendation) == (85, "apply")
    assert client.score(JOB, "gardening", None).score == 30
    assert client.model_name == "gpt-4o-mini"


def test_research_is_parsed(fake, client):
    profile = client.research(CompanyFacts(key="acme", name="Acme", postings=[JOB]))
    assert isinstance(profile, CompanyProfile)
    assert profile.summary.startswith("Acme")
    assert profile.industry is None


def test_request_shape(fake, client):
    client.score(JOB, "python", None)
    (request,) = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = request.body
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "MatchAnalysis"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["messages"][0]["role"] == "system"
    assert user_wishes(body) == "python"
    assert job_title(body) == "Senior Python Engineer"


def test_custom_score_fn(fake, client):
    fake.score_fn = lambda body: 42 if "Python" in job_title(body) else 7
    result = client.score(JOB, "anything", None)
    assert (result.score, result.recommendation) == (42, "consider")


# --- retries and error mapping ----------------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour", [rate_limited(retry_after=0.2), rate_limited(None, retry_after_ms=200)]
)
def test_rate_limit_backs_off_then_succeeds(fake, client, behaviour):
    fake.enqueue(behaviour)
    started = time.monotonic()
    result = client.score(JOB, "python", None)
    assert result.score == 85
    assert len(fake.requests) == 2
    assert time.monotonic() - started >= 0.2  # the SDK honoured the server's retry-after
    assert fake.requests[1].headers["x-stainless-retry-count"] == "1"


def test_rate_limit_twice_is_retryable(fake, client):
    fake.enqueue(rate_limited(retry_after=0.05), times=2)
    error = failure(lambda: client.score(JOB, "python", None))
    assert error.retryable
    assert error.reason == (
        "OpenAI returned 429 (rate limited, rate_limit_exceeded) after 2 attempts"
    )
    assert len(fake.requests) == 2


def test_insufficient_quota_fails_at_once(fake, client):
    fake.enqueue(quota_exceeded(), times=2)
    error = failure(lambda: client.score(JOB, "python", None))
    assert isinstance(error, QuotaExceededError)
    assert not error.retryable
    assert "insufficient_quota" in error.reason
    assert len(fake.requests) == 1  # not retried: waiting does not bring credit back
    assert_safe(error)


def test_server_error_twice_is_retryable_after_two_attempts(fake, client):
    fake.enqueue(server_error(500), times=2)
    error = failure(lambda: client.score(JOB, "python", None))
    assert error.retryable
    assert error.reason == "OpenAI returned 500 (server error) after 2 attempts"
    assert len(fake.requests) == 2  # max_retries=1


def test_server_error_once_then_success(fake, client):
    fake.enqueue(server_error(503))
    assert client.score(JOB, "python", None).score == 85
    assert len(fake.requests) == 2


def test_max_retries_zero_means_one_request(fake):
    client = OpenAIClient(api_key=API_KEY, base_url=fake.base_url, max_retries=0)
    fake.enqueue(server_error(502))
    error = failure(lambda: client.score(JOB, "python", None))
    assert error.retryable
    assert len(fake.requests) == 1


def test_unauthorized_is_final_and_never_shows_the_key(fake, client):
    fake.enqueue(unauthorized())  # the fake echoes the full key in its message
    error = failure(lambda: client.score(JOB, "python", None))
    assert not error.retryable
    assert error.reason.startswith("OpenAI returned 401")
    assert "OPENAI_API_KEY" in error.reason  # names the setting, not its value
    assert len(fake.requests) == 1
    assert_safe(error)


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_client_errors_are_not_retryable(fake, client, status):
    fake.enqueue(status_error(status, code="invalid_request_error", message=API_KEY))
    error = failure(lambda: client.score(JOB, "python", None))
    assert not error.retryable
    assert error.reason.startswith(f"OpenAI returned {status}")
    assert len(fake.requests) == 1
    assert_safe(error)


@pytest.mark.parametrize(
    "behaviour, what",
    [
        (malformed(f"Here you go: {POSTING_TEXT} {API_KEY}"), "not valid JSON"),
        (missing_fields(), "missing or invalid: cons, explanation, pros, recommendation"),
        (score_out_of_range(150), "missing or invalid: score"),
        (refusal(), "refused"),
        (truncated(), "truncated"),
    ],
)
def test_malformed_output_is_retryable(fake, client, behaviour, what):
    fake.enqueue(behaviour)
    error = failure(lambda: client.score(JOB, "python", None))
    assert error.retryable
    assert error.reason.startswith("malformed model output")
    assert what in error.reason
    assert len(fake.requests) == 1  # a 200 is not retried by the SDK
    assert_safe(error)


def test_timeout_is_honoured_and_retryable(fake):
    client = OpenAIClient(api_key=API_KEY, base_url=fake.base_url, timeout_seconds=0.3)
    fake.enqueue(slow(5), times=2)
    started = time.monotonic()
    error = failure(lambda: client.score(JOB, "python", None))
    assert time.monotonic() - started < 3
    assert error.retryable
    assert "timed out" in error.reason and "2 attempts" in error.reason
    assert len(fake.requests) == 2
    assert_safe(error)


def test_slow_but_in_time_succeeds(fake, client):
    fake.enqueue(slow(0.2))
    assert client.score(JOB, "python", None).score == 85


def test_dropped_connection_is_retried(fake, client):
    fake.enqueue(drop_connection())
    assert client.score(JOB, "python", None).score == 85
    assert len(fake.requests) == 2
    fake.enqueue(drop_connection(), times=2)
    error = failure(lambda: client.score(JOB, "python", None))
    assert error.retryable and "connect" in error.reason


def test_missing_key_fails_clearly():
    error = failure(lambda: OpenAIClient(api_key=""))
    assert not error.retryable
    assert "OPENAI_API_KEY" in error.reason


def test_fake_stops_promptly_with_a_request_in_flight():
    with FakeOpenAI() as server:
        client = OpenAIClient(api_key=API_KEY, base_url=server.base_url, timeout_seconds=0.2)
        server.enqueue(slow(30), times=2)
        with pytest.raises(LLMError):
            client.score(JOB, "python", None)
        started = time.monotonic()
    assert time.monotonic() - started < 2


# --- as a Dagster resource --------------------------------------------------------------------


@dg.asset
def scored_jobs(context: dg.AssetExecutionContext, llm: LLMResource) -> list[int]:
    prompts = ["python", "gardening"] * 4
    with ThreadPoolExecutor(llm.max_concurrency) as pool:
        results = list(pool.map(lambda prompt: llm.score(JOB, prompt, None), prompts))
    context.add_output_metadata({"model": llm.model_name})
    return [result.score for result in results]


@dg.asset
def researched(llm: LLMResource) -> str:
    return llm.research(CompanyFacts(key="acme", name="Acme")).summary


def test_openai_resource_in_materialize(fake):
    resource = OpenAIResource(api_key=API_KEY, base_url=fake.base_url, max_concurrency=4)
    result = dg.materialize([scored_jobs, researched], resources={"llm": resource})
    assert result.success
    assert result.output_for_node("scored_jobs") == [85, 30] * 4
    assert result.output_for_node("researched").startswith("Acme")
    assert len(fake.requests) == 9
    assert {r.headers["authorization"] for r in fake.requests} == {f"Bearer {API_KEY}"}


def test_local_resource_satisfies_the_same_parameter():
    result = dg.materialize([scored_jobs, researched], resources={"llm": LocalLLMResource()})
    assert result.success
    scores = result.output_for_node("scored_jobs")
    assert scores[0] > 70 > scores[1]
    assert LocalLLMResource().model_name == "local-keyword-v1"
    assert LocalLLMResource().research_model_name == "local-facts-v1"


def test_resource_failure_shows_a_safe_reason(fake):
    fake.enqueue(quota_exceeded(), times=20)
    resource = OpenAIResource(api_key=API_KEY, base_url=fake.base_url)
    result = dg.materialize([researched], resources={"llm": resource}, raise_on_error=False)
    assert not result.success
    (step_failure,) = [e for e in result.all_events if e.is_step_failure]
    error = step_failure.step_failure_data.error
    shown = error.to_string()
    assert "insufficient_quota" in shown
    assert API_KEY not in shown


def test_openai_resource_builds_one_client(fake):
    resource = OpenAIResource(api_key=API_KEY, base_url=fake.base_url)
    assert resource.model_name == "gpt-4o-mini"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: resource.score(JOB, "python", None), range(16)))
    assert len({id(resource._get_client()) for _ in range(3)}) == 1
    assert len(fake.requests) == 16


def test_resource_never_shows_the_key_and_works_in_sensors(fake, monkeypatch):
    monkeypatch.setenv("TEST_OPENAI_KEY", API_KEY)
    resource = OpenAIResource(api_key=dg.EnvVar("TEST_OPENAI_KEY"), base_url=fake.base_url)
    assert API_KEY not in repr(resource) and API_KEY not in str(resource)
    # No teardown hook, so no generator resource: a sensor context built without `with`
    # can still hand it out.
    context = dg.build_sensor_context(resources={"llm": resource})
    assert context.resources.llm.score(JOB, "python", None).score == 85
    assert API_KEY not in repr(context.resources.llm)
    assert fake.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_base_resource_is_abstract():
    with pytest.raises(NotImplementedError):
        LLMResource().score(JOB, "python", None)
