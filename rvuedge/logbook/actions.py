"""Every write to the log goes through a do_* function here; views and the API only parse and render."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from datetime import timedelta as td
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from rvuedge.accounts.services import get_profile_for_user
from rvuedge.phi import PhiError, check_fields

from . import backup, imports
from .credit import Crediter, EntryError, known_modifiers, line_text, parse_entry_text
from .entries import (
    MAX_LINES,
    ROLE_KEYS,
    TEXT_LABELS,
    TEXT_LIMITS,
    EncounterInput,
    clean_field,
    line_models,
    prepare,
)
from .imports import ImportFileError, read_table
from .minimums import MinimumsError, parse_minimums_bytes, store_minimums
from .models import TRASH_DAYS, EmployerReport, Encounter, Favourite, ImportBatch
from .models import EncounterLine as LineModel
from .reports import ReportError, parse_report

__all__ = ["MAX_LINES", "EncounterInput", "prepare"]  # re-exported: callers log through this module


class IdempotencyConflict(EntryError):
    """An Idempotency-Key that cannot be replayed: ``status`` 422 (the key came with a different request) or
    409 (the encounter it logged is in the trash)."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__("idempotency_key", message)


def request_hash(data: EncounterInput) -> str:
    """sha256 of what a request asked to log (its fields as sent, before defaults), kept with its key."""
    sent = {name: getattr(data, name) for name in ("entry", "date", "setting", "pos", "site", "role", "attending",
                                                    "category", "notes")}
    sent["lines"] = [dataclasses.asdict(line) for line in data.lines] if data.lines else None
    text = json.dumps(sent, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _idempotency_key(value: str | None) -> str | None:
    key = (value or "").strip() or None
    if key is None:
        return None
    if len(key) > 100:
        raise EntryError("idempotency_key", "Idempotency-Key is limited to 100 characters")
    if not key.isprintable() or not key.isascii():
        raise EntryError("idempotency_key", "Idempotency-Key must be printable ASCII text (e.g. a UUID)")
    return key


def _replay(existing: Encounter, key: str, digest: str) -> Encounter:
    """The encounter a retry with this key and request stands for, or why there is none."""
    if existing.idempotency_hash and existing.idempotency_hash != digest:
        raise IdempotencyConflict(422, f"Idempotency-Key {key!r} was already used for a different request; send a "
                                       f"new key to log another encounter (a retry must repeat the request unchanged)")
    if existing.deleted_at is not None:
        raise IdempotencyConflict(409, f"The encounter logged with Idempotency-Key {key!r} (id {existing.pk}) was "
                                       f"deleted; restore it from the trash (POST /api/log/encounters/{existing.pk}"
                                       f"/restore) instead of sending it again")
    return existing


def do_log_encounter(user, data: EncounterInput, *, idempotency_key: str | None = None,
                     crediter: Crediter | None = None) -> tuple[Encounter, bool]:
    """Credit and store one encounter. Returns (encounter, created).

    With an ``idempotency_key`` a retry (the same key and the same request) returns the encounter the first
    request stored; the same key with a different request, or a retry after that encounter was trashed, raises
    :class:`IdempotencyConflict`. The unique constraint on (user, idempotency_key) decides, so two racing
    requests cannot both insert.
    """
    key = _idempotency_key(idempotency_key)
    digest = request_hash(data) if key else ""
    if key is not None:
        existing = Encounter.objects.filter(user=user, idempotency_key=key).first()
        if existing is not None:
            return _replay(existing, key, digest), False
    crediter = crediter or Crediter(get_profile_for_user(user))
    fields, rows = prepare(user, data, crediter)
    now = timezone.now()
    try:
        with transaction.atomic():
            enc = Encounter.objects.create(user=user, idempotency_key=key, idempotency_hash=digest, created_at=now,
                                           updated_at=now, **fields)
            LineModel.objects.bulk_create(line_models(enc, rows))
    except IntegrityError:
        if key is None:
            raise
        existing = Encounter.objects.filter(user=user, idempotency_key=key).first()
        if existing is None:
            raise
        return _replay(existing, key, digest), False
    return enc, True


CREDIT_INPUTS = ("entry", "date", "setting", "pos")


def do_update_encounter(user, enc: Encounter, data: EncounterInput, *, crediter: Crediter | None = None) -> Encounter:
    """Apply an edit. Lines, date or setting changes re-credit under the current profile; labels alone do not."""
    assert enc.user_id == user.pk
    crediter = crediter or Crediter(get_profile_for_user(user))
    fields, rows = prepare(user, data, crediter)
    recredit = (fields["entry"] != enc.entry or fields["date"] != enc.date or fields["setting"] != enc.setting
                or fields["pos"] != enc.pos)
    with transaction.atomic():
        for name in ("site", "role", "attending", "category", "notes"):
            setattr(enc, name, fields[name])
        if recredit:
            for name, value in fields.items():
                setattr(enc, name, value)
            LineModel.objects.filter(encounter=enc).delete()
            LineModel.objects.bulk_create(line_models(enc, rows))
        enc.updated_at = timezone.now()
        enc.save()
    return enc


def do_trash_encounters(user, ids: list[int]) -> int:
    """Move encounters to the trash (kept TRASH_DAYS days, then purged)."""
    now = timezone.now()
    with transaction.atomic():
        n = Encounter.objects.filter(user=user, pk__in=ids, deleted_at__isnull=True).update(deleted_at=now)
    do_purge_trash(user)
    return n


def do_restore_encounters(user, ids: list[int]) -> int:
    with transaction.atomic():
        return Encounter.objects.filter(user=user, pk__in=ids, deleted_at__isnull=False).update(
            deleted_at=None, updated_at=timezone.now())


def do_purge_trash(user=None, *, now: dt.datetime | None = None) -> int:
    """Delete encounters that have been in the trash longer than TRASH_DAYS (one user, or everyone)."""
    cutoff = (now or timezone.now()) - td(days=TRASH_DAYS)
    qs = Encounter.objects.filter(deleted_at__lt=cutoff)
    if user is not None:
        qs = qs.filter(user=user)
    with transaction.atomic():
        return qs.delete()[1].get("logbook.Encounter", 0)


BULK_FIELDS = {"category": "Case category", "site": "Site label", "attending": "Attending label", "role": "Role"}


def do_bulk_set(user, ids: list[int], name: str, value: str) -> int:
    if name not in BULK_FIELDS:
        raise EntryError("action", f"Cannot set {name!r} in bulk")
    value = clean_field(name, value) if name in TEXT_LABELS else (value or "").strip()
    if name == "role":
        if value not in ROLE_KEYS:
            raise EntryError("role", f"Unknown role {value!r}")
    else:
        if len(value) > TEXT_LIMITS[name]:
            raise EntryError(name, f"{BULK_FIELDS[name]} is limited to {TEXT_LIMITS[name]} characters")
        try:
            check_fields({name: value}, TEXT_LABELS)
        except PhiError as exc:
            raise EntryError(name, exc.message) from None
    with transaction.atomic():
        return Encounter.objects.filter(user=user, pk__in=ids, deleted_at__isnull=True).update(
            **{name: value, "updated_at": timezone.now()})


def do_toggle_favourite(user, token: str) -> bool:
    """Star or unstar a code token (99214, 20610-RT). Returns True when it is now a favourite."""
    lines, _ = parse_entry_text(token)
    if len(lines) != 1:
        raise EntryError("code", "Star one code at a time")
    text = line_text(lines[0].code, lines[0].modifiers)
    with transaction.atomic():
        deleted, _ = Favourite.objects.filter(user=user, code=text).delete()
        if deleted:
            return False
        check = known_modifiers()
        for m in lines[0].modifiers:
            problem = check.problem(m)
            if problem:
                raise EntryError("code", f"{text}: {problem}")
        Favourite.objects.get_or_create(user=user, code=text)
    return True


# --------------------------------------------------------------------------- imports and restores

def do_start_import(user, filename: str, table: imports.Upload) -> ImportBatch:
    """Keep an uploaded file (already read and checked by :func:`imports.read_upload`) for preview and confirm."""
    return ImportBatch.objects.create(user=user, filename=filename[:200], kind="csv", data=table.data,
                                      headers=table.headers, mapping=imports.guess_mapping(table.headers))


def do_save_preview(user, batch: ImportBatch, mapping: dict[str, str], status: str, report: dict[str, Any]) -> None:
    """Keep a preview's mapping and check report, only while the batch is not done: a preview finishing after a
    confirm must not revive it."""
    ImportBatch.objects.filter(pk=batch.pk, user=user).exclude(status="done").update(
        status=status, report=report, mapping=mapping)


def claim_batch(batch_id: int, user) -> bool:
    """Mark an import as done if it was not; True for the one request that did (the caller's transaction makes
    the mark and the rows it writes one: a failure undoes both). A second confirm of the same batch, even one
    sent at the same moment, gets False: on PostgreSQL its UPDATE waits for the first transaction and then
    finds the batch done; on SQLite transactions take the write lock when they begin (settings: IMMEDIATE)."""
    return bool(ImportBatch.objects.filter(pk=batch_id, user=user).exclude(status="done").update(status="done"))


def do_confirm_import(user, profile, batch: ImportBatch, mapping: dict[str, str]) -> imports.ImportReport | None:
    """Import a previewed batch: its rows and the batch's done mark in one transaction; None when another request
    already imported it (nothing is written twice). The file itself is dropped once imported."""
    with transaction.atomic():
        if not claim_batch(batch.pk, user):
            return None
        report = imports.commit_import(user, profile, batch.kind, bytes(batch.data), mapping)
        ImportBatch.objects.filter(pk=batch.pk).update(report=report.to_dict(), data=b"", mapping=mapping)
    return report


def do_purge_uploads(user=None, *, older_than: dt.timedelta = dt.timedelta(hours=imports.UPLOAD_KEEP_HOURS),
                     now: dt.datetime | None = None) -> int:
    """Delete import batches (the uploaded file and its report) older than ``older_than``; return how many.

    Run by ``rvuedge logbook purge`` (cron) and, for one user, whenever they open the import page. Employer
    reports keep no file: only the rows reconciling needs (see EmployerReport), kept until the user deletes them.
    """
    qs = ImportBatch.objects.filter(created_at__lt=(now or timezone.now()) - older_than)
    if user is not None:
        qs = qs.filter(user=user)
    return qs.delete()[1].get("logbook.ImportBatch", 0)


def do_restore_backup(user, profile, data: dict[str, Any]) -> dict[str, int]:
    """Restore a parsed JSON backup (:func:`backup.parse_backup`): all of it or nothing (see :func:`backup.restore`)."""
    return backup.restore(user, profile, data)


# --------------------------------------------------------------------------- employer reports

def do_upload_report(user, filename: str, data: bytes, label: str = "") -> tuple[EmployerReport, bool]:
    """Keep an employer's RVU report (CSV or XLSX) for reconciling; (report, created).

    Every row is checked first (:class:`~rvuedge.logbook.reports.ReportError` names file, line and column;
    nothing is stored then). The same file uploaded twice is stored once.
    """
    digest = hashlib.sha256(data).hexdigest()
    existing = EmployerReport.objects.filter(user=user, sha256=digest).first()
    if existing is not None:
        return existing, False
    kind = "xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else "csv"
    try:
        headers, rows = read_table(kind, data)
    except ImportFileError as exc:
        raise ReportError(f"{filename}: {exc}") from None
    table = parse_report(headers, rows, filename)
    label = " ".join(label.split())[:120]
    check_fields({"label": label}, {"label": "The label"})  # raises PhiError
    try:
        with transaction.atomic():
            report = EmployerReport.objects.create(
                user=user, label=label, filename=filename[:200], sha256=digest, columns=table.columns,
                lines=[ln.to_list() for ln in table.lines], line_count=len(table.lines), skipped=table.skipped,
                start=table.start, end=table.end, has_wrvu=table.has_wrvu)
    except IntegrityError:  # the same file, uploaded meanwhile by another request
        return EmployerReport.objects.get(user=user, sha256=digest), False
    return report, True


def do_delete_report(user, pk: int) -> bool:
    deleted, _ = EmployerReport.objects.filter(user=user, pk=pk).delete()
    return bool(deleted)


def do_load_minimums(user, data: bytes, filename: str) -> str:
    """A resident loads their programme's minimums set from an uploaded CSV (theirs alone: nobody else sees
    it) and picks it on the profile. Raises :class:`~rvuedge.logbook.minimums.MinimumsError`; stores nothing
    then. Returns the set's name."""

    rows = parse_minimums_bytes(data, filename)
    names = sorted({r["specialty"] for r in rows})
    if len(names) != 1:
        raise MinimumsError(f"{filename}: one minimums set per file, found {len(names)} ({', '.join(names)})")
    with transaction.atomic():
        store_minimums(rows, filename, owner=user)
        profile = get_profile_for_user(user)
        profile.minimums_set = names[0]
        profile.updated_at = timezone.now()
        profile.save(update_fields=["minimums_set", "updated_at"])
    return names[0]
