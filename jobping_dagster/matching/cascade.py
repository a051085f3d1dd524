"""The pre-filter cascade: which user x posting pairs are worth an LLM call.

1. hard gates drop pairs that clearly break an explicit wish (`gates.py`);
2. relevance ranks the rest (`relevance.py`);
3. budgets: each user keeps the best of the day's postings up to a share and a cap (the
   push half); each posting goes to at most a cap of users, its most relevant ones;
   anything else can still be pulled on demand (the pull half);
4. a deterministic random share of every dropped pair is kept as a shadow sample, scored
   like any other pair, so that recall can be estimated from what the scorer says of it.

Plain Python and numpy; no Dagster, no database.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from jobping_dagster.llm.models import WishProfile
from jobping_dagster.matching.gates import GateJob, gate_reason, gates_anything
from jobping_dagster.matching.relevance import job_text, relevance_matrix, wish_text
from jobping_dagster.postings.facts import PostingFacts

KEPT = "kept"
SHADOW = "shadow"
PULLED = "pulled"
RERUN = "rerun"


@dataclass(frozen=True)
class CascadeConfig:
    # Chosen by measurement (README, "Matching only what can match"): on the labeled set,
    # keeping 8% of a day's postings per user keeps about 95% of the 70+ pairs.
    user_share: float = 0.08
    max_per_user: int = 40  # per user per day, whatever the day's volume
    max_users_per_posting: int = 100  # a generic posting reaches its 100 most relevant users
    # Share of dropped pairs still scored to estimate recall: about 1,000 calls a day at the
    # designed scale, enough for a usable estimate over the 14-day window.
    shadow_rate: float = 0.002
    # Below this cosine similarity a posting shares next to nothing with the wish: not
    # kept even within the budget (on the labeled set, 95% of the 70+ pairs score 0.03 or
    # more).
    min_relevance: float = 0.015

    def __post_init__(self):
        if not 0 < self.user_share <= 1:
            raise ValueError(f"user_share must be above 0 and at most 1 (got {self.user_share})")
        for name in ("max_per_user", "max_users_per_posting"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 (got {getattr(self, name)})")
        if not 0 <= self.shadow_rate <= 1:
            raise ValueError(f"shadow_rate must be from 0 to 1 (got {self.shadow_rate})")
        if not 0 <= self.min_relevance < 1:
            raise ValueError(f"min_relevance must be from 0 to 1 (got {self.min_relevance})")

    def user_budget(self, postings: int) -> int:
        return min(self.max_per_user, math.ceil(self.user_share * postings))


@dataclass(frozen=True)
class CandidateUser:
    id: int
    prompt: str
    prompt_hash: str
    wishes: WishProfile


@dataclass(frozen=True)
class CandidateJob:
    id: int
    title: str
    company: str
    location: str | None
    description: str
    facts: PostingFacts
    industry: str | None = None


@dataclass(frozen=True)
class Chosen:
    user_id: int
    job_id: int
    decision: str  # KEPT or SHADOW
    relevance: float
    weight: float  # pairs it stands for in the recall estimate


@dataclass
class Selection:
    chosen: list[Chosen] = field(default_factory=list)
    considered: int = 0  # pairs decided now (pairs chosen earlier are not decided again)
    already_chosen: int = 0
    gated: Counter[str] = field(default_factory=Counter)  # gate -> pairs
    ranked_out: int = 0  # beyond the user's budget, or below the relevance floor
    capped: int = 0  # over the posting's cap of users
    unreadable_wishes: int = 0

    @property
    def kept(self) -> int:
        return sum(c.decision == KEPT for c in self.chosen)

    @property
    def shadow(self) -> int:
        return sum(c.decision == SHADOW for c in self.chosen)

    @property
    def dropped(self) -> int:
        return sum(self.gated.values()) + self.ranked_out + self.capped


def select_candidates(
    users: list[CandidateUser],
    jobs: list[CandidateJob],
    config: CascadeConfig,
    already: dict[tuple[int, int], str] | None = None,
) -> Selection:
    """Decides every pair of `users` x `jobs` (one day's postings) not in `already`
    ((user id, job id) -> decision of pairs chosen earlier, which count against budgets)."""
    already = already or {}
    selection = Selection(unreadable_wishes=sum(not u.wishes.readable for u in users))
    if not users or not jobs:
        return selection
    scores = relevance_matrix(
        [wish_text(u.wishes, u.prompt) for u in users],
        [job_text(j.title, j.company, j.location, j.description) for j in jobs],
    )
    decided = np.zeros(scores.shape, dtype=bool)
    user_index = {u.id: i for i, u in enumerate(users)}
    job_index = {j.id: i for i, j in enumerate(jobs)}
    kept_before = np.zeros(len(users), dtype=int)
    users_before = np.zeros(len(jobs), dtype=int)
    for (user_id, job_id), decision in already.items():
        i, j = user_index.get(user_id), job_index.get(job_id)
        if i is None or j is None:
            continue
        decided[i, j] = True
        if decision == KEPT:
            kept_before[i] += 1
            users_before[j] += 1
    selection.already_chosen = int(decided.sum())
    selection.considered = int(decided.size - selection.already_chosen)

    gated = _gate(users, jobs, decided, selection.gated)
    open_pairs = ~decided & ~gated
    relevant = (scores > 0) & (scores >= config.min_relevance)
    wanted = _top_per_user(scores, open_pairs & relevant, config, len(jobs), kept_before)
    kept = _cap_per_posting(scores, wanted, config.max_users_per_posting, users_before)
    selection.ranked_out = int((open_pairs & ~wanted).sum())
    selection.capped = int((wanted & ~kept).sum())

    dropped = ~decided & ~kept
    user_ids = np.array([u.id for u in users], dtype=np.uint64)
    job_ids = np.array([j.id for j in jobs], dtype=np.uint64)
    shadow = dropped & (_uniform(user_ids, job_ids) < config.shadow_rate)
    weight = 1 / config.shadow_rate if config.shadow_rate else 0.0
    for decision, mask, pair_weight in ((KEPT, kept, 1.0), (SHADOW, shadow, weight)):
        for i, j in zip(*np.nonzero(mask), strict=True):
            selection.chosen.append(
                Chosen(
                    users[i].id, jobs[j].id, decision, round(float(scores[i, j]), 6), pair_weight
                )
            )
    return selection


def _gate(users, jobs, decided: np.ndarray, counts: Counter[str]) -> np.ndarray:
    gated = np.zeros(decided.shape, dtype=bool)
    gate_jobs = None
    for i, user in enumerate(users):
        if not gates_anything(user.wishes):
            continue
        if gate_jobs is None:
            gate_jobs = [GateJob.of(j.facts, j.title, j.company, j.industry) for j in jobs]
        for j, job in enumerate(gate_jobs):
            if decided[i, j]:
                continue
            reason = gate_reason(user.wishes, job)
            if reason is not None:
                gated[i, j] = True
                counts[reason] += 1
    return gated


def _top_per_user(scores, eligible, config: CascadeConfig, postings: int, kept_before):
    wanted = np.zeros(scores.shape, dtype=bool)
    budget = config.user_budget(postings)
    for i in range(scores.shape[0]):
        room = budget - int(kept_before[i])
        columns = np.flatnonzero(eligible[i])
        if room <= 0 or not len(columns):
            continue
        best = columns[np.argsort(-scores[i, columns], kind="stable")[:room]]
        wanted[i, best] = True
    return wanted


def _cap_per_posting(scores, wanted, cap: int, users_before):
    kept = wanted.copy()
    for j in np.flatnonzero(wanted.sum(axis=0) + users_before > cap):
        rows = np.flatnonzero(wanted[:, j])
        room = max(cap - int(users_before[j]), 0)
        losers = rows[np.argsort(-scores[rows, j], kind="stable")[room:]]
        kept[losers, j] = False
    return kept


def _uniform(user_ids: np.ndarray, job_ids: np.ndarray) -> np.ndarray:
    """A uniform number in [0, 1) per pair, the same on every run (splitmix64 of the ids):
    selecting a day again samples the same shadow pairs."""
    with np.errstate(over="ignore"):
        x = (user_ids[:, None] << np.uint64(32)) ^ job_ids[None, :]
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
