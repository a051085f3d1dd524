"""The outcome of one delivery attempt, as the outbox records it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# sent: Discord confirmed (wait=true) and returned a message id.
# retry: not delivered, safe to try again later (429, 5xx, connection refused before sending).
# dead: the webhook is gone (404): never call it again.
# failed: rejected for good (400/401/403, invalid URL): not retried.
# unknown: the request may have reached Discord but no answer came back (read timeout,
#          connection reset after sending). Not resent automatically: see README.
DeliveryStatus = Literal["sent", "retry", "dead", "failed", "unknown"]


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    message_id: str | None = None
    retry_after_seconds: float | None = None  # for "retry": earliest sensible next attempt
    error: str | None = None  # safe to store and show: never contains the webhook URL
    attempts: int = 1  # HTTP requests made for this delivery
