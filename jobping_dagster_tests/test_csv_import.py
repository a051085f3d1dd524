"""read_jobspy_csv: both layouts and quotings of jobspy CSV exports, and clear errors."""

import csv
from pathlib import Path

import pandas as pd
import pytest

from jobping_dagster.cli import main
from jobping_dagster.postings.csv_import import read_jobspy_csv
from jobping_dagster.postings.normalize import JOBSPY_COLUMNS, normalize_frame
from jobping_dagster_tests.test_hostile_postings import HOSTILE_CLEANED, hostile_frame

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "jobspy"
CURRENT_LAYOUT = FIXTURES / "non_tech_us_2025.csv"
OLD_LAYOUT = FIXTURES / "software_engineer_us_2024.csv"

needs_fixtures = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="shared jobspy fixtures are not checked out next to the repo"
)

TRICKY_DESCRIPTION = 'Line one\\-escaped, "quoted", C:\\temp\nLine two, with a comma'


def tricky_frame() -> pd.DataFrame:
    row = dict.fromkeys(JOBSPY_COLUMNS)
    row.update(
        id="in-1",
        site="indeed",
        job_url="https://www.indeed.com/viewjob?jk=1",
        title="Engineer",
        company="Acme",
        min_amount=50000.0,
        description=TRICKY_DESCRIPTION,
    )
    return pd.DataFrame([row])


@needs_fixtures
def test_escaped_export_is_detected():
    frame = read_jobspy_csv(CURRENT_LAYOUT)

    assert frame.shape == (40, 34)
    assert list(frame.columns) == list(JOBSPY_COLUMNS)
    # Doubled on disk, single once read with the escape character.
    first = frame.loc[0, "description"]
    assert "Field\\-Based" in first and "Field\\\\-Based" not in first
    pd.testing.assert_frame_equal(frame, pd.read_csv(CURRENT_LAYOUT, escapechar="\\"))


@needs_fixtures
def test_plain_export_is_detected():
    frame = read_jobspy_csv(OLD_LAYOUT)

    assert len(frame) == 400
    assert "id" not in frame.columns
    assert {"search_term", "logo_photo_url", "ceo_name"} <= set(frame.columns)
    # Read with an escape character these backslashes would be eaten.
    assert frame["description"].fillna("").str.contains("\\*", regex=False).any()
    pd.testing.assert_frame_equal(frame, pd.read_csv(OLD_LAYOUT))


@needs_fixtures
@pytest.mark.parametrize("path", [CURRENT_LAYOUT, OLD_LAYOUT], ids=["current", "old"])
def test_imported_fixtures_normalize_without_rejections(path):
    frame = read_jobspy_csv(path)
    result = normalize_frame(frame)
    assert result.rows_in == len(frame)
    assert result.rejected_total == 0
    assert result.accepted + result.duplicates == len(frame)


def test_jobspy_readme_style_export_round_trips(tmp_path):
    path = tmp_path / "jobs.csv"
    tricky_frame().to_csv(path, quoting=csv.QUOTE_NONNUMERIC, escapechar="\\", index=False)
    assert "\\\\-escaped" in path.read_text(encoding="utf-8")  # doubled on disk

    frame = read_jobspy_csv(path)

    assert frame.loc[0, "description"] == TRICKY_DESCRIPTION
    assert frame.loc[0, "min_amount"] == 50000.0


def test_plain_export_keeps_backslashes(tmp_path):
    path = tmp_path / "jobs.csv"
    tricky_frame().to_csv(path, index=False)

    frame = read_jobspy_csv(path)

    assert frame.loc[0, "description"] == TRICKY_DESCRIPTION


def test_byte_order_mark_is_tolerated(tmp_path):
    path = tmp_path / "excel.csv"
    tricky_frame().to_csv(path, index=False, encoding="utf-8-sig")
    assert list(read_jobspy_csv(path).columns) == list(JOBSPY_COLUMNS)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_jobspy_csv(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="not found"):
        read_jobspy_csv(tmp_path)  # a directory


def test_other_csv_is_not_a_jobspy_export(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,email\nAda,ada@example.com\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a jobspy export.*title or job_url"):
        read_jobspy_csv(path)


def test_csv_with_title_but_no_url_is_not_a_jobspy_export(tmp_path):
    path = tmp_path / "titles.csv"
    path.write_text("title,company\nEngineer,Acme\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no job_url column"):
        read_jobspy_csv(path)


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable CSV"):
        read_jobspy_csv(path)


def test_import_summary_counts_rejected_rows_and_cleaned_fields(
    db_url, tmp_path, monkeypatch, capsys
):
    # The same names and figures as the scraped_jobs metadata: one Counter feeds both.
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.setenv("JOBPING_DATABASE_URL", db_url)
    path = tmp_path / "hostile.csv"
    hostile_frame().to_csv(path, index=False)

    assert main(["import-csv", str(path)]) == 0

    summary = capsys.readouterr().out
    assert "11 rows, 10 accepted" in summary
    assert "1 rejected (missing_company 1)" in summary
    cleaned = summary.split("cleaned: ", 1)[1].strip()
    assert dict(item.rsplit(" ", 1) for item in cleaned.split(", ")) == {
        reason: str(count) for reason, count in HOSTILE_CLEANED.items()
    }
