"""match_candidates: which user x posting pairs of each day are worth an LLM call, and why
the others are not. The operator's view of the cascade."""

from datetime import date, timedelta

import dagster as dg

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.llm.local.wish_reader import read_wishes_locally
from jobping_dagster.llm.resources import LLMResource
from jobping_dagster.markdown import markdown_table
from jobping_dagster.matching.candidates import scored_candidates
from jobping_dagster.matching.costs import scoring_cost
from jobping_dagster.matching.metadata import relevance_distribution
from jobping_dagster.matching.recall import (
    RECALL_WARN_BELOW,
    estimate_recall,
    estimate_recall_per_user,
)
from jobping_dagster.matching.resources import PrefilterResource
from jobping_dagster.matching.selection import WishReader, select_day
from jobping_dagster.postings.assets import daily_partitions_def, scraped_jobs
from jobping_dagster.wording import plural

# The recall estimate looks back this far: shadow hits are rare, a day alone says little.
RECALL_WINDOW = timedelta(days=14)
CHECK_RECALL = "prefilter_recall_estimate"


@dg.asset(
    partitions_def=daily_partitions_def,
    deps=[scraped_jobs],
    group_name="matching",
    kinds={"python", "sql"},
)
def match_candidates(
    context: dg.AssetExecutionContext,
    app_db: AppDatabase,
    llm: LLMResource,
    prefilter: PrefilterResource,
) -> dg.MaterializeResult:
    """The day's new postings x every active user with a prompt, through the pre-filter
    cascade: hard gates on explicit wishes, relevance ranking, per-user and per-posting
    budgets, and a random shadow sample of the dropped pairs. Only chosen pairs are stored
    (`match_candidates`) and become pair partitions; dropped pairs are counted by reason and
    can be pulled on demand (`jobping matches EMAIL`). Selecting a day again only adds pairs
    for what is new (postings, users, budget left)."""
    day = date.fromisoformat(context.partition_key)
    now = utcnow()
    reader = WishReader(
        llm.read_wishes, llm.wishes_parser_name, read_wishes_locally, llm.max_concurrency
    )
    engine = app_db.engine()
    result = select_day(engine, day, reader, prefilter.cascade_config(), now)
    with engine.connect() as conn:
        scored = scored_candidates(conn, day - RECALL_WINDOW)
    estimate = estimate_recall(scored)
    selection = result.selection
    calls = selection.kept + selection.shadow
    all_pairs = result.postings * result.users
    if result.wishes_fell_back:
        context.log.warning(
            f"{result.wishes_fell_back} wishes could not be read by {llm.wishes_parser_name}: "
            "read locally this time, tried again next time"
        )
    context.log.info(
        f"{day}: {plural(selection.considered, 'pair')} considered, {selection.kept} kept, "
        f"{selection.shadow} shadow, {selection.dropped} dropped"
    )
    return dg.MaterializeResult(
        metadata={
            "postings": result.postings,
            "users": result.users,
            "pairs_considered": selection.considered,
            "pairs_chosen_before": selection.already_chosen,
            "gated": sum(selection.gated.values()),
            "gated_by_reason": dict(selection.gated),
            "ranked_out": selection.ranked_out,
            "over_posting_cap": selection.capped,
            "kept": selection.kept,
            "shadow": selection.shadow,
            "llm_calls_share_of_all_pairs": round(calls / all_pairs, 4) if all_pairs else 0.0,
            "implied_llm_cost": scoring_cost(calls),
            "unreadable_wishes": selection.unreadable_wishes,
            "wishes_read": result.wishes_read,
            "wishes_read_locally_after_an_error": result.wishes_fell_back,
            "estimated_recall": estimate.recall,
            "estimated_recall_detail": estimate.describe(),
            "estimated_recall_by_user": dg.MetadataValue.md(_per_user_table(scored)),
            **relevance_distribution(selection.chosen),
        }
    )


def _per_user_table(scored) -> str:
    rows = [
        {
            "user": user_id,
            "estimated recall": f"{found.recall:.2f}",
            "kept hits": found.kept_hits,
            "shadow hits": f"{found.shadow_hits} of {found.shadow_scored}",
        }
        for user_id, found in estimate_recall_per_user(scored).items()
        if found.recall is not None
    ]
    rows.sort(key=lambda row: row["estimated recall"])
    if not rows:
        return "No scored hits in the window yet."
    return markdown_table(rows[:20], ["user", "estimated recall", "kept hits", "shadow hits"])


@dg.asset_check(asset=match_candidates, name=CHECK_RECALL)
def prefilter_recall_estimate(app_db: AppDatabase) -> dg.AssetCheckResult:
    """The pre-filter's recall over the last 14 days, estimated from the shadow sample:
    warns below 0.95 (matches users would want are being dropped before scoring)."""
    with app_db.engine().connect() as conn:
        estimate = estimate_recall(scored_candidates(conn, utcnow().date() - RECALL_WINDOW))
    recall = estimate.recall
    return dg.AssetCheckResult(
        passed=recall is None or recall >= RECALL_WARN_BELOW,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "estimated_recall": recall,
            "detail": estimate.describe(),
            "kept_hits": estimate.kept_hits,
            "shadow_hits": estimate.shadow_hits,
            "shadow_scored": estimate.shadow_scored,
            "warn_below": RECALL_WARN_BELOW,
        },
    )
