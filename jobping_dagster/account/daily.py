"""A day's account of the work and its cost, from the app database: the funnel from
scraped postings to delivered messages, the LLM calls with their tokens and dollars per
stage and per user, and how long a match waited to be delivered. Plain Python: the
`daily_account` asset and `jobping stats` both print it."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from jobping_dagster.db.schema import (
    companies,
    jobs,
    llm_calls,
    match_candidates,
    notifications,
    raw_scrapes,
    user_job_matches,
    users,
)
from jobping_dagster.llm.prices import Price, dollars, price_for
from jobping_dagster.users.validation import mask_email


@dataclass(frozen=True)
class Recorded:
    """Counts only the assets' run metadata holds (rejected rows, pairs considered and
    gated are counted, never stored); None where no run of the day recorded them."""

    rejected_by_reason: dict[str, int] | None = None
    pairs_considered: int | None = None
    pairs_gated: int | None = None


@dataclass
class DayAccount:
    day: date
    scrapes: list[dict] = field(default_factory=list)  # per site
    new_postings: int = 0
    rejected_by_reason: dict[str, int] | None = None
    companies_researched: int = 0
    pairs: dict[str, int | None] = field(default_factory=dict)
    matches_scored: int = 0
    matches_at_threshold: int = 0
    messages: dict[str, Counter] = field(default_factory=dict)  # channel -> status counts
    llm_by_stage: list[dict] = field(default_factory=list)
    llm_by_user: list[dict] = field(default_factory=list)
    unpriced_models: list[str] = field(default_factory=list)
    latency: dict[str, dict] = field(default_factory=dict)  # channel -> n, median, p95 (s)

    @property
    def dollars(self) -> float:
        return round(sum(row["dollars"] for row in self.llm_by_stage), 6)


def day_account(
    conn: sa.Connection, day: date, prices: Mapping[str, Price], recorded: Recorded = Recorded()
) -> DayAccount:
    start = datetime.combine(day, time())
    end = start + timedelta(days=1)
    account = DayAccount(day=day, rejected_by_reason=recorded.rejected_by_reason)
    account.scrapes = _scrapes(conn, day)
    account.new_postings = _count(conn, jobs, jobs.c.first_seen_day == day)
    account.companies_researched = _count(
        conn, companies, companies.c.info_updated_at >= start, companies.c.info_updated_at < end
    )
    account.pairs = _pairs(conn, day, start, end, recorded)
    scored = sa.and_(user_job_matches.c.updated_at >= start, user_job_matches.c.updated_at < end)
    account.matches_scored = _count(conn, user_job_matches, scored)
    account.matches_at_threshold = _count(
        conn,
        user_job_matches,
        scored,
        user_job_matches.c.score >= user_job_matches.c.notify_threshold,
    )
    account.messages = _messages(conn, start, end)
    account.llm_by_stage, account.llm_by_user, account.unpriced_models = _llm(conn, day, prices)
    account.latency = _latency(conn, start, end)
    return account


def _count(conn: sa.Connection, table: sa.Table, *where) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def _scrapes(conn: sa.Connection, day: date) -> list[dict]:
    """Per site: scrapes, rows returned, and scrapes that failed (blocked) or came back
    empty: a site that blocks us looks different from a quiet day."""
    query = sa.select(raw_scrapes.c.site, raw_scrapes.c.row_count, raw_scrapes.c.error).where(
        raw_scrapes.c.day == day
    )
    sites: dict[str, dict] = {}
    for site, rows, error in conn.execute(query):
        entry = sites.setdefault(
            site, {"site": site, "scrapes": 0, "rows": 0, "blocked": 0, "empty": 0}
        )
        entry["scrapes"] += 1
        entry["rows"] += rows
        entry["blocked"] += bool(error)
        entry["empty"] += not error and rows == 0
    return [sites[site] for site in sorted(sites)]


def _pairs(conn, day: date, start: datetime, end: datetime, recorded: Recorded) -> dict:
    decisions = dict(
        conn.execute(
            sa.select(match_candidates.c.decision, sa.func.count())
            .where(match_candidates.c.day == day)
            .group_by(match_candidates.c.decision)
        ).all()
    )
    return {
        "considered": recorded.pairs_considered,
        "gated": recorded.pairs_gated,
        "kept": decisions.get("kept", 0),
        "shadow": decisions.get("shadow", 0),
        "pulled": decisions.get("pulled", 0),
        "rerun": decisions.get("rerun", 0),
    }


def _messages(conn, start: datetime, end: datetime) -> dict[str, Counter]:
    query = (
        sa.select(notifications.c.channel, notifications.c.status, sa.func.count())
        .where(notifications.c.created_at >= start, notifications.c.created_at < end)
        .group_by(notifications.c.channel, notifications.c.status)
    )
    messages: dict[str, Counter] = defaultdict(Counter)
    for channel, status, count in conn.execute(query):
        messages[channel or "not yet chosen"][status] += count
    return dict(messages)


def _llm(conn, day: date, prices: Mapping[str, Price]):
    query = (
        sa.select(
            llm_calls.c.stage,
            llm_calls.c.user_id,
            llm_calls.c.model,
            llm_calls.c.batch,
            sa.func.count(),
            sa.func.sum(llm_calls.c.input_tokens),
            sa.func.sum(llm_calls.c.cached_tokens),
            sa.func.sum(llm_calls.c.output_tokens),
        )
        .where(llm_calls.c.day == day)
        .group_by(llm_calls.c.stage, llm_calls.c.user_id, llm_calls.c.model, llm_calls.c.batch)
    )
    by_stage: dict[str, Counter] = defaultdict(Counter)
    by_user: dict[int, Counter] = defaultdict(Counter)
    unpriced = set()
    for stage, user_id, model, batch, calls, tokens_in, cached, tokens_out in conn.execute(query):
        price = price_for(model, prices)
        if price is None:
            unpriced.add(model)
        cost = dollars(price, tokens_in or 0, cached or 0, tokens_out or 0, batch) if price else 0.0
        row = Counter(
            calls=calls,
            input_tokens=tokens_in or 0,
            cached_tokens=cached or 0,
            output_tokens=tokens_out or 0,
            batch_calls=calls if batch else 0,
        )
        by_stage[stage].update(row)
        by_stage[stage]["dollars"] += cost
        if user_id is not None:
            by_user[user_id].update(row)
            by_user[user_id]["dollars"] += cost
    emails = dict(
        conn.execute(
            sa.select(users.c.id, users.c.email).where(users.c.id.in_(list(by_user)))
        ).all()
    )
    stages = [{"stage": stage, **_rounded(counts)} for stage, counts in sorted(by_stage.items())]
    per_user = [
        {"user": user_id, "email": mask_email(emails.get(user_id, "")), **_rounded(counts)}
        for user_id, counts in sorted(by_user.items(), key=lambda item: -item[1]["dollars"])
    ]
    return stages, per_user, sorted(unpriced)


def _rounded(counts: Counter) -> dict:
    values = {
        key: counts[key]
        for key in ("calls", "input_tokens", "cached_tokens", "output_tokens", "batch_calls")
    }
    return {**values, "dollars": round(counts["dollars"], 6)}


def _latency(conn, start: datetime, end: datetime) -> dict[str, dict]:
    """From a match's notification (committed with the match) to its delivery, per channel,
    for the instant messages delivered this day: a digest waits by design. A message held
    by quiet hours counts its wait: that is what the seeker sees."""
    query = sa.select(
        notifications.c.channel, notifications.c.created_at, notifications.c.delivered_at
    ).where(
        notifications.c.delivered_at >= start,
        notifications.c.delivered_at < end,
        notifications.c.kind == "instant",
    )
    waits: dict[str, list[float]] = defaultdict(list)
    for channel, created, delivered in conn.execute(query):
        waits[channel or "table"].append(max((delivered - created).total_seconds(), 0.0))
    return {
        channel: {
            "delivered": len(values),
            "median_s": round(_quantile(values, 0.5), 1),
            "p95_s": round(_quantile(values, 0.95), 1),
        }
        for channel, values in sorted(waits.items())
    }


def _quantile(values: list[float], q: float) -> float:
    """The nearest-rank quantile: a value that happened, not an interpolation."""
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]
