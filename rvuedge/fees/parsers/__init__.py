"""Pure-Python parsers for the CMS Physician Fee Schedule files (no Django imports here).

Each parser takes the raw file bytes and a display name (used in error messages) and returns
typed rows from :mod:`rvuedge.fees.parsers.rows`; bad input raises :class:`ParseError`, whose
message names the file, the 1-based line and the column.

    kind = detect_kind(name, data)  # "pprrvu", "pprrvu_txt", "gpci", "locco", "anes", "oppscap", "hcpcs"
    result = PARSERS[kind](data, name)  # or parse_file(data, name)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .anes import parse_anes
from .detect import KINDS, detect_kind
from .gpci import parse_gpci
from .hcpcs import parse_hcpcs
from .locco import parse_locco
from .oppscap import parse_oppscap
from .pprrvu import PPRRVU_COLUMNS, parse_pprrvu, parse_pprrvu_txt
from .rows import (
    AnesFile,
    AnesRow,
    FeeRow,
    GpciRow,
    HcpcsCode,
    HcpcsFile,
    HcpcsModifier,
    LocalityRow,
    OppsCapRow,
    ParseError,
    PprrvuFile,
)

PARSERS: dict[str, Callable[[bytes, str], Any]] = {
    "pprrvu": parse_pprrvu,
    "pprrvu_txt": parse_pprrvu_txt,
    "gpci": parse_gpci,
    "locco": parse_locco,
    "anes": parse_anes,
    "oppscap": parse_oppscap,
    "hcpcs": parse_hcpcs,
}


def parse_file(data: bytes, name: str) -> Any:
    """Detect the file kind from its name/content and parse it with the matching parser."""
    return PARSERS[detect_kind(name, data)](data, name)


__all__ = [
    "KINDS",
    "PARSERS",
    "PPRRVU_COLUMNS",
    "AnesFile",
    "AnesRow",
    "FeeRow",
    "GpciRow",
    "HcpcsCode",
    "HcpcsFile",
    "HcpcsModifier",
    "LocalityRow",
    "OppsCapRow",
    "ParseError",
    "PprrvuFile",
    "detect_kind",
    "parse_anes",
    "parse_file",
    "parse_gpci",
    "parse_hcpcs",
    "parse_locco",
    "parse_oppscap",
    "parse_pprrvu",
    "parse_pprrvu_txt",
]
