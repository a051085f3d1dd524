"""Notification trigger: reads every new user_job_matches materialization (a plain sensor
with a storage-id cursor: `@asset_sensor` would see only the latest) and requests a drain
of the outbox when notifications are due."""

import dagster as dg

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.matching.assets import user_job_matches
from jobping_dagster.notify.assets import notifications
from jobping_dagster.notify.outbox import STALLED_AFTER, due_marker, oldest_due_since
from jobping_dagster.run_limits import JOB_MAX_RUNTIME_SECONDS, max_runtime_tags

notify_job = dg.define_asset_job(
    "notify_job",
    selection=[notifications],
    tags=max_runtime_tags(JOB_MAX_RUNTIME_SECONDS["notify_job"]),
)

PAGE_SIZE = 1000
# Bounds one tick's work so it stays far below the sensor timeout; the rest waits.
MAX_PAGES_PER_TICK = 20


def build_notification_sensor(*, interval_seconds: int) -> dg.SensorDefinition:
    """The sensor, evaluated every `interval_seconds` (JOBPING_SENSOR_INTERVAL_SECONDS)."""
    return dg.sensor(
        job=notify_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )(notification_sensor)


def notification_sensor(context: dg.SensorEvaluationContext, app_db: AppDatabase):
    """Follows every new match materialization; when the outbox holds due notifications
    (new high scores, or retries whose time has come) requests one drain run. The app
    database decides what is due. The run key is the outbox state and the minute: a drain
    for the same state is not requested twice within a minute, and a drain that failed
    before claiming anything (the state unchanged) is followed by another a minute later."""
    cursor = int(context.cursor) if context.cursor else 0
    new_events = high_scores = 0
    for _ in range(MAX_PAGES_PER_TICK):
        result = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=user_job_matches.key, after_storage_id=cursor),
            limit=PAGE_SIZE,
            ascending=True,
        )
        for record in result.records:
            new_events += 1
            metadata = record.asset_materialization.metadata if record.asset_materialization else {}
            notify = metadata.get("notify")
            high_scores += bool(notify and notify.value)
            cursor = record.storage_id
        if not result.has_more:
            break

    now = utcnow()
    with app_db.engine().connect() as conn:
        due = due_marker(conn, now)
        due_since = oldest_due_since(conn, now) if due else None
    if due_since is not None and now - due_since > STALLED_AFTER:
        context.log.warning(
            f"a notification has been due for {(now - due_since).total_seconds() / 60:.0f} min:"
            " drains are failing (see the notify_job runs)"
        )
    if new_events:
        context.log.info(f"{new_events} new matches, {high_scores} at or above threshold")
    if due is None:
        return dg.SensorResult(skip_reason="no notification due", cursor=str(cursor))
    if _drain_waiting(context.instance):
        # It has not claimed anything yet, so it will send what is due now as well.
        return dg.SensorResult(skip_reason="a drain is already queued", cursor=str(cursor))
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"notify:{due}:{now:%Y%m%dT%H%M}")],
        cursor=str(cursor),
    )


def _drain_waiting(instance: dg.DagsterInstance) -> bool:
    waiting = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
    return bool(
        instance.get_runs(dg.RunsFilter(job_name=notify_job.name, statuses=waiting), limit=1)
    )
