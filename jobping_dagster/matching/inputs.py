"""Identifying what a match was scored against."""

from __future__ import annotations

import hashlib


def prompt_hash(prompt: str) -> str:
    """Identifies the version of a user's prompt a match was scored against."""
    return hashlib.sha256(prompt.strip().encode()).hexdigest()[:16]
