"""Shared helpers for the CMS file parsers (pure Python, no Django)."""

from __future__ import annotations

import contextlib
import csv
import gc
import io
from collections.abc import Callable, Generator, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from .rows import ParseError

CTRL_Z = "\x1a"

# Status codes documented for the PPRRVU file (RVU26A documentation, spec section 1.4).
STATUS_CODES = frozenset("ABCDEFGHIJMNPRTX")


def decode_text(data: bytes, name: str, first_column: str | None = None) -> str:
    """Decode a CMS text file: UTF-8 (BOM stripped) if valid, else Windows-1252.

    Raises ParseError for an empty file, a UTF-16/32 file, NUL bytes, or bytes that are
    valid in neither encoding. ``first_column`` names the column reported for an empty file.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name}: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data.strip(b" \t\r\n\x1a"):
        raise ParseError(name, 1, first_column, "empty file")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ParseError(
            name, 1, first_column, "file is UTF-16/UTF-32 encoded; expected ASCII/Windows-1252 text"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise _decode_error(data, name, exc.start) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise _position_error(text, name, nul, "NUL character in file (binary or UTF-16 data?)")
    return text


def _decode_error(data: bytes, name: str, pos: int) -> ParseError:
    line = data.count(b"\n", 0, pos) + 1
    start = data.rfind(b"\n", 0, pos) + 1
    field_no = data.count(b",", start, pos) + 1
    return ParseError(
        name,
        line,
        f"field {field_no} (character {pos - start + 1})",
        f"byte 0x{data[pos]:02X} is not valid UTF-8 or Windows-1252 text",
    )


def _position_error(text: str, name: str, pos: int, message: str) -> ParseError:
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    field_no = text.count(",", start, pos) + 1
    return ParseError(name, line, f"field {field_no} (character {pos - start + 1})", message)


class CsvRows:
    """A csv.reader over decoded text that turns csv.Error into ParseError.

    Iterating yields the raw cell lists; ``line`` is the 1-based number of the last physical
    line of the row just returned (what error messages report). A record that runs past the end
    of its line (a quote opened and not closed on it; no CMS file has such a record) is a
    ParseError at the line where the quote opened. Hot loops iterate ``reader`` directly and do the
    same checks themselves (:func:`spans_lines`, :func:`unterminated_quote`, :func:`csv_error`).
    """

    __slots__ = ("columns", "last", "name", "reader", "text")

    def __init__(self, text: str, name: str):
        self.name = name
        self.text = text
        self.last = 0  # the line of the last row returned
        self.columns: list[str] | None = None  # header names, once known (for error messages)
        # strict: a quote still open at the end of the file, or text after a closing quote, is an error
        # (the lenient reader would swallow the rest of the file into one field, or glue the text on)
        self.reader = csv.reader(io.StringIO(text, newline=""), strict=True)

    @property
    def line(self) -> int:
        return self.reader.line_num

    def __iter__(self) -> Iterator[list[str]]:
        reader = self.reader
        try:
            for row in reader:
                line = reader.line_num
                if line - self.last > 1 and spans_lines(row):
                    raise unterminated_quote(self.name, self.text, self.last + 1, line, row, self.columns)
                self.last = line
                yield row
        except csv.Error as exc:
            raise csv_error(self.name, self.text, self.last + 1, reader.line_num, exc, self.columns) from None


#: How many lines a parser reads looking for its header row before giving up.
MAX_HEADER_SEARCH = 30


def find_header(src: CsvRows, find_columns: Callable[[list[str]], dict[str, int] | None], required: Iterable[tuple[str, str]],
                not_found: tuple[str, str]) -> tuple[dict[str, int], list[str], int]:
    """Read ``src`` up to its header row, the first row ``find_columns`` maps (within :data:`MAX_HEADER_SEARCH`
    lines); return its column map, its cells and its line. ``required`` lists (key, label) every header must
    have; ``not_found`` is the (field, message) of the error when no row is a header. Error messages name
    the header's columns from then on (``src.columns``)."""
    cols: dict[str, int] | None = None
    header: list[str] = []
    header_line = 1
    for row in src:
        cols = find_columns(row)
        if cols is not None:
            header, header_line = row, src.line
            break
        if src.line >= MAX_HEADER_SEARCH:
            break
    if cols is None:
        field, message = not_found
        raise ParseError(src.name, src.line or 1, field, message)
    for key, label in required:
        if key not in cols:
            raise ParseError(src.name, header_line, label, "missing required column")
    src.columns = [" ".join(h.split()) for h in header]
    return cols, header, header_line


def spans_lines(row: list[str]) -> bool:
    """True if a cell holds a line break: its record ran past the end of a line."""
    return any("\n" in cell or "\r" in cell for cell in row)


def _physical_line(text: str, lineno: int) -> tuple[str, int]:
    """(the 1-based line ``lineno`` as the csv module counts lines, the number of lines)."""
    found = ""
    count = 0
    for count, line in enumerate(io.StringIO(text, newline=""), 1):
        if count == lineno:
            found = line
    return found.rstrip("\r\n"), count


def open_quote_field(line: str) -> int | None:
    """0-based index of the field whose opening quote is not closed on ``line`` (csv rules), or None."""
    n = len(line)
    field = 0
    i = 0
    while i <= n:
        if i < n and line[i] == '"':
            j = i + 1
            while True:
                k = line.find('"', j)
                if k < 0:
                    return field
                if k + 1 < n and line[k + 1] == '"':  # an escaped quote inside the quoted field
                    j = k + 2
                    continue
                break
            i = k + 1
        comma = line.find(",", i)
        if comma < 0:
            return None
        i = comma + 1
        field += 1
    return None


def unterminated_quote(name: str, text: str, start: int, end: int | str, cells: list[str] | None = None,
                       columns: list[str] | None = None) -> ParseError:
    """The error for a record that starts on line ``start`` and runs on past it (to line ``end``, or as
    ``end`` says)."""
    line, total = _physical_line(text, start)
    field = open_quote_field(line)
    if field is None and cells:
        field = next((i for i, c in enumerate(cells) if "\n" in c or "\r" in c), None)
    if field is None:
        column = None
    elif columns is not None and field < len(columns) and columns[field]:
        column = columns[field]
    else:
        column = f"field {field + 1}"
    if isinstance(end, str):
        runs = end
    else:
        runs = "to the end of the file" if end >= total else f"on to line {end}"
    return ParseError(
        name, start, column,
        f"unterminated quote: the quoted field that opens on this line is not closed on it (it runs {runs}); "
        "a CMS record never spans lines",
    )  # fmt: skip


def csv_error(name: str, text: str, start: int, stop: int, exc: csv.Error,
              columns: list[str] | None = None) -> ParseError:
    """A csv.Error in the record that starts on line ``start`` and was given up on line ``stop``."""
    line, _total = _physical_line(text, start)
    if open_quote_field(line) is not None:
        if "field limit" in str(exc):
            runs = f"on past the {csv.field_size_limit():,}-character field limit"
        elif "unexpected end of data" in str(exc):
            runs = "to the end of the file"
        else:  # it met another quote that does not close a field
            runs = f"on to line {stop}"
        return unterminated_quote(name, text, start, runs, None, columns)
    return ParseError(name, start, None, f"malformed CSV: {exc}")


def is_blank(row: list[str]) -> bool:
    """True for an empty row, a row of empty/blank cells, or the Ctrl-Z (0x1A) trailer row."""
    for cell in row:
        if cell and cell.strip(" \t\x1a"):
            return False
    return True


_SEED: dict[str, Decimal] = {}


def number_memo() -> dict[str, Decimal]:
    """A fresh str -> Decimal memo pre-filled with "0.00" .. "99.99" (most RVU cells hit it).

    Copying the 10k-entry seed costs ~0.1 ms, far less than the exceptions a cold memo takes on
    its first ~3k misses in a PPRRVU file.
    """
    if not _SEED:
        _SEED.update(
            (f"{i // 100}.{i % 100:02d}", Decimal(f"{i // 100}.{i % 100:02d}")) for i in range(10000)
        )
    return dict(_SEED)


def learn_numbers(memo: dict[str, Decimal], row: list[str], cols: list[int]) -> bool:
    """Add the row's number cells at ``cols`` to ``memo``; False if one of them is not a finite number."""
    for ci in cols:
        s = row[ci]
        if s not in memo:
            value = to_decimal(s)
            if value is None:
                return False
            memo[s] = value
    return True


def to_decimal(text: str) -> Decimal | None:
    """Parse a plain decimal number ("1", "1.000", ".10", " 19.45 "); None if not a finite number."""
    s = text.strip()
    if not s or "_" in s:
        return None
    try:
        value = Decimal(s)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite():
        return None
    return value


def pad_digits(text: str, width: int) -> str | None:
    """Zero-pad a numeric id ("2102" -> "02102"); None if not 1..width ASCII digits."""
    s = text.strip()
    if not s or len(s) > width or not (s.isascii() and s.isdigit()):
        return None
    return s.zfill(width)


def is_modifier(mod: str) -> bool:
    """Blank, or two ASCII upper-case letters/digits ("26", "TC", "53", "GA")."""
    return mod == "" or (
        len(mod) == 2 and mod.isascii() and mod.isalnum() and (mod.isdigit() or mod.isupper())
    )


@contextlib.contextmanager
def gc_paused() -> Generator[None, None, None]:
    """Pause the cyclic garbage collector while building many row objects.

    The parsers create ~20k GC-tracked row objects and no reference cycles; with the collector
    on, its repeated passes over the growing result list cost ~10-20% of the parse (one pass
    still happens after the collector is re-enabled). Restores the previous state (a no-op if
    the collector was already disabled). Pauses are short (< 0.2 s) and process-wide.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def first_duplicate(keys: list[Any]) -> int | None:
    """Index of the first key that repeats an earlier one, or None (fast when there is none)."""
    if len(set(keys)) == len(keys):
        return None
    seen: set[Any] = set()
    for i, k in enumerate(keys):
        if k in seen:
            return i
        seen.add(k)
    return None  # pragma: no cover


def norm_header(text: str) -> str:
    """Upper-case, collapse whitespace, and glue a trailing hyphen to the next word ("CO- SURG" -> "CO-SURG")."""
    return " ".join(text.upper().split()).replace("- ", "-")


def clean_name(text: str) -> str:
    """Strip blanks and footnote asterisks: "ALASKA* " -> "ALASKA"."""
    return text.strip().strip("*").strip()
