"""Candidate selection trigger: selects a day's pairs again whenever that day's postings or
the users' prompts changed since its last selection."""

import json
from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import users
from jobping_dagster.matching.candidate_assets import match_candidates
from jobping_dagster.postings.assets import scraped_jobs
from jobping_dagster.run_limits import JOB_MAX_RUNTIME_SECONDS, max_runtime_tags

selection_job = dg.define_asset_job(
    "selection_job",
    selection=[match_candidates],
    tags=max_runtime_tags(JOB_MAX_RUNTIME_SECONDS["selection_job"]),
)

# Yesterday too: a scrape that finished just after midnight still gets its selection.
DAYS_WATCHED = 2


def build_candidate_selection_sensor(*, interval_seconds: int) -> dg.SensorDefinition:
    """The sensor, evaluated every `interval_seconds` (JOBPING_SENSOR_INTERVAL_SECONDS)."""
    return dg.sensor(
        job=selection_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )(candidate_selection_sensor)


def candidate_selection_sensor(context: dg.SensorEvaluationContext, app_db: AppDatabase):
    """Requests a `match_candidates` run for today (and yesterday) after each new
    `scraped_jobs` materialization of that day, and when a user was added or changed their
    prompt, so a new user gets today's postings without waiting for tomorrow."""
    seen = json.loads(context.cursor) if context.cursor else {}
    with app_db.engine().connect() as conn:
        users_version = conn.execute(
            sa.select(sa.func.count(), sa.func.max(users.c.updated_at))
        ).one()
    users_marker = f"{users_version[0]}@{users_version[1]}"
    today = utcnow().date()
    requests, latest = [], {}
    for offset in range(DAYS_WATCHED):
        day = (today - timedelta(days=offset)).isoformat()
        scrape = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=scraped_jobs.key, asset_partitions=[day]), limit=1
        ).records
        if not scrape:
            continue
        marker = f"{scrape[0].storage_id}:{users_marker}"
        latest[day] = marker
        if seen.get(day) != marker:
            requests.append(dg.RunRequest(partition_key=day, run_key=f"select:{day}:{marker}"))
    cursor = json.dumps(latest)
    if not requests:
        return dg.SensorResult(skip_reason="no new postings or prompts", cursor=cursor)
    return dg.SensorResult(run_requests=requests, cursor=cursor)
