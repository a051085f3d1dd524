import dagster as dg
import sqlalchemy as sa

from jobping_dagster.companies.assets import company_info
from jobping_dagster.companies.store import MatchableWindow, stale_companies_in_use
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import companies
from jobping_dagster.postings.recency import FAN_OUT_WINDOW, MAX_POSTING_AGE

CHECK_COMPANY_INFO_FRESH = "company_info_in_use_is_fresh"


@dg.asset_check(asset=company_info, name=CHECK_COMPANY_INFO_FRESH)
def company_info_in_use_is_fresh(app_db: AppDatabase) -> dg.AssetCheckResult:
    """No company with a posting that can still be matched relies on research older than
    180 days."""
    now = utcnow()
    window = MatchableWindow(seen_since=now - FAN_OUT_WINDOW, max_posting_age=MAX_POSTING_AGE)
    with app_db.engine().connect() as conn:
        stale = stale_companies_in_use(conn, now=now, window=window)
        unresearched = conn.execute(
            sa.select(sa.func.count())
            .where(companies.c.key.in_(window.company_keys(now.date())))
            .where(companies.c.info_updated_at.is_(None))
        ).scalar_one()
    return dg.AssetCheckResult(
        passed=not stale,
        metadata={
            "stale_companies": stale[:50],
            "stale_count": len(stale),
            "not_yet_researched": unresearched,
        },
    )
