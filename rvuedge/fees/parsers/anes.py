"""ANES parser: anesthesia conversion factors per MAC x locality (ANES{yyyy}.csv).

Layout (2022-2025): one header row (Contractor, Locality, Locality Name, <CF column>) where the CF
column title varies by year ("2022 ANESTHESIA CONVERSION FACTOR", "2024 Anesthesia Conversion
Factor", "National Anes CF of 20.3178"), data rows (2024+ cells have trailing spaces), then an
empty or Ctrl-Z trailer row.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ._common import (
    CsvRows,
    clean_name,
    decode_text,
    find_header,
    first_duplicate,
    is_blank,
    pad_digits,
    to_decimal,
)
from .rows import AnesFile, AnesRow, ParseError

__all__ = ["parse_anes"]

_NATIONAL_CF_RE = re.compile(
    r"national\s+(?:anes(?:thesia)?\s+)?(?:cf|conversion\s+factor)\s+(?:of\s+)?\$?\s*(\d+(?:\.\d+)?)", re.I
)
_LABELS = {
    "mac": "Contractor",
    "locality": "Locality",
    "name": "Locality Name",
    "cf": "Anesthesia Conversion Factor",
}


def _find_columns(row: list[str]) -> dict[str, int] | None:
    cols: dict[str, int] = {}
    for i, raw in enumerate(row):
        h = " ".join(raw.lower().split())
        if not h:
            continue
        if "contractor" in h or h in ("mac", "carrier"):
            cols.setdefault("mac", i)
        elif "locality" in h and "name" in h:
            cols.setdefault("name", i)
        elif "locality" in h:
            cols.setdefault("locality", i)
        elif "conversion factor" in h or re.search(r"\bcf\b", h) or "anes" in h:
            cols.setdefault("cf", i)
    if "mac" in cols and "cf" in cols:
        return cols
    return None


def parse_anes(data: bytes, name: str) -> AnesFile:
    """Parse an ANES{yyyy}.csv file; ``national_cf`` comes from a "National Anes CF of X" header."""
    text = decode_text(data, name, _LABELS["mac"])
    src = CsvRows(text, name)
    cols, header, header_line = find_header(src, _find_columns, _LABELS.items(),
                                            (_LABELS["cf"], "not an ANES file: no header row with "
                                             "contractor and conversion factor columns"))
    labels = {k: " ".join(header[i].split()) for k, i in cols.items()}
    width = max(cols.values()) + 1

    national_cf: Decimal | None = None
    m = _NATIONAL_CF_RE.search(header[cols["cf"]])
    if m:
        national_cf = to_decimal(m.group(1))
        if national_cf is not None and national_cf <= 0:
            raise ParseError(name, header_line, labels["cf"], f"national conversion factor {m.group(1)} is not above zero")

    result = AnesFile(file=name, national_cf=national_cf)
    for row in src:
        line = src.line
        if is_blank(row):
            continue
        mac_cell = row[cols["mac"]].strip() if cols["mac"] < len(row) else ""
        if not (mac_cell.isascii() and mac_cell.isdigit()) and sum(1 for c in row if c.strip()) <= 1:
            continue  # footnote row
        if len(row) < width:
            missing = min((k for k, i in cols.items() if i >= len(row)), key=lambda k: cols[k])
            raise ParseError(
                name, line, labels[missing], f"truncated row: {len(row)} cells, expected {width}"
            )
        mac = pad_digits(row[cols["mac"]], 5)
        if mac is None:
            raise ParseError(name, line, labels["mac"], f"invalid MAC number {row[cols['mac']]!r}")
        loc = pad_digits(row[cols["locality"]], 2)
        if loc is None:
            raise ParseError(
                name, line, labels["locality"], f"invalid locality number {row[cols['locality']]!r}"
            )
        loc_name = clean_name(row[cols["name"]])
        if not loc_name:
            raise ParseError(name, line, labels["name"], "empty locality name")
        cf = to_decimal(row[cols["cf"]])
        if cf is None:
            raise ParseError(name, line, labels["cf"], f"not a number: {row[cols['cf']]!r}")
        if cf <= 0:  # CMS never publishes one
            raise ParseError(name, line, labels["cf"], f"conversion factor {row[cols['cf']].strip()} is not above zero")
        result.rows.append(AnesRow(mac=mac, locality=loc, name=loc_name, conv_factor=cf, line=line))
    if not result.rows:
        raise ParseError(name, header_line + 1, labels["mac"], "no data rows after the header")
    dup = first_duplicate([(r.mac, r.locality) for r in result.rows])
    if dup is not None:
        r = result.rows[dup]
        raise ParseError(name, r.line, labels["locality"], f"duplicate locality {r.mac}/{r.locality}")
    return result
