"""When an OpenAI request is worth another attempt, and how long to wait before it.

The SDK's own retries are off (`max_retries=0`): it retries every 429, and a 429 with
`insufficient_quota` never clears by waiting, so retrying it only burns a request. Otherwise
these rules are the SDK's (openai 3.54): timeouts, dropped connections, 408, 409, 429 and
5xx are retried; the server's `x-should-retry` header overrides the status; a Retry-After
(or Retry-After-Ms) of up to two minutes is waited for and a longer one not at all; without
one the wait doubles from 0.5 s up to 8 s, less up to a quarter at random so that
concurrent callers spread out.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import openai

ResultT = TypeVar("ResultT")

# The SDK's header for "which retry is this": the server (and our error text) can tell.
RETRY_COUNT_HEADER = "x-stainless-retry-count"
INITIAL_WAIT_SECONDS = 0.5
MAX_WAIT_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 120.0
RETRIED_STATUSES = (408, 409, 429)  # and every 5xx


def call_with_retries(send: Callable[[dict[str, str]], ResultT], max_retries: int) -> ResultT:
    """`send(headers)` until it returns, fails in a way not worth retrying, or has been
    retried `max_retries` times; then its last error is raised. `headers` carry the retry
    count, for the request to send."""
    retry = 0
    while True:
        try:
            return send({RETRY_COUNT_HEADER: str(retry)})
        except openai.APIError as exc:
            if retry >= max_retries or not should_retry(exc):
                raise
            time.sleep(seconds_before_retry(exc, retry))
        retry += 1


def should_retry(exc: openai.APIError) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        return True
    if not isinstance(exc, openai.APIStatusError):
        return False  # the request succeeded; the answer did not fit
    if exc.status_code == 429 and "insufficient_quota" in (exc.code, exc.type):
        return False
    headers = exc.response.headers
    retry_after = retry_after_seconds(headers)
    if retry_after is not None and retry_after > MAX_RETRY_AFTER_SECONDS:
        return False
    server_says = headers.get("x-should-retry")
    if server_says in ("true", "false"):
        return server_says == "true"
    return exc.status_code in RETRIED_STATUSES or exc.status_code >= 500


def seconds_before_retry(exc: openai.APIError, retry: int) -> float:
    """The wait before retry number `retry` (0 for the first): the server's Retry-After when
    it names a usable one, else exponential backoff with jitter."""
    if isinstance(exc, openai.APIStatusError):
        retry_after = retry_after_seconds(exc.response.headers)
        if retry_after is not None and 0 < retry_after <= MAX_RETRY_AFTER_SECONDS:
            return retry_after
    backoff = min(INITIAL_WAIT_SECONDS * 2.0**retry, MAX_WAIT_SECONDS)
    return backoff * (1 - 0.25 * random.random())


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Retry-After-Ms, else Retry-After in seconds or as an HTTP date; None if neither."""
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if not math.isnan(seconds):
            return seconds
    try:
        when = email.utils.parsedate_to_datetime(headers.get("retry-after") or "")
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, as HTTP dates are
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp() - time.time()
