"""Job sources as Dagster resources: the live boards through jobspy, or the bundled sample.

Both return raw jobspy-shaped frames, one SiteScrape per board; cleaning is normalize.py's job.
"""

import re
from datetime import date

import dagster as dg
import jobspy
import pandas as pd
from jobspy.model import Country, Site
from pydantic import field_validator

from jobping_dagster.postings.model import SiteScrape
from jobping_dagster.postings.normalize import JOBSPY_COLUMNS
from jobping_dagster.postings.sample import load_sample_frame

# Looked up at call time, so tests can replace it: job boards are unreachable from CI.
scrape_jobs = jobspy.scrape_jobs

# Google is left out: jobspy 1.4.1 says Google Jobs is currently unavailable.
KNOWN_SITES: tuple[str, ...] = tuple(site.value for site in Site if site is not Site.GOOGLE)
MAX_ERROR_CHARS = 300
# "http://user:pw@host" and jobspy's own proxy form "user:pw@host:port".
_CREDENTIALS = re.compile(r"(?<=//)[^\s/@]+@|[^\s/@]+:[^\s/@]*@")


def safe_error(error: object) -> str:
    """An error as one short line, with any user:password@ (a proxy URL) masked."""
    if isinstance(error, BaseException):
        message = str(error).strip()
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    else:
        text = str(error).strip()
    first_line = text.splitlines()[0] if text else "unknown error"
    masked = _CREDENTIALS.sub("***@", first_line)
    return masked if len(masked) <= MAX_ERROR_CHARS else masked[: MAX_ERROR_CHARS - 1] + "…"


class JobSource(dg.ConfigurableResource):
    """Where raw postings come from; `fetch` returns one SiteScrape per job board."""

    @property
    def name(self) -> str:
        raise NotImplementedError

    def fetch(self, day: date) -> list[SiteScrape]:
        raise NotImplementedError


class SampleJobSource(JobSource):
    """The bundled fictional postings, dated relative to `day`; no network."""

    @property
    def name(self) -> str:
        return "sample"

    def fetch(self, day: date) -> list[SiteScrape]:
        return [
            SiteScrape(site=site, frame=frame) for site, frame in load_sample_frame(day).items()
        ]


class JobSpySource(JobSource):
    """Live job boards through python-jobspy: one call per board and search term."""

    sites: list[str] = ["indeed", "linkedin"]
    search_terms: list[str]
    location: str | None = None
    results_wanted: int = 50
    hours_old: int | None = 24
    country_indeed: str = "usa"
    fetch_description: bool = False
    is_remote: bool = False

    @field_validator("sites")
    @classmethod
    def _known_sites(cls, sites: list[str]) -> list[str]:
        cleaned = list(dict.fromkeys(site.strip().lower() for site in sites if site.strip()))
        if not cleaned:
            raise ValueError("sites: name at least one job board")
        unknown = [site for site in cleaned if site not in KNOWN_SITES]
        if unknown:
            raise ValueError(
                f"sites: unknown job board(s) {', '.join(map(repr, unknown))}; "
                f"jobspy supports {', '.join(KNOWN_SITES)}"
            )
        return cleaned

    @field_validator("search_terms")
    @classmethod
    def _some_search_terms(cls, terms: list[str]) -> list[str]:
        cleaned = list(dict.fromkeys(term.strip() for term in terms if term.strip()))
        if not cleaned:
            raise ValueError("search_terms: give at least one non-empty search term")
        return cleaned

    @field_validator("results_wanted")
    @classmethod
    def _positive_results(cls, results_wanted: int) -> int:
        if results_wanted < 1:
            raise ValueError("results_wanted: must be at least 1")
        return results_wanted

    @field_validator("hours_old")
    @classmethod
    def _non_negative_hours(cls, hours_old: int | None) -> int | None:
        if hours_old is not None and hours_old < 0:
            raise ValueError("hours_old: must be 0 or more, or None for no limit")
        return hours_old

    @field_validator("country_indeed")
    @classmethod
    def _known_country(cls, country: str) -> str:
        try:
            return Country(country).value  # accepts jobspy's aliases: "us", "uk", ...
        except ValueError:
            raise ValueError(f"country_indeed: {country!r} is not a country jobspy knows") from None

    @property
    def name(self) -> str:
        return "jobspy"

    def fetch(self, day: date) -> list[SiteScrape]:
        # jobspy can only search the boards as they are now: `day` names the scrape, and
        # `hours_old` keeps it to recent postings.
        return [self._fetch_site(site) for site in self.sites]

    def _fetch_site(self, site: str) -> SiteScrape:
        frames: list[pd.DataFrame] = []
        errors: list[str] = []
        warnings: list[str] = []
        for term in self.search_terms:
            # Label errors by term only when there are several, to keep the common case short.
            label = f"{term!r}: " if len(self.search_terms) > 1 else ""
            try:
                frame = scrape_jobs(
                    site_name=[site],
                    search_term=term,
                    location=self.location,
                    results_wanted=self.results_wanted,
                    hours_old=self.hours_old,
                    country_indeed=self.country_indeed,
                    fetch_description=self.fetch_description,
                    is_remote=self.is_remote,
                    description_format="markdown",
                    verbose=0,
                )
            except Exception as exc:  # one broken board or query must not sink the others
                errors.append(label + safe_error(exc))
                continue
            attrs = frame.attrs or {}
            # jobspy's only signal of "blocked" as opposed to "no jobs today".
            site_error = (attrs.get("errors") or {}).get(site)
            if site_error:
                errors.append(label + safe_error(site_error))
            warnings.extend(str(warning) for warning in (attrs.get("warnings") or {}).get(site, []))
            if len(frame):
                frames.append(frame)
        combined = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=list(JOBSPY_COLUMNS))
        )
        combined.attrs = {}
        return SiteScrape(
            site=site,
            frame=combined,
            error="; ".join(errors) or None,
            warnings=list(dict.fromkeys(warnings)),  # the same warning comes once per term
        )
