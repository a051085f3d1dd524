"""The pre-filter's recall, estimated from the shadow sample.

Hits are scored pairs at or above the user's threshold. A kept hit is found by the
pre-filter; a shadow hit is one the pre-filter dropped, and stands for 1 / sampling rate
dropped hits (its weight). Estimated recall = kept hits / (kept hits + weighted shadow hits).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

# Below this the pre-filter is losing matches users would want: the asset check warns.
RECALL_WARN_BELOW = 0.95


@dataclass(frozen=True)
class ScoredCandidate:
    user_id: int
    decision: str  # kept, shadow (pulled and rerun pairs say nothing about the pre-filter)
    weight: float
    hit: bool


@dataclass(frozen=True)
class RecallEstimate:
    kept_hits: int
    shadow_hits: int
    shadow_scored: int
    estimated_misses: float

    @property
    def recall(self) -> float | None:
        found = self.kept_hits + self.estimated_misses
        return None if found == 0 else self.kept_hits / found

    def describe(self) -> str:
        if self.recall is None:
            return f"no hits yet ({self.shadow_scored} shadow pairs scored)"
        return (
            f"{self.recall:.3f} ({self.kept_hits} kept hits, {self.shadow_hits} of "
            f"{self.shadow_scored} shadow pairs hit, about {self.estimated_misses:.0f} missed)"
        )


def estimate_recall(rows: Iterable[ScoredCandidate]) -> RecallEstimate:
    kept_hits = shadow_hits = shadow_scored = 0
    misses = 0.0
    for row in rows:
        if row.decision == "kept":
            kept_hits += row.hit
        elif row.decision == "shadow":
            shadow_scored += 1
            if row.hit:
                shadow_hits += 1
                misses += row.weight
    return RecallEstimate(kept_hits, shadow_hits, shadow_scored, misses)


def estimate_recall_per_user(rows: Iterable[ScoredCandidate]) -> dict[int, RecallEstimate]:
    by_user: dict[int, list[ScoredCandidate]] = defaultdict(list)
    for row in rows:
        by_user[row.user_id].append(row)
    return {user_id: estimate_recall(user_rows) for user_id, user_rows in by_user.items()}
