"""The JSON backup of a user's log and its restore. The backup is full fidelity: restoring it into another
account and backing up again gives equal data.

The backup is written as a stream (:func:`backup_stream`): a header (format, version, profile, favourites), then
the encounters one per line, live ones by date and then the trash, read a page at a time, and last the closing
brackets. A download cut short by an error therefore never parses as a backup.

A restore checks the whole file before it writes anything (:func:`restore`); any bad value refuses it whole,
with a message naming the value's path (``encounters[3].lines[0].units: ...``). The bounds come from where they
are defined: text lengths and decimal digits from the model fields, units and minutes from
:mod:`rvuedge.pricing`, the lines per encounter from :data:`rvuedge.logbook.entries.MAX_LINES`, so that nothing
restored can break a later export or page.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from rvuedge.phi import PhiError, check_fields
from rvuedge.pricing import MAX_MINUTES, MAX_UNITS, PolicyError, load_policy
from rvuedge.pricing.lines import MAX_MODIFIERS
from rvuedge.text import TextError, clean_text

from . import exports
from .entries import MAX_LINES
from .imports import store_bulk
from .models import ROLE_LABELS, Encounter, Favourite
from .models import EncounterLine as LineModel

BACKUP_FORMAT = "rvuedge-log-backup"
BACKUP_VERSION = 1

#: The largest backup file a restore reads (bytes); settings.RVUEDGE_RESTORE_MAX_BYTES overrides it.
RESTORE_MAX_BYTES = 50 * 1024 * 1024


def restore_max_bytes() -> int:
    return int(getattr(settings, "RVUEDGE_RESTORE_MAX_BYTES", RESTORE_MAX_BYTES))


# --------------------------------------------------------------------------- JSON backup

def _finite(value: Any) -> Any:
    """``value`` with any NaN or infinite float replaced by None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class _StoredJson:
    """Stored JSON column text, checked once per distinct text and copied into the backup as it is.

    Text that is not strict JSON (NaN, or unreadable, kept from before values were checked) is rewritten:
    non-finite numbers become null, unreadable text null, so that the backup always parses.
    """

    LIMIT = 4096

    def __init__(self) -> None:
        self._good: set[str] = set()

    def __call__(self, text: str | None) -> str:
        if text is None:
            return "null"
        if text in self._good:
            return text
        try:
            json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            value = exports.parse_stored_json(text, None)
            try:
                return json.dumps(_finite(value), allow_nan=False)
            except (ValueError, RecursionError):
                return "null"
        if len(self._good) >= self.LIMIT:
            self._good.clear()
        self._good.add(text)
        return text


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def encounter_json(e: dict[str, Any], lines: list[dict[str, Any]], stored: _StoredJson) -> str:
    """One encounter of :func:`rvuedge.logbook.exports.pages` (with its JSON columns) as backup JSON.

    The keys and values are those of :func:`rvuedge.logbook.exports.encounter_to_dict`; the JSON columns are
    copied as stored rather than parsed and written again.
    """
    head = json.dumps({
        "uid": str(e["uid"]), "date": e["date"].isoformat(), "entry": e["entry"], "setting": e["setting"],
        "pos": e["pos"], "site": e["site"], "role": e["role"], "attending": e["attending"],
        "category": e["category"], "notes": e["notes"], "total_wrvu": _dec(e["total_wrvu"]),
        "total_wrvu_exact": _dec(e["total_wrvu_exact"]), "total_payment": _dec(e["total_payment"]),
        "release": e["release"], "policy_name": e["policy_name"], "locality": e["locality"],
        "idempotency_key": e["idempotency_key"], "created_at": _iso(e["created_at"]),
        "updated_at": _iso(e["updated_at"]), "deleted_at": _iso(e["deleted_at"]),
    })
    line_texts = [
        json.dumps({"position": ln["position"], "code": ln["code"], "modifiers": ln["modifiers"], "units": ln["units"],
                    "minutes": ln["minutes"], "description": ln["description"], "wrvu": _dec(ln["wrvu"]),
                    "wrvu_exact": _dec(ln["wrvu_exact"]), "payment": _dec(ln["payment"])})[:-1]
        + ', "explanation": ' + stored(ln["explanation_json"]) + "}"
        for ln in lines]
    return (f'{head[:-1]}, "policy": {stored(e["policy_json"])}, "source": {stored(e["source_json"])}, '
            f'"flags": {stored(e["flags_json"])}, "lines": [{", ".join(line_texts)}]}}')


def backup_stream(user, profile) -> Iterator[str]:
    """Everything in the user's log, trash included, plus the profile settings and favourites, as JSON text in
    chunks (for a StreamingHttpResponse). Memory stays at one page of encounters whatever the size of the log.

    The text ends with the brackets that close the encounters and the file; a stream that stops early (an
    error after the response started) is never valid JSON, so it cannot be mistaken for a whole backup.
    """
    head = _finite({
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "exported_at": timezone.now().isoformat(),
        "profile": profile.to_dict(),
        "favourites": list(Favourite.objects.filter(user=user).order_by("code").values_list("code", flat=True)),
    })
    yield json.dumps(head, allow_nan=False)[:-1] + ', "encounters": ['
    stored = _StoredJson()
    sep = "\n"
    # Live encounters and the trash are read separately so that each pass walks its own index. A restore keeps
    # the file's order, so backing the restored log up again gives the same order.
    live = Encounter.objects.filter(user=user, deleted_at__isnull=True)
    trash = Encounter.objects.filter(user=user, deleted_at__isnull=False)
    for qs, order in ((live, exports.LIVE_ORDER), (trash, exports.TRASH_ORDER)):
        for page in exports.pages(qs, order=order, json_fields=exports.ENC_JSON):
            chunk = []
            for e, lines in page:
                chunk.append(sep + encounter_json(e, lines, stored))
                sep = ",\n"
            yield "".join(chunk)
    yield "\n]}\n"


def backup(user, profile) -> dict[str, Any]:
    """The backup as a dict (small logs and tests; downloads use :func:`backup_stream`)."""
    return json.loads("".join(backup_stream(user, profile)))


# --------------------------------------------------------------------------- restore: reading the file

class RestoreError(ValueError):
    def __init__(self, where: str, message: str):
        self.where = where
        super().__init__(f"{where}: {message}")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise RestoreError("file", f"the number {text[:20]} is too large")
    return value


def _constant(name: str) -> Any:
    raise RestoreError("file", f"{name} is not a number JSON allows")


def parse_backup(data: bytes, *, capped: bool = True) -> Any:
    """The JSON of an uploaded backup; :class:`RestoreError` for anything that is not strict JSON.

    NaN and Infinity (which Python's json reads by default) are refused, as are numbers too large for a float
    and nesting too deep to read (the file is refused, not the server). ``capped=False`` is for an operator's
    file (``rvuedge logbook restore``), which the web upload's size cap does not limit.
    """
    if capped and len(data) > restore_max_bytes():
        raise RestoreError("file", too_big_message())
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RestoreError("file", f"not UTF-8 text (byte {exc.start}); choose an RVU Edge backup (.json)") from None
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float)
    except RestoreError:
        raise
    except RecursionError:
        raise RestoreError("file", "nested too deeply to be an RVU Edge backup") from None
    except json.JSONDecodeError as exc:
        raise RestoreError("file", f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                                   "choose an RVU Edge backup (.json)") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise RestoreError("file", f"not valid JSON ({exc})") from None


def too_big_message() -> str:
    limit = restore_max_bytes()
    return (f"the file is larger than {limit / 1024 / 1024:g} MB, the largest backup a restore reads "
            "(setting RVUEDGE_RESTORE_MAX_BYTES)")


# --------------------------------------------------------------------------- restore: checking every value

#: JSON values kept as they are (an encounter's policy, source and flags, a line's explanation): how deep they
#: may nest and how long they may be once written out.
JSON_MAX_DEPTH = 20
JSON_MAX_CHARS = 100_000

_ENC = Encounter._meta.get_field
_LINE = LineModel._meta.get_field
_CODE = re.compile(r"[0-9A-Z]{5}")
_MODIFIER = re.compile(r"[0-9A-Z]{2}")
_POS = re.compile(r"[0-9]{2}")
_DECIMAL_TEXT = re.compile(r"-?\d{1,40}(?:\.\d{1,40})?")
# The dates of service an entry path accepts (entries.prepare): from 1990 to a year ahead.
_FIRST_DATE = dt.date(1990, 1, 1)
_AHEAD = dt.timedelta(days=366)


def _kind(value: Any) -> str:
    """What a JSON value is, in words (never its whole text: it may be huge or deeply nested)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        text = str(value)
        return f"the number {text if len(text) <= 24 else text[:20] + '...'}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}{'...' if len(value) > 40 else ''}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RestoreError(where, f"expected an object, got {_kind(value)}")
    return value


def _text(value: Any, where: str, field, *, multiline: bool = False, required: bool = False) -> str:
    """Text for a model field: cleaned (clean_text), within the field's max_length."""
    if value is None and not required:
        value = ""
    if not isinstance(value, str):
        raise RestoreError(where, f"expected text, got {_kind(value)}")
    try:
        text = clean_text(value, multiline=multiline)
    except TextError as exc:
        raise RestoreError(where, exc.reason) from None
    if required and not text:
        raise RestoreError(where, "is required")
    if field.max_length is not None and len(text) > field.max_length:
        raise RestoreError(where, f"is limited to {field.max_length} characters, got {len(text)}")
    return text


def _choice(value: Any, where: str, field) -> str:
    keys = [k for k, _ in field.choices]
    if value is None:
        return field.default
    if not isinstance(value, str) or value not in keys:
        raise RestoreError(where, f"expected one of {', '.join(keys)}, got {_kind(value)}")
    return value


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RestoreError(where, f"expected a whole number from {low} to {high}, got {_kind(value)}")
    if not low <= value <= high:
        raise RestoreError(where, f"must be from {low} to {high}, got {value}")
    return value


def _decimal(value: Any, where: str, field) -> Decimal | None:
    """A number for a DecimalField, within its max_digits and decimal_places (read from the field)."""
    if value is None:
        if field.null:
            return None
        raise RestoreError(where, "a number is required")
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise RestoreError(where, f"expected a number, got {_kind(value)}")
    if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
        raise RestoreError(where, f"expected a decimal number such as \"2.50\", got {_kind(value)}")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise RestoreError(where, f"expected a number, got {_kind(value)}") from None
    if not number.is_finite():
        raise RestoreError(where, f"expected a number, got {_kind(value)}")
    try:
        DecimalValidator(field.max_digits, field.decimal_places)(number)
    except ValidationError as exc:
        raise RestoreError(where, f"{_kind(value)} does not fit: {' '.join(exc.messages)}") from None
    return number


def _moment(value: Any, where: str, *, null: bool = False) -> dt.datetime | None:
    if value is None and null:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) and len(value) <= 40 else None
    if parsed is None:
        raise RestoreError(where, f"expected a date-time (2025-03-04T10:00:00+00:00), got {_kind(value)}")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    latest = timezone.now() + _AHEAD
    if not (dt.datetime.combine(_FIRST_DATE, dt.time(), dt.UTC) <= parsed <= latest):
        raise RestoreError(where, f"{value} is out of range ({_FIRST_DATE.year} to a year from now)")
    return parsed


def _json_value(value: Any, where: str, expect: type, default: Any) -> Any:
    """A JSON value kept as it is: of the expected type, nested at most JSON_MAX_DEPTH deep, finite numbers
    only, at most JSON_MAX_CHARS long once written out."""
    if value is None:
        return default
    if not isinstance(value, expect):
        raise RestoreError(where, f"expected {'an object' if expect is dict else 'a list'}, got {_kind(value)}")
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > JSON_MAX_DEPTH:
            raise RestoreError(where, f"nested more than {JSON_MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, float) and not math.isfinite(node):
            raise RestoreError(where, "holds a number JSON does not allow (NaN or infinity)")
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise RestoreError(where, "is not valid Unicode text (a lone surrogate character)") from None
        elif not (node is None or isinstance(node, (bool, int, float))):
            raise RestoreError(where, f"holds {_kind(node)}, which JSON cannot hold")
    if len(json.dumps(value)) > JSON_MAX_CHARS:
        raise RestoreError(where, f"is longer than {JSON_MAX_CHARS:,} characters")
    return value


def _explanation(value: Any, where: str) -> dict[str, Any]:
    """A line's explanation: an object whose steps (wrvu_steps, payment_steps) are lists of {"text": ...}."""
    value = _json_value(value, where, dict, {})
    for key in ("wrvu_steps", "payment_steps"):
        steps = value.get(key)
        if steps is None:
            continue
        if not isinstance(steps, list):
            raise RestoreError(f"{where}.{key}", f"expected a list, got {_kind(steps)}")
        for k, step in enumerate(steps):
            if not isinstance(step, dict) or not isinstance(step.get("text", ""), str):
                raise RestoreError(f"{where}.{key}[{k}]", "expected an object with a \"text\"")
    flags = value.get("flags")
    if flags is not None and not (isinstance(flags, list) and all(isinstance(f, str) for f in flags)):
        raise RestoreError(f"{where}.flags", "expected a list of texts")
    return value


def _modifiers(value: Any, where: str, field) -> str:
    text = _text(value, where, field)
    mods = [m for m in text.split("-") if m] if text else []
    if len(mods) > MAX_MODIFIERS or not all(_MODIFIER.fullmatch(m) for m in mods) or "-".join(mods) != text:
        raise RestoreError(where, f"expected up to {MAX_MODIFIERS} two-character modifiers joined by '-' "
                                  f"(\"RT\", \"80-51\"), got {_kind(value)}")
    return text


_TEXTS = {"site": False, "attending": False, "category": False, "notes": True}  # free text -> multiline


def _line(ln: Any, where: str, j: int, positions: set[int]) -> dict[str, Any]:
    ln = _obj(ln, where)
    code = ln.get("code")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise RestoreError(f"{where}.code", f"a 5-character code (99214, J1100) is required, got {_kind(code)}")
    position = _whole(ln.get("position", j), f"{where}.position", 0, MAX_LINES - 1)
    if position in positions:
        raise RestoreError(f"{where}.position", f"position {position} is used by another line of the encounter")
    positions.add(position)
    minutes = ln.get("minutes")
    return {
        "position": position, "code": code,
        "modifiers": _modifiers(ln.get("modifiers"), f"{where}.modifiers", _LINE("modifiers")),
        "units": _whole(ln.get("units", 1), f"{where}.units", 1, MAX_UNITS),
        "minutes": None if minutes is None else _whole(minutes, f"{where}.minutes", 0, MAX_MINUTES),
        "description": _text(ln.get("description"), f"{where}.description", _LINE("description")),
        "wrvu": _decimal(ln.get("wrvu"), f"{where}.wrvu", _LINE("wrvu")),
        "wrvu_exact": _decimal(ln.get("wrvu_exact"), f"{where}.wrvu_exact", _LINE("wrvu_exact")),
        "payment": _decimal(ln.get("payment"), f"{where}.payment", _LINE("payment")),
        "explanation": _explanation(ln.get("explanation"), f"{where}.explanation"),
    }


def _encounter(item: Any, where: str, uid: uuid.UUID, today: dt.date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    texts = {k: _text(item.get(k), f"{where}.{k}", _ENC(k), multiline=m) for k, m in _TEXTS.items()}
    try:
        check_fields(texts)
    except PhiError as exc:
        raise RestoreError(f"{where}.{exc.field}", exc.message) from None
    raw_date = item.get("date")
    try:
        date = dt.date.fromisoformat(raw_date) if isinstance(raw_date, str) and len(raw_date) == 10 else None
    except ValueError:
        date = None
    if date is None:
        raise RestoreError(f"{where}.date", f"expected a date (YYYY-MM-DD), got {_kind(raw_date)}")
    if not _FIRST_DATE <= date <= today + _AHEAD:
        raise RestoreError(f"{where}.date", f"{date} is out of range ({_FIRST_DATE.year} to a year from today)")
    key = item.get("idempotency_key")
    if key is not None:
        key = _text(key, f"{where}.idempotency_key", _ENC("idempotency_key")) or None
    pos = _text(item.get("pos"), f"{where}.pos", _ENC("pos"))
    if pos and not _POS.fullmatch(pos):
        raise RestoreError(f"{where}.pos", f"a place of service is two digits (11, 22), got {_kind(pos)}")
    enc = {
        "uid": uid, "date": date,
        "entry": _text(item.get("entry"), f"{where}.entry", _ENC("entry")),
        "setting": _choice(item.get("setting"), f"{where}.setting", _ENC("setting")),
        "pos": pos, "role": _choice(item.get("role"), f"{where}.role", _ENC("role")), **texts,
        "total_wrvu": _decimal(item.get("total_wrvu"), f"{where}.total_wrvu", _ENC("total_wrvu")),
        "total_wrvu_exact": _decimal(item.get("total_wrvu_exact"), f"{where}.total_wrvu_exact",
                                     _ENC("total_wrvu_exact")),
        "total_payment": _decimal(item.get("total_payment"), f"{where}.total_payment", _ENC("total_payment")),
        "release": _text(item.get("release"), f"{where}.release", _ENC("release")),
        "policy_name": _text(item.get("policy_name"), f"{where}.policy_name", _ENC("policy_name")),
        "policy": _json_value(item.get("policy"), f"{where}.policy", dict, {}),
        "locality": _text(item.get("locality"), f"{where}.locality", _ENC("locality")) or "national",
        "source": _json_value(item.get("source"), f"{where}.source", dict, {}),
        "flags": _json_value(item.get("flags"), f"{where}.flags", list, []),
        "idempotency_key": key,
        "created_at": _moment(item.get("created_at"), f"{where}.created_at"),
        "updated_at": _moment(item.get("updated_at"), f"{where}.updated_at"),
        "deleted_at": _moment(item.get("deleted_at"), f"{where}.deleted_at", null=True),
    }
    lines = item.get("lines")
    if not isinstance(lines, list) or not lines:
        raise RestoreError(f"{where}.lines", f"expected a non-empty list, got {_kind(lines)}")
    if len(lines) > MAX_LINES:
        raise RestoreError(f"{where}.lines", f"at most {MAX_LINES} lines per encounter, got {len(lines)}")
    positions: set[int] = set()
    return enc, [_line(ln, f"{where}.lines[{j}]", j, positions) for j, ln in enumerate(lines)]


def _favourites(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RestoreError("favourites", f"expected a list, got {_kind(value)}")
    field = Favourite._meta.get_field("code")
    return [_text(v, f"favourites[{i}]", field, required=True) for i, v in enumerate(value)]


def _profile(prof: Any, profile) -> dict[str, Any]:
    """The profile settings of a backup, checked against the Profile model's fields (nothing is saved)."""
    prof = _obj(prof, "profile")
    field = profile._meta.get_field
    out: dict[str, Any] = {}
    for name in ("career_stage", "default_setting", "credit_policy"):
        if prof.get(name) is not None:
            out[name] = _choice(prof[name], f"profile.{name}", field(name))
    for name in ("specialty", "default_locality", "default_release", "minimums_set"):
        if prof.get(name) is not None:
            out[name] = _text(prof[name], f"profile.{name}", field(name))
    if prof.get("surgical_role"):
        role = _text(prof["surgical_role"], "profile.surgical_role", field("surgical_role"))
        if role not in ROLE_LABELS:
            raise RestoreError("profile.surgical_role", f"unknown role {role!r}")
        out["surgical_role"] = role
    if "start_date" in prof:
        start = prof["start_date"]
        try:
            out["start_date"] = None if start is None else dt.date.fromisoformat(str(start))
        except ValueError:
            raise RestoreError("profile.start_date", f"not a date (YYYY-MM-DD): {start!r}") from None
    if "custom_policy" in prof:
        custom = prof["custom_policy"]
        if custom is not None:
            if isinstance(custom, str):  # a named policy
                custom = _text(custom, "profile.custom_policy", field("credit_policy"))
            else:
                custom = _json_value(custom, "profile.custom_policy", dict, None)
            try:
                load_policy(custom)
            except PolicyError as exc:
                raise RestoreError("profile.custom_policy", str(exc)) from None
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                raise RestoreError("profile.custom_policy", f"not a credit policy ({exc})") from None
        out["custom_policy"] = custom
    if prof.get("fte") is not None:
        fte = _decimal(prof["fte"], "profile.fte", field("fte"))
        # The profile form's rule: more than 0, at most 2 (full time = 1.00).
        if not Decimal(0) < fte <= Decimal(2):
            raise RestoreError("profile.fte", f"must be more than 0 and at most 2 (1.00 = full time), got {fte}")
        out["fte"] = fte
    for name in ("annual_goal", "monthly_goal", "prior_ytd_wrvu"):
        if name in prof:
            goal = _decimal(prof[name], f"profile.{name}", field(name))
            if goal is not None and goal < 0:
                raise RestoreError(f"profile.{name}", f"must not be negative, got {goal}")
            out[name] = goal
    return out


def restore(user, profile, data: Any) -> dict[str, int]:
    """Restore a backup into ``user``'s log, all or nothing. Encounters already present (same uid) are skipped.

    Every value is checked before anything is written; the first bad one raises :class:`RestoreError` naming
    its path, and nothing is restored.
    """
    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise RestoreError("file", f"not an RVU Edge log backup (expected \"format\": \"{BACKUP_FORMAT}\")")
    if data.get("version") != BACKUP_VERSION:
        raise RestoreError("version", f"backup version {_kind(data.get('version'))} is not supported")
    entries = data.get("encounters")
    if not isinstance(entries, list):
        raise RestoreError("encounters", f"expected a list, got {_kind(entries)}")
    prof = _profile(data["profile"], profile) if data.get("profile") is not None else {}
    favourites = _favourites(data.get("favourites"))
    existing = set(Encounter.objects.filter(user=user).values_list("uid", flat=True))
    used_keys = set(Encounter.objects.filter(user=user, idempotency_key__isnull=False)
                    .values_list("idempotency_key", flat=True))
    today = timezone.localdate()
    items: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    skipped = 0
    for i, item in enumerate(entries):
        where = f"encounters[{i}]"
        item = _obj(item, where)
        raw_uid = item.get("uid")
        try:
            uid = uuid.UUID(raw_uid) if isinstance(raw_uid, str) and len(raw_uid) <= 40 else None
        except ValueError:
            uid = None
        if uid is None:
            raise RestoreError(f"{where}.uid", f"expected a UUID, got {_kind(raw_uid)}")
        enc, rows = _encounter(item, where, uid, today)  # checked even when skipped: the file is all or nothing
        if uid in existing:
            skipped += 1
            continue
        existing.add(uid)
        key = enc["idempotency_key"]
        if key in used_keys:
            enc["idempotency_key"] = None
        elif key:
            used_keys.add(key)
        items.append((enc, rows))
    with transaction.atomic():
        if prof:
            for name, value in prof.items():
                setattr(profile, name, value)
            profile.updated_at = timezone.now()
            profile.save()
        for code in favourites:
            Favourite.objects.get_or_create(user=user, code=code)
        store_bulk(user, items)
    return {"restored": len(items), "skipped": skipped}
