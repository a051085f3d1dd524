"""daily_account: each day's account of the work and its cost (account/daily.py), as
metadata on one partition per UTC day, refreshed for yesterday every night and by each
local pass for today; any day can be materialized again from the UI."""

from datetime import date, timedelta

import dagster as dg

from jobping_dagster.account.daily import day_account
from jobping_dagster.account.recorded import recorded_counts
from jobping_dagster.account.report import account_metadata, report_lines
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.llm.prices import parse_prices

ACCOUNT_JOB = "account_job"


def build_daily_account(days: dg.PartitionsDefinition, llm_prices: str) -> dg.AssetsDefinition:
    """The asset over `days` (scraped_jobs' days), pricing calls with `llm_prices`
    (JOBPING_LLM_PRICES)."""

    @dg.asset(
        partitions_def=days,
        group_name="account",
        kinds={"sql"},
        deps=[
            "scraped_jobs",
            "match_candidates",
            dg.AssetDep("user_job_matches", partition_mapping=dg.AllPartitionMapping()),
            "notifications",
        ],
    )
    def daily_account(
        context: dg.AssetExecutionContext, app_db: AppDatabase
    ) -> dg.MaterializeResult:
        """The funnel (postings scraped, new, rejected by reason, per site blocked or empty;
        companies researched; pairs considered, gated, kept, scored; matches at or above
        threshold; messages per channel and outcome), the LLM calls with input, cached and
        output tokens and dollars per stage and per user, and the delivery latency per
        channel (median, 95th percentile) of one UTC day."""
        day = date.fromisoformat(context.partition_key)
        recorded = recorded_counts(context.instance, day)
        with app_db.engine().connect() as conn:
            account = day_account(conn, day, parse_prices(llm_prices), recorded)
        for line in report_lines(account):
            context.log.info(line)
        return dg.MaterializeResult(metadata=account_metadata(account))

    return daily_account


account_job = dg.define_asset_job(ACCOUNT_JOB, selection=dg.AssetSelection.groups("account"))


@dg.schedule(
    job=account_job,
    cron_schedule="30 0 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_account_schedule(context: dg.ScheduleEvaluationContext):
    """Closes yesterday's (UTC) account half an hour after midnight."""
    yesterday = (context.scheduled_execution_time.date() - timedelta(days=1)).isoformat()
    return dg.RunRequest(partition_key=yesterday, run_key=f"account:{yesterday}")
