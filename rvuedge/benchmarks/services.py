"""Access (get_*_for_user), writes (do_*) and the read models behind the contract and benchmark pages.

Credited wRVUs come from the log (:mod:`rvuedge.logbook.queries`). When a contract credits with another
policy or RVU release than the one each encounter was logged with, its encounters are re-credited
through the log's own :class:`~rvuedge.logbook.credit.Crediter` (memoised), so every contract is priced
from the wRVUs *it* would credit.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from datetime import timedelta as td
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from rvuedge.accounts import specialties
from rvuedge.accounts.services import get_profile_for_user
from rvuedge.fees.models import Release
from rvuedge.logbook import pace, queries
from rvuedge.logbook.credit import Crediter, EntryError, logged_credit_applies, recredited_days
from rvuedge.pricing.money import round_wrvu

from .contracts import (
    PERIODS,
    ContractTerms,
    compute_pay,
    fmt_money,
    fmt_wrvu,
    load_contract,
    next_tier,
    period_label,
    project_year,
)
from .models import BenchmarkSource, BenchmarkStat, Contract

ZERO = Decimal(0)


# --------------------------------------------------------------------------- access


def get_contract_for_user(user, pk: int | str) -> Contract:
    """The user's contract or 404 (another user's contract is a 404 too, never a 403)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such contract") from None
    contract = Contract.objects.filter(user=user, pk=pk).first()
    if contract is None:
        raise Http404("No such contract")
    return contract


def contracts_for_user(user) -> list[Contract]:
    return list(Contract.objects.filter(user=user))


def contract_in_force(user, day: dt.date) -> Contract | None:
    for c in Contract.objects.filter(user=user, is_offer=False, start__lte=day).order_by("-start"):
        if c.end is None or day <= c.end:
            return c
    return None


class ContractConflict(ValueError):
    def __init__(self, field_name: str, message: str):
        self.field = field_name
        self.message = message
        super().__init__(message)


def check_overlap(user, start: dt.date, end: dt.date | None, is_offer: bool, exclude: int | None = None) -> None:
    """One contract in force per date: refuse a date range that overlaps another (offers are exempt)."""
    if end is not None and end < start:
        raise ContractConflict("end", "The end date is before the start date.")
    if is_offer:
        return
    qs = Contract.objects.filter(user=user, is_offer=False)
    if exclude:
        qs = qs.exclude(pk=exclude)
    for other in qs:
        if other.start <= (end or dt.date.max) and start <= (other.end or dt.date.max):
            until = other.end.isoformat() if other.end else "open-ended"
            raise ContractConflict("start", f"Overlaps “{other.name}” ({other.start.isoformat()} to {until}). "
                                            "End that contract first, or mark this one as an offer.")


def do_save_contract(user, *, name: str, start: dt.date, end: dt.date | None, terms: dict[str, Any] | ContractTerms,
                     is_offer: bool = False, contract: Contract | None = None) -> Contract:
    """Validate (terms and dates) and store a contract; raise ContractError/ContractConflict, store nothing."""
    parsed = load_contract(terms if isinstance(terms, ContractTerms) else {**terms, "name": name})
    with transaction.atomic():
        check_overlap(user, start, end, is_offer, exclude=contract.pk if contract else None)
        stored = parsed.to_dict()
        if contract is None:
            contract = Contract(user=user)
        contract.name = parsed.name
        contract.start = start
        contract.end = end
        contract.is_offer = is_offer
        contract.terms = stored
        contract.updated_at = timezone.now()
        contract.save()
    return contract


def do_delete_contract(user, pk: int | str) -> None:
    get_contract_for_user(user, pk).delete()


# --------------------------------------------------------------------------- credited wRVUs


def _profile(user):
    return get_profile_for_user(user)


def daily_credit(user, start: dt.date, end: dt.date, terms: ContractTerms | None = None,
                 _cache: dict[Any, Any] | None = None) -> tuple[list[tuple[dt.date, Decimal]], list[str]]:
    """[(date, credited wRVUs)] in start..end as the contract credits them, and notes on what could not be.

    The wRVUs as logged when the contract credits like the log (:func:`logged_credit_applies`); else the
    log's own re-crediting (:func:`rvuedge.logbook.credit.recredit`) under the contract's policy.
    """

    profile = _profile(user)
    if terms is None or logged_credit_applies(profile, terms.policy_dict()):
        return queries.daily_wrvus(user, start, end), []
    key = (user.pk, start, end, repr(sorted(terms.policy_dict().items(), key=str)))
    if _cache is not None and key in _cache:
        return _cache[key]
    notes: list[str] = []
    try:
        crediter = Crediter(profile, policy=terms.policy_dict(), memo=True)
    except EntryError as exc:
        return queries.daily_wrvus(user, start, end), [f"{exc}; used the wRVUs as logged"]
    again = recredited_days(crediter, user, start, end)
    if again.failed:
        notes.append(f"{again.failed} encounter(s) could not be re-credited under this contract's policy "
                     f"({again.why}); their wRVUs as logged were used")
    result = (again.days, notes)
    if _cache is not None:
        _cache[key] = result
    return result


def _add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    year = day.year + m // 12
    month = m % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def contract_year(terms: ContractTerms, today: dt.date) -> tuple[dt.date, dt.date]:
    start = dt.date(today.year, terms.year_start_month, 1)
    if start > today:
        start = dt.date(today.year - 1, terms.year_start_month, 1)
    return start, _add_months(start, 12) - td(days=1)


def segment_bounds(terms: ContractTerms, year_start: dt.date) -> list[tuple[dt.date, dt.date]]:
    k = terms.segments
    months = 12 // k
    return [(_add_months(year_start, i * months), _add_months(year_start, (i + 1) * months) - td(days=1))
            for i in range(k)]


def bucket(daily: Iterable[tuple[dt.date, Decimal]], bounds: list[tuple[dt.date, dt.date]]) -> list[Decimal]:
    out = [ZERO] * len(bounds)
    for day, w in daily:
        for i, (a, b) in enumerate(bounds):
            if a <= day <= b:
                out[i] += w
                break
    return out


# --------------------------------------------------------------------------- contract status (dashboard)


def _spread(amount: Decimal, first: dt.date, last: dt.date, bounds: list[tuple[dt.date, dt.date]]) -> list[Decimal]:
    """``amount`` shared out over the segments by how many of the days first..last fall in each."""
    total = (last - first).days + 1
    out = [ZERO] * len(bounds)
    if total <= 0 or not amount:
        return out
    for i, (a, b) in enumerate(bounds):
        days = (min(b, last) - max(a, first)).days + 1
        if days > 0:
            out[i] = amount * days / total
    return out


def contract_status(user, contract: Contract, today: dt.date | None = None) -> dict[str, Any]:
    """Earned to date, projected annual pay, distance to the next tier and the true-up forecast.

    The projection counts from when the user started in this contract year (the profile's start date, else the
    first logged day; :func:`rvuedge.logbook.queries.pace_basis`) and is None until :data:`pace.RULE` is met.
    Prior wRVUs on the profile count toward this contract when its year began before the start date.
    """

    today = today or timezone.localdate()
    terms = contract.get_terms()
    y_start, y_end = contract_year(terms, today)
    count_from = max(y_start, contract.start)
    until = min(today, contract.end or today)
    days = (y_end - y_start).days + 1
    elapsed = Decimal((today - y_start).days + 1) / days
    bounds = segment_bounds(terms, y_start)
    profile = _profile(user)
    basis = queries.pace_basis(user, profile, count_from, today, until=until)
    daily, notes = daily_credit(user, count_from, until, terms)
    segs_all = bucket(daily, bounds)
    prior = basis.prior
    if prior:  # wRVUs before the start date, in this contract's year: spread over count_from..start date - 1
        for i, w in enumerate(_spread(prior, count_from, profile.start_date - td(days=1), bounds)):
            segs_all[i] += w
        notes = [*notes, f"includes {fmt_wrvu(prior)} wRVU before your start date (profile)"]
    begun = [i for i, (a, _b) in enumerate(bounds) if a <= today]
    segs = [round_wrvu(w) for w in segs_all[: len(begun)]]
    ytd_wrvu = sum(segs, ZERO)
    # Base, stipends and draws accrue from when this contract began in its year (a contract that began on
    # 1 September has earned four months of base by December, not eleven).
    worked = Decimal(max(0, (until - count_from).days + 1)) / days
    earned = compute_pay(terms, segs, elapsed=min(worked, Decimal(1)))
    covered = Decimal((min(y_end, contract.end or y_end) - count_from).days + 1) / days
    projected_segs: list[Decimal] | None = None
    projected = None
    if basis.ready:  # the pace since the start, as this contract credits it, over the working days left
        since = sum((w for d, w in daily if d >= basis.start), ZERO)
        rate = since / basis.working_days
        projected_segs = pace.project_segments(segs, bounds, rate, today, contract.end)
        projected = compute_pay(terms, projected_segs, elapsed=covered if covered < 1 else None)

    # Distance to the next tier within the current reset period.
    reset_n = PERIODS[terms.tier_reset]
    per_reset = terms.segments // reset_n
    r = (len(segs) - 1) // per_reset
    in_period = sum(segs[r * per_reset:(r + 1) * per_reset], ZERO)
    period_end = bounds[min((r + 1) * per_reset, len(bounds)) - 1][1]
    nxt = next_tier(terms, in_period)
    if nxt:
        needed = Decimal(nxt["needed"])
        days_left = pace.working_days(today + td(days=1), period_end, terms.fte)
        nxt["per_day"] = round_wrvu(needed / days_left) if days_left else None
        nxt["working_days_left"] = days_left
        nxt["period_end"] = period_end
        nxt["text"] = (f"{fmt_wrvu(needed)} wRVU to reach {nxt['label']} (${nxt['rate']}/wRVU) "
                       f"by {period_end:%b} {period_end.day}")

    true_up = None
    if terms.draw:
        t_n = PERIODS[terms.draw.true_up]
        t_index = min(int(elapsed * t_n - Decimal("0.000001")), t_n - 1) if elapsed > 0 else 0
        label = period_label(terms.draw.true_up, t_index, terms.year_start_month)
        forecast = [ln for ln in projected.lines if ln.section == "true_up" and ln.period == label] if projected else []
        true_up = {"period": label, "forecast": forecast[0].text if forecast else None,
                   "amount": forecast[0].amount if forecast else None, "open": earned.open_true_up}
    return {
        "contract": contract,
        "terms": terms,
        "year_start": y_start,
        "year_end": y_end,
        "count_from": count_from,
        "elapsed_percent": int(elapsed * 100),
        "ytd_wrvu": round_wrvu(ytd_wrvu),
        "projected_wrvu": None if projected_segs is None else round_wrvu(sum(projected_segs, ZERO)),
        "earned": earned,
        "projected": projected,
        "basis": basis,
        "basis_text": basis.describe(),
        "next_tier": nxt,
        "true_up": true_up,
        "notes": notes,
        "policy": terms.describe_policy(),
        "release": terms.describe_release(),
    }


def value_of_missed(user, missed: list[tuple[dt.date, Decimal]], today: dt.date | None = None) -> dict[str, Any] | None:
    """What wRVUs missing from an employer's report are worth under the contract in force on the last of their
    dates: the contract year's pay with the log's credit minus the pay without the missed wRVUs (tiers,
    threshold, payout share and FTE applied by :func:`compute_pay`). For a year still running the year is first
    projected at its pace so far, and the missed wRVUs are valued where that year is heading (once, not as a
    pace). None without missed wRVUs or without a contract."""
    missed = [(d, w) for d, w in missed if w > 0]
    if not missed:
        return None
    last = max(d for d, _w in missed)
    contract = contract_in_force(user, last)
    if contract is None:
        return None
    today = today or timezone.localdate()
    terms = contract.get_terms()
    y_start, y_end = contract_year(terms, last)
    bounds = segment_bounds(terms, y_start)
    until = min(y_end, today, contract.end or y_end)
    daily, notes = daily_credit(user, max(y_start, contract.start), until, terms)
    actual = bucket(daily, bounds)
    projected = until < y_end
    if projected:  # the year is running: where it is heading at its pace so far
        elapsed = Decimal((until - y_start).days + 1) / ((y_end - y_start).days + 1)
        begun = len([1 for a, _b in bounds if a <= until])
        actual = project_year(terms, actual[:begun], elapsed)
    cut = list(actual)
    in_year = [(d, w) for d, w in missed if y_start <= d <= y_end and d >= contract.start]
    for d, w in in_year:
        i = next(i for i, (a, b) in enumerate(bounds) if a <= d <= b)
        cut[i] = max(ZERO, cut[i] - w)
    amount = compute_pay(terms, actual).total - compute_pay(terms, cut).total
    return {"contract": contract, "amount": amount, "wrvu": sum((w for _d, w in in_year), ZERO),
            "outside": sum((w for d, w in missed if (d, w) not in in_year), ZERO), "projected": projected,
            "year_start": y_start, "year_end": y_end, "notes": notes}


# --------------------------------------------------------------------------- offer comparison


def compare(user, contracts: list[Contract], today: dt.date | None = None) -> dict[str, Any]:
    """Price the user's last 12 months of logged work under each contract, side by side."""
    today = today or timezone.localdate()
    end = today
    start = _add_months(today, -12) + td(days=1)
    months = [(_add_months(start, i), _add_months(start, i + 1) - td(days=1)) for i in range(12)]
    cache: dict[Any, Any] = {}
    columns = []
    for c in contracts:
        terms = c.get_terms()
        daily, notes = daily_credit(user, start, end, terms, cache)
        monthly = bucket(daily, months)
        k = terms.segments
        per = 12 // k
        segs = [sum(monthly[i * per:(i + 1) * per], ZERO) for i in range(k)]
        result = compute_pay(terms, segs)
        columns.append({"contract": c, "terms": terms, "result": result, "notes": notes,
                        "wrvus": round_wrvu(result.wrvus), "policy": terms.describe_policy(),
                        "release": terms.describe_release()})
    best = max((col["result"].total for col in columns), default=None)
    for col in columns:
        col["best"] = best is not None and col["result"].total == best and len(columns) > 1
        col["gap"] = (best - col["result"].total) if best is not None else ZERO
    return {"start": start, "end": end, "columns": columns,
            "rows": _compare_rows(columns)}


def _compare_rows(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def money(v: Decimal) -> str:
        return fmt_money(v)

    spec = [
        ("Credited wRVUs (last 12 months)", lambda c: fmt_wrvu(c["result"].wrvus)),
        ("Credit policy / RVU release", lambda c: f"{c['policy']} / {c['release']}"),
        ("Base salary", lambda c: money(c["result"].base)),
        ("Productivity pay earned", lambda c: money(c["result"].production)),
        ("Stipends", lambda c: money(c["result"].stipends)),
        ("Draws paid", lambda c: money(c["result"].draws_paid) if c["terms"].draw else "—"),
        ("True-ups paid / clawed back", lambda c: (f"{money(c['result'].true_up_paid)} / "
                                                   f"{money(c['result'].clawback)}") if c["terms"].draw else "—"),
        ("Total pay", lambda c: money(c["result"].total)),
        ("Pay per credited wRVU", lambda c: money(c["result"].per_wrvu) if c["result"].per_wrvu else "—"),
    ]
    return [{"label": label, "values": [fn(c) for c in columns]} for label, fn in spec]


# --------------------------------------------------------------------------- benchmarks


def sources() -> list[BenchmarkSource]:
    return list(BenchmarkSource.objects.all())


def source_by_id(source_id: int) -> BenchmarkSource | None:
    return BenchmarkSource.objects.filter(pk=source_id).first() if source_id else None


def wrvu_stats(source: BenchmarkSource | None) -> list[BenchmarkStat]:
    """The source's wRVU percentile rows by specialty (the benchmarks page's table)."""
    return list(source.stats.filter(metric=BenchmarkStat.WRVU).order_by("specialty")) if source else []


def source_page(source_id: int) -> dict[str, Any]:
    """A benchmark source with every statistic and how many codes it has volumes for (404 when none)."""
    src = source_by_id(source_id)
    if src is None:
        raise Http404("No such benchmark source")
    return {"source": src, "stats": list(src.stats.all().order_by("specialty", "metric")),
            "codes": src.code_volumes.count()}


def current_status(user, today: dt.date | None = None) -> dict[str, Any] | None:
    """The contract in force today and where it stands (:func:`contract_status`), or None (anonymous, none)."""
    if not getattr(user, "is_authenticated", False):
        return None
    today = today or timezone.localdate()
    contract = contract_in_force(user, today)
    return contract_status(user, contract, today) if contract else None


def release_choices() -> list[str]:
    """The loaded CMS releases a contract can pin its RVUs to."""
    return sorted(Release.objects.values_list("name", flat=True))


def default_source(specialty: str = "") -> BenchmarkSource | None:
    """A computed or survey source with the specialty and the most percentiles, else any source."""
    qs = list(BenchmarkSource.objects.all())
    if not qs:
        return None
    k = specialties.key(specialty) if specialty else ""

    def score(s: BenchmarkSource) -> tuple[int, int, int]:
        stat = s.stats.filter(metric=BenchmarkStat.WRVU, specialty_key=k).first() if k else None
        known = len(stat.percentiles()) if stat else 0
        return (known, 0 if s.kind == BenchmarkSource.APPROXIMATE else 1, s.year)

    return max(qs, key=score)


def specialty_stat(source: BenchmarkSource, specialty: str, metric: str = BenchmarkStat.WRVU) -> BenchmarkStat | None:
    if not specialty:
        return None
    return source.stats.filter(metric=metric, specialty_key=specialties.key(specialty)).first()


def standing(user, *, source: BenchmarkSource | None = None, specialty: str | None = None,
             today: dt.date | None = None, ytd_override: Decimal | None = None) -> dict[str, Any]:
    """The user's FTE-adjusted pace placed among the percentiles of a source, fitted to the career stage.

    For a signed-in user the pace counts from when they started this year (:func:`queries.pace_basis`) and
    nothing is placed until :data:`pace.RULE` is met. Attending wRVU percentiles are for attendings:
    residents and students see ``stage_note`` instead (residents: their case counts against minimums).
    A typed year-to-date figure (``ytd_override``) is annualised from 1 January.
    """

    today = today or timezone.localdate()
    profile = _profile(user) if user is not None and user.is_authenticated else None
    spec = specialty if specialty is not None else (profile.specialty if profile else "")
    fte = profile.fte if profile and profile.fte else Decimal(1)
    stage = profile.career_stage if profile is not None and ytd_override is None else "attending"
    src = source or default_source(spec)
    out: dict[str, Any] = {"source": src, "specialty": specialties.canonical(spec) if spec else "", "fte": fte,
                           "today": today, "stat": None, "placement": None, "comp_stat": None, "stage": stage,
                           "stage_note": None, "basis": None, "pace": None}
    if stage != "attending":
        out["stage_note"] = STAGE_NOTES.get(stage, "")
        out["ytd"] = None
        if stage == "resident":
            cases = queries.case_counts(user, profile)
            out["cases"] = {"set": cases["minimums_set"], "progress": cases["progress"]}
        return out
    year_end = dt.date(today.year, 12, 31)
    if profile is not None and ytd_override is None:
        basis = queries.pace_basis(user, profile, dt.date(today.year, 1, 1), today)
        out["basis"] = basis
        out["ytd"] = ytd = basis.total
        out["pace"] = basis.annual_pace(fte)
    else:
        ytd = ytd_override
        out["ytd"] = ytd
        if ytd is not None:
            out["pace"] = pace.annualised(ytd, today, fte)
    if src is None:
        return out
    stat = specialty_stat(src, spec)
    out["stat"] = stat
    out["comp_stat"] = specialty_stat(src, spec, BenchmarkStat.COMP_PER_WRVU)
    if stat is None or out["pace"] is None:
        return out
    pts = stat.percentiles()
    out["placement"] = pace.place(out["pace"], pts)
    nxt = out["placement"]["next"]
    if nxt:
        out["to_next"] = {"percentile": nxt[0], "value": nxt[1],
                          **pace.per_working_day(nxt[1] * fte, ytd, today, year_end, fte)}
    labels = [pace.ORDINAL[p] + " percentile" for p, _v in pts] + ["Your pace (annualised)"]
    values = [v for _p, v in pts] + [out["pace"]]
    out["chart"] = {"labels": labels, "values": [str(v) for v in values], "metric": src.wrvu_label}
    out["chart_rows"] = list(zip(labels, values, strict=True))
    return out


STAGE_NOTES = {
    "resident": "Attending wRVU percentiles are not a yardstick for residents: your progress is your case counts "
                "against your programme's minimums.",
    "student": "Students are not compared with attending wRVU percentiles or case minimums: the log is a record "
               "of what you saw and did.",
}
