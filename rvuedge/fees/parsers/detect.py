"""Tell which CMS file a (name, bytes) pair is: by file name first, then by content."""

from __future__ import annotations

import re
from pathlib import PurePath

from .rows import ParseError

__all__ = ["KINDS", "detect_kind"]

KINDS = ("pprrvu", "pprrvu_txt", "gpci", "locco", "anes", "oppscap", "hcpcs")

# Checked in order against the base name (case-insensitive).
_NAME_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^pprrvu.*\.csv$", re.I), "pprrvu"),
    (re.compile(r"^pprrvu.*\.txt$", re.I), "pprrvu_txt"),
    (re.compile(r"^gpci.*\.csv$", re.I), "gpci"),
    (re.compile(r"^.*locco.*\.csv$", re.I), "locco"),
    (re.compile(r"^anes.*\.csv$", re.I), "anes"),
    (re.compile(r"^oppscap.*\.csv$", re.I), "oppscap"),
    (re.compile(r"^hcpc(?!.*layout).*\.txt$", re.I), "hcpcs"),
)
_SNIFF_BYTES = 8192


def detect_kind(name: str, data: bytes) -> str:
    """Return one of KINDS for a CMS file; raise ParseError if it is none of them.

    The base name decides when it matches a known pattern (PPRRVU*.csv, PPRRVU*.txt, GPCI*.csv,
    *LOCCO*.csv, ANES*.csv, OPPSCAP*.csv, HCPC*.txt); otherwise the first few KB are sniffed.
    """
    base = PurePath(name.replace("\\", "/")).name
    for pattern, kind in _NAME_PATTERNS:
        if pattern.match(base):
            return kind
    sniffed = _sniff(data)
    if sniffed is None:
        raise ParseError(
            name, 1, None, "unknown CMS file kind (expected PPRRVU, GPCI, LOCCO, ANES, OPPSCAP or HCPCS)"
        )
    return sniffed


def _sniff(data: bytes) -> str | None:
    head = bytes(data[:_SNIFF_BYTES])
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    text = head.decode("cp1252", errors="replace")
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    if len(lines) > 1:
        lines = lines[:-1] or lines  # the last line may be cut off by the sniff window
    upper = text.upper()

    if lines and lines[0].startswith("HDR "):
        return "pprrvu_txt"
    for ln in lines[:40]:
        cells = [c.strip().strip('"').upper() for c in ln.split(",")]
        first = cells[0] if cells else ""
        if first == "HCPCS":
            if "PROCSTAT" in cells or any("PRICE" in c for c in cells):
                return "oppscap"
            return "pprrvu"
        if any("GPCI" in c for c in cells) and any("LOCALITY" in c for c in cells):
            return "gpci"
        if any("COUNTIES" in c for c in cells) and any("LOCALITY" in c for c in cells):
            return "locco"
        if first in ("CONTRACTOR", "CARRIER", "MAC") and any(
            "ANES" in c or "CONVERSION FACTOR" in c for c in cells
        ):
            return "anes"
    if "GEOGRAPHIC PRACTICE COST" in upper:
        return "gpci"
    if "COUNTIES INCLUDED IN" in upper:
        return "locco"
    records = [ln for ln in lines if ln.strip()][:20]
    if records and all(len(ln) >= 293 and ln[10:11] in ("3", "4", "7", "8") for ln in records):
        return "hcpcs"
    if records and all(
        len(ln) >= 160 and ln[:5].strip().isalnum() and ln[57:58].isalpha()
        for ln in records
        if not ln.startswith("HDR")
    ):
        return "pprrvu_txt"
    return None
