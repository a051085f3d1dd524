"""One cell of a scraped frame as a value normalization can trust: missing, or a string.

Every cell may be missing, of the wrong type or garbage: a CSV float where a string was
meant, a list, bytes, NaN, a lone surrogate.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

# What a missing cell turns into once something has called str() on it.
PLACEHOLDER_TEXT = frozenset({"nan", "none", "null", "n/a", "nat"})

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]")


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


def as_text(value: object) -> str:
    """Any cell as a string, "" when missing; 5000.0 becomes "5000" (CSV floats)."""
    if is_missing(value):
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    elif isinstance(value, bool | np.bool_):
        text = str(bool(value))
    elif isinstance(value, float | np.floating):
        if not math.isfinite(value):
            return ""
        text = str(int(value)) if float(value).is_integer() else str(float(value))
    elif isinstance(value, list | tuple):
        text = ", ".join(part for part in map(as_text, value) if part)
    else:
        text = str(value)
    text = _CONTROL_CHARS.sub("", text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates would break the database driver later
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
