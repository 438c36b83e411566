"""Shared helpers for the CMS file parsers (pure Python, no Django)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

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
        raise ParseError(name, 1, first_column, "file is UTF-16/UTF-32 encoded; expected ASCII/Windows-1252 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise _decode_error(data, name, exc.start) from None
    if text.startswith("\ufeff"):
        text = text[1:]
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


def iter_csv(text: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (1-based line number of the row's last physical line, cells) for each CSV row."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ParseError(name, reader.line_num + 1, None, f"malformed CSV: {exc}") from None
        yield reader.line_num, row


def is_blank(row: list[str]) -> bool:
    """True for an empty row, a row of empty/blank cells, or the Ctrl-Z (0x1A) trailer row."""
    for cell in row:
        if cell and cell.strip(" \t\x1a"):
            return False
    return True


class DecimalCache(dict[str, Decimal]):
    """str -> finite Decimal, memoised (CMS files repeat the same few values a lot).

    A miss that is not a finite number raises ``_BadNumber``; callers turn that into a
    ParseError naming the line and column.
    """

    def __missing__(self, key: str) -> Decimal:
        value = to_decimal(key)
        if value is None:
            raise BadNumber(key)
        self[key] = value
        return value


class BadNumber(ValueError):
    pass


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


def is_code(code: str) -> bool:
    """A HCPCS/CPT code: exactly five ASCII upper-case letters or digits (e.g. 99213, 0331T, G0105, GXXX1)."""
    return len(code) == 5 and code.isascii() and code.isalnum() and (code.isdigit() or code.isupper())


def is_modifier(mod: str) -> bool:
    return mod == "" or (len(mod) == 2 and mod.isascii() and mod.isalnum() and (mod.isdigit() or mod.isupper()))


def norm_header(text: str) -> str:
    """Upper-case, collapse whitespace, and glue a trailing hyphen to the next word ("CO- SURG" -> "CO-SURG")."""
    return " ".join(text.upper().split()).replace("- ", "-")


def clean_name(text: str) -> str:
    """Strip blanks and footnote asterisks: "ALASKA* " -> "ALASKA"."""
    return text.strip().strip("*").strip()
