from datetime import datetime

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.matching.high_scores import HighScore, HighScoreOutbox
from jobping_dagster.notify.discord import DiscordWebhookSender
from jobping_dagster.notify.mail import EmailSender
from jobping_dagster.notify.outbox import ChannelSender, enqueue
from jobping_dagster.notify.webhook import SignedWebhookSender


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


class DeliveryChannelsResource(dg.ConfigurableResource):
    """The email (SMTP) and generic webhook channels. The SMTP password comes in as a
    Dagster EnvVar (JOBPING_SMTP_PASSWORD), never as a literal in run config. Without
    `smtp_host` there is no email channel: email notifications fail saying so."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "JobPing <jobping@localhost>"
    public_url: str = "http://127.0.0.1:8000"
    webhook_allowed_hosts: list[str] = []
    timeout_seconds: float = 10.0

    def senders(self) -> dict[str, ChannelSender]:
        senders: dict[str, ChannelSender] = {
            "webhook": SignedWebhookSender(
                allowed_hosts=self.webhook_allowed_hosts, timeout_seconds=self.timeout_seconds
            ).send
        }
        if self.smtp_host:
            senders["email"] = EmailSender(
                host=self.smtp_host,
                port=self.smtp_port,
                from_address=self.smtp_from,
                public_url=self.public_url,
                tls=self.smtp_tls,
                username=self.smtp_username,
                password=self.smtp_password,
                timeout_seconds=max(self.timeout_seconds, 20.0),
            ).send
        return senders


class NotificationOutbox(HighScoreOutbox):
    """Bound to the `outbox` key: renders a high score's notification and adds it to the
    `notifications` table in the match's transaction."""

    def add(self, conn: sa.Connection, high_score: HighScore, now: datetime) -> bool:
        return enqueue(conn, high_score, now)
