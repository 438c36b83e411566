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

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from .models import ROLE_LABELS, CaseMinimum, Encounter, EncounterLine, Favourite, ImportBatch

ZERO = Decimal("0")
CENT = Decimal("0.01")
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
    batch = ImportBatch.objects.filter(user=user, pk=pk).first()
    if batch is None:
        raise Http404("No such import")
    return batch


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
    return (total or ZERO).quantize(CENT)


def daily_wrvus(user, start: dt.date, end: dt.date) -> list[tuple[dt.date, Decimal]]:
    """[(date, credited wRVUs)] for each day in start..end that has encounters, ascending."""
    rows = (live_encounters(user).filter(date__gte=start, date__lte=end).values("date")
            .annotate(w=Sum("total_wrvu")).order_by("date").values_list("date", "w"))
    return [(d, (w or ZERO).quantize(CENT)) for d, w in rows]


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


def series(user, period: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Credited wRVUs, Medicare-payment equivalent and encounter counts per period bucket (zeros included)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    rows = (live_encounters(user).filter(date__gte=start, date__lte=end).values("date")
            .annotate(w=Sum("total_wrvu"), p=Sum("total_payment"), n=Count("id")).order_by("date")
            .values_list("date", "w", "p", "n"))
    buckets: dict[dt.date, list[Any]] = {}
    day = bucket_start(start, period)
    while day <= end and len(buckets) < MAX_BUCKETS:
        buckets[day] = [ZERO, ZERO, 0]
        day = next_bucket(day, period)
    total_w, total_p, total_n = ZERO, ZERO, 0
    for d, w, p, n in rows:
        b = buckets.setdefault(bucket_start(d, period), [ZERO, ZERO, 0])
        b[0] += w or ZERO
        b[1] += p or ZERO
        b[2] += n
        total_w += w or ZERO
        total_p += p or ZERO
        total_n += n
    out = [
        {"start": d.isoformat(), "label": bucket_label(d, period), "wrvu": str(v[0].quantize(CENT)),
         "payment": str(v[1].quantize(CENT)), "encounters": v[2]}
        for d, v in sorted(buckets.items())
    ]
    return {"period": period, "start": start.isoformat(), "end": end.isoformat(), "buckets": out,
            "total_wrvu": str(total_w.quantize(CENT)), "total_payment": str(total_p.quantize(CENT)),
            "encounters": total_n}


def _weekdays_between(first: dt.date, last: dt.date) -> int:
    """Mon-Fri days in first..last inclusive."""
    if last < first:
        return 0
    days = (last - first).days + 1
    weeks, extra = divmod(days, 7)
    count = weeks * 5
    for i in range(extra):
        if (first.weekday() + i) % 7 < 5:
            count += 1
    return count


def goal_progress(user, profile, today: dt.date) -> dict[str, Any]:
    """Year to date, month to date, goal progress and pace (projected year end; wRVUs per working day needed)."""
    jan1 = dt.date(today.year, 1, 1)
    first_of_month = today.replace(day=1)
    agg = live_encounters(user).filter(date__gte=jan1, date__lte=today).aggregate(
        ytd=Sum("total_wrvu"), mtd=Sum("total_wrvu", filter=Q(date__gte=first_of_month)),
        pay=Sum("total_payment"))
    ytd = (agg["ytd"] or ZERO).quantize(CENT)
    mtd = (agg["mtd"] or ZERO).quantize(CENT)
    days_in_year = 366 if calendar.isleap(today.year) else 365
    elapsed = (today - jan1).days + 1
    projected = (ytd / elapsed * days_in_year).quantize(CENT)
    fte = profile.fte or Decimal("1")
    out: dict[str, Any] = {
        "today": today.isoformat(), "year": today.year, "ytd": ytd, "mtd": mtd,
        "ytd_payment": (agg["pay"] or ZERO).quantize(CENT), "projected": projected,
        "fte": fte, "annual_goal": profile.annual_goal, "monthly_goal": profile.effective_monthly_goal,
        "elapsed_days": elapsed, "days_in_year": days_in_year,
    }
    dec_31 = dt.date(today.year, 12, 31)
    work_days_left = (Decimal(_weekdays_between(today + td(days=1), dec_31)) * fte).quantize(Decimal("0.1"))
    out["working_days_left"] = work_days_left
    if profile.annual_goal:
        goal = profile.annual_goal
        remaining = max(goal - ytd, ZERO)
        out.update(
            annual_percent=min(int(ytd * 100 / goal), 999),
            annual_remaining=remaining.quantize(CENT),
            on_pace=projected >= goal,
            per_working_day=(remaining / work_days_left).quantize(CENT) if work_days_left and remaining else ZERO,
            pace_percent=min(int(projected * 100 / goal), 999),
        )
    month_goal = profile.effective_monthly_goal
    if month_goal:
        last_day = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        month_left = (Decimal(_weekdays_between(today + td(days=1), last_day)) * fte).quantize(Decimal("0.1"))
        remaining = max(month_goal - mtd, ZERO)
        out.update(
            monthly_percent=min(int(mtd * 100 / month_goal), 999),
            monthly_remaining=remaining.quantize(CENT),
            month_per_working_day=(remaining / month_left).quantize(CENT) if month_left and remaining else ZERO,
        )
    return out


def top_codes(user, start: dt.date, end: dt.date, limit: int = 10) -> list[dict[str, Any]]:
    rows = (EncounterLine.objects.filter(user=user, date__gte=start, date__lte=end,
                                         encounter__deleted_at__isnull=True)
            .values("code").annotate(w=Sum("wrvu"), p=Sum("payment"), units=Sum("units"), n=Count("id"))
            .order_by("-w", "code")[:limit])
    return [{"code": r["code"], "wrvu": (r["w"] or ZERO).quantize(CENT), "payment": (r["p"] or ZERO).quantize(CENT),
             "units": r["units"], "lines": r["n"]} for r in rows]


def mix(user, start: dt.date, end: dt.date, by: str) -> list[dict[str, Any]]:
    rows = (live_encounters(user).filter(date__gte=start, date__lte=end).values(by)
            .annotate(w=Sum("total_wrvu"), n=Count("id")).order_by("-w"))
    total = sum(((r["w"] or ZERO) for r in rows), ZERO)
    out = []
    for r in rows:
        key = r[by] or ""
        label = ROLE_LABELS.get(key, key) if by == "role" else (key or "(none)")
        w = (r["w"] or ZERO).quantize(CENT)
        out.append({"key": key, "label": label, "wrvu": w, "encounters": r["n"],
                    "percent": int(w * 100 / total) if total else 0})
    return out


def provenance(user, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Which releases, policies and localities the figures in the range were credited with."""
    rows = (live_encounters(user).filter(date__gte=start, date__lte=end)
            .values("release", "policy_name", "locality").annotate(n=Count("id")).order_by("-n"))
    return list(rows)


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
    return {
        **data,
        "goals": goal_progress(user, profile, today),
        "top_codes": top_codes(user, start, end),
        "by_category": mix(user, start, end, "category"),
        "by_role": mix(user, start, end, "role"),
        "provenance": provenance(user, start, end),
    }


# --------------------------------------------------------------------------- entry helpers

def quick_codes(user, limit: int = 12) -> dict[str, list[str]]:
    """Favourite codes, then recently logged ones, for the one-tap bar above the entry box."""
    favourites = list(Favourite.objects.filter(user=user).values_list("code", flat=True))
    from .credit import line_text

    recent: list[str] = []
    seen = set(favourites)
    rows = (EncounterLine.objects.filter(user=user).order_by("-id")
            .values_list("code", "modifiers", "units", "minutes")[:150])
    for code, mods, _units, _minutes in rows:
        token = line_text(code, [m for m in mods.split("-") if m])
        if token not in seen:
            seen.add(token)
            recent.append(token)
        if len(recent) >= limit:
            break
    return {"favourites": favourites, "recent": recent}


def label_suggestions(user) -> dict[str, list[str]]:
    """Recently used site, attending and category labels (for datalists)."""
    out: dict[str, list[str]] = {}
    recent = Encounter.objects.filter(user=user).order_by("-id")[:500]
    for name in ("site", "attending", "category"):
        values = [v for v in recent.values_list(name, flat=True) if v]
        out[name] = list(dict.fromkeys(values))[:20]
    return out


def recent_encounters(user, limit: int = 8) -> list[Encounter]:
    return list(live_encounters(user).order_by("-date", "-id").prefetch_related("lines")[:limit])


# --------------------------------------------------------------------------- residents

COUNTED_BY_DEFAULT = {"performed", "primary", "first_assist", "assisted", "supervised"}


def case_counts(user, profile) -> dict[str, Any]:
    """Case counts by category and role, against the minimums loaded for the user's specialty."""
    rows = (live_encounters(user).values("category", "role").annotate(n=Count("id")).order_by("category", "role"))
    by_cat: dict[str, dict[str, int]] = {}
    for r in rows:
        by_cat.setdefault(r["category"] or "", {})[r["role"]] = r["n"]
    roles_used = sorted({role for counts in by_cat.values() for role in counts},
                        key=lambda k: list(ROLE_LABELS).index(k) if k in ROLE_LABELS else 99)
    minimums = list(CaseMinimum.objects.filter(specialty__iexact=profile.specialty.strip())) if profile.specialty else []
    lower = {k.lower(): k for k in by_cat}
    progress = []
    for m in minimums:
        counts = by_cat.get(lower.get(m.category.lower(), ""), {})
        allowed = set(m.role_list) or COUNTED_BY_DEFAULT
        done = sum(n for role, n in counts.items() if role in allowed)
        progress.append({"category": m.category, "minimum": m.minimum, "done": done,
                         "percent": min(100, int(done * 100 / m.minimum)) if m.minimum else 100,
                         "roles": sorted(allowed), "is_example": m.is_example, "source": m.source})
    table = [{"category": cat or "(none)", "counts": [counts.get(r, 0) for r in roles_used],
              "total": sum(counts.values())} for cat, counts in sorted(by_cat.items())]
    return {"roles": [(r, ROLE_LABELS.get(r, r)) for r in roles_used], "table": table, "progress": progress,
            "specialty": profile.specialty,
            "specialties": list(CaseMinimum.objects.values_list("specialty", flat=True).distinct().order_by("specialty")),
            "categories": [m.category for m in minimums]}


# --------------------------------------------------------------------------- what-if re-crediting

MAX_WHAT_IF = 100_000


def what_if(user, profile, start: dt.date, end: dt.date, *, release: str | None = None,
            policy: Any = None) -> dict[str, Any]:
    """Re-credit the encounters dated start..end under another RVU release and/or credit policy; store nothing.

    ``release`` None keeps the profile's choice, "" means the release in force on each date of service.
    """
    from rvuedge.pricing import EncounterLine as Line
    from rvuedge.pricing import PricingError

    from .credit import Crediter
    from .importexport import iter_with_lines

    crediter = Crediter(profile, release=release, policy=policy, memo=True)
    qs = live_encounters(user).filter(date__gte=start, date__lte=end)
    months: dict[str, list[Decimal]] = {}
    codes: dict[str, list[Decimal]] = {}
    releases: dict[str, int] = {}
    current_total = new_total = ZERO
    count = failed = 0
    failures: list[dict[str, Any]] = []
    for enc, lines in iter_with_lines(qs):
        if count >= MAX_WHAT_IF:
            break
        count += 1
        current_total += enc.total_wrvu
        month = enc.date.strftime("%Y-%m")
        m = months.setdefault(month, [ZERO, ZERO])
        m[0] += enc.total_wrvu
        try:
            credit = crediter.credit(
                [Line(code=ln.code, modifiers=tuple(ln.modifier_list), units=ln.units, minutes=ln.minutes)
                 for ln in lines], enc.date, enc.setting)
        except PricingError as exc:
            failed += 1
            if len(failures) < 20:
                failures.append({"id": enc.pk, "date": enc.date.isoformat(), "entry": enc.entry, "error": str(exc)})
            m[1] += enc.total_wrvu
            new_total += enc.total_wrvu
            continue
        releases[credit.release.name] = releases.get(credit.release.name, 0) + 1
        new = credit.fields["total_wrvu"]
        new_total += new
        m[1] += new
        for old_ln, new_ln in zip(lines, credit.lines, strict=False):
            c = codes.setdefault(old_ln.code, [ZERO, ZERO])
            c[0] += old_ln.wrvu
            c[1] += new_ln["wrvu"]
    changed = sorted(({"code": k, "current": v[0], "what_if": v[1], "difference": v[1] - v[0]}
                      for k, v in codes.items() if v[0] != v[1]), key=lambda r: (-abs(r["difference"]), r["code"]))
    return {
        "start": start.isoformat(), "end": end.isoformat(), "encounters": count, "failed": failed,
        "failures": failures, "truncated": count >= MAX_WHAT_IF,
        "release": release, "releases_used": releases, "policy": crediter.policy_obj.name,
        "current_total": current_total.quantize(CENT), "what_if_total": new_total.quantize(CENT),
        "difference": (new_total - current_total).quantize(CENT),
        "months": [{"month": k, "current": v[0].quantize(CENT), "what_if": v[1].quantize(CENT),
                    "difference": (v[1] - v[0]).quantize(CENT)} for k, v in sorted(months.items())],
        "codes": changed[:15],
    }
