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


# --------------------------------------------------------------------------- formula escaping (CSV/XLSX output)

# A spreadsheet runs a cell that starts with one of these as a formula ("=cmd|' /C calc'!A0", "@SUM(...)",
# "-2+3+cmd|..."); tab and carriage return are listed because some programs drop them and then see the formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
# The one exception: a cell that is a plain decimal number, nothing else ("-2.50", "29.40", "7").
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _formula_like(text: str) -> bool:
    """Would a spreadsheet take ``text`` (apostrophes it starts with ignored) for a formula?

    Leading whitespace is looked through, since some programs trim it when they read a file.
    """
    text = text.lstrip("'")
    if text.startswith(("\t", "\r")):
        return True
    return text.lstrip().startswith(_FORMULA) and not _PLAIN_NUMBER.fullmatch(text)


def safe_cell(value: Any) -> Any:
    """Text for a CSV/XLSX cell that no spreadsheet runs: one that starts like a formula gets an apostrophe.

    Every text cell that starts (after any whitespace) with ``= + - @`` or with a tab or carriage return is
    prefixed with ``'``, unless the whole cell is a plain decimal number. Text that already starts with
    apostrophes before such a character gets one more, so that :func:`_uncell` gives every text back exactly.

        >>> safe_cell("-2+3+cmd|' /C calc'!A0"), safe_cell("-2.50"), safe_cell(" =1+1"), safe_cell("'=x")
        ("'-2+3+cmd|' /C calc'!A0", '-2.50', "' =1+1", "''=x")
    """
    if isinstance(value, str) and _formula_like(value):
        return "'" + value
    return value


def _uncell(value: str) -> str:
    """The inverse of :func:`safe_cell` (on import): ``_uncell(safe_cell(s)) == s`` for every string."""
    if value.startswith("'") and _formula_like(value):
        return value[1:]
    return value
