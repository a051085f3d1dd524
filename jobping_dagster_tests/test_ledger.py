"""The cost ledger: what each LLM call used, as the API reports it (cached tokens included),
priced by the operator's table, summed per user against their monthly budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from jobping_dagster.db.schema import llm_calls, users
from jobping_dagster.llm.ledger import SCORE, record_usage, spend_by_user, users_over_budget
from jobping_dagster.llm.models import JobForScoring
from jobping_dagster.llm.openai_client import OpenAIClient
from jobping_dagster.llm.prices import DEFAULT_PRICES, Price, dollars, parse_prices, price_for
from jobping_dagster.llm.resources import LocalLLMResource
from jobping_dagster.llm.usage import Usage
from jobping_dagster_tests.builders import user
from jobping_dagster_tests.fakes.openai_server import FakeOpenAI

PRICES = parse_prices(DEFAULT_PRICES)


def _job(n: int) -> JobForScoring:
    return JobForScoring(
        title=f"Backend Engineer {n}",
        company="Acme",
        description=f"Python services. Posting {n}.",
        location="Remote",
        is_remote=True,
        job_type=None,
        salary_min=None,
        salary_max=None,
        salary_currency=None,
        date_posted=None,
        url=f"https://jobs.example.com/{n}",
    )


def test_prices_are_read_per_model_and_dated_names_find_theirs():
    assert PRICES["gpt-4o-mini"] == Price(0.15, 0.075, 0.60)
    assert price_for("gpt-4o-mini-2024-07-18", PRICES) == PRICES["gpt-4o-mini"]
    assert price_for("gpt-4o-2024-08-06", PRICES) == PRICES["gpt-4o"]
    assert price_for("local-keyword-v1", PRICES) == Price(0, 0, 0)
    assert price_for("o9-unknown", PRICES) is None
    with pytest.raises(ValueError, match="'gpt-4o=1/2'"):
        parse_prices("gpt-4o=1/2")


def test_cached_tokens_cost_less_and_the_batch_api_half():
    price = PRICES["gpt-4o-mini"]
    full = dollars(price, 2_000_000, 0, 1_000_000, batch=False)
    assert full == pytest.approx(2 * 0.15 + 0.60)
    cached = dollars(price, 2_000_000, 1_000_000, 1_000_000, batch=False)
    assert cached == pytest.approx(0.15 + 0.075 + 0.60)
    assert dollars(price, 2_000_000, 0, 1_000_000, batch=True) == pytest.approx(full / 2)


def test_the_api_reports_usage_and_a_shared_static_prefix_is_served_from_the_cache():
    """The scoring prompt puts the static rubric first, then the wish: a user's pairs share
    that prefix. The (fake) provider caches prefixes of 1024 tokens or more, as OpenAI does."""
    long_wish = "Backend work in Python and Go; " * 180  # about 1,400 tokens
    with FakeOpenAI() as fake:
        client = OpenAIClient(api_key="sk-test", base_url=fake.base_url, timeout_seconds=5)
        first, second = [], []
        client.score(_job(1), long_wish, None, usage=first)
        client.score(_job(2), long_wish, None, usage=second)
        short = []
        client.score(_job(3), "Python", None, usage=short)
    [first], [second], [short] = first, second, short
    assert first.model == "gpt-4o-mini" and first.input_tokens > 1024 and first.output_tokens > 0
    assert first.cached_tokens == 0
    assert 1024 <= second.cached_tokens < second.input_tokens
    assert short.cached_tokens == 0, "a prefix under 1024 tokens is not cached"


def test_local_calls_are_counted_at_no_cost():
    usage = []
    LocalLLMResource().score(_job(1), "python", None, usage=usage)
    assert usage == [Usage(model="local-keyword-v1")]


def test_spend_per_user_and_who_is_over_their_monthly_budget(engine):
    now = datetime.now(UTC).replace(tzinfo=None)
    ada = user(engine, "ada@example.com")
    bob = user(engine, "bob@example.com")
    carl = user(engine, "carl@example.com")
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.id.in_([ada, bob])).values(llm_budget_usd=0.5))
        # Ada: 1M input and 0.5M output tokens this month = 0.15 + 0.30 = 0.45 USD, then one
        # more call over the budget; Bob spent as much last month; Carl has no budget.
        call = Usage("gpt-4o-mini", 1_000_000, 0, 500_000)
        record_usage(conn, SCORE, [call], now, user_id=ada)
        record_usage(conn, SCORE, [call], now.replace(day=1) - timedelta(days=3), user_id=bob)
        record_usage(conn, SCORE, [call, call], now, user_id=carl)
    with engine.connect() as conn:
        spent = spend_by_user(conn, now.replace(day=1, hour=0, minute=0, second=0), PRICES)
        assert spent[ada] == pytest.approx(0.45)
        assert bob not in spent
        assert users_over_budget(conn, now, PRICES) == {}
    with engine.begin() as conn:
        record_usage(conn, SCORE, [Usage("gpt-4o-mini", 400_000, 0, 0)], now, user_id=ada)
    with engine.connect() as conn:
        assert users_over_budget(conn, now, PRICES) == {ada: 0.5}
        assert conn.execute(sa.select(sa.func.count()).select_from(llm_calls)).scalar_one() == 5
