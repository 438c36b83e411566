"""PPRRVU parser: the national RVU file (CSV, and the fixed-width TXT twin).

CSV layout (verified on RVU22A..RVU25A, RVU25D, RVU26C): a few preamble lines (title, copyright,
"RELEASED mm/dd/yyyy"), then up to four stacked header rows whose cells must be joined vertically,
then a row starting with ``HCPCS``, then data. Columns are mapped by their joined header text,
never by position; 2022-2025 files have 31 columns, 2026 files 32 (``PRIC IND`` after TEAM SURG).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from operator import attrgetter
from typing import NoReturn, Protocol

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
    learn_numbers,
    norm_header,
    number_memo,
    spans_lines,
    to_decimal,
    unterminated_quote,
)
from .rows import FeeRow, ParseError, PprrvuFile

__all__ = ["PPRRVU_COLUMNS", "parse_pprrvu"]

# FeeRow field -> canonical joined header name (+ accepted alternative spellings).
# Order = FeeRow field order (minus ``line``), which the row constructor below relies on.
PPRRVU_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("hcpcs", "HCPCS", ("HCPCS CODE",)),
    ("modifier", "MOD", ("MODIFIER",)),
    ("description", "DESCRIPTION", ()),
    ("status", "STATUS CODE", ("STATUS",)),
    ("not_used_for_medicare", "NOT USED FOR MEDICARE PAYMENT", ()),
    ("work_rvu", "WORK RVU", ()),
    ("nonfac_pe_rvu", "NON-FAC PE RVU", ("NON-FACILITY PE RVU",)),
    ("nonfac_na", "NON-FAC NA INDICATOR", ("NON-FACILITY NA INDICATOR",)),
    ("fac_pe_rvu", "FACILITY PE RVU", ("FAC PE RVU",)),
    ("fac_na", "FACILITY NA INDICATOR", ("FAC NA INDICATOR",)),
    ("mp_rvu", "MP RVU", ("MALPRACTICE RVU",)),
    ("nonfac_total", "NON-FACILITY TOTAL", ("NON-FAC TOTAL",)),
    ("fac_total", "FACILITY TOTAL", ("FAC TOTAL",)),
    ("pctc", "PCTC IND", ("PCTC INDICATOR",)),
    ("glob_days", "GLOB DAYS", ("GLOBAL DAYS",)),
    ("pre_op", "PRE OP", ()),
    ("intra_op", "INTRA OP", ()),
    ("post_op", "POST OP", ()),
    ("mult_proc", "MULT PROC", ()),
    ("bilat_surg", "BILAT SURG", ()),
    ("asst_surg", "ASST SURG", ()),
    ("co_surg", "CO-SURG", ()),
    ("team_surg", "TEAM SURG", ()),
    ("pric_ind", "PRIC IND", ("PRICING INDICATOR", "PRICING IND")),
    ("endo_base", "ENDO BASE", ()),
    ("conv_factor", "CONV FACTOR", ("CONVERSION FACTOR",)),
    ("phys_supervision", "PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES", ()),
    ("calc_flag", "CALCULATION FLAG", ()),
    ("dx_img_family", "DIAGNOSTIC IMAGING FAMILY INDICATOR", ()),
    ("opps_nonfac_pe", "NON-FACILITY PE USED FOR OPPS PAYMENT AMOUNT", ()),
    ("opps_fac_pe", "FACILITY PE USED FOR OPPS PAYMENT AMOUNT", ()),
    ("opps_mp", "MP USED FOR OPPS PAYMENT AMOUNT", ()),
)
_OPTIONAL = frozenset({"pric_ind"})
_DECIMAL_FIELDS = (
    "work_rvu", "nonfac_pe_rvu", "fac_pe_rvu", "mp_rvu", "nonfac_total", "fac_total",
    "pre_op", "intra_op", "post_op", "conv_factor", "opps_nonfac_pe", "opps_fac_pe", "opps_mp",
)  # fmt: skip
_HEADER_TO_FIELD: dict[str, str] = {}
_FIELD_TO_HEADER: dict[str, str] = {}
for _field, _canon, _aliases in PPRRVU_COLUMNS:
    _FIELD_TO_HEADER[_field] = _canon
    for _h in (_canon, *_aliases):
        _HEADER_TO_FIELD[norm_header(_h)] = _field


class _RowReader(Protocol):
    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...


GLOB_DAYS = frozenset({"000", "010", "090", "MMM", "XXX", "YYY", "ZZZ"})
_MAX_STACKED = 4  # header rows above the HCPCS row
_RELEASED_RE = re.compile(r"RELEASED\s+(\d{1,2})/(\d{1,2})/(\d{4})", re.IGNORECASE)
_PREAMBLE_WORDS = ("RELEASED", "COPYRIGHT", "RELATIVE VALUE FILE")
_CODE_RE = re.compile(r"[A-Z0-9]{5}")
_NA_VALUES = frozenset({"", "NA"})
_COMMON_MODIFIERS = frozenset({"", "26", "TC", "53"})


def parse_pprrvu(data: bytes, name: str) -> PprrvuFile:
    """Parse a PPRRVU CSV (31-column 2022-2025 or 32-column 2026 layout)."""
    text = decode_text(data, name, "HCPCS")
    src = CsvRows(text, name)
    header_line, header, above = _header_and_above(src, name)
    preamble, stacked = _split_above(above)
    col_name = _joined_names(header, stacked)
    index = _column_index(name, header_line, col_name)
    layout = "32" if "pric_ind" in index else "31"
    title, released = _title_and_release(name, preamble, col_name)
    with gc_paused():
        rows = _data_rows(src.reader, name, index, col_name, len(col_name), layout == "32", text)
    _check_unique(name, rows)
    return PprrvuFile(name, title, released, layout, _file_cf(rows), rows)


def _header_and_above(src: CsvRows, name: str) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """(line, cells) of the row whose first cell is HCPCS, and the (line, row)s above it."""
    above: list[tuple[int, list[str]]] = []
    for row in src:
        line = src.line
        if row and row[0].strip().upper() == "HCPCS":
            return line, row, above
        above.append((line, row))
        if len(above) > 200:  # a real preamble is ~10 lines; don't scan a whole wrong file
            break
    raise ParseError(
        name,
        (above[-1][0] if above else 1),
        "HCPCS",
        "not a PPRRVU file: no header row starting with HCPCS",
    )


def _split_above(
    above: list[tuple[int, list[str]]],
) -> tuple[list[tuple[int, list[str]]], list[list[str]]]:
    """(preamble lines, stacked header rows): up to four non-blank rows right above HCPCS that are not preamble."""
    stacked: list[list[str]] = []
    for _line, row in reversed(above):
        if len(stacked) == _MAX_STACKED or is_blank(row):
            break
        upper = " ".join(row).upper()
        if any(word in upper for word in _PREAMBLE_WORDS):
            break
        stacked.append(row)
    stacked.reverse()
    return above[: len(above) - len(stacked)], stacked


def _joined_names(header: list[str], stacked: list[list[str]]) -> list[str]:
    """Each column's header text joined down the stacked rows and the HCPCS row, normalised (trailing blanks off)."""
    width = len(header)
    for row in stacked:
        width = max(width, len(row))
    names: list[str] = []
    for i in range(width):
        parts = [row[i] for row in stacked if i < len(row)]
        parts.append(header[i] if i < len(header) else "")
        names.append(norm_header(" ".join(parts)))
    while names and not names[-1]:
        names.pop()
    return names


def _column_index(name: str, header_line: int, names: list[str]) -> dict[str, int]:
    """field -> column index. Checked in this order: duplicate column, missing required column, unrecognised column."""
    index: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    for i, hname in enumerate(names):
        fld = _HEADER_TO_FIELD.get(hname) if hname else None
        if fld is None:
            unknown.append((i, hname))
        elif fld in index:
            raise ParseError(name, header_line, hname, f"duplicate column (also column {index[fld] + 1})")
        else:
            index[fld] = i
    missing = [f for f, _c, _a in PPRRVU_COLUMNS if f not in index and f not in _OPTIONAL]
    if missing:
        first = _FIELD_TO_HEADER[missing[0]]
        if len(missing) > len(PPRRVU_COLUMNS) // 2:
            msg = f"not a PPRRVU file: header lacks {len(missing)} of the required columns"
        else:
            msg = "missing required column" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        raise ParseError(name, header_line, first, msg)
    if unknown:
        i, hname = unknown[0]
        if not hname:
            raise ParseError(
                name, header_line, f"column {i + 1}", "unknown PPRRVU layout: column has no header text"
            )
        raise ParseError(name, header_line, hname, "unknown PPRRVU layout: unrecognised column")
    return index


def _title_and_release(
    name: str, preamble: list[tuple[int, list[str]]], col_name: list[str]
) -> tuple[str, dt.date | None]:
    """The file's title (the preamble's first text) and its "RELEASED mm/dd/yyyy" date."""
    title = ""
    released: dt.date | None = None
    for line, row in preamble:
        cells = [c.strip() for c in row if c.strip()]
        if not cells:
            continue
        if not title:
            title = cells[0]
        for ci, cell in enumerate(row):
            m = _RELEASED_RE.search(cell)
            if m and released is None:
                try:
                    released = dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
                except ValueError:
                    col = col_name[ci] if ci < len(col_name) else f"column {ci + 1}"
                    raise ParseError(name, line, col, f"invalid release date {m.group(0)!r}") from None
    return title, released


def _data_rows(
    reader: _RowReader, name: str, index: dict[str, int], col_name: list[str], ncols: int, has_pric: bool,
    text: str | None,
) -> list[FeeRow]:
    """Validate and convert the data rows. Hot loop: keep it flat (parse time is a tested budget).

    ``reader`` is a csv.reader over ``text`` (or the fixed-width line splitter, with ``text`` None):
    iterating it yields cell lists and its ``line_num`` is the current 1-based line number.
    """
    (i_code, i_mod, i_desc, i_stat, i_nu, i_work, i_nfpe, i_nfna, i_fpe, i_fna, i_mp, i_nft, i_ft, i_pctc,
     i_glob, i_pre, i_intra, i_post, i_mult, i_bil, i_asst, i_co, i_team, i_pric, i_endo, i_cf, i_sup,
     i_calc, i_dxf, i_onf, i_of, i_omp) = (index.get(f, -1) for f, _c, _a in PPRRVU_COLUMNS)  # fmt: skip
    make = FeeRow
    dec = number_memo()  # str -> Decimal; a plain dict so the lookups stay fast
    dec_cols = [index[f] for f in _DECIMAL_FIELDS]
    code_ok = _CODE_RE.fullmatch
    status_ok = STATUS_CODES
    na_ok = _NA_VALUES
    glob_ok = GLOB_DAYS
    mods_ok = _COMMON_MODIFIERS
    out: list[FeeRow] = []
    append = out.append
    prev = reader.line_num  # the line of the previous record (csv: one record per line)
    try:
        for row in reader:
            line = reader.line_num
            if line - prev > 1 and text is not None and spans_lines(row):
                raise unterminated_quote(name, text, prev + 1, line, row, col_name)
            prev = line
            if len(row) != ncols or not row[i_code] > CTRL_Z:  # wrong width, blank, or the Ctrl-Z trailer
                fitted = _odd_row(name, line, row, ncols, col_name)
                if fitted is None:
                    continue
                row = fitted
            code = row[i_code]
            mod = row[i_mod]
            status = row[i_stat]
            nfna = row[i_nfna]
            fna = row[i_fna]
            glob = row[i_glob]
            if (
                status not in status_ok
                or nfna not in na_ok
                or fna not in na_ok
                or glob not in glob_ok
                or (mod not in mods_ok and not is_modifier(mod))
                or code_ok(code) is None
            ):
                _check_row(name, line, row, index, col_name)
            while True:
                try:
                    fee = make(
                        code, mod, row[i_desc].strip(), status, row[i_nu].strip(),
                        dec[row[i_work]], dec[row[i_nfpe]], nfna == "NA", dec[row[i_fpe]], fna == "NA",
                        dec[row[i_mp]], dec[row[i_nft]], dec[row[i_ft]], row[i_pctc], glob,
                        dec[row[i_pre]], dec[row[i_intra]], dec[row[i_post]],
                        row[i_mult], row[i_bil], row[i_asst], row[i_co], row[i_team],
                        row[i_pric] if has_pric else "", row[i_endo], dec[row[i_cf]], row[i_sup], row[i_calc],
                        row[i_dxf], dec[row[i_onf]], dec[row[i_of]], dec[row[i_omp]], line,
                    )  # fmt: skip
                except KeyError:  # a number not seen before: parse and memoise this row's numbers, retry
                    if not learn_numbers(dec, row, dec_cols):
                        _check_row(name, line, row, index, col_name)
                    continue
                break
            append(fee)
    except csv.Error as exc:
        raise csv_error(name, text or "", prev + 1, reader.line_num, exc, col_name) from None
    _check_values(name, out, dec, index, col_name)
    return out


# Values CMS never publishes (none occurs in RVU22A..RVU26C): a negative RVU, share or OPPS amount, a
# pre/intra/post-operative share above 1, a conversion factor of zero or less.
_RVU_FIELDS = ("work_rvu", "nonfac_pe_rvu", "fac_pe_rvu", "mp_rvu", "nonfac_total", "fac_total",
               "opps_nonfac_pe", "opps_fac_pe", "opps_mp")  # fmt: skip
_SHARE_FIELDS = ("pre_op", "intra_op", "post_op")
_IN_COLUMN_ORDER = [f for f, _c, _a in PPRRVU_COLUMNS if f in _DECIMAL_FIELDS]


def _value_error(field: str, value: Decimal) -> str | None:
    if field == "conv_factor":
        return None if value > 0 else f"conversion factor {value} is not above zero"
    if field in _SHARE_FIELDS:
        if value < 0:
            return f"negative share {value}: pre-, intra- and post-operative shares are fractions from 0 to 1"
        if value > 1:
            return f"share {value} is above 1: pre-, intra- and post-operative shares are fractions from 0 to 1"
        return None
    if field in _RVU_FIELDS and value < 0:
        return f"negative value {value}: CMS never publishes a negative RVU"
    return None


def _check_values(
    name: str, rows: list[FeeRow], memo: dict[str, Decimal], index: dict[str, int], col_name: list[str]
) -> None:
    """Refuse the first value CMS never publishes, naming its line and column.

    Cheap when there is none: every number cell was parsed through ``memo``, so one min() over it
    finds any negative; the conversion factor and the shares are checked by column.
    """
    if not rows:
        return
    if (
        min(memo.values()) >= 0
        and min(map(attrgetter("conv_factor"), rows)) > 0
        and all(max(map(attrgetter(f), rows)) <= 1 for f in _SHARE_FIELDS)
    ):
        return
    for row in rows:
        for field in _IN_COLUMN_ORDER:
            message = _value_error(field, getattr(row, field))
            if message:
                raise ParseError(name, row.line, col_name[index[field]], message)


def _odd_row(name: str, line: int, row: list[str], ncols: int, col_name: list[str]) -> list[str] | None:
    """A row that is not a plain ``ncols``-cell data row: None to skip it, the row to keep, or raise."""
    if is_blank(row):
        return None  # blank spacer, or the Ctrl-Z (0x1A) trailer row of the January files
    if len(row) > ncols and is_blank(row[ncols:]):
        return row[:ncols]  # trailing empty cells
    if len(row) < ncols:
        raise ParseError(name, line, col_name[len(row)], f"truncated row: {len(row)} cells, expected {ncols}")
    if len(row) > ncols:
        raise ParseError(name, line, f"column {ncols + 1}", f"row has {len(row)} cells, expected {ncols}")
    return row  # right width but an empty code cell: _check_row reports it


def _check_row(name: str, line: int, row: list[str], index: dict[str, int], col_name: list[str]) -> NoReturn:
    """Row-by-row validation (slow path): raise ParseError for the first bad cell of the row."""

    def fail(field: str, message: str) -> ParseError:
        return ParseError(name, line, col_name[index[field]], message)

    code = row[index["hcpcs"]]
    if code.strip().upper() == "HCPCS":
        raise fail("hcpcs", "duplicate header row (HCPCS) inside the data")
    if not _CODE_RE.fullmatch(code):
        if code.startswith(CTRL_Z):
            raise fail("hcpcs", "Ctrl-Z (end-of-file) byte followed by data")
        raise fail("hcpcs", f"invalid HCPCS code {code!r} (expected 5 upper-case letters/digits)")
    mod = row[index["modifier"]]
    if not is_modifier(mod):
        raise fail("modifier", f"invalid modifier {mod!r}")
    status = row[index["status"]]
    if status not in STATUS_CODES:
        raise fail(
            "status", f"invalid status code {status!r} (expected one of {''.join(sorted(STATUS_CODES))})"
        )
    for f, _c, _a in PPRRVU_COLUMNS:
        if f in _DECIMAL_FIELDS and to_decimal(row[index[f]]) is None:
            raise fail(f, f"not a number: {row[index[f]]!r}")
        if f in ("nonfac_na", "fac_na") and row[index[f]] not in _NA_VALUES:
            raise fail(f, f"expected 'NA' or blank, got {row[index[f]]!r}")
        if f == "glob_days" and row[index[f]] not in GLOB_DAYS:
            raise fail(f, f"invalid global days {row[index[f]]!r}")
    raise ParseError(
        name, line, None, "internal error: row rejected but no bad cell found"
    )  # pragma: no cover


def _check_unique(name: str, rows: list[FeeRow]) -> None:
    """One row per HCPCS + modifier (true of every CMS release checked)."""
    dup = first_duplicate(list(map(_KEY, rows)))
    if dup is not None:
        r = rows[dup]
        first = next(x for x in rows if (x.hcpcs, x.modifier) == (r.hcpcs, r.modifier))
        raise ParseError(
            name,
            r.line,
            "HCPCS",
            f"duplicate row for {r.hcpcs}{'-' + r.modifier if r.modifier else ''} (first on line {first.line})",
        )


_KEY = attrgetter("hcpcs", "modifier")


def _file_cf(rows: list[FeeRow]) -> Decimal | None:
    """The file's conversion factor: the CF column (the most common value if it ever varies)."""
    if not rows:
        return None
    counts: Counter[Decimal | None] = Counter(r.conv_factor for r in rows)
    return counts.most_common(1)[0][0]


# --- Fixed-width TXT twin (PPRRVU*.txt) -------------------------------------------------------
#
# Positions derived from PPRRVU2025_Oct.txt against PPRRVU2025_Oct.csv (same release; the layout
# PDF in the zip could not be read here) and checked by the tests, which parse both files to
# identical rows. 1-based: 1-5 HCPCS, 6-7 MOD, 8-57 DESCRIPTION, 58 STATUS, 59 NOT USED FOR
# MEDICARE PAYMENT ("+"), 60-66 WORK RVU, 67-72 NON-FAC PE RVU, 73-74 NON-FAC NA, 75-81 FACILITY
# PE RVU, 82-83 FACILITY NA, 84-89 MP RVU, 90-96 NON-FACILITY TOTAL, 97-102 FACILITY TOTAL,
# 103 PCTC, 104-106 GLOB DAYS, 107-109 PRE OP (".10"), 110-112 INTRA OP, 113-115 POST OP,
# 116 MULT PROC, 117 BILAT, 118 ASST, 119 CO-SURG, 120 TEAM, 121 PRIC IND (blank before 2026;
# the 2026 documentation puts the pricing indicator in position 121), 122-132 ENDO BASE (in
# 128-132), 133-140 CONV FACTOR, 141-143 PHYSICIAN SUPERVISION, 144 CALCULATION FLAG, 145-147
# DIAGNOSTIC IMAGING FAMILY, 148-157 / 158-164 / 165-171 the three OPPS amounts. Records are 171
# characters; the file starts with "HDR " copyright lines.
TXT_RECORD_LENGTH = 171
TXT_SLICES: dict[str, slice] = {
    "hcpcs": slice(0, 5),
    "modifier": slice(5, 7),
    "description": slice(7, 57),
    "status": slice(57, 58),
    "not_used_for_medicare": slice(58, 59),
    "work_rvu": slice(59, 66),
    "nonfac_pe_rvu": slice(66, 72),
    "nonfac_na": slice(72, 74),
    "fac_pe_rvu": slice(74, 81),
    "fac_na": slice(81, 83),
    "mp_rvu": slice(83, 89),
    "nonfac_total": slice(89, 96),
    "fac_total": slice(96, 102),
    "pctc": slice(102, 103),
    "glob_days": slice(103, 106),
    "pre_op": slice(106, 109),
    "intra_op": slice(109, 112),
    "post_op": slice(112, 115),
    "mult_proc": slice(115, 116),
    "bilat_surg": slice(116, 117),
    "asst_surg": slice(117, 118),
    "co_surg": slice(118, 119),
    "team_surg": slice(119, 120),
    "pric_ind": slice(120, 121),
    "endo_base": slice(121, 132),
    "conv_factor": slice(132, 140),
    "phys_supervision": slice(140, 143),
    "calc_flag": slice(143, 144),
    "dx_img_family": slice(144, 147),
    "opps_nonfac_pe": slice(147, 157),
    "opps_fac_pe": slice(157, 164),
    "opps_mp": slice(164, 171),
}


class _FixedWidthRows:
    """Iterate the data records of a PPRRVU TXT file as stripped cells in PPRRVU_COLUMNS order."""

    def __init__(self, text: str, name: str):
        self.name = name
        self.lines = text.split("\n")
        self.line_num = 0
        self.slices = [TXT_SLICES[f] for f, _c, _a in PPRRVU_COLUMNS]

    def __iter__(self) -> Iterator[list[str]]:
        slices = self.slices
        for lineno, raw in enumerate(self.lines, 1):
            line = raw[:-1] if raw.endswith("\r") else raw
            if line.startswith("HDR") or not line.strip(" \t\x1a"):
                continue
            self.line_num = lineno
            if len(line) != TXT_RECORD_LENGTH:
                if len(line) < TXT_RECORD_LENGTH:
                    cut = next(f for f, s in TXT_SLICES.items() if s.stop > len(line))
                    raise ParseError(
                        self.name, lineno, _FIELD_TO_HEADER[cut],
                        f"truncated record: {len(line)} characters, expected {TXT_RECORD_LENGTH}",
                    )  # fmt: skip
                if line[TXT_RECORD_LENGTH:].strip():
                    raise ParseError(
                        self.name, lineno, f"position {TXT_RECORD_LENGTH + 1}",
                        f"record is {len(line)} characters, expected {TXT_RECORD_LENGTH}",
                    )  # fmt: skip
            yield [line[s].strip() for s in slices]


def parse_pprrvu_txt(data: bytes, name: str) -> PprrvuFile:
    """Parse the fixed-width PPRRVU*.txt twin of the CSV (same rows; no title or release date in it).

    ``title`` is "" and ``released`` None (the TXT has only copyright ``HDR`` lines); ``layout`` is
    "32" when any record carries a pricing indicator in position 121, else "31".
    """
    text = decode_text(data, name, "HCPCS")
    first = next((ln for ln in text.split("\n", 20) if ln.strip()), "")
    if not first.startswith("HDR") and len(first.rstrip("\r")) < TXT_RECORD_LENGTH:
        raise ParseError(
            name, 1, "HCPCS", "not a fixed-width PPRRVU file: no HDR lines or 171-character records"
        )
    index = {f: i for i, (f, _c, _a) in enumerate(PPRRVU_COLUMNS)}
    col_name = [c for _f, c, _a in PPRRVU_COLUMNS]
    reader = _FixedWidthRows(text, name)
    with gc_paused():
        rows = _data_rows(reader, name, index, col_name, len(PPRRVU_COLUMNS), True, None)
    _check_unique(name, rows)
    layout = "32" if any(r.pric_ind for r in rows) else "31"
    return PprrvuFile(name, "", None, layout, _file_cf(rows), rows)
