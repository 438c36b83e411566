"""OPPSCAP parser: OPPS-capped imaging amounts per HCPCS x modifier x carrier x locality.

Layout (2022-2025): one header row ``HCPCS,MOD,PROCSTAT,CARRIER,LOCALITY,FACILITY PRICE,
NON-FACILTY PRICE`` [sic], then 16-18k data rows, then an empty / Ctrl-Z trailer row.
Columns are mapped by header text.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal, InvalidOperation
from operator import attrgetter

from ._common import (
    CTRL_Z,
    STATUS_CODES,
    CsvRows,
    csv_error,
    decode_text,
    first_duplicate,
    gc_paused,
    is_blank,
    is_modifier,
    norm_header,
    pad_digits,
    spans_lines,
    to_decimal,
    unterminated_quote,
)
from .rows import OppsCapRow, ParseError

__all__ = ["OPPSCAP_COLUMNS", "parse_oppscap"]

OPPSCAP_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("hcpcs", "HCPCS", ("HCPCS CODE",)),
    ("modifier", "MOD", ("MODIFIER",)),
    ("procstat", "PROCSTAT", ("STATUS", "STATUS CODE", "PROC STAT")),
    ("mac", "CARRIER", ("MAC", "CONTRACTOR", "CARRIER NUMBER")),
    ("locality", "LOCALITY", ("LOCALITY NUMBER",)),
    ("fac_price", "FACILITY PRICE", ("FAC PRICE",)),
    ("nonfac_price", "NON-FACILTY PRICE", ("NON-FACILITY PRICE", "NONFACILITY PRICE", "NON-FAC PRICE")),
)
_HEADER_TO_FIELD = {norm_header(h): f for f, c, a in OPPSCAP_COLUMNS for h in (c, *a)}
_CODE_RE = re.compile(r"[A-Z0-9]{5}")
_COMMON_MODIFIERS = frozenset({"", "TC", "26"})


def parse_oppscap(data: bytes, name: str) -> list[OppsCapRow]:
    """Parse an OPPSCAP CSV into rows (carrier zero-padded to 5 digits, locality to 2)."""
    text = decode_text(data, name, "HCPCS")
    src = CsvRows(text, name)
    header, header_line = _header_row(src, name)
    col_name, index = _columns(header, header_line, name)
    with gc_paused():
        out = _data_rows(src, text, name, col_name, index)
    if not out:
        raise ParseError(name, header_line + 1, "HCPCS", "no data rows after the header")
    _check_unique(out, name, col_name[index["hcpcs"]])
    return out


def _header_row(src: CsvRows, name: str) -> tuple[list[str], int]:
    """The header row (its first cell is HCPCS) within the first 20 rows, and its line."""
    seen = 0
    for row in src:
        seen += 1
        if row and row[0].strip().upper() == "HCPCS":
            return row, src.line
        if seen >= 20:
            break
    raise ParseError(name, src.line or 1, "HCPCS", "not an OPPSCAP file: no header row starting with HCPCS")


def _columns(header: list[str], header_line: int, name: str) -> tuple[list[str], dict[str, int]]:
    """The normalised column names (trailing empty ones dropped) and field -> column index; every column must be
    known, none repeated, none missing."""
    names = [norm_header(h) for h in header]
    while names and not names[-1]:
        names.pop()
    index: dict[str, int] = {}
    for i, hname in enumerate(names):
        fld = _HEADER_TO_FIELD.get(hname)
        if fld is None:
            raise ParseError(
                name, header_line, hname or f"column {i + 1}", "not an OPPSCAP file: unrecognised column"
            )
        if fld in index:
            raise ParseError(name, header_line, hname, f"duplicate column (also column {index[fld] + 1})")
        index[fld] = i
    missing = [c for f, c, _a in OPPSCAP_COLUMNS if f not in index]
    if missing:
        raise ParseError(name, header_line, missing[0], "missing required column")
    return names, index


def _fit_width(row: list[str], ncols: int, line: int, name: str, col_name: list[str]) -> list[str] | None:
    """A row whose width is not the header's: None for a blank (or Ctrl-Z trailer) row, the row without its
    empty trailing cells, or a ParseError for a truncated or over-long row."""
    if is_blank(row):
        return None
    if len(row) > ncols and is_blank(row[ncols:]):
        return row[:ncols]
    if len(row) < ncols:
        raise ParseError(name, line, col_name[len(row)], f"truncated row: {len(row)} cells, expected {ncols}")
    if len(row) > ncols:
        raise ParseError(name, line, f"column {ncols + 1}", f"row has {len(row)} cells, expected {ncols}")
    return row


def _data_rows(src: CsvRows, text: str, name: str, col_name: list[str], index: dict[str, int]) -> list[OppsCapRow]:
    """Validate and convert the data rows. Hot loop: kept flat; distinct codes, carriers and localities are
    validated once each."""
    ncols = len(col_name)
    i_code, i_mod, i_stat, i_mac, i_loc, i_fac, i_nf = (index[f] for f, _c, _a in OPPSCAP_COLUMNS)
    D = Decimal
    codes_ok: set[str] = set()
    macs: dict[str, str] = {}  # raw cell -> zero-padded id (validated once per distinct value)
    locs: dict[str, str] = {}
    code_ok = _CODE_RE.fullmatch
    mods_ok = _COMMON_MODIFIERS
    status_ok = STATUS_CODES
    reader = src.reader
    out: list[OppsCapRow] = []
    append = out.append

    def fail(line: int, col: int, message: str) -> ParseError:
        return ParseError(name, line, col_name[col], message)

    prev = reader.line_num  # the line of the previous record (csv: one record per line)
    try:
        for row in reader:
            line = reader.line_num
            if line - prev > 1 and spans_lines(row):
                raise unterminated_quote(name, text, prev + 1, line, row, col_name)
            prev = line
            if len(row) != ncols or not row[i_code] > CTRL_Z:
                fitted = _fit_width(row, ncols, line, name, col_name)
                if fitted is None:
                    continue  # blank or the Ctrl-Z trailer row
                row = fitted
            code = row[i_code]
            if code not in codes_ok:
                if code_ok(code) is None:
                    raise fail(line, i_code, f"invalid HCPCS code {code!r} (expected 5 upper-case letters/digits)")
                codes_ok.add(code)
            mod = row[i_mod]
            if mod not in mods_ok and not is_modifier(mod):
                if code.upper() == "HCPCS":
                    raise fail(line, i_code, "duplicate header row (HCPCS) inside the data")
                raise fail(line, i_mod, f"invalid modifier {mod!r}")
            status = row[i_stat]
            if status not in status_ok:
                raise fail(line, i_stat, f"invalid status code {status!r}")
            raw_mac = row[i_mac]
            mac = macs.get(raw_mac)
            if mac is None:
                mac = pad_digits(raw_mac, 5)
                if mac is None:
                    raise fail(line, i_mac, f"invalid carrier/MAC number {raw_mac!r}")
                macs[raw_mac] = mac
            raw_loc = row[i_loc]
            loc = locs.get(raw_loc)
            if loc is None:
                loc = pad_digits(raw_loc, 2)
                if loc is None:
                    raise fail(line, i_loc, f"invalid locality number {raw_loc!r}")
                locs[raw_loc] = loc
            # Prices are nearly all distinct (memoising would not pay): parse each one.
            fac_s = row[i_fac]
            nf_s = row[i_nf]
            try:
                fac = D(fac_s)
                nf = D(nf_s)
                if not (fac.is_finite() and nf.is_finite()) or "_" in fac_s or "_" in nf_s:
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                bad = i_fac if to_decimal(fac_s) is None else i_nf
                raise fail(line, bad, f"not a number: {row[bad]!r}") from None
            if fac < 0 or nf < 0:  # CMS never publishes a negative amount
                bad = i_fac if fac < 0 else i_nf
                raise fail(line, bad, f"negative amount {row[bad].strip()}: CMS never publishes one")
            append(OppsCapRow(code, mod, status, mac, loc, fac, nf, line))
    except csv.Error as exc:
        raise csv_error(name, text, prev + 1, reader.line_num, exc, col_name) from None
    return out


def _check_unique(out: list[OppsCapRow], name: str, code_column: str) -> None:
    dup = first_duplicate(list(map(_KEY, out)))
    if dup is not None:
        r = out[dup]
        raise ParseError(
            name, r.line, code_column,
            f"duplicate row for {r.hcpcs} {r.modifier or '(no modifier)'} carrier {r.mac} locality {r.locality}",
        )  # fmt: skip


_KEY = attrgetter("hcpcs", "modifier", "mac", "locality")
