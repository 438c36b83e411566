"""Reading tables users upload (CSV/XLSX), safely: dates, header names and the bounded reader. Pure Python, no
Django.

:func:`read_table` turns an uploaded file into a header row and an iterator of data rows (lists of strings)
while holding every upload to the same limits, so that no file, however crafted, can take a worker's memory
or minutes of its time:

* at most :data:`MAX_ROWS` rows (blank rows count: a sheet of three million empty rows stops here), at most
  :data:`MAX_COLUMNS` columns with a value, at most :data:`MAX_CELL_CHARS` characters in a cell and
  :data:`MAX_ROW_CHARS` in a row, at most :data:`MAX_TEXT_BYTES` of text in all;
* CSV: the encoding is detected (a UTF-8, UTF-16 or UTF-32 byte-order mark; otherwise UTF-8, or Windows-1252
  when the file cannot be UTF-8 and decodes as Windows-1252 without doubt), else refused naming the line;
* XLSX: the zip's directory is checked before anything is decompressed (number of parts, each part's
  uncompressed size and compression ratio; a part that inflates past its declared size fails its check), and
  the sheet and its shared strings are streamed through expat, never built as a tree;
* a NUL character anywhere is refused, naming the row and column: nothing downstream may store one.

Every refusal is a :class:`TableError` whose message names the row (and column) a person can look up.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
import struct
import types
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO, Any
from xml.parsers import expat

__all__ = ["MAX_CELL_CHARS", "MAX_COLUMNS", "MAX_ROWS", "MAX_UPLOAD_BYTES", "TableError", "norm_header",
           "parse_date", "quote", "read_table", "stored_csv", "table_to_csv"]

#: The largest file a user may upload (imports and employer reports). A busy clinician's whole career log is
#: a few MB; a 300,000-row import of eight columns is about 47 MB.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: Rows read from one uploaded table, the header and blank rows included. The one row limit for imports and
#: employer reports (a report is further held to reports.MAX_ROWS rows with a code).
MAX_ROWS = 500_000
#: Columns holding a value (empty cells to the right of the last value do not count).
MAX_COLUMNS = 256
#: Characters in one cell: Python's csv module's own default field limit (Excel's is 32,767).
MAX_CELL_CHARS = 131_072
#: Characters in one row, all its cells together (a CSV row may span lines inside quoted cells).
MAX_ROW_CHARS = 1_048_576
#: Text of a whole table once read (UTF-8): caps what a workbook's shared strings can be multiplied into.
MAX_TEXT_BYTES = 64 * 1024 * 1024

# XLSX: what the zip's directory may declare, checked before anything is decompressed.
XLSX_MAX_PARTS = 2_000
XLSX_MAX_SHEET_BYTES = 256 * 1024 * 1024  # the one worksheet read (streamed)
XLSX_MAX_STRINGS_BYTES = 32 * 1024 * 1024  # the shared strings (kept in memory as a list)
XLSX_MAX_STYLES_BYTES = 4 * 1024 * 1024  # styles.xml (parsed whole by openpyxl: which cell styles are dates)
XLSX_MAX_PART_BYTES = 1024 * 1024  # the other parts read: content types, workbook, its relationships
XLSX_MAX_RATIO = 100  # uncompressed / compressed, for parts over 1 MB
_XML_TOKEN_BYTES = 4 * 1024 * 1024  # one tag or attribute (expat buffers a token whole)


class TableError(ValueError):
    """The upload cannot be read; the message says where (row, column) and why, in words a user understands."""


def norm_header(header: str) -> str:
    """'Date_of-Service ' -> 'date of service'."""
    return re.sub(r"[\s_\-]+", " ", (header or "").strip().lower())


def quote(value: str, limit: int = 40) -> str:
    """``repr`` of a cell for a message, cut to ``limit`` characters (a message never carries a whole huge cell)."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"... ({len(value):,} characters)"


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d")


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
    raise ValueError(f"{quote(text)} is not a date (use YYYY-MM-DD or MM/DD/YYYY)")


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


# --------------------------------------------------------------------------- reading uploads

def column_letter(index: int) -> str:
    """0 -> 'A', 26 -> 'AA'."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _where(row: int, col: int | None = None, headers: list[str] | None = None) -> str:
    """'Row 12, column C (Notes)': where a message points (rows numbered as a spreadsheet shows them)."""
    if col is None:
        return f"Row {row:,}"
    name = headers[col].strip() if headers and col < len(headers) and headers[col].strip() else ""
    label = f"{column_letter(col)} ({name[:40]})" if name else column_letter(col)
    return f"Row {row:,}, column {label}"


class _Checked:
    """The checks every row of every table passes, whatever its format; numbers rows from 1 (the header)."""

    def __init__(self, max_rows: int):
        self.max_rows = max_rows
        self.row = 0
        self.text_bytes = 0
        self.headers: list[str] | None = None

    def __call__(self, row: list[str]) -> list[str]:
        self.row += 1
        if self.row > self.max_rows:
            raise TableError(f"The table has more than {self.max_rows:,} rows (blank rows count too); delete the "
                             "empty rows below your data, or split the file.")
        while row and not row[-1]:
            row.pop()
        if len(row) > MAX_COLUMNS:
            raise TableError(f"{_where(self.row)} has values in more than {MAX_COLUMNS} columns (the last in column "
                             f"{column_letter(len(row) - 1)}); delete the columns you do not need.")
        joined = "".join(row)  # one C-level pass; the cells are looked at one by one only when something is off
        size = len(joined)
        if size > MAX_CELL_CHARS or "\x00" in joined:
            for i, cell in enumerate(row):
                if len(cell) > MAX_CELL_CHARS:
                    raise TableError(f"{_where(self.row, i, self.headers)}: the cell holds {len(cell):,} characters, "
                                     f"more than {MAX_CELL_CHARS:,}; is this the right file?")
                if "\x00" in cell:
                    raise TableError(f"{_where(self.row, i, self.headers)}: the cell contains a NUL character (\\0). "
                                     "Is this a binary file, or text saved as UTF-16 without a byte-order mark? Save "
                                     "it as 'CSV UTF-8' and upload it again.")
        if size > MAX_ROW_CHARS:
            raise TableError(f"{_where(self.row)} holds {size:,} characters, more than {MAX_ROW_CHARS:,}.")
        self.text_bytes += size
        if self.text_bytes > MAX_TEXT_BYTES:
            raise TableError(f"The table's text passes {MAX_TEXT_BYTES // 2**20} MB at row {self.row:,}; "
                             "split the file.")
        if self.headers is None:
            self.headers = row
        return row


def read_table(kind: str, source: bytes | IO[bytes], *, max_rows: int | None = None, info: dict | None = None
               ) -> tuple[list[str], Iterator[list[str]]]:
    """(header row, data rows) of a CSV, or of the 'Encounters' (else the first) worksheet of an XLSX.

    ``source`` is the file's bytes or a binary file object (read from its current position; it must stay
    open while the rows are read). ``kind`` is 'xlsx' or 'csv' (what the file name says); a workbook
    uploaded under a .csv name is read as a workbook. Rows are checked while they are read: iterating may
    raise :class:`TableError`, which names the row. ``info`` (a dict) is given the format read ('csv' or
    'xlsx') and, for a CSV, its encoding.
    """
    stream: IO[bytes] = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    head = stream.read(8)
    stream.seek(-len(head), io.SEEK_CUR)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableError("This is an old-style Excel file (.xls); save it as .xlsx (Excel Workbook) or as "
                         "'CSV UTF-8' and upload it again.")
    checked = _Checked(max_rows or MAX_ROWS)
    info = {} if info is None else info
    if head.startswith(b"PK\x03\x04") or kind == "xlsx":
        info["format"] = "xlsx"
        rows = _xlsx_rows(stream, checked)
    else:
        info["format"] = "csv"
        rows = _csv_rows(stream, checked, info)
    rows = map(checked, rows)
    try:
        headers = next(rows)
    except StopIteration:
        raise TableError("The file is empty" if kind != "xlsx" else "The workbook is empty") from None
    return [h.strip() for h in headers], rows


def stored_csv(kind: str, source: bytes | IO[bytes]) -> tuple[list[str], bytes, int]:
    """Read an upload whole (every row checked) and return (header row, the table as UTF-8 CSV, data rows).

    A UTF-8 CSV is kept byte for byte once every row has passed; anything else (another encoding, a workbook) is
    written out as UTF-8 CSV by :func:`table_to_csv`. Either way the result reads back as the same rows.
    """
    stream: IO[bytes] = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    start = stream.tell()
    info: dict[str, str] = {}
    headers, rows = read_table(kind, stream, info=info)
    if info.get("encoding") in ("utf-8", "utf-8-sig"):
        n = sum(1 for _ in rows)
        stream.seek(start)
        return headers, stream.read(), n
    data, n = table_to_csv(headers, rows)
    return headers, data, n


def table_to_csv(headers: list[str], rows: Iterator[list[str]]) -> tuple[bytes, int]:
    """The table as UTF-8 CSV bytes (what an upload is kept as between preview and confirm) and its data rows.

    Blank rows are kept (as empty lines), so row numbers stay the file's.
    """
    buf = io.BytesIO()
    lines: list[str] = []
    out = csv.writer(types.SimpleNamespace(write=lines.append))  # encoded a thousand lines at a time
    out.writerow(headers)
    n = 0
    for n, row in enumerate(rows, start=1):  # noqa: B007 - n is the count
        out.writerow(row)
        if len(lines) >= 1000:
            buf.write("".join(lines).encode())
            lines.clear()
    buf.write("".join(lines).encode())
    return buf.getvalue(), n


# --------------------------------------------------------------------------- CSV

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_ENCODING_NAMES = {"utf-32": "UTF-32", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-8": "UTF-8",
                   "cp1252": "Windows-1252"}
# A valid UTF-8 multi-byte sequence: a file holding one and an invalid byte mixes encodings (or is damaged).
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_CHUNK = 1 << 20


def _line_of(stream: IO[bytes], start: int, offset: int) -> int:
    """The 1-based line of byte ``offset`` (counted from ``start``)."""
    stream.seek(start)
    lines, left = 1, offset
    while left > 0:
        chunk = stream.read(min(_CHUNK, left))
        if not chunk:
            break
        lines += chunk.count(b"\n")
        left -= len(chunk)
    return lines


def _detect_encoding(stream: IO[bytes]) -> str:
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    sample = stream.read(4096)
    stream.seek(start)
    if sample.count(b"\x00") > len(sample) // 4 and sample.count(b"\x00", 1) > 0:
        odd, even = sample[1::2].count(0), sample[0::2].count(0)
        if odd > len(sample) // 4 or even > len(sample) // 4:
            raise TableError("This looks like UTF-16 text without a byte-order mark; save it as 'CSV UTF-8' (or "
                             "'Unicode Text' with its byte-order mark) and upload it again.")
    # UTF-8, checked in full before a row is read (decoding a chunk at a time: memory stays flat).
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
            offset += len(chunk)
        decoder.decode(b"", final=True)
        stream.seek(start)
        return "utf-8"
    except UnicodeDecodeError as exc:
        bad_at = offset + exc.start
    # Not UTF-8. Windows-1252 only when that is unambiguous: no valid UTF-8 sequence anywhere (else the file mixes
    # encodings, or is a damaged UTF-8 file) and every byte is a Windows-1252 character.
    stream.seek(start)
    data = stream.read()
    stream.seek(start)
    line = _line_of(stream, start, bad_at)
    stream.seek(start)
    advice = "save it as 'CSV UTF-8' and upload it again."
    if _UTF8_SEQUENCE.search(data):
        raise TableError(f"Line {line:,} is not UTF-8 text (byte 0x{data[bad_at]:02X}), although other lines are: "
                         f"the file mixes encodings or is damaged; {advice}")
    try:
        data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = _line_of(stream, start, exc.start)
        stream.seek(start)
        raise TableError(f"Line {line:,} is neither UTF-8 nor Windows-1252 text (byte 0x{data[exc.start]:02X}); "
                         f"{advice}") from None
    return "cp1252"


def _csv_rows(stream: IO[bytes], checked: _Checked, info: dict) -> Iterator[list[str]]:
    info["encoding"] = encoding = _detect_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")
    used = [0]

    def lines() -> Iterator[str]:
        # Bounded reads: a line (or a record spanning lines inside quotes) longer than MAX_ROW_CHARS stops here,
        # before csv.reader holds it (a 50 MB line of commas would be a list of 50 million cells).
        while True:
            line = text.readline(MAX_ROW_CHARS + 1)
            if not line:
                return
            used[0] += len(line)
            if used[0] > MAX_ROW_CHARS:
                raise TableError(f"{_where(checked.row + 1)} is longer than {MAX_ROW_CHARS:,} characters (a quote "
                                 "left open?); is this the right file?")
            yield line

    reader = csv.reader(lines())
    try:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise TableError(f"{_where(checked.row + 1)}: a cell is longer than {MAX_CELL_CHARS:,} "
                                     "characters (a quote left open?); is this the right file?") from None
                raise TableError(f"{_where(checked.row + 1)} is not readable CSV: {exc}") from None
            except UnicodeDecodeError:
                raise TableError(f"{_where(checked.row + 1)} is not valid {_ENCODING_NAMES[encoding]} text; save "
                                 "the file as 'CSV UTF-8' and upload it again.") from None
            used[0] = 0
            yield row
    finally:
        # The caller's file stays open (a TextIOWrapper closes its buffer when collected), unless it is closed.
        with contextlib.suppress(ValueError):
            text.detach()


# --------------------------------------------------------------------------- XLSX

_UNREADABLE = "Not a readable .xlsx workbook"


def _zip_entries(stream: IO[bytes]) -> int:
    """How many entries the zip's end-of-central-directory record declares (before zipfile reads them all)."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    tail_len = min(size, 22 + 65_535)
    stream.seek(size - tail_len)
    tail = stream.read(tail_len)
    stream.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise TableError(f"{_UNREADABLE} (no zip directory)")
    return struct.unpack("<H", tail[at + 10:at + 12])[0]


def _check_part(info: zipfile.ZipInfo, limit: int) -> None:
    if info.file_size > limit:
        raise TableError(f"{_UNREADABLE}: its part {info.filename} would take {info.file_size / 2**20:,.0f} MB once "
                         f"decompressed (at most {limit // 2**20} MB); save the sheet as CSV and upload that.")
    if info.file_size > 2**20 and info.file_size > XLSX_MAX_RATIO * max(info.compress_size, 1):
        raise TableError(f"{_UNREADABLE}: its part {info.filename} is compressed "
                         f"{info.file_size // max(info.compress_size, 1):,} to 1 (at most {XLSX_MAX_RATIO} to 1 is "
                         "accepted); save the sheet as CSV and upload that.")


class _LocalNames(dict):
    """'uri}local' (expat's namespaced name) -> 'local', computed once per name."""

    def __missing__(self, name: str) -> str:
        self[name] = local = name.rpartition("}")[2]
        return local


def _expat(on_start, on_end, on_text) -> Any:
    """An expat parser calling ``on_start(local name, attrs)``, ``on_end(local name)`` and ``on_text(data)``, with
    no DTD or entities allowed (a workbook part never has one)."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args):
        raise TableError(f"{_UNREADABLE} (it declares a DTD or entities)")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    names = _LocalNames()
    parser.StartElementHandler = lambda name, attrs: on_start(names[name], attrs)
    parser.EndElementHandler = lambda name: on_end(names[name])
    parser.CharacterDataHandler = on_text
    return parser


def _feed(parser, src: IO[bytes]) -> Iterator[None]:
    """Feed ``src`` to ``parser`` 64 KB at a time, yielding after each chunk (the handlers queue their output).

    Expat holds a token (a tag with its attributes) whole until it ends; a token still open after 4 MB of
    input is refused, so no single tag or attribute can fill memory.
    """
    fed = 0
    while chunk := src.read(65_536):
        parser.Parse(chunk, False)
        fed += len(chunk)
        if fed - parser.CurrentByteIndex > _XML_TOKEN_BYTES:  # the position of the last event
            raise TableError(f"{_UNREADABLE}: one XML tag or attribute is larger than "
                             f"{_XML_TOKEN_BYTES // 2**20} MB")
        yield
    parser.Parse(b"", True)
    yield


def _shared_strings(archive: zipfile.ZipFile, name: str) -> list[str]:
    strings: list[str] = []
    parts: list[str] = []
    size = [0]
    state = {"in_si": False, "in_t": False, "phonetic": 0}

    def on_start(tag, _attrs):
        if tag == "si":
            state["in_si"], size[0] = True, 0
            parts.clear()
        elif tag == "rPh":
            state["phonetic"] += 1
        elif tag == "t" and state["in_si"] and not state["phonetic"]:
            state["in_t"] = True

    def on_end(tag):
        if tag == "si":
            strings.append("".join(parts))
            state["in_si"] = False
        elif tag == "rPh":
            state["phonetic"] -= 1
        elif tag == "t":
            state["in_t"] = False

    def on_text(data):
        if state["in_t"]:
            size[0] += len(data)
            if size[0] > MAX_CELL_CHARS:
                raise TableError(f"The workbook holds a text of more than {MAX_CELL_CHARS:,} characters (shared "
                                 f"string {len(strings) + 1:,}); is this the right file?")
            parts.append(data)

    parser = _expat(on_start, on_end, on_text)
    with archive.open(name) as src:
        for _ in _feed(parser, src):
            pass
    return strings


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _open_workbook(stream: IO[bytes]):
    """(zip archive, worksheet part name, shared strings part name or None, date style ids, timedelta style ids,
    epoch). Each part is checked against its limits before it is read; parts never read (drawings, pivot caches,
    external links, other sheets) are never decompressed."""
    # Loaded on first use: openpyxl costs ~175 ms at start-up, and only XLSX uploads need it.
    from openpyxl.packaging.relationship import get_rels_path
    from openpyxl.reader.excel import ExcelReader, _find_workbook_part
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, ARC_STYLE, SHARED_STRINGS

    if _zip_entries(stream) > XLSX_MAX_PARTS:
        raise TableError(f"{_UNREADABLE}: it has more than {XLSX_MAX_PARTS:,} parts")
    try:
        reader = ExcelReader(stream, read_only=True, data_only=True, keep_links=False)
        infos = {i.filename: i for i in reader.archive.infolist()}

        def check(name: str, limit: int) -> None:
            if name in infos:
                _check_part(infos[name], limit)

        check(ARC_CONTENT_TYPES, XLSX_MAX_PART_BYTES)
        reader.read_manifest()
        workbook_part = _find_workbook_part(reader.package).PartName[1:]
        check(workbook_part, XLSX_MAX_PART_BYTES)
        check(get_rels_path(workbook_part), XLSX_MAX_PART_BYTES)
        reader.read_workbook()
        check(ARC_STYLE, XLSX_MAX_STYLES_BYTES)
        apply_stylesheet(reader.archive, reader.wb)
        sheets = [(sheet.name, rel.target) for sheet, rel in reader.parser.find_sheets()
                  if "worksheet" in (rel.Type or "") and rel.target in infos]
        strings = reader.package.find(SHARED_STRINGS)
        wb = reader.wb
    except TableError:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile and openpyxl raise many kinds; the user needs one message
        raise TableError(f"{_UNREADABLE} ({exc.__class__.__name__})") from None
    if not sheets:
        raise TableError(f"{_UNREADABLE} (it has no worksheet)")
    path = dict(sheets).get("Encounters", sheets[0][1])
    _check_part(infos[path], XLSX_MAX_SHEET_BYTES)
    strings_path = strings.PartName[1:] if strings is not None and strings.PartName[1:] in infos else None
    if strings_path:
        _check_part(infos[strings_path], XLSX_MAX_STRINGS_BYTES)
    return reader.archive, path, strings_path, set(wb._date_formats), set(wb._timedelta_formats), wb.epoch


_COORD = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def _column_index(ref: str | None) -> int | None:
    m = _COORD.match(ref or "")
    if not m:
        return None
    n = 0
    for ch in m.group(1).upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _xlsx_rows(stream: IO[bytes], checked: _Checked) -> Iterator[list[str]]:
    """Rows of the sheet as lists of strings; missing rows are yielded as empty lists (row numbers stay the
    sheet's). Streamed: the sheet is fed to expat 64 KB at a time and only the rows of that chunk are held."""
    archive, path, strings_path, date_styles, timedelta_styles, epoch = _open_workbook(stream)
    shared = _read_shared_strings(archive, strings_path)
    # Rows finished by the chunk just fed: a list of cells, or an int for that many missing (blank) rows.
    out: deque[list[str] | int] = deque()
    state: dict[str, Any] = {"row": 0, "cells": None, "col": -1, "type": "n", "style": 0, "in_value": False,
                             "phonetic": 0, "size": 0}
    parts: list[str] = []  # the text of the cell being read
    value_of = _cell_reader(state, shared, date_styles, timedelta_styles, epoch)
    parser = _expat(_sheet_on_start(state, parts, out), _sheet_on_end(state, parts, out, value_of, checked),
                    _sheet_on_text(state, parts, checked))
    yield from _sheet_rows(parser, archive, path, out, state)


def _read_shared_strings(archive: zipfile.ZipFile, strings_path: str | None) -> list[str]:
    """The workbook's shared strings ([] when it has none); a damaged part is a TableError."""
    try:
        return _shared_strings(archive, strings_path) if strings_path else []
    except TableError:
        raise
    except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise TableError(f"{_UNREADABLE} (its shared strings: {exc})") from None


def _cell_reader(state: dict[str, Any], shared: list[str], date_styles: set[int], timedelta_styles: set[int],
                 epoch: Any) -> Callable[[str], Any]:
    """``value_of(raw)``: the value of the cell being read (its type and style in ``state``), as openpyxl reads it."""
    # Loaded on first use (openpyxl, ~175 ms): only XLSX uploads need it.
    from openpyxl.utils.datetime import from_excel, from_ISO8601

    def value_of(raw: str) -> Any:
        kind = state["type"]
        if kind == "s":
            return shared[int(raw)]
        if kind in ("str", "e", "inlineStr"):
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            return from_ISO8601(raw)
        number = float(raw) if any(c in raw for c in ".eE") else int(raw)  # as openpyxl reads numbers
        style = state["style"]
        if style in date_styles:
            try:
                return from_excel(number, epoch, timedelta=style in timedelta_styles)
            except (OverflowError, ValueError):
                return number
        return number

    return value_of


def _sheet_on_start(state: dict[str, Any], parts: list[str], out: deque[list[str] | int]) -> Callable[..., None]:
    """expat's start-tag handler: a row (queueing the missing rows before it), a cell, a value, a phonetic run."""

    def on_start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "c":
            col = _column_index(attrs.get("r"))
            state["col"] = state["col"] + 1 if col is None else col
            state["type"] = attrs.get("t", "n")
            style = attrs.get("s", "")
            state["style"] = int(style) if style.isdigit() else 0
            state["size"] = 0
            parts.clear()
        elif tag == "v" or (tag == "t" and state["type"] == "inlineStr" and not state["phonetic"]):
            state["in_value"] = True
        elif tag == "rPh":
            state["phonetic"] += 1
        elif tag == "row":
            r = attrs.get("r", "")
            number = int(r) if r.isdigit() and int(r) > state["row"] else state["row"] + 1
            if number > state["row"] + 1:
                out.append(number - state["row"] - 1)
            state["row"], state["cells"], state["col"] = number, [], -1

    return on_start


def _sheet_on_end(state: dict[str, Any], parts: list[str], out: deque[list[str] | int],
                  value_of: Callable[[str], Any], checked: _Checked) -> Callable[[str], None]:
    """expat's end-tag handler: a cell's text into its row (within MAX_COLUMNS), a finished row into ``out``."""

    def on_end(tag: str) -> None:
        if tag in ("v", "t"):
            state["in_value"] = False
        elif tag == "rPh":
            state["phonetic"] -= 1
        elif tag == "c":
            cells = state["cells"]
            if parts and cells is not None:
                col = state["col"]
                if col >= MAX_COLUMNS:
                    raise TableError(f"{_where(state['row'])} has a value in column {column_letter(col)}, beyond the "
                                     f"first {MAX_COLUMNS} columns; delete the columns you do not need.")
                raw = "".join(parts)
                try:
                    text = _cell_text(value_of(raw))
                except (ValueError, IndexError, TypeError, OverflowError):
                    raise TableError(f"{_where(state['row'], col, checked.headers)}: the cell's value {quote(raw)} cannot be read "
                                     "(a damaged workbook?)") from None
                if len(cells) <= col:
                    cells.extend([""] * (col + 1 - len(cells)))
                cells[col] = text
            parts.clear()
        elif tag == "row" and state["cells"] is not None:
            out.append(state["cells"])
            state["cells"] = None

    return on_end


def _sheet_on_text(state: dict[str, Any], parts: list[str], checked: _Checked) -> Callable[[str], None]:
    """expat's text handler: a value's text into ``parts``, refused past MAX_CELL_CHARS."""

    def on_text(data: str) -> None:
        if state["in_value"]:
            state["size"] += len(data)
            if state["size"] > MAX_CELL_CHARS:
                raise TableError(f"{_where(state['row'], max(state['col'], 0), checked.headers)}: the cell holds more than "
                                 f"{MAX_CELL_CHARS:,} characters; is this the right file?")
            parts.append(data)

    return on_text


def _sheet_rows(parser: Any, archive: zipfile.ZipFile, path: str, out: deque[list[str] | int],
                state: dict[str, Any]) -> Iterator[list[str]]:
    """Feed the sheet to ``parser`` and yield the rows each chunk finished (a gap as that many empty rows)."""
    try:
        with archive.open(path) as src:
            for _ in _feed(parser, src):
                while out:
                    item = out.popleft()
                    if isinstance(item, int):
                        for _blank in range(item):  # the caller's row limit stops a skip to row 1,000,000
                            yield []
                    else:
                        yield item
    except TableError:
        raise
    except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        near = f"near row {state['row']:,} of its sheet" if state["row"] else "its sheet"
        raise TableError(f"{_UNREADABLE} ({near}: {exc})") from None
