"""The six-month rule for company research: one research serves every posting of a company
until it is older than this."""

from datetime import datetime, timedelta

RESEARCH_MAX_AGE = timedelta(days=180)


def is_fresh(info_updated_at: datetime | None, now: datetime) -> bool:
    return info_updated_at is not None and now - info_updated_at <= RESEARCH_MAX_AGE
