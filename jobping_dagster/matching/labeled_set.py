"""A labeled set for `jobping eval`: a folder shaped like `shared/fixtures/labels/`:
postings (JSON lines with a `job_key`), wishes (a JSON list of `{"id", "prompt"}`) and labels
(CSV `job_key,prompt_id,score`). Postings are read through the same normalization as a scrape.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from jobping_dagster.llm.models import JobForScoring
from jobping_dagster.matching.cascade import CandidateJob
from jobping_dagster.postings.facts import PostingFacts, posting_facts
from jobping_dagster.postings.normalize import normalize_frame
from jobping_dagster.postings.scoring_input import job_for_scoring

_SALARY = re.compile(r"^\s*([\d.]+)(?:\s*-\s*([\d.]+))?\s*([A-Za-z]{3})?\s*([a-z]+)?")


@dataclass(frozen=True)
class LabeledSet:
    jobs: list[tuple[str, CandidateJob, JobForScoring]]  # (job key, candidate, scorer input)
    prompts: list[tuple[str, str]]  # (prompt id, prompt)
    labels: dict[tuple[str, str], int]  # (job key, prompt id) -> score
    unreadable_postings: int


def load_labeled_set(jobs_path: Path, prompts_path: Path, labels_path: Path) -> LabeledSet:
    prompts = _read_prompts(prompts_path)
    raw_jobs = _read_jobs(jobs_path)
    labels = _read_labels(labels_path)
    keys = {key for key, _ in raw_jobs}
    ids = {prompt_id for prompt_id, _ in prompts}
    unknown = [pair for pair in labels if pair[0] not in keys or pair[1] not in ids]
    if unknown:
        raise ValueError(
            f"{labels_path}: {len(unknown)} labels name a posting or wish that is not in the "
            f"set, e.g. {unknown[0]}"
        )
    jobs, unreadable = [], 0
    for number, (key, row) in enumerate(raw_jobs, start=1):
        candidate, scoring, readable = _job(number, key, row)
        unreadable += not readable
        jobs.append((key, candidate, scoring))
    return LabeledSet(jobs, prompts, labels, unreadable)


def _read_prompts(path: Path) -> list[tuple[str, str]]:
    data = json.loads(Path(path).read_text())
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of {{'id', 'prompt'}} objects")
    prompts = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not item.get("id") or "prompt" not in item:
            raise ValueError(f"{path}: item {index} needs an 'id' and a 'prompt'")
        prompts.append((str(item["id"]), str(item["prompt"] or "")))
    return prompts


def _read_jobs(path: Path) -> list[tuple[str, dict]]:
    jobs = []
    with open(path) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None
            if not isinstance(row, dict) or not row.get("job_key"):
                raise ValueError(f"{path}:{number}: a posting needs a 'job_key'")
            jobs.append((str(row["job_key"]), row))
    return jobs


def _read_labels(path: Path) -> dict[tuple[str, str], int]:
    labels = {}
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"job_key", "prompt_id", "score"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for number, row in enumerate(reader, start=2):
            try:
                score = int(row["score"])
            except ValueError:
                raise ValueError(
                    f"{path}:{number}: score {row['score']!r} is not a number"
                ) from None
            labels[(row["job_key"], row["prompt_id"])] = score
    return labels


def _job(number: int, key: str, row: dict) -> tuple[CandidateJob, JobForScoring, bool]:
    """The posting through the same normalization and facts as a scraped one. A row the
    normalizer rejects is still judged, on its raw text and by relevance only."""
    salary = _SALARY.match(str(row.get("salary") or ""))
    record = {
        "id": key,
        "site": row.get("site"),
        "job_url": row.get("job_url"),
        "title": row.get("title"),
        "company": row.get("company"),
        "location": row.get("location"),
        "is_remote": row.get("is_remote"),
        "job_type": row.get("job_type"),
        "date_posted": row.get("date_posted"),
        "description": row.get("description"),
        "min_amount": salary.group(1) if salary else None,
        "max_amount": (salary.group(2) or salary.group(1)) if salary else None,
        "currency": salary.group(3) if salary else None,
        "interval": salary.group(4) if salary else None,
    }
    result = normalize_frame(pd.DataFrame([record]))
    if result.postings:
        posting = result.postings[0]
        candidate = CandidateJob(
            id=number,
            title=posting.title,
            company=posting.company,
            location=posting.location,
            description=posting.description,
            facts=posting_facts(posting),
            industry=posting.company_fields.get("industry"),
        )
        return candidate, job_for_scoring(posting), True
    title, company = str(row.get("title") or ""), str(row.get("company") or "")
    description = str(row.get("description") or "")
    candidate = CandidateJob(
        number, title, company, row.get("location"), description, PostingFacts()
    )
    return candidate, JobForScoring(title=title, company=company, description=description), False
