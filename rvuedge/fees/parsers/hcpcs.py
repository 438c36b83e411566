"""HCPCS Level II parser: the CMS alpha-numeric file (HCPC{yyyy}_{MON}_ANWEB_*.txt).

Fixed-width 320-character records, no header line (record layout: HCPC{yyyy}_recordlayout.txt,
1-based positions below). The record id in position 11 says what a line is:

* ``3`` first line of a procedure code (code in 1-5, detail fields in 92-293),
* ``4`` continuation of that code's long description (positions 12-91 only),
* ``7`` first line of a modifier (modifier in 4-5, positions 1-3 blank),
* ``8`` continuation of a modifier's long description.

Bad lines are skipped with a warning ("FILE, line N: reason") instead of failing the whole file;
a line longer than 320 characters whose excess is only blanks (CMS's G9871 line in the January
2026 file is 546 characters) is kept, with a warning. Blank lines are skipped silently.
"""

from __future__ import annotations

import datetime as dt

from ._common import decode_text
from .rows import HcpcsCode, HcpcsFile, HcpcsModifier, ParseError

__all__ = ["RECORD_LENGTH", "parse_hcpcs"]

RECORD_LENGTH = 320
_DATA_END = 293  # positions 294-320 are filler

# 0-based slices of the record layout (1-based "BEG-END" in comments).
_CODE = slice(0, 5)  # 1-5
_MODIFIER = slice(3, 5)  # 4-5 (modifier records)
_SEQ = slice(5, 10)  # 6-10
_REC_ID = 10  # 11
_LONG = slice(11, 91)  # 12-91
_SHORT = slice(91, 119)  # 92-119
_PRICING = (slice(119, 121), slice(121, 123), slice(123, 125), slice(125, 127))  # 120-127, 4 x 2
_MULT_PRICING = slice(127, 128)  # 128
_COVERAGE = slice(229, 230)  # 230
_ASC_GROUP = slice(230, 232)  # 231-232
_BETOS = slice(256, 259)  # 257-259
_TOS = tuple(slice(i, i + 1) for i in range(260, 265))  # 261-265, 5 x 1
_ANES_BASE = slice(265, 268)  # 266-268
_ADDED = slice(268, 276)  # 269-276
_ACTION_EFF = slice(276, 284)  # 277-284
_TERMINATED = slice(284, 292)  # 285-292
_ACTION = slice(292, 293)  # 293


class _Skip(Exception):
    """A bad line: skipped, with a warning."""


def _date(text: str, what: str) -> dt.date | None:
    s = text.strip()
    if not s:
        return None
    if len(s) != 8 or not (s.isascii() and s.isdigit()):
        raise _Skip(f"{what} {text!r} is not a YYYYMMDD date")
    try:
        return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        raise _Skip(f"{what} {text!r} is not a valid date") from None


def _alnum(text: str) -> bool:
    return text.isascii() and text.isalnum() and (text.isdigit() or text.isupper())


def parse_hcpcs(data: bytes, name: str) -> HcpcsFile:
    """Parse the HCPCS Level II fixed-width file into codes and modifiers (+ warnings for skipped lines)."""
    text = decode_text(data, name, "HCPCS code (positions 1-5)")
    result = HcpcsFile(file=name)
    warnings = result.warnings
    codes: dict[str, int] = {}  # code -> index in result.codes (duplicates are warned about)
    mods: dict[str, int] = {}

    # The record being assembled: its fields (without the long description) and description parts.
    pending: dict[str, object] | None = None
    pending_kind = ""  # "code" or "modifier"
    pending_key = ""
    parts: list[str] = []

    def flush() -> None:
        nonlocal pending
        if pending is None:
            return
        desc = " ".join(p for p in parts if p)
        if pending_kind == "code":
            if pending_key in codes:
                warnings.append(
                    f"{name}, line {pending['line']}: duplicate code {pending_key}; later record kept"
                )
                result.codes[codes[pending_key]] = HcpcsCode(long_description=desc, **pending)  # type: ignore[arg-type]
            else:
                codes[pending_key] = len(result.codes)
                result.codes.append(HcpcsCode(long_description=desc, **pending))  # type: ignore[arg-type]
        else:
            if pending_key in mods:
                warnings.append(
                    f"{name}, line {pending['line']}: duplicate modifier {pending_key}; later record kept"
                )
                result.modifiers[mods[pending_key]] = HcpcsModifier(long_description=desc, **pending)  # type: ignore[arg-type]
            else:
                mods[pending_key] = len(result.modifiers)
                result.modifiers.append(HcpcsModifier(long_description=desc, **pending))  # type: ignore[arg-type]
        pending = None

    lineno = 0
    for raw in text.split("\n"):
        lineno += 1
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            continue  # blank line (the file ends with one of 296 blanks)
        try:
            if len(line) != RECORD_LENGTH:
                if len(line) > RECORD_LENGTH and not line[RECORD_LENGTH:].strip():
                    warnings.append(
                        f"{name}, line {lineno}: record is {len(line)} characters, expected {RECORD_LENGTH}; "
                        f"the extra characters are blank, record kept"
                    )
                    line = line[:RECORD_LENGTH]
                elif _DATA_END <= len(line) < RECORD_LENGTH:
                    line = line.ljust(RECORD_LENGTH)  # only the trailing filler is missing
                else:
                    raise _Skip(f"record is {len(line)} characters, expected {RECORD_LENGTH}")
            rec_id = line[_REC_ID]
            if rec_id in "37":
                flush()
                if rec_id == "3":
                    key = line[_CODE]
                    if not _alnum(key):
                        raise _Skip(f"invalid HCPCS code {key!r}")
                else:
                    if line[0:3].strip():
                        raise _Skip(f"modifier record with non-blank positions 1-3 {line[0:3]!r}")
                    key = line[_MODIFIER]
                    if not _alnum(key):
                        raise _Skip(f"invalid modifier {key!r}")
                if not line[_SEQ].strip().isdigit():
                    raise _Skip(f"invalid sequence number {line[_SEQ]!r}")
                fields = _first_line_fields(line, rec_id == "3")
                fields["line"] = lineno
                pending, pending_kind, pending_key = fields, ("code" if rec_id == "3" else "modifier"), key
                parts = [line[_LONG].strip()]
            elif rec_id in "48":
                key = line[_CODE] if rec_id == "4" else line[_MODIFIER]
                want = "code" if rec_id == "4" else "modifier"
                if pending is None or pending_kind != want or pending_key != key:
                    raise _Skip(f"continuation line for {key.strip()!r} does not follow its first line")
                parts.append(line[_LONG].strip())
            else:
                raise _Skip(f"unknown record id {rec_id!r} in position 11")
        except _Skip as why:
            warnings.append(f"{name}, line {lineno}: {why}; line skipped")
    flush()
    if not result.codes and not result.modifiers:
        raise ParseError(
            name, 1, "record id (position 11)", "not a HCPCS file: no code (3) or modifier (7) records"
        )
    return result


def _first_line_fields(line: str, is_code: bool) -> dict[str, object]:
    added = _date(line[_ADDED], "code added date")
    action_eff = _date(line[_ACTION_EFF], "action effective date")
    terminated = _date(line[_TERMINATED], "termination date")
    common: dict[str, object] = {
        "short_description": line[_SHORT].strip(),
        "added": added,
        "action_effective": action_eff,
        "terminated": terminated,
        "action_code": line[_ACTION].strip(),
    }
    if not is_code:
        common["modifier"] = line[_MODIFIER]
        return common
    anes = line[_ANES_BASE].strip()
    if anes and not (anes.isascii() and anes.isdigit()):
        raise _Skip(f"anesthesia base units {line[_ANES_BASE]!r} is not a number")
    common.update(
        code=line[_CODE],
        pricing_indicators=tuple(p for p in (line[s].strip() for s in _PRICING) if p),
        multiple_pricing=line[_MULT_PRICING].strip(),
        coverage=line[_COVERAGE].strip(),
        asc_group=line[_ASC_GROUP].strip(),
        betos=line[_BETOS].strip(),
        type_of_service=tuple(t for t in (line[s].strip() for s in _TOS) if t),
        anes_base_units=int(anes) if anes else None,
    )
    return common
