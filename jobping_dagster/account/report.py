"""A day's account as a person reads it: lines for `jobping stats`, and metadata for the
`daily_account` asset in the Dagster UI (numbers to plot over days, tables, and bars where a
picture reads better)."""

from __future__ import annotations

import dagster as dg

from jobping_dagster.account.daily import DayAccount
from jobping_dagster.markdown import markdown_table

BAR, BAR_WIDTH = "█", 30


def report_lines(account: DayAccount) -> list[str]:
    pairs = account.pairs
    rejected = account.rejected_by_reason
    lines = [
        f"{account.day}",
        "  postings    "
        + _scrape_summary(account)
        + f"; {account.new_postings} new"
        + (f"; rejected {_reasons(rejected)}" if rejected is not None else ""),
        f"  companies   {account.companies_researched} researched",
        "  pairs       "
        + ", ".join(
            f"{value if value is not None else '?'} {name}" for name, value in pairs.items()
        )
        + f"; {account.matches_scored} scored, "
        + f"{account.matches_at_threshold} at or above threshold",
        "  messages    " + (_messages(account) or "none"),
    ]
    for row in account.llm_by_stage:
        lines.append(
            f"  llm {row['stage']:<9}{row['calls']} calls, {row['input_tokens']} in "
            f"({row['cached_tokens']} cached), {row['output_tokens']} out, ${row['dollars']:.4f}"
        )
    if account.unpriced_models:
        lines.append(f"  no price for {', '.join(account.unpriced_models)} (JOBPING_LLM_PRICES)")
    for row in account.llm_by_user[:5]:
        lines.append(
            f"  user {row['user']:<7}{row['email']}: {row['calls']} calls, ${row['dollars']:.4f}"
        )
    for channel, figures in account.latency.items():
        lines.append(
            f"  latency {channel:<8}median {figures['median_s']:g} s, "
            f"p95 {figures['p95_s']:g} s over {figures['delivered']}"
        )
    return lines


def _scrape_summary(account: DayAccount) -> str:
    if not account.scrapes:
        return "no scrape"
    parts = []
    for site in account.scrapes:
        flags = [f"{site[k]} {k}" for k in ("blocked", "empty") if site[k]]
        parts.append(
            f"{site['site']} {site['rows']} rows" + (f" ({', '.join(flags)})" if flags else "")
        )
    return ", ".join(parts)


def _reasons(reasons: dict[str, int]) -> str:
    total = sum(reasons.values())
    detail = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
    return f"{total}" + (f" ({detail})" if detail else "")


def _messages(account: DayAccount) -> str:
    return "; ".join(
        f"{channel}: "
        + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        for channel, statuses in sorted(account.messages.items())
    )


def account_metadata(account: DayAccount) -> dict:
    """Numbers first (Dagster plots a number's history across partitions), then tables."""
    sent = sum(s.get("sent", 0) + s.get("recorded", 0) for s in account.messages.values())
    failed = {
        status: sum(s.get(status, 0) for s in account.messages.values())
        for status in ("failed", "dead", "unknown")
    }
    return {
        "postings_new": account.new_postings,
        "postings_rejected": sum((account.rejected_by_reason or {}).values()),
        "companies_researched": account.companies_researched,
        "pairs_kept": account.pairs.get("kept", 0),
        "matches_scored": account.matches_scored,
        "matches_at_threshold": account.matches_at_threshold,
        "messages_delivered": sent,
        **{f"messages_{status}": count for status, count in failed.items()},
        "llm_calls": sum(row["calls"] for row in account.llm_by_stage),
        "llm_dollars": account.dollars,
        "funnel": dg.MetadataValue.md(_funnel_table(account)),
        "llm_by_stage": dg.MetadataValue.md(
            markdown_table(
                account.llm_by_stage,
                [
                    "stage",
                    "calls",
                    "input_tokens",
                    "cached_tokens",
                    "output_tokens",
                    "batch_calls",
                    "dollars",
                ],
            )
        ),
        "llm_dollars_by_user": dg.MetadataValue.md(_user_bars(account)),
        "delivery_latency": dg.MetadataValue.md(
            markdown_table(
                [{"channel": channel, **figures} for channel, figures in account.latency.items()],
                ["channel", "delivered", "median_s", "p95_s"],
            )
        ),
        "scrapes_by_site": dg.MetadataValue.md(
            markdown_table(account.scrapes, ["site", "scrapes", "rows", "blocked", "empty"])
        ),
    }


def _funnel_table(account: DayAccount) -> str:
    """Each step with a bar as long as its count, against the widest step."""
    steps = [
        ("rows scraped", sum(site["rows"] for site in account.scrapes)),
        ("postings new", account.new_postings),
        ("rows rejected", sum((account.rejected_by_reason or {}).values())),
        ("pairs considered", account.pairs.get("considered")),
        ("pairs gated", account.pairs.get("gated")),
        ("pairs kept", account.pairs.get("kept")),
        ("pairs shadow", account.pairs.get("shadow")),
        ("matches scored", account.matches_scored),
        ("at or above threshold", account.matches_at_threshold),
        (
            "messages delivered",
            sum(s.get("sent", 0) + s.get("recorded", 0) for s in account.messages.values()),
        ),
    ]
    widest = max([count for _, count in steps if count] or [1])
    rows = [
        {
            "step": step,
            "count": "not recorded" if count is None else count,
            "": BAR * max(round((count or 0) / widest * BAR_WIDTH), 1 if count else 0),
        }
        for step, count in steps
    ]
    return markdown_table(rows, ["step", "count", ""], max_cell=BAR_WIDTH + 1)


def _user_bars(account: DayAccount) -> str:
    users = account.llm_by_user[:20]
    top = max([row["dollars"] for row in users] or [0]) or 1
    rows = [
        {
            "user": f"{row['user']} {row['email']}",
            "calls": row["calls"],
            "dollars": f"{row['dollars']:.4f}",
            "": BAR * max(round(row["dollars"] / top * BAR_WIDTH), 1 if row["dollars"] else 0),
        }
        for row in users
    ]
    return markdown_table(rows, ["user", "calls", "dollars", ""], max_cell=BAR_WIDTH + 1)
