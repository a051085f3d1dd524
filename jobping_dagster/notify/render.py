"""A high score's notification, rendered once, when its match commits: the plain line the
table records, and per delivery channel what that channel sends. Delivery sends what is
stored and never reads the match again, so a new channel adds a renderer here, not a join
there. The renderers keep untrusted text inert (message.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jobping_dagster.llm.models import CompanyProfile, JobForScoring, MatchAnalysis
from jobping_dagster.notify.channels import build_email, build_webhook_payload
from jobping_dagster.notify.message import (
    NotificationView,
    build_discord_payload,
    format_notification_text,
)

# Channel name (as in notifications.channel) -> what is stored for it in
# notifications.payloads. The table channel's message is the plain line itself.
RENDERERS: dict[str, Callable[[NotificationView], dict]] = {
    "discord": build_discord_payload,
    "email": build_email,
    "webhook": build_webhook_payload,
}


@dataclass(frozen=True)
class Rendered:
    message: str  # notifications.message
    payloads: dict[str, dict]  # notifications.payloads


def render(view: NotificationView) -> Rendered:
    return Rendered(
        message=format_notification_text(view),
        payloads={channel: renderer(view) for channel, renderer in RENDERERS.items()},
    )


def notification_view(
    job: JobForScoring,
    analysis: MatchAnalysis,
    model: str,
    company: CompanyProfile | None = None,
) -> NotificationView:
    return NotificationView(
        job_title=job.title,
        company=job.company,
        location=job.location,
        url=job.url,
        score=analysis.score,
        explanation=analysis.explanation,
        pros=list(analysis.pros),
        cons=list(analysis.cons),
        recommendation=analysis.recommendation,
        salary_min=job.salary_min,
        salary_max=job.salary_max,
        salary_currency=job.salary_currency,
        is_remote=job.is_remote,
        company_summary=company.summary if company else None,
        model=model,
    )
