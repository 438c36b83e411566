"""Read side of the log: access helpers (get_*_for_user) and the aggregates behind the dashboard.

Stable API for other apps (contracts, benchmarks):

* :func:`credited_wrvus` ``(user, start, end) -> Decimal``: credited wRVUs of the user's encounters with a
  date of service in [start, end] (both inclusive), trash excluded.
* :func:`daily_wrvus` ``(user, start, end) -> list[tuple[date, Decimal]]``: the same, per day, ascending;
  only days with at least one encounter appear.

Aggregation runs in SQL on the (user, date) indexes; periods coarser than a day are rolled up from the
per-day sums in Python (a year has at most 366 of them), which keeps one code path for SQLite and PostgreSQL.
"""

from __future__ import annotations

import calendar
import datetime as dt
from datetime import timedelta as td
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from rvuedge.accounts.services import get_profile_for_user
from rvuedge.fees.models import Release
from rvuedge.fees.services import effective_date
from rvuedge.pricing.money import cents, round_wrvu

from . import pace
from .caserules import categories_for, parse_rule
from .credit import Crediter, EntryError, known_modifiers, line_text, recredit
from .models import (
    OBSERVED,
    ROLE_LABELS,
    CaseMinimum,
    EmployerReport,
    Encounter,
    EncounterLine,
    Favourite,
    ImportBatch,
)
from .reconcile import LogLine, ReportLine, reconcile
from .whynot import log_findings

ZERO = Decimal("0")
PERIODS = ("day", "week", "month", "quarter", "year")


# --------------------------------------------------------------------------- access

def live_encounters(user) -> QuerySet[Encounter]:
    return Encounter.objects.filter(user=user, deleted_at__isnull=True)


def get_encounter_for_user(user, pk: int | str, *, deleted: bool | None = False) -> Encounter:
    """The user's encounter or 404 (another user's encounter is a 404 too, never a 403)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such encounter") from None
    qs = Encounter.objects.filter(user=user, pk=pk)
    if deleted is True:
        qs = qs.filter(deleted_at__isnull=False)
    elif deleted is False:
        qs = qs.filter(deleted_at__isnull=True)
    enc = qs.first()
    if enc is None:
        raise Http404("No such encounter")
    return enc


def get_import_for_user(user, pk: int) -> ImportBatch:
    batch = ImportBatch.objects.filter(user=user, pk=pk).defer("data").first()  # the file: read when needed
    if batch is None:
        raise Http404("No such import")
    return batch


def get_report_for_user(user, pk: int) -> EmployerReport:
    report = EmployerReport.objects.filter(user=user, pk=pk).first()
    if report is None:
        raise Http404("No such report")
    return report


def reconciliation(user, report: EmployerReport):
    """The log against an employer report, over the report's dates (the HTML page and the API both call this)."""

    rows = (EncounterLine.objects.filter(user=user, date__gte=report.start, date__lte=report.end,
                                         encounter__deleted_at__isnull=True)
            .exclude(encounter__role=OBSERVED)  # observed cases are never billed
            .values_list("date", "code", "modifiers", "units", "wrvu", "encounter_id", "encounter__entry", "payment")
            .order_by("date", "encounter_id", "position"))
    log = [LogLine(d, code, tuple(m for m in mods.split("-") if m), units, wrvu, enc, entry, payment)
           for d, code, mods, units, wrvu, enc, entry, payment in rows]
    return reconcile(log, [ReportLine.from_list(v) for v in report.lines], has_wrvu=report.has_wrvu,
                     findings=_log_findings(user, report.start, report.end), columns=report.columns)


def _log_findings(user, start: dt.date, end: dt.date) -> list:
    """The billing rules' findings on the log over a report's dates (rvuedge.logbook.rules): why a service may
    not have been credited. None when no release is loaded."""


    try:
        crediter = Crediter(get_profile_for_user(user))
    except EntryError:
        return []
    return log_findings(user, start, end, crediter.release_for(end),
                        credit_non_medicare=crediter.policy_obj.credit_non_medicare_rvus)


def log_sources(user, start: dt.date, end: dt.date) -> list[dict[str, str]]:
    """The CMS releases and localities the user's encounters in [start, end] were priced with."""
    rows = (live_encounters(user).filter(date__gte=start, date__lte=end).values("release", "locality")
            .distinct().order_by("release", "locality"))
    return list(rows)


def filter_encounters(user, *, start: dt.date | None = None, end: dt.date | None = None, code: str = "",
                      site: str = "", role: str = "", category: str = "", deleted: bool = False) -> QuerySet[Encounter]:
    qs = Encounter.objects.filter(user=user, deleted_at__isnull=not deleted)
    if start:
        qs = qs.filter(date__gte=start)
    if end:
        qs = qs.filter(date__lte=end)
    if code:
        qs = qs.filter(Exists(EncounterLine.objects.filter(encounter=OuterRef("pk"), code=code.strip().upper())))
    if site:
        qs = qs.filter(site__icontains=site.strip())
    if role:
        qs = qs.filter(role=role)
    if category:
        qs = qs.filter(category__icontains=category.strip())
    return qs


# --------------------------------------------------------------------------- stable API

def credited_wrvus(user, start: dt.date, end: dt.date) -> Decimal:
    """Sum of credited wRVUs of the user's encounters dated start..end inclusive (trash excluded)."""
    total = live_encounters(user).filter(date__gte=start, date__lte=end).aggregate(w=Sum("total_wrvu"))["w"]
    return round_wrvu(total or ZERO)


def daily_wrvus(user, start: dt.date, end: dt.date) -> list[tuple[dt.date, Decimal]]:
    """[(date, credited wRVUs)] for each day in start..end that has encounters, ascending."""
    rows = (live_encounters(user).filter(date__gte=start, date__lte=end).values("date")
            .annotate(w=Sum("total_wrvu")).order_by("date").values_list("date", "w"))
    return [(d, round_wrvu(w or ZERO)) for d, w in rows]


# --------------------------------------------------------------------------- periods

def bucket_start(day: dt.date, period: str) -> dt.date:
    if period == "day":
        return day
    if period == "week":
        return day - td(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def next_bucket(day: dt.date, period: str) -> dt.date:
    if period == "day":
        return day + td(days=1)
    if period == "week":
        return day + td(days=7)
    months = {"month": 1, "quarter": 3}.get(period, 12)
    m = day.month - 1 + months
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


def bucket_label(day: dt.date, period: str) -> str:
    if period == "day":
        return day.isoformat()
    if period == "week":
        iso = day.isocalendar()
        return f"{iso[0]}-W{iso[1]:02d}"
    if period == "month":
        return day.strftime("%b %Y")
    if period == "quarter":
        return f"{day.year} Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def default_range(user, period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if period == "day":
        return today - td(days=29), today
    if period == "week":
        return bucket_start(today, "week") - td(weeks=11), bucket_start(today, "week") + td(days=6)
    if period == "month":
        return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    if period == "quarter":
        return dt.date(today.year - 1, 1, 1), dt.date(today.year, 12, 31)
    first = live_encounters(user).order_by("date").values_list("date", flat=True).first()
    last = live_encounters(user).order_by("-date").values_list("date", flat=True).first()
    start_year = min(first.year, today.year) if first else today.year
    end_year = max(last.year, today.year) if last else today.year
    return dt.date(start_year, 1, 1), dt.date(end_year, 12, 31)


MAX_BUCKETS = 1000


def _cents_sql(column: str) -> str:
    # Integer hundredths on SQLite, which keeps NUMERIC values as floats; PostgreSQL sums numerics exactly and
    # _cents() converts the few result rows.
    if connection.vendor == "sqlite":
        return f"SUM(CAST(ROUND({column} * 100) AS INTEGER))"
    return f"SUM({column})"


def _cents(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return int(value.scaleb(2))
    return value


def _raw(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    # Raw SQL: building ORM rows costs several times the query itself at 100,000 encounters.
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def daily_totals(user, start: dt.date, end: dt.date) -> list[tuple[dt.date, int, int, int]]:
    """(date, wRVU hundredths, payment hundredths, encounters) per day with encounters, ascending.

    GROUP BY date follows the (user, date, ...) index, so the database streams the index without sorting.
    """
    table = connection.ops.quote_name(Encounter._meta.db_table)
    rows = _raw(f"SELECT date, {_cents_sql('total_wrvu')}, {_cents_sql('total_payment')}, COUNT(*) FROM {table} "
                "WHERE deleted_at IS NULL AND user_id = %s AND date >= %s AND date <= %s GROUP BY date ORDER BY date",
                [user.pk, start, end])
    return [(_date(d), _cents(w), _cents(p), n) for d, w, p, n in rows]


def live_totals(user) -> tuple[Decimal, int]:
    """(credited wRVUs, encounters) of the whole live log, read from the covering index."""
    table = connection.ops.quote_name(Encounter._meta.db_table)
    (w, n), = _raw(f"SELECT {_cents_sql('total_wrvu')}, COUNT(*) FROM {table} WHERE deleted_at IS NULL AND user_id = %s "
                   "AND date >= %s", [user.pk, dt.date(1, 1, 1)])
    return _dec(_cents(w)), n


MIX_COLUMNS = ("category", "role", "release", "policy_name", "locality")


def mix_totals(user, start: dt.date, end: dt.date) -> list[tuple[Any, ...]]:
    """(category, role, release, policy_name, locality, wRVU hundredths, encounters, first date, last date) per
    group.

    GROUP BY follows the (user, category, role, release, policy_name, locality, date) index: no sort, and the
    category/role breakdowns, the provenance and the release-date check are all rolled up from these few rows.
    """
    table = connection.ops.quote_name(Encounter._meta.db_table)
    cols = ", ".join(MIX_COLUMNS)
    rows = _raw(f"SELECT {cols}, {_cents_sql('total_wrvu')}, COUNT(*), MIN(date), MAX(date) FROM {table} "
                f"WHERE deleted_at IS NULL AND user_id = %s AND date >= %s AND date <= %s GROUP BY {cols}",
                [user.pk, start, end])
    return [(*r[:5], _cents(r[5]), r[6], _date(r[7]), _date(r[8])) for r in rows]


def _date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _dec(hundredths: int) -> Decimal:
    return round_wrvu(Decimal(hundredths).scaleb(-2))


def series(user, period: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Credited wRVUs, Medicare-payment equivalent and encounter counts per period bucket (zeros included)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    rows = daily_totals(user, start, end)
    buckets: dict[dt.date, list[int]] = {}
    day = bucket_start(start, period)
    while day <= end and len(buckets) < MAX_BUCKETS:
        buckets[day] = [0, 0, 0]
        day = next_bucket(day, period)
    total_w = total_p = total_n = 0
    last_day = None
    b: list[int] = []
    for d, w, p, n in rows:
        if d != last_day:
            b = buckets.setdefault(bucket_start(d, period), [0, 0, 0])
            last_day = d
        b[0] += w
        b[1] += p
        b[2] += n
        total_w += w
        total_p += p
        total_n += n
    out = [
        {"start": d.isoformat(), "label": bucket_label(d, period), "wrvu": str(_dec(v[0])),
         "payment": str(_dec(v[1])), "encounters": v[2]}
        for d, v in sorted(buckets.items())
    ]
    return {"period": period, "start": start.isoformat(), "end": end.isoformat(), "buckets": out,
            "total_wrvu": str(_dec(total_w)), "total_payment": str(_dec(total_p)), "encounters": total_n}


def pace_basis(user, profile, period_start: dt.date, today: dt.date, *, until: dt.date | None = None,
               prior: bool = True) -> pace.Basis:
    """What the user's pace in a period beginning ``period_start`` is based on (:mod:`rvuedge.logbook.pace`):
    the start date or first logged day in it, credited wRVUs and logged days since then, and the profile's prior
    wRVUs when its start date falls in the period (``prior=False``: leave them out)."""
    until = min(until or today, today)
    start_date = getattr(profile, "start_date", None)
    qs = live_encounters(user).filter(date__gte=period_start, date__lte=until)
    first_logged = qs.order_by("date").values_list("date", flat=True).first()
    start = pace.start_of(period_start, until, start_date, first_logged)
    logged, days = ZERO, 0
    if start is not None:
        agg = qs.filter(date__gte=start).aggregate(w=Sum("total_wrvu"), days=Count("date", distinct=True))
        logged, days = agg["w"] or ZERO, agg["days"]
    prior_w = ZERO
    if prior and profile.prior_ytd_wrvu and pace.prior_counts(period_start, until, start_date):
        prior_w = profile.prior_ytd_wrvu
    return pace.Basis(today=until, start=start, logged=round_wrvu(logged), logged_days=days, prior=prior_w,
                      from_start_date=start is not None and start == start_date)


def goal_progress(user, profile, today: dt.date) -> dict[str, Any]:
    """Year to date, month to date, goal progress and pace (projected year end; wRVUs per working day needed).

    Pace and the projection count from when the user started (:func:`pace_basis`); there is no projection
    until :data:`pace.RULE` is met, and then ``projected`` is None and ``basis`` says why.
    """
    jan1 = dt.date(today.year, 1, 1)
    dec_31 = dt.date(today.year, 12, 31)
    first_of_month = today.replace(day=1)
    agg = live_encounters(user).filter(date__gte=jan1, date__lte=today).aggregate(
        ytd=Sum("total_wrvu"), mtd=Sum("total_wrvu", filter=Q(date__gte=first_of_month)),
        pay=Sum("total_payment"))
    basis = pace_basis(user, profile, jan1, today)
    logged_ytd = round_wrvu(agg["ytd"] or ZERO)
    ytd = round_wrvu(logged_ytd + basis.prior)
    mtd = round_wrvu(agg["mtd"] or ZERO)
    projected = basis.project(dec_31)
    fte = profile.fte or Decimal("1")
    out: dict[str, Any] = {
        "today": today.isoformat(), "year": today.year, "ytd": ytd, "mtd": mtd, "logged_ytd": logged_ytd,
        "prior": basis.prior, "ytd_payment": cents(agg["pay"] or ZERO), "projected": projected,
        "fte": fte, "annual_goal": profile.annual_goal, "monthly_goal": profile.effective_monthly_goal,
        "basis": basis.to_dict(), "basis_text": basis.describe(), "rule": pace.RULE,
        "elapsed_days": basis.working_days, "start": basis.start,
    }
    work_days_left = pace.working_days(today + td(days=1), dec_31, fte)
    out["working_days_left"] = work_days_left
    if profile.annual_goal:
        goal = profile.annual_goal
        remaining = max(goal - ytd, ZERO)
        out.update(
            annual_percent=min(int(ytd * 100 / goal), 999),
            annual_remaining=round_wrvu(remaining),
            on_pace=None if projected is None else projected >= goal,
            per_working_day=round_wrvu(remaining / work_days_left) if work_days_left and remaining else ZERO,
            pace_percent=None if projected is None else min(int(projected * 100 / goal), 999),
        )
    month_goal = profile.effective_monthly_goal
    if month_goal:
        last_day = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        month_left = pace.working_days(today + td(days=1), last_day, fte)
        remaining = max(month_goal - mtd, ZERO)
        out.update(
            monthly_percent=min(int(mtd * 100 / month_goal), 999),
            monthly_remaining=round_wrvu(remaining),
            month_per_working_day=round_wrvu(remaining / month_left) if month_left and remaining else ZERO,
        )
    return out


def top_codes(user, start: dt.date, end: dt.date, limit: int = 10) -> list[dict[str, Any]]:
    """Codes ranked by credited wRVU.

    Sums every line in range along the (user, code, date, ...) covering index (GROUP BY code without a sort),
    then takes off the (usually few) lines of encounters in the trash, which avoids joining 100,000 lines to
    their encounters.
    """
    lines = connection.ops.quote_name(EncounterLine._meta.db_table)
    encs = connection.ops.quote_name(Encounter._meta.db_table)
    base = (f"SELECT code, {_cents_sql('wrvu')}, {_cents_sql('payment')}, SUM(units), COUNT(*) FROM {lines} "
            "WHERE user_id = %s AND date >= %s AND date <= %s")
    params = [user.pk, start, end]
    totals = {r[0]: [_cents(r[1]), _cents(r[2]), r[3] or 0, r[4]] for r in _raw(base + " GROUP BY code", params)}
    if Encounter.objects.filter(user=user, deleted_at__isnull=False, date__gte=start, date__lte=end).exists():
        trashed = _raw(base + f" AND encounter_id IN (SELECT id FROM {encs} WHERE user_id = %s AND deleted_at IS NOT "
                              "NULL AND date >= %s AND date <= %s) GROUP BY code", params + params)
        for code, w, p, u, n in trashed:
            t = totals[code]
            t[0] -= _cents(w)
            t[1] -= _cents(p)
            t[2] -= u or 0
            t[3] -= n
    ranked = sorted(((c, v) for c, v in totals.items() if v[3] > 0), key=lambda cv: (-cv[1][0], cv[0]))[:limit]
    return [{"code": c, "wrvu": _dec(w), "payment": _dec(p), "units": u, "lines": n} for c, (w, p, u, n) in ranked]


_MIX_COLUMN = {"category": 0, "role": 1}


def mix(user, start: dt.date, end: dt.date, by: str, rows: list[tuple[Any, ...]] | None = None) -> list[dict[str, Any]]:
    """Credited wRVUs and encounters by case category or role, largest first."""
    col = _MIX_COLUMN[by]
    groups: dict[str, list[int]] = {}
    for r in rows if rows is not None else mix_totals(user, start, end):
        g = groups.get(r[col] or "")
        if g is None:
            g = groups[r[col] or ""] = [0, 0]
        g[0] += r[5]
        g[1] += r[6]
    total = sum(g[0] for g in groups.values())
    out = []
    for key, (w, n) in sorted(groups.items(), key=lambda kv: (-kv[1][0], kv[0])):
        label = ROLE_LABELS.get(key, key) if by == "role" else (key or "(none)")
        out.append({"key": key, "label": label, "wrvu": _dec(w), "encounters": n,
                    "percent": w * 100 // total if total else 0})
    return out


def provenance(user, start: dt.date, end: dt.date, rows: list[tuple[Any, ...]] | None = None) -> list[dict[str, Any]]:
    """Which releases, policies and localities the figures in the range were credited with."""
    groups: dict[tuple[str, str, str], int] = {}
    for r in rows if rows is not None else mix_totals(user, start, end):
        key = (r[2], r[3], r[4])
        groups[key] = groups.get(key, 0) + r[6]
    return [{"release": k[0], "policy_name": k[1], "locality": k[2], "n": n}
            for k, n in sorted(groups.items(), key=lambda kv: -kv[1])]


def release_mismatches(user, start: dt.date, end: dt.date,
                       rows: list[tuple[Any, ...]] | None = None) -> list[dict[str, Any]]:
    """Encounters in the range credited with a release that was not in force on their date (no release of
    their year, or of their quarter, was loaded): how many per (year, release), to say so beside the totals.

    A release is in force from its effective date to the end of its year. The first and last dates each release
    was used on come with :func:`mix_totals`' rows; only a release used outside its window costs queries, a count
    per year over a plain date range (never a per-row year extraction, which SQLite runs in Python: 600 ms over
    100,000 encounters)."""
    used: dict[str, tuple[dt.date, dt.date]] = {}
    for r in rows if rows is not None else mix_totals(user, start, end):
        first, last = used.get(r[2], (r[7], r[8]))
        used[r[2]] = (min(first, r[7]), max(last, r[8]))
    windows = {}
    for release in Release.objects.filter(name__in=list(used)):
        begins = effective_date(release)
        first, last = used[release.name]
        if begins is not None and (first < begins or last.year > begins.year):
            windows[release.name] = begins
    out = []
    live = Encounter.objects.filter(user=user, deleted_at__isnull=True)
    for year, name in sorted((y, n) for n in windows for y in range(used[n][0].year, used[n][1].year + 1)):
        begins = windows[name]
        # The part of the year outside the release's window, within the range (one index range scan each).
        upto = begins - td(days=1) if year == begins.year else dt.date(year, 12, 31)
        first, last = max(dt.date(year, 1, 1), start), min(upto, end)
        n = live.filter(release=name, date__gte=first, date__lte=last).count() if first <= last else 0
        if n:
            out.append({"year": year, "release": name, "n": n, "no_release_of_year": begins.year != year})
    return out


def dashboard(user, profile, *, period: str = "month", start: dt.date | None = None, end: dt.date | None = None,
              today: dt.date | None = None) -> dict[str, Any]:
    """Everything the dashboard page and /api/log/summary show, from one place."""
    today = today or timezone.localdate()
    if period not in PERIODS:
        period = "month"
    if start is None or end is None:
        d_start, d_end = default_range(user, period, today)
        start, end = start or d_start, end or d_end
    if end < start:
        start, end = end, start
    data = series(user, period, start, end)
    rows = mix_totals(user, start, end)
    return {
        **data,
        "goals": goal_progress(user, profile, today),
        "top_codes": top_codes(user, start, end),
        "by_category": mix(user, start, end, "category", rows),
        "by_role": mix(user, start, end, "role", rows),
        "provenance": provenance(user, start, end, rows),
        "release_mismatches": release_mismatches(user, start, end, rows),
    }


# --------------------------------------------------------------------------- entry helpers

def quick_codes(user, limit: int = 12) -> dict[str, list[str]]:
    """Favourite codes, then recently logged ones, for the one-tap bar above the entry box."""

    check = known_modifiers()

    def known(mods: list[str]) -> bool:  # a line stored before unknown modifiers were refused is never offered
        return all(check.problem(m) is None for m in mods)

    favourites = [c for c in Favourite.objects.filter(user=user).values_list("code", flat=True)
                  if known(c.split("-")[1:])]
    recent: list[str] = []
    seen = set(favourites)
    rows = (EncounterLine.objects.filter(user=user).order_by("-date", "-id")
            .values_list("code", "modifiers", "units", "minutes")[:150])
    for code, mods, _units, _minutes in rows:
        mod_list = [m for m in mods.split("-") if m]
        if not known(mod_list):
            continue
        token = line_text(code, mod_list)
        if token not in seen:
            seen.add(token)
            recent.append(token)
        if len(recent) >= limit:
            break
    return {"favourites": favourites, "recent": recent}


def label_suggestions(user) -> dict[str, list[str]]:
    """Recently used site, attending and category labels (for datalists)."""
    out: dict[str, list[str]] = {}
    recent = live_encounters(user).order_by("-date", "-id")[:300]
    for name in ("site", "attending", "category"):
        values = [v for v in recent.values_list(name, flat=True) if v]
        out[name] = list(dict.fromkeys(values))[:20]
    return out


def recent_encounters(user, limit: int = 8) -> list[Encounter]:
    return list(live_encounters(user).order_by("-date", "-id")[:limit])


# --------------------------------------------------------------------------- residents

COUNTED_BY_DEFAULT = {"performed", "primary", "first_assist", "assisted", "supervised"}


def _visible_minimums(user):
    """Shared sets and the user's own (never another user's)."""
    mine = Q(owner__isnull=True)
    if user is not None and getattr(user, "pk", None):
        mine |= Q(owner=user)
    return CaseMinimum.objects.filter(mine)


def minimums_sets(user=None) -> list[str]:
    """The names of the case-minimums sets the user can pick: shared ones (the example set ships loaded) and
    the user's own."""
    return sorted(set(_visible_minimums(user).values_list("specialty", flat=True)))


def minimums_rows(user, name: str) -> list[CaseMinimum]:
    """The categories of set ``name``: the user's own set of that name first, else the shared one."""
    own = list(CaseMinimum.objects.filter(owner=user, specialty=name)) if getattr(user, "pk", None) else []
    return own or list(CaseMinimum.objects.filter(owner__isnull=True, specialty=name))


def chosen_minimums_set(profile) -> str:
    """The set the profile picked; else a set named exactly like the profile's specialty (older profiles)."""
    names = minimums_sets(profile.user)
    lower = {n.lower(): n for n in names}
    for wanted in (profile.minimums_set, profile.specialty):
        if wanted and wanted.strip().lower() in lower:
            return lower[wanted.strip().lower()]
    return ""


def case_counts(user, profile) -> dict[str, Any]:
    """Case counts by category and role, and progress against the profile's minimums set.

    Each case counts in the set's categories whose code rules match one of its codes (27447 -> Knee
    arthroplasty), else in the category the resident typed when the set has it; never in a category it does
    not belong to (:func:`rvuedge.logbook.caserules.categories_for`).
    """

    rows = (live_encounters(user).values("category", "role").annotate(n=Count("id")).order_by("category", "role"))
    by_cat: dict[str, dict[str, int]] = {}
    for r in rows:
        by_cat.setdefault(r["category"] or "", {})[r["role"]] = r["n"]
    roles_used = sorted({role for counts in by_cat.values() for role in counts},
                        key=lambda k: list(ROLE_LABELS).index(k) if k in ROLE_LABELS else 99)
    chosen = chosen_minimums_set(profile)
    minimums = minimums_rows(user, chosen) if chosen else []
    rules = [(m.category, parse_rule(m.codes)) for m in minimums]
    counted: dict[str, dict[str, int]] = {m.category: {} for m in minimums}
    by_code = 0
    if minimums:
        codes: dict[int, list[str]] = {}
        for enc_id, code in (EncounterLine.objects.filter(user=user, encounter__deleted_at__isnull=True)
                             .values_list("encounter_id", "code")):
            codes.setdefault(enc_id, []).append(code)
        for enc_id, category, role in live_encounters(user).values_list("id", "category", "role"):
            enc_codes = codes.get(enc_id, [])
            cats = categories_for(enc_codes, category, rules)
            by_code += any(rule.matches(c) for _cat, rule in rules for c in enc_codes)
            for cat in cats:
                counted[cat][role] = counted[cat].get(role, 0) + 1
    progress = []
    for m in minimums:
        allowed = set(m.role_list) or COUNTED_BY_DEFAULT
        done = sum(n for role, n in counted[m.category].items() if role in allowed)
        progress.append({"category": m.category, "minimum": m.minimum, "done": done,
                         "percent": min(100, int(done * 100 / m.minimum)) if m.minimum else 100,
                         "roles": sorted(allowed), "role_labels": [ROLE_LABELS.get(r, r) for r in sorted(allowed)],
                         "codes": m.codes, "is_example": m.is_example, "source": m.source})
    table = [{"category": cat or "(none)", "counts": [counts.get(r, 0) for r in roles_used],
              "total": sum(counts.values())} for cat, counts in sorted(by_cat.items())]
    return {"roles": [(r, ROLE_LABELS.get(r, r)) for r in roles_used], "table": table, "progress": progress,
            "specialty": profile.specialty, "minimums_set": chosen, "career_stage": profile.career_stage,
            "matched_by_code": by_code, "logged": sum(row["total"] for row in table),
            "specialties": minimums_sets(user), "sets": minimums_sets(user),
            "categories": [m.category for m in minimums]}


# --------------------------------------------------------------------------- what-if re-crediting

MAX_WHAT_IF = 100_000


def what_if(user, profile, start: dt.date, end: dt.date, *, release: str | None = None,
            policy: Any = None) -> dict[str, Any]:
    """Re-credit the encounters dated start..end under another RVU release and/or credit policy; store nothing.

    ``release`` None keeps the profile's choice, "" means the release in force on each date of service.
    """

    crediter = Crediter(profile, release=release, policy=policy, memo=True)
    qs = live_encounters(user).filter(date__gte=start, date__lte=end)
    months: dict[str, list[Decimal]] = {}
    codes: dict[str, list[Decimal]] = {}
    releases: dict[str, int] = {}
    current_total = new_total = ZERO
    count = failed = 0
    failures: list[dict[str, Any]] = []
    for again in recredit(crediter, qs):
        if count >= MAX_WHAT_IF:
            break
        enc = again.encounter
        count += 1
        current_total += enc.total_wrvu
        new_total += again.total_wrvu
        m = months.setdefault(enc.date.strftime("%Y-%m"), [ZERO, ZERO])
        m[0] += enc.total_wrvu
        m[1] += again.total_wrvu
        if again.credit is None:
            failed += 1
            if len(failures) < 20:
                failures.append({"id": enc.pk, "date": enc.date.isoformat(), "entry": enc.entry, "error": again.error})
            continue
        releases[again.credit.release.name] = releases.get(again.credit.release.name, 0) + 1
        for old_ln, new_ln in zip(again.lines, again.credit.lines, strict=False):
            c = codes.setdefault(old_ln.code, [ZERO, ZERO])
            c[0] += old_ln.wrvu
            c[1] += new_ln["wrvu"]
    changed = sorted(({"code": k, "current": v[0], "what_if": v[1], "difference": v[1] - v[0]}
                      for k, v in codes.items() if v[0] != v[1]), key=lambda r: (-abs(r["difference"]), r["code"]))
    return {
        "start": start.isoformat(), "end": end.isoformat(), "encounters": count, "failed": failed,
        "failures": failures, "truncated": count >= MAX_WHAT_IF,
        "release": release, "releases_used": releases, "policy": crediter.policy_obj.name,
        "current_total": round_wrvu(current_total), "what_if_total": round_wrvu(new_total),
        "difference": round_wrvu(new_total - current_total),
        "months": [{"month": k, "current": round_wrvu(v[0]), "what_if": round_wrvu(v[1]),
                    "difference": round_wrvu(v[1] - v[0])} for k, v in sorted(months.items())],
        "codes": changed[:15],
    }
