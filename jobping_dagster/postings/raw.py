"""Keep a raw jobspy frame as JSON text (a database text column) and rebuild it later.

The raw scrape is stored so that normalization can be re-run after a fix without scraping
the boards again; rebuilding must therefore give normalize_frame the same values.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

RAW_FORMAT = "jobspy-frame/1"


def _json_value(value: Any) -> Any:
    """A cell as a JSON value: dates as ISO strings, NaN/NaT/NA as null, infinities as text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        # Kept as text ("inf"): JSON has no infinity, and as null a rebuilt day would not
        # count the hostile salary the live scrape counted.
        return float(value) if math.isfinite(value) else str(float(value))
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):  # pd.Timestamp is a datetime
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return str(value)


def frame_to_json(frame: pd.DataFrame) -> str:
    """Serialize a raw frame (any columns, any dtypes) to a JSON string."""
    payload = {
        "format": RAW_FORMAT,
        "columns": [str(column) for column in frame.columns],
        "rows": [
            [_json_value(value) for value in row]
            for row in frame.itertuples(index=False, name=None)
        ],
    }
    # ASCII only: a lone surrogate from a scraped page would otherwise fail on the way into
    # the database, and escaped it costs a few bytes.
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":"))


def frame_from_json(text: str) -> pd.DataFrame:
    """Rebuild a frame written by frame_to_json; ValueError if the text is not one."""
    try:
        payload = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"raw scrape is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != RAW_FORMAT:
        raise ValueError(f"raw scrape is not in the {RAW_FORMAT!r} format")
    columns, rows = payload.get("columns"), payload.get("rows")
    if not isinstance(columns, list) or not isinstance(rows, list):
        raise ValueError("raw scrape has no 'columns' and 'rows' lists")
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(rows, columns=columns)
