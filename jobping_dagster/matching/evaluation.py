"""`jobping eval`: a backtest of the cascade and the scorer on a labeled set.

A labeled set is a folder shaped like `shared/fixtures/labels/`: postings (JSON lines with a
`job_key`), wishes (a JSON list of `{"id", "prompt"}`) and labels (CSV `job_key,prompt_id,
score`). All postings count as one day's new postings: the backtest judges the cascade's
choices, not recency windows.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

from jobping_dagster.concurrency import map_concurrently
from jobping_dagster.llm.models import JobForScoring, MatchAnalysis, WishProfile
from jobping_dagster.matching.cascade import (
    SHADOW,
    CandidateJob,
    CandidateUser,
    CascadeConfig,
    select_candidates,
)
from jobping_dagster.matching.inputs import prompt_hash
from jobping_dagster.matching.recall import ScoredCandidate, estimate_recall
from jobping_dagster.postings.facts import PostingFacts, posting_facts
from jobping_dagster.postings.normalize import normalize_frame
from jobping_dagster.postings.scoring_input import job_for_scoring

_SALARY = re.compile(r"^\s*([\d.]+)(?:\s*-\s*([\d.]+))?\s*([A-Za-z]{3})?\s*([a-z]+)?")


@dataclass(frozen=True)
class LabeledSet:
    jobs: list[tuple[str, CandidateJob, JobForScoring]]  # (job key, candidate, scorer input)
    prompts: list[tuple[str, str]]  # (prompt id, prompt)
    labels: dict[tuple[str, str], int]  # (job key, prompt id) -> score
    unreadable_postings: int


def load_labeled_set(jobs_path: Path, prompts_path: Path, labels_path: Path) -> LabeledSet:
    prompts = _read_prompts(prompts_path)
    raw_jobs = _read_jobs(jobs_path)
    labels = _read_labels(labels_path)
    keys = {key for key, _ in raw_jobs}
    ids = {prompt_id for prompt_id, _ in prompts}
    unknown = [pair for pair in labels if pair[0] not in keys or pair[1] not in ids]
    if unknown:
        raise ValueError(
            f"{labels_path}: {len(unknown)} labels name a posting or wish that is not in the "
            f"set, e.g. {unknown[0]}"
        )
    jobs, unreadable = [], 0
    for number, (key, row) in enumerate(raw_jobs, start=1):
        candidate, scoring, readable = _job(number, key, row)
        unreadable += not readable
        jobs.append((key, candidate, scoring))
    return LabeledSet(jobs, prompts, labels, unreadable)


def _read_prompts(path: Path) -> list[tuple[str, str]]:
    data = json.loads(Path(path).read_text())
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of {{'id', 'prompt'}} objects")
    prompts = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not item.get("id") or "prompt" not in item:
            raise ValueError(f"{path}: item {index} needs an 'id' and a 'prompt'")
        prompts.append((str(item["id"]), str(item["prompt"] or "")))
    return prompts


def _read_jobs(path: Path) -> list[tuple[str, dict]]:
    jobs = []
    with open(path) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None
            if not isinstance(row, dict) or not row.get("job_key"):
                raise ValueError(f"{path}:{number}: a posting needs a 'job_key'")
            jobs.append((str(row["job_key"]), row))
    return jobs


def _read_labels(path: Path) -> dict[tuple[str, str], int]:
    labels = {}
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"job_key", "prompt_id", "score"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for number, row in enumerate(reader, start=2):
            try:
                score = int(row["score"])
            except ValueError:
                raise ValueError(
                    f"{path}:{number}: score {row['score']!r} is not a number"
                ) from None
            labels[(row["job_key"], row["prompt_id"])] = score
    return labels


def _job(number: int, key: str, row: dict) -> tuple[CandidateJob, JobForScoring, bool]:
    """The posting through the same normalization and facts as a scraped one. A row the
    normalizer rejects is still judged, on its raw text and by relevance only."""
    salary = _SALARY.match(str(row.get("salary") or ""))
    record = {
        "id": key,
        "site": row.get("site"),
        "job_url": row.get("job_url"),
        "title": row.get("title"),
        "company": row.get("company"),
        "location": row.get("location"),
        "is_remote": row.get("is_remote"),
        "job_type": row.get("job_type"),
        "date_posted": row.get("date_posted"),
        "description": row.get("description"),
        "min_amount": salary.group(1) if salary else None,
        "max_amount": (salary.group(2) or salary.group(1)) if salary else None,
        "currency": salary.group(3) if salary else None,
        "interval": salary.group(4) if salary else None,
    }
    result = normalize_frame(pd.DataFrame([record]))
    if result.postings:
        posting = result.postings[0]
        candidate = CandidateJob(
            id=number,
            title=posting.title,
            company=posting.company,
            location=posting.location,
            description=posting.description,
            facts=posting_facts(posting),
            industry=posting.company_fields.get("industry"),
        )
        return candidate, job_for_scoring(posting), True
    title, company = str(row.get("title") or ""), str(row.get("company") or "")
    description = str(row.get("description") or "")
    candidate = CandidateJob(
        number, title, company, row.get("location"), description, PostingFacts()
    )
    return candidate, JobForScoring(title=title, company=company, description=description), False


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
    users = [
        CandidateUser(index, prompt, prompt_hash(prompt), read_wishes(prompt))
        for index, (_, prompt) in enumerate(labeled.prompts, start=1)
    ]
    prompt_ids = {
        user.id: prompt_id for user, (prompt_id, _) in zip(users, labeled.prompts, strict=True)
    }
    job_keys = {candidate.id: key for key, candidate, _ in labeled.jobs}
    scoring_inputs = {candidate.id: scoring for _, candidate, scoring in labeled.jobs}
    selection = select_candidates(users, [candidate for _, candidate, _ in labeled.jobs], config)

    def label(user_id: int, job_id: int) -> int | None:
        return labeled.labels.get((job_keys[job_id], prompt_ids[user_id]))

    labeled_pairs = [
        (user.id, job_id)
        for user in users
        for job_id in job_keys
        if label(user.id, job_id) is not None
    ]
    positives = {pair for pair in labeled_pairs if label(*pair) >= threshold}
    kept = {(c.user_id, c.job_id) for c in selection.chosen if c.decision != SHADOW}
    shadow = {(c.user_id, c.job_id): c.weight for c in selection.chosen if c.decision == SHADOW}
    total = len(users) * len(job_keys)

    per_wish = []
    for user in users:
        wanted = [pair for pair in positives if pair[0] == user.id]
        if wanted:
            found = sum(pair in kept for pair in wanted)
            per_wish.append((found / len(wanted), prompt_ids[user.id], found, len(wanted)))
    per_wish.sort()

    to_score = (
        labeled_pairs if all_pairs else [p for p in labeled_pairs if p in kept or p in shadow]
    )
    prompts = {user.id: user.prompt for user in users}
    work = [(pair, (scoring_inputs[pair[1]], prompts[pair[0]])) for pair in to_score]
    scores, failures = _score_all(score, work, concurrency)

    chosen = list(kept) + list(shadow)
    estimate = _shadow_estimate(
        kept, shadow, {pair: scores[pair] >= threshold for pair in chosen if pair in scores}
    )
    label_estimate = _shadow_estimate(kept, shadow, {pair: pair in positives for pair in chosen})
    scored_pairs = sorted(scores)
    agreement = _agreement(
        [label(*pair) for pair in scored_pairs], [scores[pair] for pair in scored_pairs], threshold
    )
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
        "worst_wishes": [
            {"wish": wish, "recall": round(r, 3), "kept": found, "positives": count}
            for r, wish, found, count in per_wish[:5]
        ],
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
