"""`jobping eval`: a backtest of the cascade and the scorer on a labeled set (see
labeled_set.py). All postings count as one day's new postings: the backtest judges the
cascade's choices, not recency windows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scipy.stats import spearmanr

from jobping_dagster.concurrency import map_concurrently
from jobping_dagster.llm.models import JobForScoring, MatchAnalysis, WishProfile
from jobping_dagster.matching.cascade import (
    SHADOW,
    CandidateUser,
    CascadeConfig,
    Selection,
    select_candidates,
)
from jobping_dagster.matching.inputs import prompt_hash
from jobping_dagster.matching.labeled_set import LabeledSet
from jobping_dagster.matching.recall import ScoredCandidate, estimate_recall


@dataclass
class _Selection:
    """The cascade run over a labeled set, with each pair's label at hand."""

    labeled: LabeledSet
    users: list[CandidateUser]
    prompt_ids: dict[int, str]
    job_keys: dict[int, str]
    selection: Selection
    threshold: int

    def label(self, pair: tuple[int, int]) -> int | None:
        user_id, job_id = pair
        return self.labeled.labels.get((self.job_keys[job_id], self.prompt_ids[user_id]))

    @property
    def total(self) -> int:
        return len(self.users) * len(self.job_keys)

    @property
    def labeled_pairs(self) -> list[tuple[int, int]]:
        pairs = ((user.id, job_id) for user in self.users for job_id in self.job_keys)
        return [pair for pair in pairs if self.label(pair) is not None]

    @property
    def positives(self) -> set[tuple[int, int]]:
        return {pair for pair in self.labeled_pairs if self.label(pair) >= self.threshold}

    @property
    def kept(self) -> set[tuple[int, int]]:
        return {(c.user_id, c.job_id) for c in self.selection.chosen if c.decision != SHADOW}

    @property
    def shadow(self) -> dict[tuple[int, int], float]:
        return {
            (c.user_id, c.job_id): c.weight for c in self.selection.chosen if c.decision == SHADOW
        }

    def worst_wishes(self, positives: set, kept: set) -> list[dict]:
        per_wish = []
        for user in self.users:
            wanted = [pair for pair in positives if pair[0] == user.id]
            if wanted:
                found = sum(pair in kept for pair in wanted)
                per_wish.append((found / len(wanted), self.prompt_ids[user.id], found, len(wanted)))
        return [
            {"wish": wish, "recall": round(r, 3), "kept": found, "positives": count}
            for r, wish, found, count in sorted(per_wish)[:5]
        ]


def _select(labeled, config, read_wishes, threshold: int) -> _Selection:
    users = [
        CandidateUser(index, prompt, prompt_hash(prompt), read_wishes(prompt))
        for index, (_, prompt) in enumerate(labeled.prompts, start=1)
    ]
    return _Selection(
        labeled=labeled,
        users=users,
        prompt_ids={user.id: pid for user, (pid, _) in zip(users, labeled.prompts, strict=True)},
        job_keys={candidate.id: key for key, candidate, _ in labeled.jobs},
        selection=select_candidates(users, [c for _, c, _ in labeled.jobs], config),
        threshold=threshold,
    )


def evaluate(
    labeled: LabeledSet,
    config: CascadeConfig,
    read_wishes: Callable[[str], WishProfile],
    score: Callable[[JobForScoring, str], MatchAnalysis],
    *,
    threshold: int = 70,
    all_pairs: bool = False,
    concurrency: int = 4,
) -> dict:
    """Figures of the cascade (share kept, recall of labeled hits, shadow estimate) and of the
    scorer (recall, precision, rank correlation with the labels) on one labeled set."""
    run = _select(labeled, config, read_wishes, threshold)
    labeled_pairs, positives, kept, shadow = run.labeled_pairs, run.positives, run.kept, run.shadow
    total, selection = run.total, run.selection

    to_score = (
        labeled_pairs if all_pairs else [p for p in labeled_pairs if p in kept or p in shadow]
    )
    prompts = {user.id: user.prompt for user in run.users}
    scoring_inputs = {candidate.id: scoring for _, candidate, scoring in labeled.jobs}
    work = [(pair, (scoring_inputs[pair[1]], prompts[pair[0]])) for pair in to_score]
    scores, failures = _score_all(score, work, concurrency)

    chosen = list(kept) + list(shadow)
    estimate = _shadow_estimate(
        kept, shadow, {pair: scores[pair] >= threshold for pair in chosen if pair in scores}
    )
    label_estimate = _shadow_estimate(kept, shadow, {pair: pair in positives for pair in chosen})
    scored_pairs = sorted(scores)
    labels = [run.label(pair) for pair in scored_pairs]
    agreement = _agreement(labels, [scores[pair] for pair in scored_pairs], threshold)
    end_to_end = sum(scores.get(pair, -1) >= threshold for pair in positives)
    return {
        "pairs": total,
        "labeled_pairs": len(labeled_pairs),
        "positives": len(positives),
        "kept": len(kept),
        "kept_share": round(len(kept) / total, 4) if total else 0.0,
        "shadow": len(shadow),
        "llm_calls_share": round((len(kept) + len(shadow)) / total, 4) if total else 0.0,
        "gated": dict(selection.gated),
        "ranked_out": selection.ranked_out,
        "capped": selection.capped,
        "positives_kept": sum(pair in kept for pair in positives),
        "prefilter_recall": _ratio(sum(pair in kept for pair in positives), len(positives)),
        "worst_wishes": run.worst_wishes(positives, kept),
        "shadow_estimate": _rounded(estimate.recall),
        "shadow_estimate_detail": estimate.describe(),
        "shadow_estimate_with_labels": _rounded(label_estimate.recall),
        "scored_pairs": len(scores),
        "scorer_failures": failures,
        **agreement,
        "end_to_end_recall": _ratio(end_to_end, len(positives)),
        "unreadable_wishes": selection.unreadable_wishes,
        "unreadable_postings": labeled.unreadable_postings,
    }


def _score_all(score, work, concurrency: int) -> tuple[dict[tuple[int, int], int], int]:
    """Scores of each (pair, (posting, prompt)) that the scorer answered, and the failures."""
    scores, failures = {}, 0
    for pair, analysis, error in map_concurrently(lambda args: score(*args), work, concurrency):
        if error is None:
            scores[pair] = analysis.score
        else:
            failures += 1
    return scores, failures


def _shadow_estimate(kept: set, shadow: dict, hits: dict[tuple[int, int], bool]):
    """The recall estimate production would make if these chosen pairs were hits."""
    return estimate_recall(
        ScoredCandidate(pair[0], "kept" if pair in kept else "shadow", shadow.get(pair, 1.0), hit)
        for pair, hit in hits.items()
    )


def _agreement(truth: list[int], guess: list[int], threshold: int) -> dict:
    """The scorer against the labels: recall and precision at the threshold, Spearman."""
    true_hits = sum(t >= threshold and g >= threshold for t, g in zip(truth, guess, strict=True))
    varied = len(set(truth)) > 1 and len(set(guess)) > 1
    return {
        "scorer_recall": _ratio(true_hits, sum(t >= threshold for t in truth)),
        "scorer_precision": _ratio(true_hits, sum(g >= threshold for g in guess)),
        "scorer_spearman": _rounded(spearmanr(truth, guess).statistic) if varied else None,
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _rounded(value) -> float | None:
    return None if value is None else round(float(value), 4)


def report_lines(figures: dict, scorer: str, config: CascadeConfig) -> list[str]:
    f = figures
    lines = [
        f"pre-filter: user share {config.user_share:g}, at most {config.max_per_user} per user, "
        f"{config.max_users_per_posting} users per posting, shadow rate {config.shadow_rate:g}",
        f"pairs            {f['pairs']} ({f['labeled_pairs']} labeled, {f['positives']} at 70+)",
        f"kept             {f['kept']} ({f['kept_share']:.1%}); shadow {f['shadow']}; "
        f"LLM calls {f['llm_calls_share']:.1%} of all pairs",
        "dropped          gated "
        + (", ".join(f"{k} {v}" for k, v in sorted(f["gated"].items())) or "none")
        + f"; ranked out {f['ranked_out']}; over a posting's cap {f['capped']}",
        f"recall of 70+    {f['prefilter_recall']} "
        f"({f['positives_kept']} of {f['positives']} kept)",
        "worst wishes     "
        + (
            ", ".join(f"{w['wish']} {w['kept']}/{w['positives']}" for w in f["worst_wishes"]) or "-"
        ),
        f"shadow estimate  {f['shadow_estimate']} from the scorer: {f['shadow_estimate_detail']}; "
        f"{f['shadow_estimate_with_labels']} with the labels as scores",
        f"scorer ({scorer}) on {f['scored_pairs']} pairs: recall at 70 {f['scorer_recall']}, "
        f"precision {f['scorer_precision']}, Spearman {f['scorer_spearman']}"
        + (f", {f['scorer_failures']} failed" if f["scorer_failures"] else ""),
        f"end to end       {f['end_to_end_recall']} of the 70+ pairs kept and scored 70+",
    ]
    return lines
