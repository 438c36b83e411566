"""Credit an encounter with the pricing engine, under the user's release, locality and credit policy.

:class:`Crediter` is made once per request (or per import / re-pricing run): it resolves releases, the
locality and the policy once and, for bulk work, memoises identical encounters. :func:`check_entry` is the
as-you-type validation: it reports every token's credit or the reason it cannot be credited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import caches
from django.db.models import Count, Max, Sum

from rvuedge.fees.models import Release
from rvuedge.fees.services import (
    LocalityChoice,
    NotFound,
    effective_date,
    policy_from,
    price_lines,
    release_sort_key,
    resolve_locality,
)
from rvuedge.fees.services import (
    known_modifiers as known_modifiers,  # re-exported: the log's modules import it from here
)
from rvuedge.phi import find_phi
from rvuedge.pricing import EncounterLine, LineSyntaxError, Policy, PolicyError, PricingError, parse_line
from rvuedge.pricing.engine import WORK_FLOOR_END
from rvuedge.pricing.model import setting_for_pos
from rvuedge.pricing.money import round_wrvu

from .models import ROLE_LABELS, Encounter
from .paging import iter_with_lines
from .roles import default_role, full_credit_note, role_lines, role_note
from .whynot import entry_findings

_SPLIT_RE = re.compile(r"[\s,;]+")
POLICY_PROFILES = ("cms_mirror", "no_reductions")


class EntryError(ValueError):
    """Input that cannot be logged. ``field`` names the form/API field; ``problems`` are per-token details."""

    def __init__(self, field_name: str, message: str, problems: list[dict[str, Any]] | None = None):
        self.field = field_name
        self.message = message
        self.problems = problems or []
        super().__init__(message)


def line_text(code: str, modifiers: list[str] | tuple[str, ...], units: int = 1, minutes: int | None = None) -> str:
    """The rapid-entry token for a line: 27447-50, 11045x3, 01402-AAx129m."""
    text = code + "".join(f"-{m}" for m in modifiers)
    if minutes is not None:
        return f"{text}x{minutes}m"
    return f"{text}x{units}" if units > 1 else text


def entry_text(lines: list[EncounterLine] | tuple[EncounterLine, ...]) -> str:
    return " ".join(line_text(ln.code, ln.modifiers, ln.units, ln.minutes) for ln in lines)


def split_entry(text: str) -> tuple[list[tuple[int, str, EncounterLine | None, str | None]], dt.date | None, str | None]:
    """Tokens of a rapid entry: [(position, token, line or None, syntax error or None)], date, date error."""
    tokens = [t for t in _SPLIT_RE.split((text or "").strip()) if t]
    out: list[tuple[int, str, EncounterLine | None, str | None]] = []
    date: dt.date | None = None
    date_error: str | None = None
    for i, token in enumerate(tokens):
        if token.startswith("@"):
            try:
                parsed = dt.date.fromisoformat(token[1:])
            except ValueError:
                date_error = f"{token}: a date of service is written @YYYY-MM-DD"
                continue
            if date is not None and parsed != date:
                date_error = f"{token}: more than one date of service"
            date = parsed
            continue
        try:
            out.append((i, token, parse_line(token), None))
        except LineSyntaxError as exc:
            out.append((i, token, None, exc.reason))
    return out, date, date_error


def _phi_in_entry(text: str) -> str | None:
    """Why the codes box must not hold this text, when it looks like a patient identifier."""
    # The @date token is the date of service, which the box is meant to hold.
    found = find_phi(" ".join(t for t in (text or "").split() if not t.startswith("@")))
    if not found:
        return None
    return (f"The codes box {found[0].message}. Type only codes, modifiers and units (and @date of service); "
            "nothing was saved.")


def parse_entry_text(text: str) -> tuple[list[EncounterLine], dt.date | None]:
    """Lines and the optional @date of a rapid entry; :class:`EntryError` names every bad token."""
    tokens, date, date_error = split_entry(text)
    if date_error or any(line is None for _i, _t, line, _e in tokens):
        phi = _phi_in_entry(text)  # a patient identifier typed where codes go: say so, not "bad code"
        if phi:
            raise EntryError("entry", phi)
    if date_error:
        raise EntryError("entry", date_error)
    bad = [{"token": tok, "error": err} for _i, tok, line, err in tokens if line is None]
    if bad:
        raise EntryError("entry", "; ".join(f"{b['token']}: {b['error']}" for b in bad), bad)
    lines = [line for _i, _t, line, _e in tokens if line is not None]
    if not lines:
        raise EntryError("entry", "Type at least one code, e.g. 99214 20610-RT")
    return lines, date


@dataclass
class Credit:
    """What gets stored for one encounter."""

    fields: dict[str, Any]
    lines: list[dict[str, Any]]
    release: Release
    policy: Policy
    result: Any = None  # the engine's EncounterResult (None when memoised)


@dataclass
class Crediter:
    """Prices encounters for one user. ``release``/``policy`` override the profile (for what-if previews)."""

    profile: Any
    release: str | None = None
    policy: Policy | dict[str, Any] | str | None = None
    memo: bool = False
    _releases: list[Release] = field(default_factory=list, init=False)
    _localities: dict[int, LocalityChoice] = field(default_factory=dict, init=False)
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, init=False)
    _by_date: dict[dt.date, tuple[Release, str | None]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        spec = self.policy if self.policy is not None else self.profile.policy_spec()
        try:
            self._policy = policy_from(spec)
        except PolicyError as exc:
            raise EntryError("policy", f"Credit policy: {exc}") from None
        self._policy_spec = spec if isinstance(spec, dict) else {"wrvu_profile": self._policy.name}
        if isinstance(spec, Policy):
            self._policy_spec = spec.to_dict()
        self._modifiers = known_modifiers()  # once per crediter, not once per encounter
        self._releases = sorted(Release.objects.all(), key=release_sort_key)
        if not self._releases:
            raise EntryError("entry", "No CMS release is loaded yet, so nothing can be credited. "
                                      "Run: rvuedge data load PATH-TO-RVU-ZIP")
        name = (self.release if self.release is not None else self.profile.default_release) or ""
        self._fixed: Release | None = None
        if name:
            self._fixed = next((r for r in self._releases if r.name == name.upper()), None)
            if self._fixed is None:
                loaded = ", ".join(r.name for r in self._releases)
                raise EntryError("release", f"RVU release {name} is not loaded (loaded: {loaded}). "
                                            "Pick another on your profile page.")

    @property
    def policy_obj(self) -> Policy:
        return self._policy

    def release_for(self, dos: dt.date) -> Release:
        return self.release_and_note(dos)[0]

    def release_and_note(self, dos: dt.date) -> tuple[Release, str | None]:
        """The release that credits ``dos``, and why it is not one in force on that date when it is not."""
        if self._fixed is not None:
            return self._fixed, None
        hit = self._by_date.get(dos)
        if hit is None:
            hit = self._by_date[dos] = choose_release(self._releases, dos)
        return hit


    def locality_for(self, release: Release) -> LocalityChoice:
        loc = self._localities.get(release.pk)
        if loc is None:
            try:
                loc = resolve_locality(release, self.profile.default_locality or "national")
            except NotFound as exc:
                raise EntryError("locality", f"Default locality: {exc}") from None
            self._localities[release.pk] = loc
        return loc

    def credit(self, lines: list[EncounterLine] | tuple[EncounterLine, ...], dos: dt.date, setting: str,
               role: str | None = None) -> Credit:
        """Price the lines; raise :class:`PricingError` (with ``line`` and ``near``) when one cannot be.

        ``role`` credits a role the fee schedule prices with a modifier (first assist: 80, co-surgeon: 62) as
        that modifier under this policy (:mod:`rvuedge.logbook.roles`); the stored lines keep what was typed
        and each changed line's explanation says why (``role``)."""
        typed = list(lines)
        lines, role_changed, role_mod = role_lines(typed, role)
        # an unknown modifier, or one the code's indicators refuse, is a PricingError from price_lines (memoised)
        release, release_note = self.release_and_note(dos)
        key = None
        if self.memo:
            key = (tuple(lines), tuple(role_changed), role, setting, release.pk, release_note, dos.year,
                   dos <= WORK_FLOOR_END)
            hit = self._memo.get(key)
            if isinstance(hit, PricingError):
                raise hit
            if hit is not None:
                fields, rows = hit
                return Credit(dict(fields), rows, release, self._policy)
        loc = self.locality_for(release)
        try:
            priced = price_lines(list(lines), release=release, locality=loc, setting=setting, policy=self._policy,
                                 date_of_service=dos, modifiers=self._modifiers)
        except PricingError as exc:
            # An unknown code costs a near-match search over every code; remember the answer.
            if key is not None:
                self._memo[key] = exc
            raise
        res = priced.result
        src = priced.source()
        fields = {
            "total_wrvu": res.total_wrvu,
            "total_wrvu_exact": res.total_wrvu_exact,
            "total_payment": res.total_payment,
            "release": release.name,
            "policy_name": self._policy.name,
            "policy": self._policy_spec,
            "locality": loc.key,
            "source": {
                "release": src["release"], "release_label": src["release_label"],
                "locality": loc.key, "locality_label": loc.label,
                "gpci": src["locality"]["gpci"], "conversion_factor": src["conversion_factor"],
                "conversion_factor_kind": src["conversion_factor_kind"], "setting": priced.setting,
                "policy": self._policy.name, "rvu_release": self._policy.rvu_release.describe(),
                **({"total_note": res.total_note} if res.total_note else {}),
                **({"release_note": release_note} if release_note else {}),
            },
            "flags": list(res.flags),
        }
        rows = []
        for i, ln in enumerate(res.lines):
            # The engine's public to_dict() is the explanation we keep: steps, flags, rank, factor, row, extras.
            d = ln.to_dict(explain=True)
            expl: dict[str, Any] = {"wrvu_steps": d.pop("wrvu_steps", []), "payment_steps": d.pop("explanation", [])}
            for k in ("code", "modifiers", "units", "wrvu", "wrvu_exact", "payment"):
                d.pop(k, None)
            expl.update({k: v for k, v in d.items() if v not in (None, [], {})})
            modifiers = ln.modifiers
            if i in role_changed:  # priced with the role's modifier; stored as typed
                modifiers = typed[i].modifiers
                factor = (self._policy.co_surgery_wrvu_factor if role_mod == "62"
                          else self._policy.assistant_wrvu_factor)
                denied = any(f.startswith(("ASSISTANT_NOT", "CO_SURGERY_NOT")) for f in ln.flags)
                expl["role"] = role_note(ROLE_LABELS.get(role or "", role or ""), role_mod or "", factor,
                                         denied=denied)
            elif role and (note := full_credit_note(role, ROLE_LABELS.get(role, role), ln.code, ln.modifiers)):
                expl["role"] = note
            rows.append({
                "position": i,
                "code": ln.code,
                "modifiers": "-".join(modifiers),
                "units": ln.units,
                "minutes": lines[i].minutes,
                "description": (ln.row.description if ln.row is not None else "")[:100],
                "wrvu": ln.wrvu,
                "wrvu_exact": ln.wrvu_exact,
                "payment": ln.payment,
                "explanation": expl,
            })
        if key is not None:
            self._memo[key] = (fields, rows)
        return Credit(fields, rows, release, self._policy, res)


def default_role_for(profile: Any, codes: list[str]) -> str:
    """The profile's default role for an encounter of these codes (:func:`rvuedge.logbook.roles.default_role`)."""
    return default_role(profile.career_stage, getattr(profile, "surgical_role", "") or "", codes)


@dataclass
class Recredited:
    """One stored encounter credited again: ``credit`` None when it could not be (``error`` says why)."""

    encounter: Any
    lines: list[Any]
    credit: Credit | None = None
    error: str | None = None

    @property
    def total_wrvu(self) -> Any:
        """The new credit, or the credit as logged when it could not be re-credited."""
        return self.credit.fields["total_wrvu"] if self.credit is not None else self.encounter.total_wrvu


def recredit(crediter: Crediter, encounters: Any) -> Any:
    """Credit stored encounters again (their stored lines, setting and role) under ``crediter``'s release and
    policy; store nothing. The one re-crediting path of the log: the what-if preview and every contract that
    credits differently from the log read it. Yields :class:`Recredited` by (date, id)."""

    for enc, lines in iter_with_lines(encounters):
        try:
            credit = crediter.credit(
                [EncounterLine(code=ln.code, modifiers=tuple(ln.modifier_list), units=ln.units, minutes=ln.minutes)
                 for ln in lines], enc.date, enc.setting, enc.role)
        except PricingError as exc:
            yield Recredited(enc, lines, None, str(exc))
        else:
            yield Recredited(enc, lines, credit)


def logged_credit_applies(profile: Any, policy: Any, release: str | None = None) -> bool:
    """Whether encounters logged under ``profile`` already carry the credit ``policy`` (and ``release``, None =
    the release in force on each date) would give them, so re-crediting can be skipped."""
    if release or profile.default_release:
        return False
    try:
        return policy_from(profile.policy_spec()) == policy_from(policy)
    except (PolicyError, TypeError, ValueError, KeyError):  # a broken policy on either side means: re-credit
        return False


# Re-credited days are kept this long. A day is re-credited again when its stamp (count, ids and stored wRVUs of
# its live encounters, read from the covering (user, date) index) changed or one of its encounters was saved
# since the last look (the (user, updated_at) index): an edit or a new case re-credits its days only.
RECREDIT_KEEP_SECONDS = 30 * 24 * 3600


@dataclass
class RecreditedDays:
    """Credited wRVUs per day with encounters (ascending) under another policy, and what could not be."""

    days: list[tuple[dt.date, Decimal]]
    failed: int = 0
    why: str = ""


def recredited_days(crediter: Crediter, user: Any, start: dt.date, end: dt.date) -> RecreditedDays:
    """:func:`recredit` summed per day over ``start..end``, for pages that show a contract's year on every view.

    Each day's total is kept (the ``recredit`` cache) under the crediter's policy, release and locality and the
    loaded releases: the next view re-credits only the days that changed, not the whole year (about 3 s for
    30,000 encounters)."""
    live = Encounter.objects.filter(user=user, deleted_at__isnull=True, date__gte=start, date__lte=end)
    stamps = {d: (n, ids, str(w)) for d, n, ids, w in
              live.order_by().values("date").annotate(n=Count("id"), ids=Sum("id"), w=Sum("total_wrvu"))
              .values_list("date", "n", "ids", "w")}
    identity = (user.pk, sorted(crediter.policy_obj.to_dict().items(), key=str), crediter.release,
                crediter.profile.default_release, crediter.profile.default_locality,
                [(r.name, r.fingerprint) for r in crediter._releases])  # the releases it credits with
    key = "recredited-days:" + hashlib.sha256(repr(identity).encode()).hexdigest()
    kept = caches["recredit"].get(key) or {"seen": None, "days": {}}
    days: dict[dt.date, tuple[Any, ...]] = kept["days"]
    seen = Encounter.objects.filter(user=user).aggregate(last=Max("updated_at"))["last"]
    touched = set(live.filter(updated_at__gt=kept["seen"]).values_list("date", flat=True)) if kept["seen"] else set()
    stale = sorted(d for d, stamp in stamps.items() if d in touched or days.get(d, (None,))[0] != stamp)
    if stale or seen != kept["seen"]:
        fresh: dict[dt.date, list[Any]] = {d: [Decimal(0), 0, ""] for d in stale}
        todo = live.filter(date__in=stale) if len(stale) <= 400 else live.filter(date__gte=stale[0],
                                                                                  date__lte=stale[-1])
        for again in recredit(crediter, todo) if stale else ():
            day = fresh.get(again.encounter.date)
            if day is None:  # a day in the span that did not change
                continue
            day[0] += again.total_wrvu
            if again.credit is None:
                day[1] += 1
                day[2] = day[2] or again.error or ""
        for d in stale:
            days[d] = (stamps[d], *fresh[d])
        caches["recredit"].set(key, {"seen": seen, "days": days}, RECREDIT_KEEP_SECONDS)
    out = RecreditedDays([(d, round_wrvu(days[d][1])) for d in sorted(stamps)])
    for d in sorted(stamps):
        out.failed += days[d][2]
        out.why = out.why or days[d][3]
    return out


def choose_release(releases: list[Release], dos: dt.date) -> tuple[Release, str | None]:
    """The newest release in force on ``dos``, preferring the date's own year (releases sorted oldest first).

    Values change every January, so a release of the right year beats one of another: when the release in
    force on the date is not loaded (RVU26A for a March 2026 visit when only RVU26C is), the year's earliest
    loaded release credits it. Whenever the release used is not the one in force, the note says so.
    """
    in_force = [r for r in releases if effective_date(r) <= dos]
    same_year = [r for r in releases if r.year == dos.year]
    if in_force and in_force[-1].year == dos.year:
        return in_force[-1], None
    if same_year:
        r = same_year[0]
        return r, (f"The {dos.year} release in force on this date is not loaded; credited with {r.name}, the earliest "
                   f"{dos.year} release loaded (load {dos.year}'s January release, RVU{dos.year % 100:02d}A, "
                   "for the exact values).")
    r = in_force[-1] if in_force else releases[0]
    return r, (f"No {dos.year} CMS release is loaded; credited with {r.name} ({r.year} values). Load a "
               f"{dos.year} release (rvuedge data update, or rvuedge data load RVU{dos.year % 100:02d}A) "
               "and re-credit.")


def resolve_setting(setting: str | None, pos: str | None, default: str) -> tuple[str, str]:
    """(setting, pos). A place-of-service code decides the setting; otherwise the given or default setting."""
    pos = (pos or "").strip()
    if pos:
        if len(pos) == 1 and pos.isdigit():
            pos = "0" + pos
        try:
            return setting_for_pos(pos), pos
        except PricingError as exc:
            raise EntryError("pos", exc.reason) from None
    value = (setting or default or "non_facility").strip().lower().replace("-", "_")
    if value in {"nonfacility", "office", "non_fac", "nonfac"}:
        value = "non_facility"
    if value in {"fac"}:
        value = "facility"
    if value not in {"facility", "non_facility"}:
        raise EntryError("setting", f"Setting {setting!r}: use facility, non_facility or a place-of-service code")
    return value, ""


def check_entry(crediter: Crediter, text: str, dos: dt.date, setting: str, role: str | None = None) -> dict[str, Any]:
    """As-you-type validation: every token with its credit and explanation, or why it cannot be credited.

    Lines with errors are left out and the rest priced together, so the credit shown for the good lines is
    what they would earn as one encounter.
    """
    tokens, typed_date, date_error = split_entry(text)
    if typed_date:
        dos = typed_date
    items: list[dict[str, Any]] = []
    for _pos, token, line, err in tokens:
        items.append({"token": token, "line": line, "ok": line is not None, "error": err,
                      "kind": "syntax" if err else None, "near": [],
                      "text": line_text(line.code, line.modifiers, line.units, line.minutes) if line else token.upper(),
                      "fav": line_text(line.code, line.modifiers) if line else ""})
    general: str | None = date_error
    if date_error or not all(it["ok"] for it in items):
        general = _phi_in_entry(text) or general
    valid = [it for it in items if it["ok"]]
    credit: Credit | None = None
    while valid:
        try:
            credit = crediter.credit([it["line"] for it in valid], dos, setting,
                                     role or default_role_for(crediter.profile, [it["line"].code for it in valid]))
            break
        except PricingError as exc:
            culprit = None
            if exc.line is not None and 0 <= exc.line < len(valid):
                culprit = valid[exc.line]
            elif exc.code:
                culprit = next((it for it in valid if it["line"].code == exc.code), None)
            if culprit is None:
                general = exc.reason
                break
            culprit.update(ok=False, error=exc.reason, near=list(exc.near),
                           kind="code" if exc.reason.startswith("unknown code") else "rule")
            valid.remove(culprit)
        except EntryError as exc:
            general = exc.message
            break
    findings: list[dict[str, Any]] = []
    if credit is not None:
        for it, row in zip(valid, credit.lines, strict=True):
            it["credit"] = row
            it["warnings"] = [f.replace("_", " ").lower() for f in row["explanation"].get("flags", [])]
            it["findings"] = []
        findings = _entry_findings(crediter, valid, dos, credit.release)
    for it in items:
        it.pop("line", None)
    ok = bool(items) and all(it["ok"] for it in items) and credit is not None and not general
    return {
        "items": items,
        "ok": ok,
        "error": general,
        "date_of_service": dos,
        "typed_date": typed_date,
        "setting": setting,
        "total_wrvu": credit.fields["total_wrvu"] if credit else None,
        "total_payment": credit.fields["total_payment"] if credit else None,
        "release": credit.release.name if credit else None,
        "policy": crediter.policy_obj.name,
        "source": credit.fields["source"] if credit else None,
        # Why it might not be credited (rvuedge.logbook.rules): warnings, never a reason to refuse the entry.
        "findings": findings,
    }


def _entry_findings(crediter: Crediter, valid: list[dict[str, Any]], dos: dt.date,
                    release: Release) -> list[dict[str, Any]]:
    """The rules' warnings for the valid lines, against the user's own log; each also on its item."""
    user = getattr(crediter.profile, "user", None)
    found = entry_findings(user, [it["line"] for it in valid], dos, release,
                           credit_non_medicare=crediter.policy_obj.credit_non_medicare_rvus)
    out = []
    for f in found:
        d = f.to_dict()
        valid[f.line.ref]["findings"].append(d)
        out.append(d)
    return out
