"""JSON API for the log, mounted at /api/log (OpenAPI at /api/openapi.json).

Authentication: a personal token (``Authorization: Bearer rvu_…``, created on the profile page) or the
session cookie (with the CSRF token on unsafe methods). Anonymous requests get 401; another user's
encounter is a 404. ``POST /encounters`` honours an ``Idempotency-Key`` header: a retry with the same key
and the same body returns the first encounter (200, ``Idempotent-Replayed: true``) instead of logging it
twice; the same key with a different body is a 422, and a retry after that encounter was trashed a 409
(restore it from the trash instead).

The offline entry page's sync queue sends ``X-RVU-User`` (the id of the user who queued the encounter on the
device): when it is not the signed-in user, ``POST /encounters`` is a 409 and nothing is logged, so a queue
left on a shared phone is never logged under the next user's session.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from rvuedge.accounts.auth import api_auth
from rvuedge.accounts.services import get_profile_for_user
from rvuedge.errors import ErrorOut, error_body
from rvuedge.params import BodyIn, Date, Id, Offset, ParamError, Text, check_json, limit_type
from rvuedge.pricing import EncounterLine, PricingError
from rvuedge.pricing.model import MAX_MINUTES, MAX_UNITS

from . import actions, backup, exports, hooks, queries
from .credit import Crediter, EntryError, check_entry, resolve_setting

router = Router(tags=["logbook"], auth=api_auth)


class LineIn(BodyIn):
    code: Text
    modifiers: list[Text] = []
    # The bounds of rvuedge.pricing.EncounterLine, declared so that the OpenAPI document shows them.
    units: Annotated[int, Field(ge=1, le=MAX_UNITS)] = 1
    minutes: Annotated[int, Field(ge=0, le=MAX_MINUTES)] | None = None


class EncounterIn(BodyIn):
    entry: Text | None = None
    lines: list[LineIn] | None = None
    date: Date | None = None
    setting: Text | None = None
    pos: Text | None = None
    site: Text = ""
    role: Text | None = None
    attending: Text = ""
    category: Text = ""
    notes: Text = ""


class EncounterPatch(BodyIn):
    entry: Text | None = None
    lines: list[LineIn] | None = None
    date: Date | None = None
    setting: Text | None = None
    pos: Text | None = None
    site: Text | None = None
    role: Text | None = None
    attending: Text | None = None
    category: Text | None = None
    notes: Text | None = None


class LineOut(Schema):
    position: int
    code: str
    modifiers: str
    units: int
    minutes: int | None
    description: str
    wrvu: str
    wrvu_exact: str
    payment: str | None
    explanation: dict[str, Any]


class EncounterOut(Schema):
    id: int
    uid: str
    date: str
    entry: str
    setting: str
    pos: str
    site: str
    role: str
    role_label: str
    attending: str
    category: str
    notes: str
    total_wrvu: str
    total_wrvu_exact: str
    total_payment: str | None
    release: str
    policy_name: str
    policy: dict[str, Any]
    locality: str
    source: dict[str, Any]
    flags: list[Any]
    idempotency_key: str | None
    created_at: str
    updated_at: str
    deleted_at: str | None
    lines: list[LineOut]


class EncounterList(Schema):
    count: int
    limit: int
    offset: int
    items: list[EncounterOut]


class Filters(Schema):
    start: Date | None = None
    end: Date | None = None
    code: str = ""
    site: str = ""
    role: str = ""
    category: str = ""
    deleted: bool = False


class CheckIn(BodyIn):
    entry: Text
    date: Date | None = None
    setting: Text | None = None
    pos: Text | None = None


def _lines(items: list[LineIn] | None) -> list[EncounterLine] | None:
    if not items:
        return None
    try:
        return [EncounterLine(code=i.code, modifiers=tuple(i.modifiers), units=i.units, minutes=i.minutes)
                for i in items]
    except PricingError as exc:
        raise EntryError("lines", exc.reason) from None


def _error(exc: EntryError) -> Status:
    return Status(getattr(exc, "status", 422), error_body(exc.message, exc.field, exc.problems))


def _out(enc) -> dict[str, Any]:
    return exports.encounter_to_dict(enc, with_id=True)


@router.get("/encounters", response=EncounterList, summary="List encounters (newest first)")
def list_encounters(request, filters: Query[Filters], limit: limit_type(500) = 100, offset: Offset = 0):
    qs = queries.filter_encounters(request.user, **filters.dict()).order_by("-date", "-id")
    items = list(qs.prefetch_related("lines")[offset:offset + limit])
    return {"count": qs.count(), "limit": limit, "offset": offset, "items": [_out(e) for e in items]}


@router.post("/encounters", response={200: EncounterOut, 201: EncounterOut, 409: ErrorOut, 422: ErrorOut},
             summary="Log an encounter (rapid-entry text or structured lines)")
def create_encounter(request, payload: EncounterIn, response: HttpResponse):
    queued_by = request.headers.get("X-RVU-User")
    if queued_by is not None and queued_by.strip() != str(request.user.pk):
        return Status(409, error_body(
            "This encounter was queued on this device by another user (X-RVU-User); it is not logged under "
            "this session. Sign in as the user who queued it to send it.", "X-RVU-User"))
    key = request.headers.get("Idempotency-Key")
    try:
        data = actions.EncounterInput(
            entry=payload.entry, lines=_lines(payload.lines), date=payload.date, setting=payload.setting,
            pos=payload.pos, site=payload.site, role=payload.role, attending=payload.attending,
            category=payload.category, notes=payload.notes)
        if not data.lines and not (data.entry or "").strip():
            raise EntryError("entry", "Send `entry` (e.g. \"99214 20610-RT\") or `lines`.")
        enc, created = actions.do_log_encounter(request.user, data, idempotency_key=key)
    except EntryError as exc:
        return _error(exc)
    if not created:
        response["Idempotent-Replayed"] = "true"
    return Status(201 if created else 200, _out(enc))


@router.get("/encounters/{encounter_id}", response=EncounterOut, summary="One encounter with its credit")
def get_encounter(request, encounter_id: Id):
    return _out(queries.get_encounter_for_user(request.user, encounter_id, deleted=None))


@router.patch("/encounters/{encounter_id}", response={200: EncounterOut, 422: ErrorOut},
              summary="Edit an encounter (changed lines, date or setting are re-credited)")
def update_encounter(request, encounter_id: Id, payload: EncounterPatch):
    enc = queries.get_encounter_for_user(request.user, encounter_id)
    sent = payload.dict(exclude_unset=True)
    try:
        lines = _lines(payload.lines) if "lines" in sent else None
        data = actions.EncounterInput(
            entry=sent.get("entry", enc.entry) if lines is None else None, lines=lines,
            date=sent.get("date", enc.date),
            setting=sent.get("setting", enc.setting), pos=sent.get("pos", enc.pos if "setting" not in sent else ""),
            site=sent.get("site", enc.site), role=sent.get("role", enc.role),
            attending=sent.get("attending", enc.attending), category=sent.get("category", enc.category),
            notes=sent.get("notes", enc.notes))
        actions.do_update_encounter(request.user, enc, data)
    except EntryError as exc:
        return _error(exc)
    return Status(200, _out(queries.get_encounter_for_user(request.user, encounter_id)))


@router.delete("/encounters/{encounter_id}", summary="Move an encounter to the trash (restorable for 30 days)")
def delete_encounter(request, encounter_id: Id):
    enc = queries.get_encounter_for_user(request.user, encounter_id)
    actions.do_trash_encounters(request.user, [enc.pk])
    return {"deleted": enc.pk, "restore": f"/api/log/encounters/{enc.pk}/restore"}


@router.post("/encounters/{encounter_id}/restore", response=EncounterOut, summary="Take an encounter out of the trash")
def restore_encounter(request, encounter_id: Id):
    enc = queries.get_encounter_for_user(request.user, encounter_id, deleted=True)
    actions.do_restore_encounters(request.user, [enc.pk])
    return _out(queries.get_encounter_for_user(request.user, encounter_id))


@router.post("/check", summary="Validate rapid-entry text as typed: each token's credit or why it has none, "
                               "and the billing rules' warnings (findings: rule, message, fix, source)")
def check(request, payload: CheckIn):
    profile = get_profile_for_user(request.user)
    try:
        setting, _pos = resolve_setting(payload.setting, payload.pos, profile.default_setting)
        result = check_entry(Crediter(profile), payload.entry, payload.date or timezone.localdate(), setting)
    except EntryError as exc:
        raise ParamError(exc.field, exc.message, status=422) from None
    return json.loads(json.dumps(result, default=exports._s))


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, default=exports._s))


@router.get("/summary", summary="wRVUs by day, week, month, quarter or year; goals, pace, top codes, mix")
def summary(request, period: str = "month", start: Date | None = None, end: Date | None = None):
    if period not in queries.PERIODS:
        raise ParamError("period", f"period must be one of {', '.join(queries.PERIODS)}", status=422)
    profile = get_profile_for_user(request.user)
    return _jsonable(queries.dashboard(request.user, profile, period=period, start=start, end=end))


@router.get("/preview", summary="What if: re-credit a date range under another RVU release or credit policy")
def preview(request, start: Date, end: Date, release: str | None = None, policy: str | None = None):
    profile = get_profile_for_user(request.user)
    spec: Any = None
    if policy:
        spec = _policy_param(policy)
    try:
        return _jsonable(queries.what_if(request.user, profile, start, end, release=release, policy=spec))
    except EntryError as exc:
        raise ParamError(exc.field, exc.message, status=422) from None


def _policy_param(text: str) -> Any:
    """``policy`` of /preview: a policy name, or a JSON object (a credit policy) checked like any body."""
    if not text.strip().startswith("{"):
        return text
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise ParamError("policy", f"policy is not a valid JSON object: {exc}", status=422) from None
    try:
        return check_json(spec)
    except ValueError as exc:
        raise ParamError("policy", f"policy: {exc}", status=422) from None


@router.get("/cases", summary="Resident case counts by category and role, against loaded minimums")
def cases(request):
    return _jsonable(queries.case_counts(request.user, get_profile_for_user(request.user)))


@router.get("/export", summary="Export: csv (one row per encounter), lines, xlsx, json (full backup) or portal")
def export(request, filters: Query[Filters], format: str = "json"):  # noqa: A002 - the public parameter name

    qs = queries.filter_encounters(request.user, **filters.dict())
    if format in ("csv", "lines", "portal"):
        # Streamed a page of encounters at a time (bounded memory, any size of log), as the export page does.
        resp = StreamingHttpResponse(exports.guarded(exports.csv_stream(qs, kind=format), format),
                                     content_type="text/csv; charset=utf-8")
        resp["Content-Disposition"] = f'attachment; filename="rvuedge-{format}.csv"'
        return resp
    if format == "xlsx":
        return FileResponse(exports.export_xlsx_file(qs), as_attachment=True, filename="rvuedge-encounters.xlsx",
                            content_type=exports.XLSX_TYPE)
    if format == "json":
        return StreamingHttpResponse(
            exports.guarded(backup.backup_stream(request.user, get_profile_for_user(request.user)), "JSON backup"),
            content_type="application/json")
    raise ParamError("format", "format must be csv, lines, xlsx, json or portal", status=422)


def _report_meta(report) -> dict[str, Any]:
    return {"id": report.pk, "label": report.label, "filename": report.filename, "start": report.start.isoformat(),
            "end": report.end.isoformat(), "rows": report.line_count, "skipped": report.skipped,
            "columns": report.columns, "has_wrvu": report.has_wrvu, "uploaded_at": report.uploaded_at.isoformat()}


@router.get("/reconciliations", summary="Your uploaded employer RVU reports (newest first)")
def list_reports(request):
    return {"items": [_report_meta(r) for r in request.user.employer_reports.all()[:500]]}


@router.get("/reconciliations/{report_id}",
            summary="The log against one employer report: every service matched, missing or different")
def reconciliation(request, report_id: Id):
    report = queries.get_report_for_user(request.user, report_id)
    rec = queries.reconciliation(request.user, report)
    return {"report": _report_meta(report), **rec.to_dict(),
            "log_sources": queries.log_sources(request.user, report.start, report.end),
            "contract_value": _contract_value(request.user, rec)}


def _contract_value(user, rec) -> dict[str, Any] | None:
    """The page's "At your contract" card (from the benchmarks app, when it is installed: :mod:`.hooks`)."""
    v = hooks.value_of_missed(user, rec.missed_by_date())
    if v is None:
        return None
    return {"contract": v["contract"].name, "contract_id": v["contract"].pk, "amount": str(v["amount"]),
            "wrvu": str(v["wrvu"]), "outside_contract_year_wrvu": str(v["outside"]), "projected": v["projected"],
            "year_start": v["year_start"].isoformat(), "year_end": v["year_end"].isoformat(), "notes": v["notes"]}
