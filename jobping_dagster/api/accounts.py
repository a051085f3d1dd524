"""Accounts: sign up, log in and out, read and change one's settings, delete everything."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from jobping_dagster.api.security import (
    CurrentUser,
    client_ip,
    end_session,
    start_session,
)
from jobping_dagster.matching.wishes import current_wishes
from jobping_dagster.notify.policy import chosen_channels
from jobping_dagster.users.delivery_settings import mask_url
from jobping_dagster.users.passwords import hash_password, password_matches, validate_password
from jobping_dagster.users.store import (
    UserChanges,
    add_user,
    get_user,
    get_user_by_id,
    remove_user,
    update_user,
)
from jobping_dagster.users.validation import InvalidSetting, mask_webhook, validate_email

router = APIRouter(prefix="/api", tags=["account"])


class Me(BaseModel):
    id: int
    email: str
    prompt: str | None
    min_score: int
    discord_webhook: str | None = Field(description="Masked: the token is never shown")
    webhook_dead: bool = Field(description="Discord answered 404: the webhook is not called")
    channels: list[str] = Field(description="discord, email, webhook; none: the table only")
    instant_score: int = Field(description="At or above: at once; below: the daily digest")
    quiet_hours: str | None = Field(description="HH:MM-HH:MM in timezone: instant waits")
    timezone: str
    daily_cap: int | None = Field(description="Instant messages a day at most")
    webhook_url: str | None = Field(description="Masked: scheme and host only")
    webhook_secret: str | None = Field(description="Masked: never shown")
    email_unsubscribed: bool = Field(description="The email's unsubscribe link was used")
    llm_budget_usd: float | None = Field(
        description="LLM dollars a month at most; past it, pairs wait for a pull"
    )
    created_at: datetime

    @classmethod
    def of(cls, user) -> Me:
        return cls(
            id=user.id,
            email=user.email,
            prompt=user.prompt,
            min_score=user.min_score,
            discord_webhook=mask_webhook(user.discord_webhook_url)
            if user.discord_webhook_url
            else None,
            webhook_dead=user.webhook_dead_at is not None,
            channels=list(chosen_channels(user)),
            instant_score=user.instant_score if user.instant_score is not None else user.min_score,
            quiet_hours=user.quiet_hours,
            timezone=user.timezone or "UTC",
            daily_cap=user.daily_cap,
            webhook_url=mask_url(user.webhook_url) if user.webhook_url else None,
            webhook_secret="****" if user.webhook_secret else None,
            email_unsubscribed=user.email_unsubscribed_at is not None,
            llm_budget_usd=user.llm_budget_usd,
            created_at=user.created_at,
        )


class AccountSettings(BaseModel):
    """A user's settings; a field left out is not changed, "" clears prompt or webhook."""

    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field(None, description="What you are looking for, in your words")
    min_score: StrictInt | None = Field(None, description="Notify at or above this score, 0-100")
    discord_webhook: str | None = Field(None, description="https://discord.com/api/webhooks/…")
    channels: list[str] | None = Field(
        None, description="Any of discord, email, webhook; [] for none (the table only)"
    )
    instant_score: StrictInt | Literal[""] | None = Field(
        None, description="Send at once at or above this score, 0-100; below: the digest"
    )
    quiet_hours: str | None = Field(None, description="HH:MM-HH:MM, e.g. 22:00-07:00; '' none")
    timezone: str | None = Field(None, description="IANA name, e.g. Europe/Berlin; '' UTC")
    daily_cap: StrictInt | Literal[""] | None = Field(
        None, description="Instant messages a day at most; '' no cap"
    )
    webhook_url: str | None = Field(None, description="https://…, signed with webhook_secret")
    webhook_secret: str | None = Field(None, description="16-200 characters, never shown")
    llm_budget_usd: float | Literal[""] | None = Field(
        None, description="LLM dollars a month at most, 0-10000; '' no limit"
    )

    def changes(self) -> UserChanges:
        return UserChanges(
            self.prompt,
            self.min_score,
            self.discord_webhook,
            channels=self.channels,
            instant_score=self.instant_score,
            quiet_hours=self.quiet_hours,
            timezone=self.timezone,
            daily_cap=self.daily_cap,
            webhook_url=self.webhook_url,
            webhook_secret=self.webhook_secret,
            llm_budget_usd=self.llm_budget_usd,
        )


class Registration(AccountSettings):
    email: str = Field(max_length=320)
    password: str = Field(description="At least 10 characters")


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class SessionAnswer(BaseModel):
    user: Me
    token: str
    token_type: str = "bearer"
    expires_at: datetime


@router.post("/register", status_code=201, response_model=SessionAnswer)
def register(body: Registration, request: Request, response: Response) -> dict:
    _refuse_if_limited(request.app.state.register_by_ip, client_ip(request))
    request.app.state.register_by_ip.hit(client_ip(request))
    email = validate_email(body.email)
    password_hash = hash_password(validate_password(body.password, email))
    settings = request.app.state.settings
    with request.app.state.engine.begin() as conn:
        user_id = add_user(
            conn, email, body.changes(), settings.webhook_allowed_hosts, password_hash
        )
        user = get_user_by_id(conn, user_id)
    return {"user": Me.of(user), **start_session(request, response, user)}


@router.post(
    "/login",
    response_model=SessionAnswer,
    responses={401: {"description": "wrong email or password"}, 429: {"description": "wait"}},
)
def login(body: Credentials, request: Request, response: Response) -> dict:
    state = request.app.state
    try:
        email = validate_email(body.email)
    except InvalidSetting:
        email = body.email.strip().lower()[:320]
    ip = client_ip(request)
    _refuse_if_limited(state.login_by_ip, ip)
    _refuse_if_limited(state.login_failures_by_email, email)
    state.login_by_ip.hit(ip)
    with state.engine.connect() as conn:
        user = get_user(conn, email)
    # The same answer, after the same work, for an unknown address and a wrong password.
    if not password_matches(user.password_hash if user else None, body.password):
        state.login_failures_by_email.hit(email)
        raise HTTPException(401, "wrong email or password")
    state.login_failures_by_email.clear(email)
    return {"user": Me.of(user), **start_session(request, response, user)}


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response) -> None:
    end_session(request, response)


@router.get("/me", response_model=Me)
def me(user: CurrentUser) -> Me:
    return Me.of(user)


@router.patch("/me", response_model=Me)
def change_me(user: CurrentUser, request: Request, body: Annotated[AccountSettings, Body()]) -> Me:
    if body.model_dump(exclude_unset=True) == {}:
        raise HTTPException(
            400, "nothing to change: give prompt, min_score, discord_webhook or a delivery field"
        )
    settings = request.app.state.settings
    with request.app.state.engine.begin() as conn:
        update_user(conn, user.email, body.changes(), settings.webhook_allowed_hosts)
        return Me.of(get_user_by_id(conn, user.id))


@router.delete("/me", status_code=204)
def delete_me(user: CurrentUser, request: Request, response: Response) -> None:
    """Removes the account with its matches, notifications, feedback and wishes."""
    with request.app.state.engine.begin() as conn:
        remove_user(conn, user.email)
    end_session(request, response)


class Understood(BaseModel):
    prompt: str | None
    reader: str | None = Field(description="Who read the wish: the model or the local reader")
    wishes: dict | None = Field(description="Roles, skills, places, pay floor, exclusions…")


@router.get("/me/wishes", response_model=Understood)
def my_wishes(user: CurrentUser, request: Request) -> Understood:
    """What JobPing understood of the wish, as the pre-filter uses it."""
    if not (user.prompt or "").strip():
        return Understood(prompt=None, reader=None, wishes=None)
    wishes, reader = current_wishes(request.app.state.engine, request.app.state.llm, user)
    return Understood(prompt=user.prompt, reader=reader, wishes=wishes.model_dump(mode="json"))


def _refuse_if_limited(window, key: str) -> None:
    wait = window.retry_after(key)
    if wait is not None:
        raise HTTPException(
            429, f"too many attempts; try again in {wait} s", headers={"Retry-After": str(wait)}
        )
