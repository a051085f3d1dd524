"""Property-based fuzzing of the API from its own OpenAPI schema (schemathesis): whatever
the generated path, query or body, signed in or not, no answer is a server error."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from jobping_dagster.db.engine import get_engine
from jobping_dagster_tests.api_support import PASSWORD, api_client
from jobping_dagster_tests.builders import posting, research, scored_match, store_postings
from jobping_dagster_tests.fakes.dagster_graphql import ADDED, LAUNCHED, TinyGraphQL, dagster


@pytest.fixture
def scheduler():
    with TinyGraphQL(dagster(ADDED, LAUNCHED)) as fake:
        yield fake


@pytest.fixture
def fuzzed_app(sqlite_url, tmp_path, scheduler):
    """The app on SQLite with postings, a researched company and a user with matches and
    notifications; a fake scheduler accepts every launch."""
    engine = get_engine(sqlite_url)
    now = datetime.now(UTC).replace(tzinfo=None)
    store_postings(engine, [posting(n) for n in range(1, 5)], now)
    research(engine, "acme", now)
    client = api_client(engine, tmp_path, JOBPING_DAGSTER_GRAPHQL_URL=scheduler.url)
    answer = client.post(
        "/api/register",
        json={"email": "fuzz@example.com", "password": PASSWORD, "prompt": "python backend"},
    )
    user_id = answer.json()["user"]["id"]
    for job_id, score in ((1, 90), (2, 40)):
        scored_match(engine, user_id, job_id, score, notified_status="sent")
    return client.app, answer.json()["token"]


# Each operation gets this many generated cases of each mode (valid and invalid input).
EXAMPLES_PER_OPERATION = 30


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_is_a_server_error(fuzzed_app, mode):
    app, token = fuzzed_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    signed_in = {"Authorization": f"Bearer {token}"}
    counts: Counter = Counter()

    @given(data=st.data())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(operation, data) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode))
        # Deleting the account would leave the rest of the run signed out: it is fuzzed
        # by the anonymous call only.
        as_seeker = not (case.method.upper() == "DELETE" and case.path == "/api/me")
        for headers in ((signed_in,) if as_seeker else ()) + ({},):
            response = case.call(headers=headers)
            counts[response.status_code] += 1
            case.validate_response(response, checks=[not_a_server_error])

    operations = [result.ok() for result in schema.get_all_operations()]
    without_invalid_input = []
    for operation in operations:
        try:
            fuzz(operation)
        except Unsatisfiable:
            # Nothing to make invalid (no parameter, no body): covered by the valid mode.
            assert mode == GenerationMode.NEGATIVE, operation.label
            without_invalid_input.append(operation.label)
    print(
        f"\nschemathesis {mode.value}: {len(operations)} operations "
        f"({len(without_invalid_input)} without invalid input), "
        f"{sum(counts.values())} requests, by status {dict(sorted(counts.items()))}"
    )
    assert len(operations) >= 12
    assert not [status for status in counts if status >= 500]
    assert sum(counts.values()) >= 5 * (len(operations) - len(without_invalid_input))
