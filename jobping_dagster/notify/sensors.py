"""Notification trigger: requests a drain of the outbox when notifications are due. The app
database alone says what is due (a notification commits with its match), so the sensor reads
no Dagster events."""

import dagster as dg

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.llm.prices import DEFAULT_PRICES, parse_prices
from jobping_dagster.notify.assets import notifications
from jobping_dagster.notify.budget import tell_users_over_budget
from jobping_dagster.notify.outbox import STALLED_AFTER, due_marker, oldest_due_since
from jobping_dagster.run_limits import JOB_MAX_RUNTIME_SECONDS, max_runtime_tags

notify_job = dg.define_asset_job(
    "notify_job",
    selection=[notifications],
    tags=max_runtime_tags(JOB_MAX_RUNTIME_SECONDS["notify_job"]),
)


def build_notification_sensor(
    *, interval_seconds: int, llm_prices: str = DEFAULT_PRICES
) -> dg.SensorDefinition:
    """The sensor, evaluated every `interval_seconds` (JOBPING_SENSOR_INTERVAL_SECONDS);
    `llm_prices` (JOBPING_LLM_PRICES) prices users' calls against their monthly budgets."""
    prices = parse_prices(llm_prices)

    def notification_sensor(context: dg.SensorEvaluationContext, app_db: AppDatabase):
        return _notification_tick(context, app_db, prices)

    notification_sensor.__doc__ = _notification_tick.__doc__
    return dg.sensor(
        job=notify_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )(notification_sensor)


def _notification_tick(context: dg.SensorEvaluationContext, app_db: AppDatabase, prices):
    """When the outbox holds due notifications (new high scores, or retries whose time has
    come) requests one drain run. The run key is the outbox state and the minute: a drain
    for the same state is not requested twice within a minute, and a drain that failed
    before claiming anything (the state unchanged) is followed by another a minute later."""
    now = utcnow()
    with app_db.engine().begin() as conn:
        told = tell_users_over_budget(conn, now, prices)
        due = due_marker(conn, now)
        due_since = oldest_due_since(conn, now) if due else None
    if due_since is not None and now - due_since > STALLED_AFTER:
        context.log.warning(
            f"a notification has been due for {(now - due_since).total_seconds() / 60:.0f} min:"
            " drains are failing (see the notify_job runs)"
        )
    if told:
        context.log.info(f"{told} users past their monthly LLM budget: told once this month")
    if due is None:
        return dg.SensorResult(skip_reason="no notification due")
    if _drain_waiting(context.instance):
        # It has not claimed anything yet, so it will send what is due now as well.
        return dg.SensorResult(skip_reason="a drain is already queued")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"notify:{due}:{now:%Y%m%dT%H%M}")])


def _drain_waiting(instance: dg.DagsterInstance) -> bool:
    waiting = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
    return bool(
        instance.get_runs(dg.RunsFilter(job_name=notify_job.name, statuses=waiting), limit=1)
    )
