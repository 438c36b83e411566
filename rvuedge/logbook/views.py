"""Log pages. Each view parses, authorises (get_*_for_user), calls one domain function and renders.

The JSON twins of these pages live in :mod:`rvuedge.logbook.api` and call the same functions.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.paginator import Paginator
from django.db import IntegrityError, OperationalError
from django.db.models import Count, Sum
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from rvuedge.accounts.services import get_profile_for_user
from rvuedge.errors import json_error
from rvuedge.fees.models import Release
from rvuedge.params import MAX_ID, ParamError, parse_date, parse_int, query_int
from rvuedge.phi import PhiError
from rvuedge.pricing.money import round_wrvu

from . import actions, backup, exports, imports, offline, queries, tables
from .credit import Crediter, EntryError, check_entry, resolve_setting
from .forms import (
    EncounterForm,
    FilterForm,
    RangeForm,
    ReportUploadForm,
    RestoreForm,
    UploadForm,
    role_choices,
)
from .minimums import MinimumsError
from .models import ROLE_LABELS, ROLES, Favourite
from .reconcile import PROBLEMS, STATUSES
from .reports import COLUMN_LABELS, ReportError


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _ids(request) -> list[int]:
    """Encounter ids posted as ``ids`` (repeated or comma-separated); a malformed one is a 400 naming it."""
    out = []
    for value in request.POST.getlist("ids"):
        for part in str(value).split(","):
            if part.strip():
                out.append(parse_int(part, "ids", default=0, lo=1, hi=MAX_ID))
    return out


def _input(cleaned: dict) -> actions.EncounterInput:
    return actions.EncounterInput(
        entry=cleaned.get("entry"), date=cleaned.get("date"), setting=cleaned.get("setting") or None,
        pos=cleaned.get("pos"), site=cleaned.get("site") or "", role=cleaned.get("role") or None,
        attending=cleaned.get("attending") or "", category=cleaned.get("category") or "",
        notes=cleaned.get("notes") or "")


def _add_entry_error(form, exc: EntryError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _profile_source(profile) -> dict:
    return {"policy": dict(profile._meta.get_field("credit_policy").choices).get(profile.credit_policy, ""),
            "policy_key": profile.credit_policy, "release": profile.default_release or "in force on the date",
            "locality": profile.default_locality or "national", "setting": profile.default_setting}


# --------------------------------------------------------------------------- rapid entry

@login_required
def entry(request):
    profile = get_profile_for_user(request.user)
    if request.method == "POST":
        form = EncounterForm(request.POST, stage=profile.career_stage)
        if form.is_valid():
            try:
                enc, _created = actions.do_log_encounter(request.user, _input(form.cleaned_data),
                                                         idempotency_key=form.cleaned_data.get("idem"))
            except actions.IdempotencyConflict as exc:
                # This page was already submitted (the back button) with other content, or what it logged is in
                # the trash: offer the same form again under a fresh key, so a second press logs it anew.
                data = request.POST.copy()
                data["idem"] = "form:" + uuid.uuid4().hex
                form = EncounterForm(data, stage=profile.career_stage)
                form.is_valid()
                form.add_error(None, "This page had already logged an encounter"
                               + (" (since moved to the trash)" if exc.status == 409 else "")
                               + ". Press Log again to log this one as a new encounter.")
            except EntryError as exc:
                _add_entry_error(form, exc)
            else:
                return redirect(f"{reverse('logbook:entry')}?logged={enc.pk}")
        status = 422
    else:
        initial = {}
        if request.GET.get("entry"):
            initial["entry"] = request.GET["entry"].strip()[:100] + " "
        form = EncounterForm(initial=initial, stage=profile.career_stage)
        status = 200
    logged = None
    logged_id = query_int(request, "logged", default=0, lo=0, hi=MAX_ID)
    if logged_id:
        logged = queries.live_encounters(request.user).filter(pk=logged_id).prefetch_related("lines").first()
    today = timezone.localdate()
    return render(request, "logbook/entry.html", {
        "form": form, "profile": profile, "source": _profile_source(profile),
        "quick": queries.quick_codes(request.user), "recent": queries.recent_encounters(request.user),
        "today_total": queries.credited_wrvus(request.user, today, today), "today": today,
        "logged": logged, "suggest": queries.label_suggestions(request.user),
        "show_resident_fields": profile.career_stage in ("resident", "student"),
        "active": "entry",
    }, status=status)


@login_required
@require_GET
def check(request):
    """htmx partial: each token's credit and explanation, or why it cannot be credited."""
    profile = get_profile_for_user(request.user)
    text = request.GET.get("entry", "")
    try:
        day = dt.date.fromisoformat(request.GET.get("date") or "")
    except ValueError:
        day = timezone.localdate()
    ctx = {"result": None, "error": None, "favourites": set()}
    if text.strip():
        try:
            setting, _pos = resolve_setting(request.GET.get("setting"), request.GET.get("pos"), profile.default_setting)
            role = request.GET.get("role") or None
            ctx["result"] = check_entry(Crediter(profile), text, day, setting,
                                        role if role in ROLE_LABELS else None)
        except EntryError as exc:
            ctx["error"] = exc.message

        ctx["favourites"] = set(Favourite.objects.filter(user=request.user).values_list("code", flat=True))
    return render(request, "logbook/_check.html", ctx)


@login_required
@require_GET
def offline_table(request):
    """The compact code table of the user's release for the offline entry page (gzip when accepted)."""
    try:
        table = offline.offline_table(get_profile_for_user(request.user))
    except EntryError as exc:
        return json_error(exc.message, 503, exc.field)
    if request.headers.get("If-None-Match") == table.etag:
        resp = HttpResponse(status=304)
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        resp = HttpResponse(table.gz, content_type="application/json")
        resp["Content-Encoding"] = "gzip"
    else:
        resp = HttpResponse(table.raw, content_type="application/json")
    resp["ETag"] = table.etag
    resp["Vary"] = "Accept-Encoding, Cookie"
    resp["X-RVU-Release"] = table.release
    return resp


@login_required
@require_POST
def favourite(request):
    code = request.POST.get("code", "").strip().upper()
    try:
        on = actions.do_toggle_favourite(request.user, code)
    except EntryError as exc:
        if request.headers.get("HX-Request"):
            return HttpResponseBadRequest(exc.message)
        messages.error(request, exc.message)
    else:
        if request.headers.get("HX-Request"):
            return render(request, "logbook/_star.html", {"code": code, "on": on})
        messages.success(request, f"{request.POST.get('code', '').upper()} {'starred' if on else 'unstarred'}.")
    return redirect(_next(request, reverse("logbook:entry")))


# --------------------------------------------------------------------------- history

@login_required
def history(request):
    profile = get_profile_for_user(request.user)
    fform = FilterForm(request.GET or None)
    filters = fform.filters() if request.GET else {}
    qs = queries.filter_encounters(request.user, **filters).order_by("-date", "-id")
    if filters:
        totals = qs.aggregate(w=Sum("total_wrvu"), n=Count("id"))
    else:
        totals = dict(zip(("w", "n"), queries.live_totals(request.user), strict=True))
    paginator = Paginator(qs, 50)
    paginator.__dict__["count"] = totals["n"]  # the totals query has counted already
    page = paginator.get_page(request.GET.get("page"))
    encs = list(page.object_list)
    query = {k: v for k, v in request.GET.items() if k not in ("page", "deleted")}
    deleted = _deleted_banner(request)
    return render(request, "logbook/history.html", {
        "fform": fform, "page": page, "encounters": encs, "query": urlencode(query),
        "total_wrvu": round_wrvu(totals["w"] or Decimal(0)), "total_n": totals["n"],
        "roles": role_choices(profile.career_stage), "all_roles": ROLES, "deleted": deleted, "active": "history",
        "export_query": urlencode({k: v for k, v in filters.items() if v}),
    })


def _deleted_banner(request) -> list[int]:
    raw = request.GET.get("deleted", "")
    parts = [p.strip() for p in raw.split(",")]
    ids = [int(p) for p in parts if p.isascii() and p.isdigit() and len(p) <= 18][:500]  # others ignored
    if not ids:
        return []
    return list(queries.filter_encounters(request.user, deleted=True).filter(pk__in=ids).values_list("pk", flat=True))


@login_required
@require_POST
def bulk(request):
    ids = _ids(request)
    action = request.POST.get("action", "")
    back = _next(request, reverse("logbook:history"))
    if not ids:
        messages.error(request, "Select at least one encounter.")
        return redirect(back)
    if action == "delete":
        n = actions.do_trash_encounters(request.user, ids)
        sep = "&" if "?" in back else "?"
        messages.success(request, f"{n} encounter{'s' if n != 1 else ''} moved to the trash.")
        return redirect(f"{back}{sep}deleted={','.join(map(str, ids))}")
    if action == "set":
        try:
            n = actions.do_bulk_set(request.user, ids, request.POST.get("field", ""), request.POST.get("value", ""))
        except EntryError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Updated {n} encounter{'s' if n != 1 else ''}.")
        return redirect(back)
    return HttpResponseBadRequest("unknown action")


# --------------------------------------------------------------------------- one encounter

@login_required
def detail(request, pk: int):
    enc = queries.get_encounter_for_user(request.user, pk, deleted=None)
    return render(request, "logbook/detail.html", {"enc": enc, "lines": list(enc.lines.all()), "active": "history"})


@login_required
def edit(request, pk: int):
    enc = queries.get_encounter_for_user(request.user, pk)
    profile = get_profile_for_user(request.user)
    if request.method == "POST":
        form = EncounterForm(request.POST, stage=profile.career_stage, current_role=enc.role)
        if form.is_valid():
            try:
                actions.do_update_encounter(request.user, enc, _input(form.cleaned_data))
            except EntryError as exc:
                _add_entry_error(form, exc)
            else:
                messages.success(request, f"Saved: {enc.entry} on {enc.date}, {enc.total_wrvu} wRVU.")
                return redirect(_next(request, reverse("logbook:history")))
        status = 422
    else:
        form = EncounterForm(initial={
            "entry": enc.entry, "date": enc.date, "setting": enc.setting if not enc.pos else "", "pos": enc.pos,
            "role": enc.role, "site": enc.site, "attending": enc.attending, "category": enc.category,
            "notes": enc.notes}, stage=profile.career_stage, current_role=enc.role)
        status = 200
    return render(request, "logbook/edit.html", {
        "form": form, "enc": enc, "suggest": queries.label_suggestions(request.user), "active": "history",
        "next": _next(request, reverse("logbook:history")),
    }, status=status)


@login_required
@require_POST
def delete(request, pk: int):
    enc = queries.get_encounter_for_user(request.user, pk)
    actions.do_trash_encounters(request.user, [enc.pk])
    back = _next(request, reverse("logbook:history"))
    sep = "&" if "?" in back else "?"
    return redirect(f"{back}{sep}deleted={enc.pk}")


@login_required
@require_POST
def restore(request):
    one = parse_int(request.POST.get("one"), "one", default=0, lo=1, hi=MAX_ID)
    ids = [one] if one else _ids(request)
    n = actions.do_restore_encounters(request.user, ids)
    messages.success(request, f"Restored {n} encounter{'s' if n != 1 else ''}." if n else "Nothing to restore.")
    return redirect(_next(request, reverse("logbook:history")))


@login_required
def trash(request):
    actions.do_purge_trash(request.user)
    encs = list(queries.filter_encounters(request.user, deleted=True).order_by("-deleted_at")[:500])
    return render(request, "logbook/trash.html", {"encounters": encs, "days": actions.TRASH_DAYS, "active": "history"})


# --------------------------------------------------------------------------- dashboard

def _date(value: str | None) -> dt.date | None:
    """A date from the query string; anything else (or outside rvuedge.params' range) is ignored."""
    try:
        return parse_date(value, "date")
    except ParamError:
        return None


def _optional_template(name: str) -> str | None:
    """A template another app provides (the benchmarks panels), or None when that app is not installed."""
    try:
        return select_template([name]).template.name
    except TemplateDoesNotExist:
        return None


def _benchmarks_panel() -> str | None:
    return _optional_template("benchmarks/_dashboard_panel.html")


@login_required
def dashboard(request):
    profile = get_profile_for_user(request.user)
    period = request.GET.get("period", "month")
    data = queries.dashboard(request.user, profile, period=period, start=_date(request.GET.get("start")),
                             end=_date(request.GET.get("end")))
    chart = {"labels": [b["label"] for b in data["buckets"]], "wrvu": [b["wrvu"] for b in data["buckets"]],
             "payment": [b["payment"] for b in data["buckets"]]}
    max_code = max((t["wrvu"] for t in data["top_codes"]), default=Decimal(0)) or Decimal(1)
    for t in data["top_codes"]:
        t["bar"] = int(t["wrvu"] * 100 / max_code)
    return render(request, "logbook/dashboard.html", {
        "d": data, "g": data["goals"], "chart": chart, "profile": profile, "periods": queries.PERIODS,
        "benchmarks_panel": _benchmarks_panel(), "active": "dashboard",
    })


@login_required
def preview(request):
    profile = get_profile_for_user(request.user)
    releases = list(Release.objects.order_by("-year", "-name").values_list("name", flat=True))
    today = timezone.localdate()
    start = _date(request.GET.get("start")) or dt.date(today.year, 1, 1)
    end = _date(request.GET.get("end")) or today
    result = error = None
    if request.GET.get("run"):
        release = request.GET.get("release", "profile")
        policy_key = request.GET.get("policy", "profile")
        policy = None
        try:
            if policy_key == "custom":
                text = request.GET.get("policy_json", "").strip()
                try:
                    policy = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise EntryError("policy", f"Custom policy: not valid JSON ({exc.msg})") from None
            elif policy_key in ("cms_mirror", "no_reductions"):
                policy = policy_key
            result = queries.what_if(request.user, profile, start, end,
                                     release=None if release == "profile" else ("" if release == "auto" else release),
                                     policy=policy)
        except EntryError as exc:
            error = exc.message
    return render(request, "logbook/preview.html", {
        "releases": releases, "start": start, "end": end, "result": result, "error": error, "q": request.GET,
        "profile": profile, "active": "dashboard",
    })


# --------------------------------------------------------------------------- export / import

def _export_qs(request):
    fform = FilterForm(request.GET)
    return queries.filter_encounters(request.user, **fform.filters())


@login_required
def export(request):
    fmt = request.GET.get("format", "csv")
    profile = get_profile_for_user(request.user)
    stamp = timezone.localdate().isoformat()
    if fmt in ("csv", "lines", "portal"):
        # Streamed a page of encounters at a time: any log downloads in bounded memory.
        stream = exports.guarded(exports.csv_stream(_export_qs(request), kind=fmt), fmt)
        resp = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
        name = {"csv": "encounters", "lines": "encounter-lines", "portal": "case-log"}[fmt]
        resp["Content-Disposition"] = f'attachment; filename="rvuedge-{name}-{stamp}.csv"'
        return resp
    if fmt == "xlsx":
        # Built whole into a temporary file (deleted when the response closes) before anything is sent.
        return FileResponse(exports.export_xlsx_file(_export_qs(request)), as_attachment=True,
                            filename=f"rvuedge-encounters-{stamp}.xlsx", content_type=exports.XLSX_TYPE)
    if fmt == "json":
        resp = StreamingHttpResponse(exports.guarded(backup.backup_stream(request.user, profile), "JSON backup"),
                                     content_type="application/json")
        resp["Content-Disposition"] = f'attachment; filename="rvuedge-backup-{stamp}.json"'
        return resp
    if fmt == "pdf":
        rform = RangeForm(request.GET)
        today = timezone.localdate()
        start = end = None
        if rform.is_valid():
            start, end = rform.cleaned_data.get("start"), rform.cleaned_data.get("end")
        start = start or dt.date(today.year, 1, 1)
        end = end or today
        resp = HttpResponse(exports.pdf_report(request.user, profile, start, end), content_type="application/pdf")
        resp["Content-Disposition"] = f'attachment; filename="rvuedge-summary-{start}-{end}.pdf"'
        return resp
    return HttpResponseBadRequest("format must be csv, lines, xlsx, json, pdf or portal")


def _too_big(upload) -> str | None:
    if upload.size > tables.MAX_UPLOAD_BYTES:
        return (f"The file is {upload.size / 2**20:.1f} MB; uploads are limited to {tables.MAX_UPLOAD_BYTES // 2**20} MB. "
                "Split it, or export fewer columns.")
    return None


@login_required
def import_start(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = upload.name or "upload"
        too_big = _too_big(upload)
        if too_big:
            form.add_error("file", too_big)
        else:
            try:
                # Read once, here: every row is checked against the upload limits and the table kept as UTF-8 CSV,
                # which is all preview and confirm ever read.
                table = imports.read_upload(name, upload)
            except imports.ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                batch = actions.do_start_import(request.user, name, table)
                return redirect("logbook:import_detail", pk=batch.pk)
    actions.do_purge_uploads(request.user)
    return render(request, "logbook/importexport.html", {
        "form": form, "restore_form": RestoreForm(), "rform": RangeForm(), "active": "data",
        "today": timezone.localdate(),
    })


def _confirm_import(request, batch, profile, mapping) -> str:
    """Import a previewed batch; the message for the user. Only one request ever imports a batch: the claim and
    the rows are one transaction."""
    try:
        report = actions.do_confirm_import(request.user, profile, batch, mapping)
        if report is None:
            return "already"
    except IntegrityError:
        # Another request logged one of these rows meanwhile; nothing was written.
        raise EntryError("file", "Some of these rows were logged meanwhile and nothing was imported; "
                                 "check the file again to skip them.") from None
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        # SQLite: another request (this import's other confirm?) held the database past the busy timeout.
        raise EntryError("file", "The log is busy with another import; nothing was imported. Reload this page in "
                                 "a minute: if the import was already confirmed, it shows as done.") from None
    dup = f"; {report.duplicates} duplicates skipped" if report.duplicates else ""
    bad = f"; {report.error_count} rows with errors skipped" if report.error_count else ""
    return f"Imported {report.created} encounters{dup}{bad}."


@login_required
def import_detail(request, pk: int):
    batch = queries.get_import_for_user(request.user, pk)
    profile = get_profile_for_user(request.user)
    if batch.status == "done":
        return render(request, "logbook/import_preview.html", {"batch": batch, "report": batch.report,
                                                                "active": "data"})
    if request.method == "POST":
        mapping = {t: request.POST.get(f"map_{t}", "") for t, _l, _n in imports.TARGETS}
        mapping = {t: c for t, c in mapping.items() if c and c in batch.headers}
        batch.mapping = mapping
        try:
            if request.POST.get("action") == "confirm":
                done = _confirm_import(request, batch, profile, mapping)
                if done == "already":
                    messages.info(request, f"{batch.filename} was already imported; nothing was imported again.")
                else:
                    messages.success(request, done)
                return redirect("logbook:import_detail", pk=batch.pk)
            report = imports.validate_import(request.user, profile, batch.kind, bytes(batch.data), mapping)
            batch.status, batch.report = "previewed", report.to_dict()
        except (imports.ImportFileError, EntryError) as exc:
            batch.report = {"fatal": str(exc)}
        actions.do_save_preview(request.user, batch, mapping, batch.status, batch.report)
    report = batch.report
    errors_shown = (report.get("errors") or [])[:200]
    return render(request, "logbook/import_preview.html", {
        "batch": batch, "report": report, "errors_shown": errors_shown, "targets": imports.TARGETS,
        "active": "data",
    })


@login_required
def import_errors(request, pk: int):
    batch = queries.get_import_for_user(request.user, pk)
    resp = HttpResponse(imports.errors_csv(batch.report or {}), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    return resp


class _CappedUpload(FileUploadHandler):
    """First upload handler of a restore: stops taking a file past ``limit`` bytes (none of it is kept)."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.too_big = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.too_big = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


# csrf_exempt + csrf_protect inside: the size cap must be in place before anything reads the body, which the
# CSRF check does when it runs as middleware (Django's documented pattern for upload handlers in a view).
@csrf_exempt
@login_required
@require_POST
def restore_backup(request):
    cap = _CappedUpload(request, backup.restore_max_bytes())
    request.upload_handlers.insert(0, cap)
    return _restore_backup(request, cap)


@csrf_protect
def _restore_backup(request, cap: _CappedUpload):
    form = RestoreForm(request.POST, request.FILES)
    if cap.too_big:
        messages.error(request, f"Nothing was restored: {backup.too_big_message()}.")
        return redirect("logbook:import")
    if not form.is_valid():
        messages.error(request, "Nothing was restored: " + " ".join(form.errors.get("file", ["choose a backup file."])))
        return redirect("logbook:import")
    profile = get_profile_for_user(request.user)
    try:
        data = backup.parse_backup(form.cleaned_data["file"].read())
        result = actions.do_restore_backup(request.user, profile, data)
    except backup.RestoreError as exc:
        messages.error(request, f"Nothing was restored. {exc}")
    else:
        skipped = f"; {result['skipped']} already present" if result["skipped"] else ""
        messages.success(request, f"Restored {result['restored']} encounters{skipped}.")
    return redirect("logbook:import")


# --------------------------------------------------------------------------- residents

@login_required
def cases(request):
    """Case counts against the minimums set; a POST loads the resident's own set from a CSV."""

    upload_error = None
    if request.method == "POST":
        upload = request.FILES.get("minimums")
        if upload is None:
            upload_error = "Choose your programme's minimums CSV to load."
        else:
            try:
                name = actions.do_load_minimums(request.user, upload.read(200_001), upload.name or "minimums.csv")
            except MinimumsError as exc:
                upload_error = str(exc)
            else:
                messages.success(request, f"Loaded “{name}” and picked it on your profile.")
                return redirect("logbook:cases")
    profile = get_profile_for_user(request.user)
    return render(request, "logbook/cases.html", {"c": queries.case_counts(request.user, profile),
                                                  "profile": profile, "active": "cases",
                                                  "upload_error": upload_error},
                  status=400 if upload_error else 200)


# --------------------------------------------------------------------------- employer reports

@login_required
def reconcile_start(request):
    form = ReportUploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = upload.name or "report.csv"
        too_big = _too_big(upload)
        if too_big:
            form.add_error("file", too_big)
        else:
            try:
                report, created = actions.do_upload_report(request.user, name, upload.read(),
                                                           form.cleaned_data.get("label") or "")
            except ReportError as exc:
                form.add_error("file", str(exc))
                errors = exc.errors[1:]
            except PhiError as exc:
                form.add_error("label", exc.message)
            else:
                if not created:
                    messages.info(request, f"{name} was uploaded before; here is its reconciliation.")
                return redirect("logbook:reconcile_detail", pk=report.pk)
    reports = list(request.user.employer_reports.all()[:100])
    return render(request, "logbook/reconcile.html", {"form": form, "errors": errors, "reports": reports,
                                                      "active": "reconcile"})


@login_required
def reconcile_detail(request, pk: int):
    report = queries.get_report_for_user(request.user, pk)
    rec = queries.reconciliation(request.user, report)
    show = request.GET.get("status", "problems")
    if show == "problems":
        items = [i for i in rec.items if i.status in PROBLEMS]
    elif show in STATUSES:
        items = [i for i in rec.items if i.status == show]
    else:
        show, items = "all", rec.items
    counts = rec.counts
    tabs = [("problems", "Differences", sum(counts[s] for s in PROBLEMS))]
    tabs += [(s, STATUSES[s][0], counts[s]) for s in STATUSES if counts[s]]
    tabs.append(("all", "All", len(rec.items)))
    scale = max(rec.log_wrvu, rec.report_wrvu or 0) or 1
    bars = {"log": int(rec.log_wrvu * 100 / scale),
            "report": None if rec.report_wrvu is None else int(rec.report_wrvu * 100 / scale)}
    columns = [(COLUMN_LABELS.get(f, f), h) for f, h in report.columns.items()]
    return render(request, "logbook/reconcile_detail.html", {
        "report": report, "rec": rec, "items": items, "show": show, "tabs": tabs, "bars": bars, "columns": columns,
        "reasons": rec.by_reason(),
        "sources": queries.log_sources(request.user, report.start, report.end), "active": "reconcile",
        "pay_panel": _optional_template("benchmarks/_missed_pay.html"),
    })


@login_required
def reconcile_csv(request, pk: int):
    """Every service of the reconciliation with its status, difference and most likely reason."""
    report = queries.get_report_for_user(request.user, pk)
    rec = queries.reconciliation(request.user, report)
    return _csv_download(exports.reconciliation_csv(rec), f"reconciliation-{report.start}-{report.end}.csv")


@login_required
def reconcile_reasons_csv(request, pk: int):
    """The billing office's summary: one row per reason, the services and the wRVU at stake."""
    report = queries.get_report_for_user(request.user, pk)
    rec = queries.reconciliation(request.user, report)
    return _csv_download(exports.reasons_csv(rec), f"reconciliation-reasons-{report.start}-{report.end}.csv")


def _csv_download(text: str, filename: str) -> HttpResponse:
    resp = HttpResponse(text, content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@login_required
def reconcile_pdf(request, pk: int):
    report = queries.get_report_for_user(request.user, pk)
    rec = queries.reconciliation(request.user, report)
    resp = HttpResponse(exports.reconciliation_pdf(request.user, report, rec), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="reconciliation-{report.start}-{report.end}.pdf"'
    return resp


@login_required
@require_POST
def reconcile_delete(request, pk: int):
    report = queries.get_report_for_user(request.user, pk)
    actions.do_delete_report(request.user, report.pk)
    messages.success(request, f"Deleted {report}.")
    return redirect("logbook:reconcile")
