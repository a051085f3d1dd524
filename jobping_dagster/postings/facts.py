"""Facts read once from a posting when it is stored: where, how, what level, what pay, which
language. Rules over jobspy's columns and the text; what the rules cannot tell stays unknown
(None, or "unknown" for the work mode), and unknown never excludes a posting."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

WorkMode = Literal["remote", "hybrid", "onsite", "unknown"]
Seniority = Literal["intern", "junior", "mid", "senior", "lead", "principal"]


class PostingFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str | None = None  # ISO 3166-1 alpha-2, upper case: "US", "DE", "GB"
    region: str | None = None  # state or province code when the location gives one: "IL"
    city: str | None = None  # as written on the board, e.g. "Chicago"
    work_mode: WorkMode = "unknown"
    seniority: Seniority | None = None
    employment_types: tuple[str, ...] = ()  # "fulltime", "parttime", "contract", "internship"
    salary_min: float | None = None  # annual
    salary_max: float | None = None  # annual
    salary_currency: str | None = None  # ISO 4217, upper case
    language: str | None = None  # ISO 639-1 of the description: "en", "de", "fr"...
