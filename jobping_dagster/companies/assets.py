"""company_info: what we know about each hiring company, researched once per six months."""

import functools
from datetime import datetime

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.companies.freshness import RESEARCH_MAX_AGE, is_fresh
from jobping_dagster.companies.store import load_company, record_research_failure, save_company_info
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.llm.ledger import RESEARCH
from jobping_dagster.llm.models import CompanyFacts, CompanyProfile
from jobping_dagster.llm.resources import LLM_POOL, LLMResource
from jobping_dagster.llm_batch import LLMBatch, fail_if_any, run_llm_batch

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
    to_research, failures = {}, {}
    with engine.connect() as conn:
        for key in context.partition_keys:
            company, facts = load_company(conn, key)
            if company is None:
                failures[key] = "no such company in the jobs table"
            elif is_fresh(company.info_updated_at, utcnow()) and not config.force:
                yield dg.AssetMaterialization(
                    asset_key=context.asset_key, partition=key, metadata=_cached_metadata(company)
                )
            else:
                to_research[key] = facts
    batch = LLMBatch(
        noun="companies",
        call=llm.research,
        save=functools.partial(_save, model=llm.research_model_name),
        record_failure=record_research_failure,
        stage=RESEARCH,
        about=lambda key, _facts: {"company_key": key},
    )
    yield from run_llm_batch(context, engine, batch, to_research, llm.max_concurrency, failures)
    fail_if_any(failures, len(context.partition_keys), "companies")


def _save(
    conn: sa.Connection,
    key: str,
    facts: CompanyFacts,
    profile: CompanyProfile,
    now: datetime,
    *,
    model: str,
) -> dict:
    save_company_info(conn, key, profile, model=model, now=now)
    return {
        "status": "researched",
        "model": model,
        "industry": profile.industry or "",
        "summary": profile.summary[:300],
    }


def _cached_metadata(company) -> dict:
    return {
        "status": "cached",
        "researched_at": str(company.info_updated_at),
        "model": company.researched_by or "",
    }
