"""What the LLM layer takes and returns: plain inputs and validated structured outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MatchAnalysis(BaseModel):
    """How well one job fits one user's prompt. The structured output of the scorer."""

    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=0, le=100, description="0 = no fit at all, 100 = perfect fit")
    explanation: str = Field(description="Two to four sentences on why this score")
    pros: list[str] = Field(description="What fits the user's wishes")
    cons: list[str] = Field(description="What does not fit, or is unknown")
    recommendation: Literal["apply", "consider", "skip"]


class CompanyProfile(BaseModel):
    """What we know about a hiring company. The structured output of the researcher."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(description="What the company does, in two or three sentences")
    industry: str | None
    size: str | None = Field(description="Employee count or band, if known")
    headquarters: str | None
    website: str | None
    culture: list[str] = Field(description="Notable traits: remote policy, values, benefits")
    red_flags: list[str] = Field(description="Concerns a candidate should know, if any")


@dataclass(frozen=True)
class JobForScoring:
    """The posting facts the scorer sees. All text here is untrusted input."""

    title: str
    company: str
    description: str
    location: str | None = None
    is_remote: bool | None = None
    job_type: str | None = None
    salary_min: float | None = None
    salary_max: float | None = None
    salary_currency: str | None = None
    date_posted: str | None = None  # ISO date
    url: str | None = None


@dataclass(frozen=True)
class CompanyFacts:
    """What the job boards told us about a company, plus a few of its postings."""

    key: str
    name: str
    fields: dict[str, str] = field(default_factory=dict)  # industry, url, num_employees, ...
    postings: list[JobForScoring] = field(default_factory=list)


class LLMError(Exception):
    """A scoring or research call that failed. `reason` is safe to show: it holds no secret."""

    def __init__(self, reason: str, *, retryable: bool):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class QuotaExceededError(LLMError):
    """The account is out of quota (`insufficient_quota`): waiting does not help."""

    def __init__(self, reason: str = "OpenAI quota exhausted (insufficient_quota)"):
        super().__init__(reason, retryable=False)


class WishProfile(BaseModel):
    """What JobPing understood of a user's free-text wish: the structured form the pre-filter
    gates and ranks with. Empty lists and None mean "not said"; only what is said gates."""

    model_config = ConfigDict(extra="forbid")

    roles: list[str] = Field(default_factory=list, description="Job titles or kinds of role")
    skills: list[str] = Field(default_factory=list, description="Skills, tools, domains wanted")
    countries: list[str] = Field(
        default_factory=list,
        description="ISO 3166-1 alpha-2 codes of the countries the seeker will work in",
    )
    cities: list[str] = Field(default_factory=list, description="Cities named by the seeker")
    remote_only: bool = Field(
        default=False, description="True only when the seeker accepts nothing but remote work"
    )
    seniority: list[str] = Field(
        default_factory=list, description="intern, junior, mid, senior, lead or principal"
    )
    salary_floor: float | None = Field(default=None, description="Lowest acceptable yearly pay")
    salary_currency: str | None = Field(default=None, description="ISO 4217 code of the floor")
    excluded_companies: list[str] = Field(default_factory=list)
    excluded_industries: list[str] = Field(default_factory=list)
    excluded_roles: list[str] = Field(
        default_factory=list, description="Kinds of role the seeker refuses, e.g. 'manager'"
    )
    languages: list[str] = Field(
        default_factory=list, description="ISO 639-1 codes of languages the seeker works in"
    )
    notes: list[str] = Field(
        default_factory=list, description="Parts of the wish that could not be read, if any"
    )

    @property
    def readable(self) -> bool:
        """Whether anything at all was understood. An unreadable wish gates nothing."""
        return bool(
            self.roles
            or self.skills
            or self.countries
            or self.cities
            or self.remote_only
            or self.seniority
            or self.salary_floor is not None
            or self.excluded_companies
            or self.excluded_industries
            or self.excluded_roles
        )
