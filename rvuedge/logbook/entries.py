"""An encounter as typed or sent, checked and credited into unsaved rows: :func:`prepare`.

Nothing here writes. :mod:`rvuedge.logbook.actions` stores what :func:`prepare` returns (one encounter at a
time); :mod:`rvuedge.logbook.imports` and :mod:`rvuedge.logbook.backup` use it for many rows, called from
``actions`` too. Keeping it apart from ``actions`` is what lets the import modules use it without a cycle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import timedelta as td
from typing import Any

from django.utils import timezone

from rvuedge.phi import PhiError, check_fields
from rvuedge.pricing import EncounterLine, PricingError
from rvuedge.text import TextError, clean_text

from .credit import Crediter, EntryError, default_role_for, entry_text, parse_entry_text, resolve_setting
from .models import ROLES, Encounter
from .models import EncounterLine as LineModel

ROLE_KEYS = {k for k, _ in ROLES}
TEXT_LIMITS = {"site": 80, "attending": 80, "category": 80, "notes": 1000}
TEXT_LABELS = {"site": "Site label", "attending": "Attending label", "category": "Case category", "notes": "Notes"}
MAX_LINES = 30


@dataclass
class EncounterInput:
    """What a user typed or sent. ``entry`` is rapid-entry text; ``lines`` the structured alternative."""

    entry: str | None = None
    lines: list[EncounterLine] | None = None
    date: dt.date | None = None
    setting: str | None = None
    pos: str | None = None
    site: str = ""
    role: str | None = None
    attending: str = ""
    category: str = ""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def clean_field(name: str, value: str | None) -> str:
    """A free-text field cleaned for storage (:func:`clean_text`); NUL bytes and invalid Unicode refused."""
    try:
        return clean_text(value, multiline=name == "notes")
    except TextError as exc:
        raise EntryError(name, f"{TEXT_LABELS[name]} {exc.reason}") from None


def _today() -> dt.date:
    return timezone.localdate()


def prepare(user, data: EncounterInput, crediter: Crediter, *, today: dt.date | None = None,
            parse: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate and credit; return (encounter fields, line rows). Raises :class:`EntryError`; stores nothing.

    ``today`` and ``parse`` (a memoised :func:`parse_entry_text`) let bulk imports skip repeated work.
    """
    texts = {}
    for name, limit in TEXT_LIMITS.items():
        value = clean_field(name, getattr(data, name))
        if len(value) > limit:
            raise EntryError(name, f"{TEXT_LABELS[name]} is limited to {limit} characters")
        texts[name] = value
    try:
        check_fields(texts, TEXT_LABELS)
    except PhiError as exc:
        raise EntryError(exc.field, exc.message) from None
    if data.lines:
        lines, typed_date = list(data.lines), None
    else:
        lines, typed_date = (parse or parse_entry_text)(data.entry or "")
    if len(lines) > MAX_LINES:
        raise EntryError("entry", f"At most {MAX_LINES} lines per encounter")
    today = today or _today()
    dos = typed_date or data.date or today
    if not (dt.date(1990, 1, 1) <= dos <= today + td(days=366)):
        raise EntryError("date", f"Date of service {dos} is out of range")
    profile = crediter.profile
    setting, pos = resolve_setting(data.setting, data.pos, profile.default_setting)
    role = (data.role or "").strip() or default_role_for(profile, [ln.code for ln in lines])
    if role not in ROLE_KEYS:
        raise EntryError("role", f"Unknown role {role!r} (use one of: {', '.join(sorted(ROLE_KEYS))})")
    try:
        credit = crediter.credit(lines, dos, setting, role)
    except PricingError as exc:
        token = None
        if exc.line is not None and 0 <= exc.line < len(lines):
            token = entry_text([lines[exc.line]])
        near = f" Did you mean {', '.join(exc.near)}?" if exc.near else ""
        raise EntryError("entry", f"{token + ': ' if token else ''}{exc.reason}.{near}",
                         [{"token": token, "error": exc.reason, "near": list(exc.near)}]) from None
    text = entry_text(lines)
    if len(text) > 500:
        raise EntryError("entry", "The codes of one encounter are limited to 500 characters")
    fields = {
        "date": dos, "entry": text, "setting": setting, "pos": pos, "role": role, **texts,
        **credit.fields,
    }
    return fields, credit.lines


def line_models(enc: Encounter, rows: list[dict[str, Any]]) -> list[LineModel]:
    return [LineModel(encounter=enc, user_id=enc.user_id, date=enc.date, **row) for row in rows]
