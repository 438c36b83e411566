"""Rapid-entry line syntax: ``CODE[-MOD...][xUNITS]``.

Examples: ``99214``, ``27447-50``, ``11045x3``, ``97110-GPx2``, ``44970-80-51``, ``01402-AAx129m``
(anaesthesia: ``m`` after the number means minutes). Lower case is accepted. A code is 5 characters:
5 digits (CPT Cat I), 4 digits + F (Cat II) or T (Cat III), or a letter + 4 digits (HCPCS Level II).
Modifiers are 2 letters/digits, at most 4 per line; units 1-999 (minutes 1-2000).

``parse_entry`` splits a whole entry, e.g. ``99214 20610-RT 27447-50x2 @2026-11-20``, into lines plus an
optional date of service (``@YYYY-MM-DD``); tokens may be separated by spaces, commas or semicolons.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .model import MAX_MINUTES, MAX_UNITS, EncounterLine

__all__ = ["LineSyntaxError", "ParsedEntry", "parse_entry", "parse_line"]

_CODE_RE = re.compile(r"^(?:\d{5}|\d{4}[FT]|[A-Z]\d{4})$")
_MOD_RE = re.compile(r"^[A-Z0-9]{2}$")
_SPLIT_RE = re.compile(r"[\s,;]+")
MAX_MODIFIERS = 4


class LineSyntaxError(ValueError):
    """A token that is not ``CODE[-MOD...][xUNITS]``; ``token`` is the offending text, ``reason`` why."""

    def __init__(self, token: str, reason: str, position: int | None = None):
        self.token = token
        self.reason = reason
        self.position = position
        where = f" (token {position + 1})" if position is not None else ""
        super().__init__(f"{token!r}{where}: {reason}")


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    lines: tuple[EncounterLine, ...]
    date_of_service: dt.date | None = None


def _code_problem(code: str) -> str:
    if len(code) != 5:
        return f"a code has 5 characters, {code!r} has {len(code)}"
    if code[:4].isdigit():
        return f"code {code!r}: 4 digits must be followed by a digit, F (Category II) or T (Category III)"
    if code[0].isalpha():
        return f"code {code!r}: a HCPCS Level II code is one letter followed by 4 digits"
    return f"code {code!r} is not a CPT/HCPCS code (5 digits, 4 digits + F/T, or a letter + 4 digits)"


_UNITS_RE = re.compile(r"^(?P<head>.*?)[X*](?P<num>[^X*]*)$")


def _split_units(segment: str, head_len: int, raw: str, position: int | None) -> tuple[str, str | None, bool]:
    """Split 'XUX2' -> ('XU', '2', False), '11045X3' -> ('11045', '3', False), '01402-AAX129M' minutes."""
    if len(segment) <= head_len:
        return segment, None, False
    if segment[head_len] in "X*":
        head, number = segment[:head_len], segment[head_len + 1:]
    else:
        match = _UNITS_RE.match(segment)
        if match is None or not match.group("head"):
            what = "modifier" if head_len == 2 else "code"
            raise LineSyntaxError(raw, f"unexpected {segment[head_len:]!r} after {what} {segment[:head_len]!r} "
                                  "(units are written x3)", position)
        head, number = match.group("head"), match.group("num")
    is_minutes = number.endswith("M")
    if number.endswith("MIN"):
        number = number[:-3]
    elif is_minutes:
        number = number[:-1]
    if not number:
        raise LineSyntaxError(raw, "missing number after 'x'", position)
    if not number.isdigit():
        raise LineSyntaxError(raw, f"units must be a whole number, got {number!r}", position)
    return head, number, is_minutes


def parse_line(token: str, *, position: int | None = None) -> EncounterLine:
    """Parse one ``CODE[-MOD...][xUNITS]`` token into an :class:`EncounterLine`."""
    raw = token
    text = token.strip().upper()
    if not text:
        raise LineSyntaxError(raw, "empty line", position)
    code, *mods = text.split("-")
    units = 1
    minutes: int | None = None
    last = mods[-1] if mods else code
    head, number, is_minutes = _split_units(last, 2 if mods else 5, raw, position)
    if number is not None:
        value = int(number)
        if is_minutes:
            if not 1 <= value <= MAX_MINUTES:
                raise LineSyntaxError(raw, f"minutes must be 1..{MAX_MINUTES}, got {value}", position)
            minutes = value
        elif not 1 <= value <= MAX_UNITS:
            raise LineSyntaxError(raw, f"units must be 1..{MAX_UNITS}, got {value}", position)
        units = value
        if mods:
            mods[-1] = head
        else:
            code = head
    if not _CODE_RE.match(code):
        raise LineSyntaxError(raw, _code_problem(code), position)
    if len(mods) > MAX_MODIFIERS:
        raise LineSyntaxError(raw, f"at most {MAX_MODIFIERS} modifiers per line, got {len(mods)}", position)
    seen: set[str] = set()
    for mod in mods:
        if not mod:
            raise LineSyntaxError(raw, "empty modifier (two dashes in a row, or a trailing dash)", position)
        if not _MOD_RE.match(mod):
            raise LineSyntaxError(raw, f"modifier {mod!r} must be 2 letters or digits", position)
        if mod in seen:
            raise LineSyntaxError(raw, f"modifier {mod} is repeated", position)
        seen.add(mod)
    return EncounterLine(code=code, modifiers=tuple(mods), units=units, minutes=minutes)


def parse_entry(text: str) -> ParsedEntry:
    """Split a whole rapid entry into lines and an optional ``@YYYY-MM-DD`` date of service."""
    tokens = [t for t in _SPLIT_RE.split(text.strip()) if t]
    lines: list[EncounterLine] = []
    date: dt.date | None = None
    for i, token in enumerate(tokens):
        if token.startswith("@"):
            if date is not None:
                raise LineSyntaxError(token, "more than one date of service", i)
            try:
                date = dt.date.fromisoformat(token[1:])
            except ValueError:
                raise LineSyntaxError(token, "a date of service is written @YYYY-MM-DD", i) from None
            continue
        lines.append(parse_line(token, position=i))
    if not lines:
        raise LineSyntaxError(text, "no lines entered")
    return ParsedEntry(tuple(lines), date)
