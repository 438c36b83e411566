"""The JSON backup of a user's log and its restore. The backup is full fidelity: restoring it into another
account and backing up again gives equal data."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from rvuedge.pricing import PolicyError, load_policy

from .exports import encounter_to_dict, iter_with_lines
from .imports import store_bulk
from .models import ROLES, Encounter, Favourite
from .phi import PhiError, check_fields

BACKUP_FORMAT = "rvuedge-log-backup"
BACKUP_VERSION = 1


# --------------------------------------------------------------------------- JSON backup / restore

def backup(user, profile) -> dict[str, Any]:
    """Everything in the user's log, trash included, plus the profile settings and favourites."""
    # Live encounters and the trash are read separately so that each pass walks its own index.
    live = Encounter.objects.filter(user=user, deleted_at__isnull=True)
    trash = Encounter.objects.filter(user=user, deleted_at__isnull=False)
    encounters = [encounter_to_dict(enc, lns) for qs in (live, trash) for enc, lns in iter_with_lines(qs)]
    encounters.sort(key=lambda e: (e["date"], e["created_at"], e["uid"]))
    return {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "exported_at": timezone.now().isoformat(),
        "profile": profile.to_dict(),
        "favourites": list(Favourite.objects.filter(user=user).order_by("code").values_list("code", flat=True)),
        "encounters": encounters,
    }


class RestoreError(ValueError):
    def __init__(self, where: str, message: str):
        self.where = where
        super().__init__(f"{where}: {message}")


def _dec(value: Any, where: str, *, null: bool = False) -> Decimal | None:
    if value is None and null:
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RestoreError(where, f"{value!r} is not a number") from None
    if not result.is_finite():
        raise RestoreError(where, f"{value!r} is not a number")
    return result


def _dt(value: Any, where: str, *, null: bool = False) -> dt.datetime | None:
    if value is None and null:
        return None
    parsed = parse_datetime(str(value)) if value is not None else None
    if parsed is None:
        raise RestoreError(where, f"{value!r} is not a date-time")
    return parsed


ROLE_KEYS = {k for k, _ in ROLES}


def restore(user, profile, data: Any) -> dict[str, int]:
    """Restore a backup into ``user``'s log, all or nothing. Encounters already present (same uid) are skipped."""
    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise RestoreError("file", f"not an RVU Edge log backup (expected \"format\": \"{BACKUP_FORMAT}\")")
    if data.get("version") != BACKUP_VERSION:
        raise RestoreError("version", f"backup version {data.get('version')!r} is not supported")
    entries = data.get("encounters")
    if not isinstance(entries, list):
        raise RestoreError("encounters", "expected a list")
    existing = set(Encounter.objects.filter(user=user).values_list("uid", flat=True))
    used_keys = set(Encounter.objects.filter(user=user, idempotency_key__isnull=False)
                    .values_list("idempotency_key", flat=True))
    items: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    skipped = 0
    for i, item in enumerate(entries):
        where = f"encounters[{i}]"
        if not isinstance(item, dict):
            raise RestoreError(where, "expected an object")
        try:
            uid = uuid.UUID(str(item.get("uid")))
        except ValueError:
            raise RestoreError(f"{where}.uid", "missing or not a UUID") from None
        if uid in existing:
            skipped += 1
            continue
        existing.add(uid)
        texts = {k: str(item.get(k) or "") for k in ("site", "attending", "category", "notes")}
        try:
            check_fields(texts)
        except PhiError as exc:
            raise RestoreError(f"{where}.{exc.field}", exc.message) from None
        role = item.get("role") or "performed"
        if role not in ROLE_KEYS:
            raise RestoreError(f"{where}.role", f"unknown role {role!r}")
        try:
            date = dt.date.fromisoformat(str(item.get("date")))
        except ValueError:
            raise RestoreError(f"{where}.date", f"{item.get('date')!r} is not a date (YYYY-MM-DD)") from None
        key = item.get("idempotency_key")
        if key in used_keys:
            key = None
        elif key:
            used_keys.add(key)
        enc = {
            "uid": uid, "date": date, "entry": str(item.get("entry") or "")[:500],
            "setting": item.get("setting") if item.get("setting") in ("facility", "non_facility") else "non_facility",
            "pos": str(item.get("pos") or "")[:2], "role": role,
            **{k: v[:1000 if k == "notes" else 80] for k, v in texts.items()},
            "total_wrvu": _dec(item.get("total_wrvu"), f"{where}.total_wrvu"),
            "total_wrvu_exact": _dec(item.get("total_wrvu_exact"), f"{where}.total_wrvu_exact"),
            "total_payment": _dec(item.get("total_payment"), f"{where}.total_payment", null=True),
            "release": str(item.get("release") or "")[:16], "policy_name": str(item.get("policy_name") or "")[:60],
            "policy": item.get("policy") or {}, "locality": str(item.get("locality") or "national")[:16],
            "source": item.get("source") or {}, "flags": item.get("flags") or [], "idempotency_key": key,
            "created_at": _dt(item.get("created_at"), f"{where}.created_at"),
            "updated_at": _dt(item.get("updated_at"), f"{where}.updated_at"),
            "deleted_at": _dt(item.get("deleted_at"), f"{where}.deleted_at", null=True),
        }
        lines = item.get("lines")
        if not isinstance(lines, list) or not lines:
            raise RestoreError(f"{where}.lines", "expected a non-empty list")
        rows = []
        for j, ln in enumerate(lines):
            lw = f"{where}.lines[{j}]"
            if not isinstance(ln, dict) or not re.fullmatch(r"[0-9A-Z]{5}", str(ln.get("code", ""))):
                raise RestoreError(f"{lw}.code", "a 5-character code is required")
            try:
                units = int(ln.get("units") or 1)
                minutes = None if ln.get("minutes") is None else int(ln["minutes"])
                position = int(ln.get("position", j))
            except (TypeError, ValueError):
                raise RestoreError(lw, "position, units and minutes are whole numbers") from None
            rows.append({
                "position": position, "code": ln["code"], "modifiers": str(ln.get("modifiers") or "")[:14],
                "units": units, "minutes": minutes, "description": str(ln.get("description") or "")[:100],
                "wrvu": _dec(ln.get("wrvu"), f"{lw}.wrvu"), "wrvu_exact": _dec(ln.get("wrvu_exact"), f"{lw}.wrvu_exact"),
                "payment": _dec(ln.get("payment"), f"{lw}.payment", null=True),
                "explanation": ln.get("explanation") or {},
            })
        items.append((enc, rows))
    prof = data.get("profile") or {}
    with transaction.atomic():
        if prof:
            _restore_profile(profile, prof)
        for code in data.get("favourites") or []:
            Favourite.objects.get_or_create(user=user, code=str(code)[:20])
        store_bulk(user, items)
    return {"restored": len(items), "skipped": skipped}


def _restore_profile(profile, prof: dict[str, Any]) -> None:
    for name in ("career_stage", "specialty", "default_locality", "default_setting", "default_release", "credit_policy"):
        if isinstance(prof.get(name), str):
            setattr(profile, name, prof[name][:80])
    if prof.get("custom_policy") is not None:
        try:
            load_policy(prof["custom_policy"])
        except PolicyError as exc:
            raise RestoreError("profile.custom_policy", str(exc)) from None
    profile.custom_policy = prof.get("custom_policy")
    if prof.get("fte") is not None:
        profile.fte = _dec(prof["fte"], "profile.fte")
    for name in ("annual_goal", "monthly_goal"):
        setattr(profile, name, _dec(prof.get(name), f"profile.{name}", null=True))
    profile.updated_at = timezone.now()
    profile.save()


