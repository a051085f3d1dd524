"""user_job_matches: how well each job fits each user, one partition per user x job pair."""

import dagster as dg

from jobping_dagster.concurrency import map_concurrently
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.llm.prompts import MATCH_PROMPT_VERSION
from jobping_dagster.llm.resources import LLM_POOL, LLMResource
from jobping_dagster.matching.metadata import match_metadata, score_distribution
from jobping_dagster.matching.store import (
    PairInput,
    load_pair_inputs,
    record_match_failure,
    save_match,
    up_to_date_keys,
)
from jobping_dagster.retries import describe_next_attempt, failure_reason, is_retryable

pair_partitions_def = dg.DynamicPartitionsDefinition(name="user_job_pairs")


class MatchConfig(dg.Config):
    # Score again pairs already scored with this model and prompt. A run of one single
    # pair always scores again: that is an operator asking for it.
    rescore: bool = False


@dg.asset(
    partitions_def=pair_partitions_def,
    deps=[dg.AssetDep("company_info", partition_mapping=dg.AllPartitionMapping())],
    group_name="matching",
    kinds={"sql"},  # plus the LLM's kind, from the settings (definitions.py)
    backfill_policy=dg.BackfillPolicy.single_run(),
    # No in-run retry: a failed pair is requested again by the fan-out sensor after a
    # cool-down (retries.py), so a short outage does not use up its attempts.
    pool=LLM_POOL,
    output_required=False,
)
def user_job_matches(
    context: dg.AssetExecutionContext,
    config: MatchConfig,
    app_db: AppDatabase,
    llm: LLMResource,
):
    """A 0-100 score of one job against one user's prompt, with explanation, pros, cons and
    a recommendation, stored in `user_job_matches`. Partition keys are `u<user>-j<job>`.
    Runs are batched: many pairs per run, scored concurrently; each pair is written on its
    own, so a retried batch only scores what is missing. A score at or above the user's
    threshold writes its notification in the same transaction."""
    keys = list(context.partition_keys)
    engine = app_db.engine()
    with engine.connect() as conn:
        inputs, unusable = load_pair_inputs(conn, keys)
        skip = (
            set()
            if config.rescore or len(keys) == 1
            else up_to_date_keys(
                conn, inputs, model=llm.model_name, prompt_version=MATCH_PROMPT_VERSION
            )
        )
    # Not retried: the fan-out only re-drives pairs of existing users with a prompt.
    failures = dict(unusable)
    to_score = {key: pair for key, pair in inputs.items() if key not in skip}
    if skip:
        context.log.info(f"{len(skip)} pairs already scored with this model and prompt: skipped")

    notified, scores = 0, []
    for key, analysis, error in map_concurrently(
        _scorer(llm), to_score.items(), llm.max_concurrency
    ):
        pair = to_score[key]
        if error is None:
            with engine.begin() as conn:
                saved = save_match(
                    conn,
                    pair,
                    analysis,
                    model=llm.model_name,
                    prompt_version=MATCH_PROMPT_VERSION,
                    now=utcnow(),
                )
            notified += saved.notification_created
            yield dg.AssetMaterialization(
                asset_key=context.asset_key,
                partition=key,
                metadata=match_metadata(pair, analysis, saved.match_id, llm.model_name),
            )
            scores.append(analysis.score)
            continue
        reason = failure_reason(error)
        with engine.begin() as conn:
            attempts, next_at = record_match_failure(
                conn, key, error=reason, retryable=is_retryable(error), now=utcnow()
            )
        failures[key] = f"{reason} (attempt {attempts}; {describe_next_attempt(next_at, utcnow())})"
        context.log.warning(f"scoring {key} failed: {failures[key]}")

    context.log.info(
        f"{len(to_score) - len(failures.keys() & to_score.keys())} pairs scored, "
        f"{notified} new notifications, {len(failures)} failed"
    )
    if scores:
        # The run as a whole (many partitions): an observation of the asset, not of a pair.
        yield dg.AssetObservation(asset_key=context.asset_key, metadata=score_distribution(scores))
    if failures:
        raise dg.Failure(
            description=f"{len(failures)} of {len(keys)} pairs failed: "
            + "; ".join(f"{key}: {reason}" for key, reason in sorted(failures.items())[:10]),
            metadata={"failed_pairs": failures},
            allow_retries=False,
        )


def _scorer(llm: LLMResource):
    def score(pair: PairInput):
        return llm.score(pair.job, pair.prompt, pair.company)

    return score
