"""A user's delivery policy, as stored on `users` (validated by users/validation.py), and the
times it decides: whether a match is instant or waits for the digest, when quiet hours end,
when a digest goes out. Every datetime here is naive UTC, like the app database's; the
user's time zone only decides where days and quiet windows begin and end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A day's digest goes out the next morning at this local time (later if quiet hours say so).
DIGEST_LOCAL_TIME = time(8, 0)
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Policy:
    channels: tuple[str, ...]  # the ones usable now; empty: the notifications table only
    instant_score: int
    quiet: tuple[time, time] | None
    zone: ZoneInfo
    daily_cap: int | None


def policy_of(user) -> Policy:
    """The policy of a `users` row."""
    try:
        zone = ZoneInfo(user.timezone) if user.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    quiet = None
    if user.quiet_hours:
        start, end = user.quiet_hours.split("-")
        quiet = (time.fromisoformat(start), time.fromisoformat(end))
    instant = user.instant_score if user.instant_score is not None else user.min_score
    return Policy(usable_channels(user), instant, quiet, zone, user.daily_cap)


def chosen_channels(user) -> tuple[str, ...]:
    """The channels the user picked; NULL (never set) means Discord when a webhook is set,
    which is how JobPing delivered before policies existed."""
    if user.channels is None:
        return ("discord",) if user.discord_webhook_url else ()
    return tuple(name for name in user.channels.split(",") if name)


def usable_channels(user) -> tuple[str, ...]:
    """The chosen channels that can deliver now: not a Discord webhook Discord reported gone,
    not email after the unsubscribe link was used."""
    usable = []
    for name in chosen_channels(user):
        if name == "discord" and (not user.discord_webhook_url or user.webhook_dead_at):
            continue
        if name == "email" and user.email_unsubscribed_at is not None:
            continue
        if name == "webhook" and not (user.webhook_url and user.webhook_secret):
            continue
        usable.append(name)
    return tuple(usable)


def local(now: datetime, zone: ZoneInfo) -> datetime:
    return now.replace(tzinfo=UTC).astimezone(zone)


def to_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def local_day(now: datetime, policy: Policy) -> date:
    return local(now, policy.zone).date()


def day_bounds(day: date, policy: Policy) -> tuple[datetime, datetime]:
    """The user's local day as a naive UTC interval [start, end)."""
    start = datetime.combine(day, time(0), tzinfo=policy.zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=policy.zone)
    return to_utc(start), to_utc(end)


def quiet_until(now: datetime, policy: Policy) -> datetime | None:
    """When the quiet window `now` falls in ends (naive UTC), or None outside quiet hours.
    A window over midnight ("22:00-07:00") ends the next morning."""
    if policy.quiet is None:
        return None
    start, end = policy.quiet
    here = local(now, policy.zone)
    clock = here.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = here.date()
    else:
        inside = clock >= start or clock < end
        end_day = here.date() + timedelta(days=1) if clock >= start else here.date()
    if not inside:
        return None
    # fold/gaps: combine in the zone, then convert (a skipped hour moves the end forward).
    return to_utc(datetime.combine(end_day, end, tzinfo=policy.zone))


def digest_due_at(day: date, policy: Policy) -> datetime:
    """When the digest of the user's local `day` goes out: the next morning at
    DIGEST_LOCAL_TIME, or when quiet hours then end."""
    at = to_utc(datetime.combine(day + timedelta(days=1), DIGEST_LOCAL_TIME, tzinfo=policy.zone))
    return quiet_until(at, policy) or at
