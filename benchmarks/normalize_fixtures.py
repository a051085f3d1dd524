"""What normalization makes of real jobspy exports: rows accepted, rejected and cleaned.

    .venv/bin/python benchmarks/normalize_fixtures.py [FOLDER] [--today YYYY-MM-DD]

FOLDER defaults to ../shared/fixtures/jobspy. Every *.csv in it is read the way
`jobping import-csv` reads it and normalized against `--today` (default: the real today,
as the import does). Prints, per file, the rows in, accepted, duplicates, rejected and
cleaned counts by reason, and a few figures read off the postings themselves (so runs of
older code, which had no cleaning counts, can be compared). The last line is JSON.
"""

import argparse
import json
from datetime import date
from pathlib import Path

from jobping_dagster.postings.csv_import import read_jobspy_csv
from jobping_dagster.postings.normalize import normalize_frame

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "jobspy"


def figures(path: Path, today: date) -> dict:
    result = normalize_frame(read_jobspy_csv(path), today=today)
    postings = result.postings
    return {
        "rows_in": result.rows_in,
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": result.rejected_total,
        "rejected_by_reason": dict(sorted(result.rejected.items())),
        # Absent before the cleaning counts existed.
        "cleaned_by_reason": dict(sorted(getattr(result, "cleaned", {}).items())),
        "postings_without_date": sum(p.date_posted is None for p in postings),
        "postings_with_salary": sum(
            p.salary_min is not None or p.salary_max is not None for p in postings
        ),
        "postings_with_markup_in_title_company_location": sum(
            any("<" in (text or "") for text in (p.title, p.company, p.location)) for p in postings
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today())
    args = parser.parse_args()
    report = {path.name: figures(path, args.today) for path in sorted(args.folder.glob("*.csv"))}
    for name, numbers in report.items():
        print(name)
        for key, value in numbers.items():
            print(f"  {key:48} {value}")
    print(json.dumps({"today": args.today.isoformat(), "files": report}, sort_keys=True))


if __name__ == "__main__":
    main()
