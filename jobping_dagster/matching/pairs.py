"""Pair partition keys: short and typable, so an operator can rerun one match with
`dagster asset materialize --select user_job_matches --partition u12-j3456`."""

from __future__ import annotations

import re

_KEY = re.compile(r"^u(\d+)-j(\d+)$")


def pair_key(user_id: int, job_id: int) -> str:
    return f"u{user_id}-j{job_id}"


def parse_pair_key(key: str) -> tuple[int, int]:
    match = _KEY.match(key)
    if match is None:
        raise ValueError(f"not a user x job pair key: {key!r} (expected u<user id>-j<job id>)")
    return int(match.group(1)), int(match.group(2))
