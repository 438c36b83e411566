"""GPCI parser: geographic practice cost indices per MAC x locality (Addendum E).

Layout (2022-2025): title line, blank line, header row ("Medicare Administrative Contractor (MAC)",
"State", "Locality Number", "Locality Name", "yyyy PW GPCI (with 1.0 Floor)", "yyyy PE GPCI",
"yyyy MP GPCI"), data rows, then blank and footnote rows. CY2026 adds a work GPCI column *without*
the 1.0 floor next to the one with it; both are detected by header text.
"""

from __future__ import annotations

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
from .rows import GpciRow, ParseError

__all__ = ["parse_gpci"]



def _norm(cell: str) -> str:
    return " ".join(cell.lower().split())


def _find_columns(row: list[str]) -> dict[str, int] | None:
    """Map a candidate header row to column indexes; None if it is not the GPCI header."""
    cols: dict[str, int] = {}
    for i, raw in enumerate(row):
        h = _norm(raw)
        if not h:
            continue
        if "gpci" in h:
            if "pw" in h.split() or "work" in h:
                if "without" in h or "no floor" in h or "no 1.0 floor" in h:
                    cols.setdefault("work_no_floor", i)
                else:  # "(with 1.0 Floor)" or no floor wording at all
                    cols.setdefault("work", i)
            elif "pe" in h.split() or "practice expense" in h:
                cols.setdefault("pe", i)
            elif "mp" in h.split() or "malpractice" in h:
                cols.setdefault("mp", i)
        elif "contractor" in h or h in ("mac", "carrier"):
            cols.setdefault("mac", i)
        elif h == "state":
            cols.setdefault("state", i)
        elif "locality" in h and "name" in h:
            cols.setdefault("name", i)
        elif "locality" in h:
            cols.setdefault("locality", i)
    if "locality" in cols and ("work" in cols or "work_no_floor" in cols):
        return cols
    return None


_REQUIRED = (
    ("mac", "Medicare Administrative Contractor (MAC)"),
    ("state", "State"),
    ("locality", "Locality Number"),
    ("name", "Locality Name"),
    ("pe", "PE GPCI"),
    ("mp", "MP GPCI"),
)


def parse_gpci(data: bytes, name: str) -> list[GpciRow]:
    """Parse a GPCI{yyyy}.csv file. MAC is zero-padded to 5 digits, locality to 2; '*' marks stripped."""
    text = decode_text(data, name, "Medicare Administrative Contractor (MAC)")
    src = CsvRows(text, name)
    cols, header, header_line = find_header(src, _find_columns, _REQUIRED,
                                            ("Locality Number", "not a GPCI file: no header row with "
                                             "locality and GPCI columns"))
    if "work" not in cols:  # only a "without floor" column: that is the work GPCI in force
        cols["work"] = cols["work_no_floor"]
    labels = {k: " ".join(header[i].split()) for k, i in cols.items()}
    width = max(cols.values()) + 1
    has_no_floor = "work_no_floor" in cols

    out: list[GpciRow] = []
    for row in src:
        line = src.line
        if is_blank(row):
            continue
        if _is_footnote(row, cols["mac"]):
            continue
        if len(row) < width:
            missing = min((k for k, i in cols.items() if i >= len(row)), key=lambda k: cols[k])
            raise ParseError(
                name, line, labels[missing], f"truncated row: {len(row)} cells, expected {width}"
            )

        def cell(key: str, row: list[str] = row) -> str:
            return row[cols[key]]

        def fail(key: str, message: str, line: int = line) -> ParseError:
            return ParseError(name, line, labels[key], message)

        mac = pad_digits(cell("mac"), 5)
        if mac is None:
            raise fail("mac", f"invalid MAC number {cell('mac')!r}")
        state = cell("state").strip()
        if not (len(state) == 2 and state.isascii() and state.isalpha()):
            raise fail("state", f"invalid state abbreviation {state!r}")
        loc = pad_digits(cell("locality"), 2)
        if loc is None:
            raise fail("locality", f"invalid locality number {cell('locality')!r}")
        loc_name = clean_name(cell("name"))
        if not loc_name:
            raise fail("name", "empty locality name")
        nums: dict[str, Decimal] = {}
        for key in ("work", "pe", "mp", *(("work_no_floor",) if has_no_floor else ())):
            value = to_decimal(cell(key))
            if value is None:
                raise fail(key, f"not a number: {cell(key)!r}")
            if value <= 0:  # CMS never publishes one: a GPCI scales a payment
                raise fail(key, f"GPCI {cell(key).strip()} is not above zero")
            nums[key] = value
        out.append(
            GpciRow(
                mac=mac,
                state=state.upper(),
                locality=loc,
                name=loc_name,
                work_gpci=nums["work"],
                work_gpci_no_floor=nums.get("work_no_floor"),
                pe_gpci=nums["pe"],
                mp_gpci=nums["mp"],
                line=line,
            )
        )
    if not out:
        raise ParseError(name, header_line + 1, labels["mac"], "no data rows after the header")
    dup = first_duplicate([(r.mac, r.locality) for r in out])
    if dup is not None:
        r = out[dup]
        raise ParseError(name, r.line, labels["locality"], f"duplicate locality {r.mac}/{r.locality}")
    return out


def _is_footnote(row: list[str], mac_col: int) -> bool:
    """Footnote / note rows: text in one cell only (the first), and it is not a MAC number."""
    first = row[mac_col].strip() if mac_col < len(row) else ""
    if first.isascii() and first.isdigit():
        return False
    return sum(1 for c in row if c.strip()) <= 1
