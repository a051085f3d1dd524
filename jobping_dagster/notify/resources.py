from datetime import datetime

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.matching.high_scores import HighScore, HighScoreOutbox
from jobping_dagster.notify.discord import DiscordWebhookSender
from jobping_dagster.notify.outbox import enqueue


class DiscordResource(dg.ConfigurableResource):
    """Delivers notifications to users' Discord webhooks. Webhook URLs come from the users
    table; `allowed_hosts` lets an operator permit hosts other than Discord's."""

    allowed_hosts: list[str] = []
    timeout_seconds: float = 10.0
    max_attempts: int = 3
    max_inline_wait_seconds: float = 30.0

    def sender(self) -> DiscordWebhookSender:
        return DiscordWebhookSender(
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
            max_inline_wait_seconds=self.max_inline_wait_seconds,
            allowed_hosts=tuple(self.allowed_hosts),
        )


class NotificationOutbox(HighScoreOutbox):
    """Bound to the `outbox` key: renders a high score's notification and adds it to the
    `notifications` table in the match's transaction."""

    def add(self, conn: sa.Connection, high_score: HighScore, now: datetime) -> bool:
        return enqueue(conn, high_score, now)
