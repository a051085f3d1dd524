import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import digest_matches, notifications, user_job_matches
from jobping_dagster.notify.assets import notifications as notifications_asset
from jobping_dagster.notify.outbox import STALLED_AFTER, oldest_due_since, outbox_counts

CHECK_NOTIFIED_ONCE = "high_score_matches_notified_exactly_once"


@dg.asset_check(asset=notifications_asset, name=CHECK_NOTIFIED_ONCE)
def high_score_matches_notified_exactly_once(app_db: AppDatabase) -> dg.AssetCheckResult:
    """Every match scored at or above its user's threshold is notified, and on each channel
    once only: by its own rows (one per channel) or in digests (one per channel), never
    both. (The unique constraints keep a channel from having two of either.)"""
    instant = (
        sa.select(notifications.c.match_id, sa.func.count().label("n"))
        .where(notifications.c.match_id.is_not(None))
        .group_by(notifications.c.match_id)
        .subquery()
    )
    digest = (
        sa.select(digest_matches.c.match_id, sa.func.count().label("n"))
        .group_by(digest_matches.c.match_id)
        .subquery()
    )
    n_instant = sa.func.coalesce(instant.c.n, 0)
    n_digest = sa.func.coalesce(digest.c.n, 0)
    query = (
        sa.select(user_job_matches.c.partition_key, n_instant + n_digest)
        .outerjoin(instant, instant.c.match_id == user_job_matches.c.id)
        .outerjoin(digest, digest.c.match_id == user_job_matches.c.id)
        .where(user_job_matches.c.score >= user_job_matches.c.notify_threshold)
        .where(sa.or_(n_instant + n_digest == 0, sa.and_(n_instant > 0, n_digest > 0)))
    )
    with app_db.engine().connect() as conn:
        wrong = conn.execute(query).all()
        totals = outbox_counts(conn)
    return dg.AssetCheckResult(
        passed=not wrong,
        metadata={
            "matches_without_exactly_one": len(wrong),  # none, or both instant and digest
            "examples": [f"{key}: {count} notifications" for key, count in wrong[:20]],
            "outbox_by_status": totals,
        },
    )


@dg.asset_check(asset=notifications_asset)
def notifications_are_flowing(app_db: AppDatabase) -> dg.AssetCheckResult:
    """No notification has been due for longer than the stall limit: drains run and send."""
    now = utcnow()
    with app_db.engine().connect() as conn:
        due_since = oldest_due_since(conn, now)
        totals = outbox_counts(conn)
    waited = (now - due_since).total_seconds() if due_since else 0.0
    return dg.AssetCheckResult(
        passed=waited <= STALLED_AFTER.total_seconds(),
        metadata={
            "longest_wait_seconds": round(waited),
            "limit_seconds": round(STALLED_AFTER.total_seconds()),
            "outbox_by_status": totals,
        },
    )
