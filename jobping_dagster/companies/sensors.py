"""Turns company research on for new companies, and again when research turns six months old."""

import dagster as dg

from jobping_dagster.companies.assets import company_info, company_partitions_def
from jobping_dagster.companies.store import MatchableWindow, companies_to_research
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.partition_status import batched_run_requests, partitions_in_active_runs
from jobping_dagster.postings.recency import FAN_OUT_WINDOW, MAX_POSTING_AGE
from jobping_dagster.run_limits import research_run_tags

research_job = dg.define_asset_job(
    "research_job", selection=dg.AssetSelection.assets(company_info).without_checks()
)

# Turning the sensor on over a large backlog must not launch a storm of runs.
FIRST_TICK_MAX_COMPANIES = 50
MAX_COMPANIES_PER_TICK = 500
COMPANIES_PER_RUN = 20


def build_company_research_sensor(*, interval_seconds: int) -> dg.SensorDefinition:
    """The sensor, evaluated every `interval_seconds` (JOBPING_SENSOR_INTERVAL_SECONDS)."""
    return dg.sensor(
        job=research_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )(company_research_sensor)


def company_research_sensor(context: dg.SensorEvaluationContext, app_db: AppDatabase):
    """Requests research, in batched runs, for companies with a posting that can still be
    matched (a chosen pair waits for it, or it is new and recent enough to be chosen) whose
    profile is missing or older than 180 days: never tried, or due again after a failure's
    cool-down or a run that died."""
    now = utcnow()
    limit = FIRST_TICK_MAX_COMPANIES if context.cursor is None else MAX_COMPANIES_PER_TICK
    window = MatchableWindow(seen_since=now - FAN_OUT_WINDOW, max_posting_age=MAX_POSTING_AGE)
    with app_db.engine().connect() as conn:
        due = companies_to_research(conn, now=now, window=window, limit=limit)
    existing = set(context.instance.get_dynamic_partitions(company_partitions_def.name))
    busy = partitions_in_active_runs(context.instance, research_job.name, company_partitions_def)
    # A company due again whose partition exists (a refresh, a cool-down that has passed, a
    # run that died) has its partition deleted now and added again from the next tick, after
    # every other key (Dagster refuses both in one tick), so retries go in batched runs too.
    send_back = [c.key for c in due if c.key in existing and c.key not in busy]
    new = [c for c in due if c.key not in existing]
    fresh = [c.key for c in new if c.attempts == 0]
    again = [c.key for c in new if c.attempts > 0]
    stamp = f"{now:%Y%m%dT%H%M%S}"
    requests = batched_run_requests(
        fresh, COMPANIES_PER_RUN, f"research:{stamp}", research_run_tags
    )
    requests += batched_run_requests(
        again, COMPANIES_PER_RUN, f"research-retry:{stamp}", research_run_tags
    )
    partition_requests = []
    if fresh or again:
        partition_requests.append(company_partitions_def.build_add_request(fresh + again))
    if send_back:
        partition_requests.append(company_partitions_def.build_delete_request(send_back))
    if not partition_requests:
        return dg.SensorResult(
            skip_reason=f"no company needs research ({len(due)} due, all in progress)",
            cursor=now.isoformat(),
        )
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=partition_requests,
        cursor=now.isoformat(),
    )
