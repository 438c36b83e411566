"""LOCCO parser: the locality -> counties crosswalk ({yy}LOCCO.csv).

Layout (2022-2025): title line, blank line, header row ("Medicare Adminstrative Contractor" [sic],
"Locality Number", "State", "Fee Schedule Area", "Counties"; 2022 has a sixth, empty column), a
blank row, then data rows separated by blank spacer rows, then footnote rows. Within a state only
the first row names the state; the following rows leave it blank, so the state is carried forward.
Cells carry trailing spaces; MAC/locality are not zero-padded in 2023-2025.

One row per MAC + locality is returned: the 2022-2025 files list Missouri's rest-of-state locality
(05302/99) twice with identical data (113/110 data rows for 112/109 localities); the repeat is
dropped. A repeat with different data is a ParseError.
"""

from __future__ import annotations

from ._common import CsvRows, clean_name, decode_text, find_header, is_blank, pad_digits
from .rows import LocalityRow, ParseError

__all__ = ["parse_locco"]

_LABELS = {
    "mac": "Medicare Administrative Contractor",
    "locality": "Locality Number",
    "state": "State",
    "area": "Fee Schedule Area",
    "counties": "Counties",
}


def _find_columns(row: list[str]) -> dict[str, int] | None:
    cols: dict[str, int] = {}
    for i, raw in enumerate(row):
        h = " ".join(raw.lower().split())
        if not h:
            continue
        if "contractor" in h or h in ("mac", "carrier"):
            cols.setdefault("mac", i)
        elif "locality" in h:
            cols.setdefault("locality", i)
        elif h == "state":
            cols.setdefault("state", i)
        elif "area" in h:
            cols.setdefault("area", i)
        elif "count" in h:
            cols.setdefault("counties", i)
    if "locality" in cols and "counties" in cols:
        return cols
    return None


def parse_locco(data: bytes, name: str) -> list[LocalityRow]:
    """Parse a {yy}LOCCO.csv file (state carried forward over blank state cells)."""
    text = decode_text(data, name, _LABELS["mac"])
    src = CsvRows(text, name)
    cols, header, header_line = find_header(src, _find_columns, _LABELS.items(),
                                            (_LABELS["locality"], "not a LOCCO file: no header row with "
                                             "locality and counties columns"))
    labels = {k: " ".join(header[i].split()) for k, i in cols.items()}
    width = max(cols.values()) + 1

    out: list[LocalityRow] = []
    seen: dict[tuple[str, str], LocalityRow] = {}
    state = ""
    for row in src:
        line = src.line
        if is_blank(row):
            continue
        mac_cell = row[cols["mac"]].strip() if cols["mac"] < len(row) else ""
        if not (mac_cell.isascii() and mac_cell.isdigit()) and sum(1 for c in row if c.strip()) <= 1:
            continue  # footnote ("*  Payment locality is serviced by two carriers.")
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
        cell_state = " ".join(row[cols["state"]].split())
        if cell_state:
            state = cell_state
        elif not state:
            raise ParseError(name, line, labels["state"], "state is blank and no earlier row names one")
        area = " ".join(clean_name(row[cols["area"]]).split())
        if not area:
            raise ParseError(name, line, labels["area"], "empty fee schedule area")
        counties = " ".join(row[cols["counties"]].split())
        rec = LocalityRow(mac=mac, locality=loc, state=state, area=area, counties=counties, line=line)
        prev = seen.get((mac, loc))
        if prev is not None:
            if (prev.state, prev.area, prev.counties) == (state, area, counties):
                continue  # the same locality listed twice (Missouri 05302/99 in 2022-2025): keep one
            raise ParseError(
                name, line, labels["locality"],
                f"locality {mac}/{loc} listed again with different data (first on line {prev.line})",
            )  # fmt: skip
        seen[(mac, loc)] = rec
        out.append(rec)
    if not out:
        raise ParseError(name, header_line + 1, labels["mac"], "no data rows after the header")
    return out
