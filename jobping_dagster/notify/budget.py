"""Telling users, once a month, that their LLM budget is spent: from then on the fan-out
holds their pairs (matching/sensors.py) until the month ends or they pull them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa

from jobping_dagster.llm.ledger import users_over_budget
from jobping_dagster.llm.prices import Price
from jobping_dagster.notify.outbox import enqueue_notice

SUBJECT = "Your JobPing budget for this month is used up"


def tell_users_over_budget(conn: sa.Connection, now: datetime, prices: Mapping[str, Price]) -> int:
    """Queues the notice for each user past their budget who was not told this month;
    returns how many were told now."""
    told = 0
    for user_id, budget in users_over_budget(conn, now, prices).items():
        text = (
            f"Your matches have cost the ${budget:.2f} you set for {now:%B %Y}. New postings "
            "are no longer scored for you automatically until next month; you can still "
            "score any posting yourself on the web page or with the API."
        )
        told += enqueue_notice(conn, user_id, f"budget:{now:%Y-%m}", SUBJECT, text, now)
    return told
