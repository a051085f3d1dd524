"""What matching hands on when a score reaches the user's threshold, and the resource that
takes it.

The notification must commit with the match (one transaction: a high score is never
notified twice or silently never), yet matching comes before notify and must not import it.
So the user_job_matches asset asks for the resource key `outbox`, typed by the class below,
and definitions.py binds notify's implementation, which renders the messages and inserts
the outbox row on the match's connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.llm.models import CompanyProfile, JobForScoring, MatchAnalysis


@dataclass(frozen=True)
class HighScore:
    """A match scored at or above its user's threshold, with what the user is told about it."""

    match_id: int
    user_id: int
    job_id: int
    job: JobForScoring
    analysis: MatchAnalysis
    model: str
    company: CompanyProfile | None


class HighScoreOutbox(dg.ConfigurableResource):
    """Resource key `outbox`: where high scores go to be notified."""

    def add(self, conn: sa.Connection, high_score: HighScore, now: datetime) -> bool:
        """Adds the notification of `high_score` on `conn` (the match's transaction), once
        per match; True when it was added now."""
        raise NotImplementedError("bind notify's NotificationOutbox to the `outbox` key")
