"""Read a CSV written by python-jobspy users, in either of the layouts seen in the wild."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

REQUIRED_COLUMNS = ("title", "job_url")
_ENCODING = "utf-8-sig"  # tolerate the byte-order mark Excel puts in front
# jobspy's README writes with QUOTE_NONNUMERIC + escapechar="\\": every header name quoted.
_FULLY_QUOTED_HEADER = re.compile(r'"[^"]*"(?:,"[^"]*")*')


def _is_escaped_export(header_line: str) -> bool:
    return bool(_FULLY_QUOTED_HEADER.fullmatch(header_line.strip()))


def read_jobspy_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A raw jobspy frame from a CSV export; ValueError for a missing or non-jobspy file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"jobspy CSV not found: {path}")
    with path.open(encoding=_ENCODING, errors="replace") as handle:
        header_line = handle.readline()
    # Backslashes are doubled on disk in the escaped form; read plainly they would stay
    # doubled, and reading the plain form with an escape character would eat real ones.
    escapechar = "\\" if _is_escaped_export(header_line) else None
    try:
        frame = pd.read_csv(
            path, escapechar=escapechar, encoding=_ENCODING, encoding_errors="replace"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path} is not a readable CSV file: {exc}") from exc
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{path} is not a jobspy export: no {' or '.join(missing)} column "
            f"(found: {', '.join(map(str, frame.columns[:10]))})"
        )
    return frame
