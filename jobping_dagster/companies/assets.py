"""company_info: what we know about each hiring company, researched once per six months."""

import dagster as dg

from jobping_dagster.companies.freshness import RESEARCH_MAX_AGE, is_fresh
from jobping_dagster.companies.store import load_company, record_research_failure, save_company_info
from jobping_dagster.concurrency import map_concurrently
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.llm.resources import LLM_POOL, LLMResource
from jobping_dagster.retries import describe_next_attempt, failure_reason, is_retryable

company_partitions_def = dg.DynamicPartitionsDefinition(name="companies")


class ResearchConfig(dg.Config):
    force: bool = False  # research again even when the stored research is fresh


@dg.asset(
    partitions_def=company_partitions_def,
    deps=[dg.AssetDep("scraped_jobs", partition_mapping=dg.AllPartitionMapping())],
    group_name="companies",
    # The LLM's kind ("openai", or "python" for the local researcher) is added by
    # definitions.py from the settings: the UI shows what really runs.
    kinds={"sql"},
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=RESEARCH_MAX_AGE),
    backfill_policy=dg.BackfillPolicy.single_run(),
    # No in-run retry: a failed company is requested again by the research sensor after a
    # cool-down (retries.py), so a short outage does not use up its attempts.
    pool=LLM_POOL,
    output_required=False,
)
def company_info(
    context: dg.AssetExecutionContext,
    config: ResearchConfig,
    app_db: AppDatabase,
    llm: LLMResource,
):
    """A profile of each hiring company (summary, industry, size, culture, red flags) from
    what the job boards said and its postings, one partition per company. Research is
    reused by every posting and user for 180 days; a run only researches companies whose
    profile is missing or older than that, unless `force` is set."""
    engine = app_db.engine()
    now = utcnow()
    to_research, failures = {}, {}
    with engine.connect() as conn:
        for key in context.partition_keys:
            company, facts = load_company(conn, key)
            if company is None:
                failures[key] = "no such company in the jobs table"
            elif is_fresh(company.info_updated_at, now) and not config.force:
                yield dg.AssetMaterialization(
                    asset_key=context.asset_key,
                    partition=key,
                    metadata={
                        "status": "cached",
                        "researched_at": str(company.info_updated_at),
                        "model": company.researched_by or "",
                    },
                )
            else:
                to_research[key] = facts

    for key, profile, error in map_concurrently(
        llm.research, to_research.items(), llm.max_concurrency
    ):
        if error is None:
            with engine.begin() as conn:
                save_company_info(conn, key, profile, model=llm.research_model_name, now=utcnow())
            yield dg.AssetMaterialization(
                asset_key=context.asset_key,
                partition=key,
                metadata={
                    "status": "researched",
                    "model": llm.research_model_name,
                    "industry": profile.industry or "",
                    "summary": profile.summary[:300],
                },
            )
            continue
        reason = failure_reason(error)
        with engine.begin() as conn:
            attempts, next_at = record_research_failure(
                conn, key, reason, retryable=is_retryable(error), now=utcnow()
            )
        failures[key] = f"{reason} (attempt {attempts}; {describe_next_attempt(next_at, utcnow())})"
        context.log.warning(f"research of {key} failed: {failures[key]}")

    if failures:
        raise dg.Failure(
            description=f"{len(failures)} of {len(context.partition_keys)} companies failed: "
            + "; ".join(f"{key}: {reason}" for key, reason in sorted(failures.items())[:10]),
            metadata={"failed_companies": failures},
            allow_retries=False,
        )
