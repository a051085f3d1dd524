"""notifications: delivering the outbox of high-score matches."""

import dagster as dg

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.notify.outbox import drain, outbox_counts
from jobping_dagster.notify.resources import DeliveryChannelsResource, DiscordResource


@dg.asset(
    deps=[dg.AssetDep("user_job_matches", partition_mapping=dg.AllPartitionMapping())],
    group_name="notifications",
    kinds={"discord", "email", "sql"},
)
def notifications(
    context: dg.AssetExecutionContext,
    app_db: AppDatabase,
    discord: DiscordResource,
    delivery: DeliveryChannelsResource,
) -> dg.MaterializeResult:
    """Delivers due notifications of high-score matches, digests and notices: every one is
    recorded in the `notifications` table, and sent on the user's channels (Discord, email,
    a signed webhook) as their policy says. Each row is delivered once, however often this
    runs: rows are claimed before sending."""
    engine = app_db.engine()
    outcomes = drain(engine, discord.sender().send, utcnow, senders=delivery.senders())
    with engine.connect() as conn:
        totals = outbox_counts(conn)
    context.log.info(f"delivered this run: {dict(outcomes) or 'nothing due'}")
    return dg.MaterializeResult(
        metadata={
            "delivered_this_run": sum(outcomes[s] for s in ("sent", "recorded")),
            "outcomes_this_run": dict(outcomes),
            "outbox_by_status": totals,
            "waiting": totals.get("pending", 0) + totals.get("retry", 0),
            "needs_attention": sum(totals.get(s, 0) for s in ("failed", "dead", "unknown")),
        }
    )
