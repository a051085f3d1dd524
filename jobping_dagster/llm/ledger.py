"""The cost ledger (table `llm_calls`): one row per answered LLM call, written in the same
transaction as what the call produced, and what users spent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa

from jobping_dagster.db.schema import llm_calls, users
from jobping_dagster.llm.prices import Price, dollars, price_for
from jobping_dagster.llm.usage import Usage

SCORE, RESEARCH, WISHES = "score", "research", "wishes"


def record_usage(
    conn: sa.Connection,
    stage: str,
    usages: Iterable[Usage],
    now: datetime,
    *,
    user_id: int | None = None,
    job_id: int | None = None,
    company_key: str | None = None,
) -> int:
    rows = [
        {
            "created_at": now,
            "day": now.date(),
            "stage": stage,
            "model": usage.model[:100],
            "user_id": user_id,
            "job_id": job_id,
            "company_key": company_key,
            "input_tokens": usage.input_tokens,
            "cached_tokens": usage.cached_tokens,
            "output_tokens": usage.output_tokens,
            "batch": usage.batch,
        }
        for usage in usages
    ]
    if rows:
        conn.execute(llm_calls.insert(), rows)
    return len(rows)


def spend_by_user(
    conn: sa.Connection, since: datetime, prices: Mapping[str, Price]
) -> dict[int, float]:
    """Dollars each user's calls cost since `since` (unpriced models count as 0)."""
    query = (
        sa.select(
            llm_calls.c.user_id,
            llm_calls.c.model,
            llm_calls.c.batch,
            sa.func.sum(llm_calls.c.input_tokens),
            sa.func.sum(llm_calls.c.cached_tokens),
            sa.func.sum(llm_calls.c.output_tokens),
        )
        .where(llm_calls.c.created_at >= since, llm_calls.c.user_id.is_not(None))
        .group_by(llm_calls.c.user_id, llm_calls.c.model, llm_calls.c.batch)
    )
    spent: dict[int, float] = defaultdict(float)
    for user_id, model, batch, tokens_in, cached, tokens_out in conn.execute(query):
        price = price_for(model, prices)
        if price is not None:
            spent[user_id] += dollars(price, tokens_in or 0, cached or 0, tokens_out or 0, batch)
    return dict(spent)


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def users_over_budget(
    conn: sa.Connection, now: datetime, prices: Mapping[str, Price]
) -> dict[int, float]:
    """Users with a monthly budget (users.llm_budget_usd) who spent it this calendar month
    (UTC): their budget, by user id. Their pairs wait for an on-demand pull."""
    budgets = dict(
        conn.execute(
            sa.select(users.c.id, users.c.llm_budget_usd).where(users.c.llm_budget_usd.is_not(None))
        ).all()
    )
    if not budgets:
        return {}
    spent = spend_by_user(conn, month_start(now), prices)
    return {
        user_id: budget for user_id, budget in budgets.items() if spent.get(user_id, 0.0) >= budget
    }
