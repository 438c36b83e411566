"""Reading cells of tables users upload (CSV/XLSX): dates and header names. Pure Python, no Django."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

__all__ = ["norm_header", "parse_date"]

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d")


def norm_header(header: str) -> str:
    """'Date_of-Service ' -> 'date of service'."""
    return re.sub(r"[\s_\-]+", " ", (header or "").strip().lower())


def parse_date(text: str) -> dt.date:
    text = text.strip()
    if len(text) == 10 and text[4] == "-":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    if "T" in text or " " in text:
        text = text.replace("T", " ").split(" ")[0]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD or MM/DD/YYYY)")


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    # Spreadsheet formula injection: free text that starts like a formula is prefixed with an apostrophe.
    if isinstance(value, str) and value.startswith(_FORMULA) and not re.match(r"^-?\d", value):
        return "'" + value
    return value


def _uncell(value: str) -> str:
    if value.startswith("'") and value[1:2] in _FORMULA:
        return value[1:]
    return value

