import dagster as dg

from jobping_dagster.notify.discord import DiscordWebhookSender


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
