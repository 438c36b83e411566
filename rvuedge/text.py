"""Free text users type (notes and the site, attending and category labels): what may be stored, and what a
spreadsheet cell can hold. Pure Python, no Django.

Every entry path (rapid entry, the API, bulk edit, CSV/XLSX import, restore) cleans text with
:func:`clean_text` before storing it; exports pass cells through :func:`cell_text` so that text stored before
these rules (or by an admin) can never break a spreadsheet.

    >>> clean_text("difficult\\x07 airway\\r\\nconverted", multiline=True)
    'difficult airway\\nconverted'
    >>> clean_text("Main\\tOR")
    'Main OR'
"""

from __future__ import annotations

import re

__all__ = ["TextError", "cell_text", "clean_text"]


class TextError(ValueError):
    """Text that cannot be stored; ``reason`` says why in words a user understands."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 control characters and DEL, apart from tab, line feed and carriage return (handled below).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n?|\n")
_BLANKS = re.compile(r"[\t\n]")
# What the XLSX format cannot hold in a cell (openpyxl's ILLEGAL_CHARACTERS_RE), plus lone surrogates.
_CELL_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def clean_text(value: str | None, *, multiline: bool = False) -> str:
    """Return ``value`` trimmed and without control characters; refuse NUL bytes and invalid Unicode.

    A NUL byte or a lone surrogate is never typed by a person: it comes from a binary file or a broken
    encoder, so it is refused (:class:`TextError`) rather than silently altered. Other control characters
    are dropped. Line breaks become ``\\n`` in ``multiline`` text (notes) and a space elsewhere, as do tabs.
    """
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise TextError("contains a NUL byte (\\0); is this a binary file or a UTF-16 export?")
    if _SURROGATE.search(text):
        raise TextError("is not valid Unicode text (a lone surrogate character)")
    text = _CONTROL.sub("", _LINE_BREAKS.sub("\n", text))
    if not multiline:
        text = _BLANKS.sub(" ", text)
    return text.strip()


def cell_text(value: object) -> object:
    """``value`` made safe for a spreadsheet cell (strings only; other values pass through)."""
    if isinstance(value, str) and _CELL_ILLEGAL.search(value):
        return _CELL_ILLEGAL.sub("", value)
    return value
