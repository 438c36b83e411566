"""Stage 1-5 and 8-10 of pfs-rules 3.2 for one line: classify its modifiers, find its row, the status gate, the
setting and FSA, the OPPS cap, bilateral, surgical role, global split and provider type."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..lookup import RvuLookup
from ..model import FACILITY, NPP_PROVIDER_TYPES, LineResult, Part, PricingError, RvuRow, setting_for_pos
from ..money import ONE, ZERO, cents, fmt_exact, mul_factor
from ..policy import Policy
from .constants import (
    _AS_MODIFIER,
    _ASSISTANT,
    _BILAT_FACTOR,
    _CO_SURGERY,
    _PAIR_FACTOR,
    _PCTC_TEXT,
    _ZERO_CENTS,
    _ZERO_STATUS,
    MODIFIER_KINDS,
    NEUTRAL_MODIFIERS,
    REJECT_STATUS,
)
from .context import _fsa, _opps_cap, _State
from .steps import (
    _amount,
    _deny,
    _glob_days,
    _incident_to_in_facility,
    _late,
    _push,
    _scale,
    _step,
    _unreduced,
    _wpush,
    _wstep,
)


class _Mods:
    """A line's modifiers, classified."""

    __slots__ = ("comp", "disc", "reduced", "bil50", "rt", "lt", "role", "split", "anes", "distinct",
                 "fs", "inc22")

    def __init__(self) -> None:
        self.comp = ""
        self.disc = self.reduced = self.bil50 = self.rt = self.lt = self.distinct = self.fs = False
        self.inc22 = False
        self.role: str | None = None
        self.split: str | None = None
        self.anes: str | None = None


_NO_MODS = _Mods()


def _classify(code: str, mods: tuple[str, ...], r: LineResult) -> _Mods:
    if not mods:
        return _NO_MODS
    c = _Mods()
    seen: set[str] = set()
    for m in mods:
        if m in seen:
            raise PricingError(f"{code}: modifier {m} is repeated", code=code)
        seen.add(m)
        kind = MODIFIER_KINDS.get(m)
        if kind is None:
            if m not in NEUTRAL_MODIFIERS:
                r.flags.append(f"UNRECOGNISED_MODIFIER_{m}")
            continue
        if kind == "comp":
            if c.comp:
                raise PricingError(f"{code}: modifiers 26 and TC cannot be billed on one line", code=code)
            c.comp = m
        elif kind == "role":
            if c.role:
                raise PricingError(f"{code}: modifiers {c.role} and {m} cannot be combined on one line", code=code)
            c.role = m
        elif kind == "split":
            if c.split:
                raise PricingError(f"{code}: modifiers {c.split} and {m} cannot be combined on one line",
                                   code=code)
            c.split = m
        elif kind == "anes":
            if c.anes:
                raise PricingError(f"{code}: anaesthesia modifiers {c.anes} and {m} are mutually exclusive",
                                   code=code)
            c.anes = m
        elif kind == "disc":
            c.disc = True
        elif kind == "reduced":
            c.reduced = True
        elif kind == "bilat":
            c.bil50 = True
        elif kind == "rt":
            c.rt = True
        elif kind == "lt":
            c.lt = True
        elif kind == "distinct":
            c.distinct = True
        elif kind == "fs":
            c.fs = True
        elif kind == "increased":
            c.inc22 = True
    if c.disc and c.reduced:
        raise PricingError(f"{code}: modifiers 52 and 53 cannot be combined on one line", code=code)
    return c


def _resolve(index: int, ln: Any, st: _State) -> LineResult:
    """One line through the per-line steps of pfs-rules 3.2, in order; the cross-line rules come later."""
    r = LineResult(index, ln)
    c = _classify(ln.code, ln.modifiers, r) if ln.modifiers else _NO_MODS
    r._mods = c
    r.setting = _line_setting(r, ln, st)
    row, used53 = _find_row(r, c, st.lookup, index)  # 1. row
    if (row.status != "A" or row.not_used_for_medicare or c.anes) and _gate(r, c, st, row, row.status, index):
        return r  # 2. status gate: not priced from RVUs
    fsa = _fee_schedule_amount(r, row, st, index)  # 3. setting + FSA
    if _nothing_else_applies(ln, c, row):
        r._session = ln.session or ""
        r._done = 1  # finished now; a cross-line rule that touches it leaves parts or ranks for _finish
        _unreduced(r, fsa, row.work_rvu, ln.units)
        return r
    r._session = ln.session if ln.session is not None else (
        f"distinct:{index}" if c.distinct else "")  # 59/X{EPSU}: a session of its own
    _facility_flags(r, ln, row, st.policy)
    if st.opps_source is not None:
        _opps_cap_step(r, row, fsa, st)  # 4.
    _bilateral_step(r, c, row, st.policy, index)  # 5.
    if c.role is not None:  # 8 (validation part). surgical role: denial now (keeps it out of ranking), factor later
        _resolve_role(r, c.role, row)
    if c.split is not None:  # 9. global split
        _resolve_split(r, c.split, row, ln, index)
    elif ln.days_furnished is not None:
        raise PricingError(f"{ln.code}: days_furnished applies only to modifier 55", code=ln.code, line=index)
    _reduced_and_credit_modifiers(r, c, used53, st.policy)
    _provider_type(r, ln, c, st.policy)  # 10.
    if _untouched(r):  # nothing changed the line (its modifiers chose the row or changed nothing): finished now
        r._done = 1
        _unreduced(r, fsa, row.work_rvu, ln.units)
    return r


def _line_setting(r: LineResult, ln: Any, st: _State) -> str | None:
    """The line's own setting or place of service (echoed in its result), else the encounter's."""
    if ln.setting is not None:
        r._echo_setting = True
        return ln.setting  # type: ignore[no-any-return]
    if ln.pos is not None:
        r._echo_setting = True
        return setting_for_pos(ln.pos)
    return st.setting


def _find_row(r: LineResult, c: _Mods, lookup: RvuLookup, index: int) -> tuple[RvuRow, bool]:
    """Step 1: the row the modifiers choose (26/TC rows, a 53 row when the file has one); whether a 53 row was
    used. Raises for an unknown code, a missing row or a component modifier the PC/TC indicator forbids."""
    code = r.code
    used53 = False
    if c is _NO_MODS:
        row = lookup.get(code, "")
    elif c.comp:
        row = lookup.get(code, c.comp)
    elif c.disc:
        row = lookup.get(code, "53")
        used53 = row is not None
        if row is None:
            row = lookup.get(code, "")
    else:
        row = lookup.get(code, "")
    if row is None:
        _missing_row(code, c, lookup, index)
    assert row is not None
    r.row = row
    r.status = row.status
    if c.comp and not (row.pctc == "1" or (row.pctc == "6" and c.comp == "26")):
        raise PricingError(
            f"{code}-{c.comp}: modifier {c.comp} is not valid with PC/TC indicator {row.pctc} "
            f"({_PCTC_TEXT.get(row.pctc, 'unknown')})", code=code, line=index)
    return row, used53


def _fee_schedule_amount(r: LineResult, row: RvuRow, st: _State, index: int) -> Decimal:
    """Step 3: the FSA of one unit in the line's setting (an NA indicator prices it with the other setting's PE)."""
    setting = r.setting
    if setting is None:
        raise PricingError(f"{r.code}: no setting (facility / non_facility) or place of service given",
                           code=r.code, line=index)
    fac = setting == FACILITY
    na_note = None
    if fac:
        if row.fac_na:
            fac = False
            r.flags.append("FAC_NA_PRICED_AT_NONFACILITY")
            na_note = "facility NA indicator set: priced with the non-facility PE"
    elif row.nonfac_na:
        fac = True
        r.flags.append("NONFAC_NA_PRICED_AT_FACILITY")
        na_note = "non-facility NA indicator set: priced with the facility PE"
    r._fac = fac
    fsa = row._cache.get(st.cid + fac)
    if fsa is None:
        fsa = _fsa(row, fac, st)
    r.fee_schedule_amount = fsa
    r._kind = "price"
    r._ctx = st.ctx  # the explanation starts with the FSA and work-RVU steps, built when read
    if na_note is not None:
        r._na_note = na_note
    return fsa


def _nothing_else_applies(ln: Any, c: _Mods, row: RvuRow) -> bool:
    """No modifier, no PC/TC or bilateral concern, a physician, nothing line-specific: no per-line rule after
    the FSA can apply, only the cross-line rules."""
    return (c is _NO_MODS and row.pctc in ("0", "9") and ln.provider_type == "physician"
            and (ln.units == 1 or row.bilat not in ("1", "2", "3")) and ln.days_furnished is None
            and not ln.incident_to)


def _facility_flags(r: LineResult, ln: Any, row: RvuRow, policy: Policy) -> None:
    """A diagnostic test's TC billed for a facility patient; an incident-to code or service in a facility."""
    if r.setting != FACILITY:
        return
    if row.pctc == "1" and row.mod in ("", "TC"):
        r.flags.append("TC_BILLED_IN_FACILITY")
    if row.pctc == "5":
        _incident_to_in_facility(r, policy)
    if ln.incident_to:
        r.flags.append("INCIDENT_TO_NOT_IN_FACILITY")


def _opps_cap_step(r: LineResult, row: RvuRow, fsa: Decimal, st: _State) -> None:
    """Step 4: the OPPS imaging cap (both settings when the release's OPPSCAP file or PPRRVU OPPS columns give
    it; a fixture's caps are non-facility)."""
    fac = r._fac
    cap = _opps_cap(st, row, fac, r.setting)
    if cap is None or cap >= fsa:
        return
    flags = r.flags
    for p in r._parts:
        p.base = cap
    r.extras["opps_cap_amount"] = cents(cap)
    flags.append("OPPS_CAP_APPLIED")
    source = st.opps_source
    if source == "fixture":
        _step(r, "OPPS_CAP", "OPPSCAP", None,
              "OPPS cap: pay the lower of the FSA {} and the OPPS amount {}", fsa, cap)
        return
    r.extras["opps_cap_source"] = source
    side = "facility" if fac else "non-facility"
    if source == "file":
        flags.append("OPPS_CAP_FROM_OPPSCAP_FILE")
        _step(r, "OPPS_CAP", "OPPSCAP", None, "OPPS cap: pay the lower of the FSA {} and the OPPS "
              "amount {} ({} price of the release's OPPSCAP file)", fsa, cap, side)
    else:
        flags.append("OPPS_CAP_FROM_PPRRVU_COLUMNS")
        _step(r, "OPPS_CAP", "PPRRVU OPPS", None, "OPPS cap: pay the lower of the FSA {} and the OPPS "
              "amount {} (no OPPSCAP file loaded: computed from the PPRRVU columns as (work RVU {} x "
              "work GPCI + OPPS {} PE RVU {} x PE GPCI + OPPS MP RVU {} x MP GPCI) x CF)", fsa, cap,
              row.work_rvu, side, row.opps_fac_pe if fac else row.opps_nonfac_pe, row.opps_mp)


def _bilateral_step(r: LineResult, c: _Mods, row: RvuRow, policy: Policy, index: int) -> None:
    """Step 5: modifier 50, RT+LT on one line, or two units of a bilateral code; a lone RT or LT waits for its
    pair (cross-line)."""
    bilat = row.bilat
    units = r.units
    flags = r.flags
    if c.bil50 or (c.rt and c.lt):
        if bilat == "9" or bilat not in _BILAT_FACTOR:
            if c.bil50:
                raise PricingError(f"{r.code}-50: modifier 50 is not valid: BILAT SURG {bilat} (bilateral concept "
                                   "does not apply)", code=r.code, line=index)
        else:
            _bilateral(r, bilat, policy, "modifier 50" if c.bil50 else "RT+LT")
            if units > 1:
                flags.append("BILATERAL_WITH_UNITS")
            if c.bil50 and (c.rt or c.lt):
                flags.append("MODIFIER_50_WITH_RT_LT")
    elif units == 2 and bilat in ("1", "2", "3") and not (c.rt or c.lt) and row.glob_days != "ZZZ":
        r._parts[0].units = 1
        flags.append("TWO_UNITS_PRICED_AS_BILATERAL")
        _bilateral(r, bilat, policy, "2 units")
    elif c.rt != c.lt and bilat in _PAIR_FACTOR:
        r._pair = "RT" if c.rt else "LT"


def _reduced_and_credit_modifiers(r: LineResult, c: _Mods, used53: bool, policy: Policy) -> None:
    """52 and 53 (contractor priced, or a 53 row of its own), and the credit-only factors of 22 and FS."""
    if c.reduced:
        r._null = "reduced service (52): priced by the contractor"
        r.flags.append("CONTRACTOR_PRICED_REDUCED_SERVICE")
        _late(r, ("REDUCED_SERVICE", "MOD 52", None, policy.reduced_service_wrvu_factor,
                  "52 reduced service: no formula price (contractor review); credit x{}",
                  (policy.reduced_service_wrvu_factor,)))
        r._excluded = True
    elif c.disc and not used53:
        r._null = "discontinued (53) without its own row: priced by the contractor"
        r.flags.append("CONTRACTOR_PRICED_DISCONTINUED")
        _late(r, ("DISCONTINUED", "MOD 53", None, policy.discontinued_wrvu_factor,
                  "53 discontinued: no 53 row, contractor priced; credit x{}", (policy.discontinued_wrvu_factor,)))
        r._excluded = True
    elif used53:
        _push(r, ("DISCONTINUED", "MOD 53", None, _amount(r._parts),
                  "53 discontinued: priced from the file's own {}-53 row", (r.code,)))
    if c.inc22 and policy.increased_service_wrvu_factor != ONE:
        _late(r, ("INCREASED_SERVICE", "MOD 22", None, policy.increased_service_wrvu_factor,
                  "22 increased service: no automatic payment increase; credit x{}",
                  (policy.increased_service_wrvu_factor,)))
    if c.fs and policy.split_shared_wrvu_factor != ONE:
        _late(r, ("SPLIT_SHARED", "MOD FS", None, policy.split_shared_wrvu_factor,
                  "FS split/shared visit: credit x{}", (policy.split_shared_wrvu_factor,)))


def _provider_type(r: LineResult, ln: Any, c: _Mods, policy: Policy) -> None:
    """Step 10: a non-physician practitioner billing under their own NPI."""
    if ln.provider_type in NPP_PROVIDER_TYPES and c.role != "AS" and not ln.incident_to:
        _late(r, ("NPP", ln.provider_type.upper(), policy.npp_payment_factor, policy.npp_wrvu_factor,
                  "{} billing under own NPI: {}% of the physician amount",
                  (ln.provider_type.upper(), fmt_exact(policy.npp_payment_factor * 100))))


def _untouched(r: LineResult) -> bool:
    """No rule changed the line's parts, steps, factors or extras."""
    return (r._p is None and r._late is None and r._null is None and r._pair is None and not r._excluded
            and r._steps is None and r._extras is None)


def _gate(r: LineResult, c: _Mods, st: _State, row: RvuRow, status: str, index: int) -> bool:
    """Status gate (pfs-rules 1.4, 3.4). True when the line is finished (not priced from RVUs)."""
    code = r.code
    if status == "J" or row.anes_base_units is not None:
        _resolve_anesthesia(r, c, st)
        return True
    if c.anes:
        raise PricingError(f"{code}: {c.anes} is an anaesthesia modifier but {code} is not an anaesthesia code",
                           code=code, line=index)
    if status in REJECT_STATUS:
        raise PricingError(f"{code} {REJECT_STATUS[status]}; it cannot be billed", code=code, line=index)
    units = r.units
    work = row.work_rvu
    flags = r.flags
    zero = _ZERO_STATUS.get(status)
    if zero is not None or (row.not_used_for_medicare and status in ("A", "R", "T")):
        if zero is None:
            zero = ("NOT_USED_FOR_MEDICARE_PAYMENT", "RVUs not used for Medicare payment", True)
        flag, text, creditable = zero
        credit = creditable and st.policy.credit_non_medicare_rvus
        r._kind = "zero"
        r._parts = [Part(units, ZERO, ZERO, work if credit else ZERO, ONE)]
        flags.append(flag)
        _push(r, ("STATUS", f"STATUS {status}", None, _ZERO_CENTS, "Status {}: {}; Medicare pays 0",
                  (status, text)))
        if credit:
            _wpush(r, ("WORK_RVU", f"STATUS {status}", None, work * units,
                       "work RVU {} x {} credited (credit_non_medicare_rvus)", (work, units)))
        else:
            _wpush(r, ("WORK_RVU", f"STATUS {status}", None, ZERO, "Status {}: no wRVU credit", (status,)))
        r._excluded = True
        return True
    if status == "C" or (status == "R" and not (work or row.pe_nonfac or row.pe_fac or row.mp_rvu)):
        r._kind = "null"
        r._null = "contractor priced"
        flags.append("STATUS_C_CONTRACTOR_PRICED" if status == "C" else "STATUS_R_CONTRACTOR_PRICED")
        if not work:
            flags.append("NEEDS_MANUAL_VALUATION")
        r._parts = [Part(units, ZERO, ONE, work, ONE)]
        _push(r, ("STATUS", f"STATUS {status}", None, None,
                  "Status {}: priced by the contractor (MAC) case by case", (status,)))
        _wpush(r, ("WORK_RVU", f"STATUS {status}", None, work * units,
                   "file work RVU {} x {}" + ("" if work else " (needs manual valuation)"), (work, units)))
        r._excluded = True
        return True
    if status not in ("A", "R", "T"):
        raise PricingError(f"{code}: unknown status code {status!r}", code=code, line=index)
    if status == "R":
        flags.append("STATUS_R_RESTRICTED")
    return False


def _missing_row(code: str, c: _Mods, lookup: RvuLookup, index: int) -> None:
    rows = lookup.rows_for(code)
    if not rows:
        raise PricingError(f"unknown code {code}", code=code, line=index, near=lookup.near(code))
    if c.comp:
        base = rows[0]
        if not (base.pctc == "1" or (base.pctc == "6" and c.comp == "26")):
            raise PricingError(
                f"{code}-{c.comp}: modifier {c.comp} is not valid with PC/TC indicator {base.pctc} "
                f"({_PCTC_TEXT.get(base.pctc, 'unknown')})", code=code, line=index)
        raise PricingError(f"{code}: the file has no {c.comp} row", code=code, line=index)
    have = ", ".join(r.key for r in rows)
    raise PricingError(f"{code}: no global row (the file has {have}); add the modifier", code=code, line=index)


def _bilateral(r: LineResult, bilat: str, policy: Policy, how: str) -> None:
    factor = _BILAT_FACTOR[bilat]
    if bilat == "1":
        credit = policy.bilateral_wrvu_factor if policy.bilateral_wrvu_factor is not None else (
            factor if policy.bilateral else ONE)
    else:
        credit = factor if policy.bilateral or bilat != "3" else ONE
    if bilat == "0":
        r.flags.append("BILATERAL_PAID_ONCE")
    _scale(r, factor, credit)
    text = {"0": "BILAT 0: no 150% rule; paid once at 100%", "1": "+50%: bilateral (150%)",
            "2": "BILAT 2: RVUs already bilateral; paid once at 100%", "3": "each side at 100% (200%)"}[bilat]
    _step(r, "BILATERAL", f"BILAT SURG {bilat}", factor, "{} ({})", text, how)
    if credit != ONE or factor != ONE:
        _wstep(r, "BILATERAL", f"BILAT SURG {bilat}", credit, "bilateral credit x{} ({})", credit, how)


#: Surgical role -> (its PPRRVU indicator, the indicator's label, the indicator values that refuse the role with
#: the reason given, the step, what a refusal says). Any other role (80, 81, 82, AS) is an assistant at surgery.
_ROLE_RULES: dict[str, tuple[str, str, dict[str, str], str, str]] = {
    "62": ("co_surg", "CO-SURG", {"0": "CO_SURGERY_NOT_ALLOWED", "9": "CO_SURGERY_NOT_APPLICABLE"}, "CO_SURGERY",
           "{role} co-surgery not payable"),
    "66": ("team", "TEAM SURG", {"0": "TEAM_SURGERY_NOT_ALLOWED", "9": "TEAM_SURGERY_NOT_APPLICABLE"},
           "TEAM_SURGERY", "{role} team surgery not payable"),
}
_ASSISTANT_RULE = ("asst", "ASST SURG", {"1": "ASSISTANT_NOT_PAYABLE", "9": "ASSISTANT_NOT_APPLICABLE"}, "ASSISTANT",
                   "{role} assistant at surgery never paid")


def _resolve_role(r: LineResult, role: str, row: RvuRow) -> None:
    column, name, refused, step, refusal = _ROLE_RULES.get(role, _ASSISTANT_RULE)
    ind: str = getattr(row, column)
    label = f"{name} {ind}"
    if ind in refused:
        _deny(r, refused[ind], step, label, f"{refusal.format(role=role)} for {r.code} ({label})")
        return
    if role == "62":
        if ind == "1":
            r.flags.append("CO_SURGERY_DOCUMENTATION_REQUIRED")
        _late(r, (step, label, _CO_SURGERY, "co", "62 co-surgeon: 62.5% of the FSA", ()))
    elif role == "66":
        r._null = "team surgery: priced by report"
        r.flags.append("TEAM_SURGERY_BY_REPORT")
        r._excluded = True
        _late(r, (step, label, None, "team", "66 team surgery: priced by report (contractor)", ()))
    else:
        if ind == "0":
            r.flags.append("ASSISTANT_DOCUMENTATION_REQUIRED")
        if role == "AS":
            _late(r, (step, label, _AS_MODIFIER, "as",
                      "AS non-physician assistant: 16% x 85% = 13.6% of the FSA", ()))
        else:
            _late(r, (step, label, _ASSISTANT, "asst", f"{role} assistant at surgery: 16% of the FSA", ()))


def _resolve_split(r: LineResult, split: str, row: RvuRow, ln: Any, index: int) -> None:
    code = r.code
    if not (row.pre_op or row.intra_op or row.post_op):
        raise PricingError(f"{code}-{split}: modifier {split} needs a global-surgery code with pre/intra/post-op "
                           f"shares; {code} has GLOB DAYS {row.glob_days}", code=code, line=index)
    days = ln.days_furnished
    if split != "55" and days is not None:
        raise PricingError(f"{code}: days_furnished applies only to modifier 55", code=code, line=index)
    if split == "54":
        share, text = row.intra_op, "54 surgical care only: intra-op share {}"
        args: tuple[Any, ...] = (row.intra_op,)
    elif split == "56":
        share, text, args = row.pre_op, "56 pre-op care only: pre-op share {}", (row.pre_op,)
    elif split == "78":
        share, text, args = row.intra_op, "78 return to the OR: intra-op share {} (no new global)", (row.intra_op,)
    else:
        share, text, args = row.post_op, "55 post-op care only: post-op share {}", (row.post_op,)
        if days is not None:
            glob = _glob_days(row)
            if not glob:
                raise PricingError(f"{code}-55: days furnished cannot be prorated on GLOB DAYS {row.glob_days}",
                                   code=code, line=index)
            if not 1 <= days <= glob:
                raise PricingError(f"{code}-55: days furnished must be 1..{glob}, got {days}", code=code,
                                   line=index)
            share = mul_factor(row.post_op, Decimal(days) / Decimal(glob))
            text = "55 post-op care only: post-op share {} x {}/{} days furnished = {}"
            args = (row.post_op, days, glob, share)
            r.extras["postop_days_furnished"] = days
    if split in ("55", "56"):
        r._excluded = True  # no procedure performed that day: not ranked
    _late(r, ("GLOBAL_SPLIT", f"MOD {split}", share, "split", text, args))


def _resolve_anesthesia(r: LineResult, c: _Mods, st: _State) -> None:
    ln = r.line
    row = r.row
    assert row is not None
    code = r.code
    base = row.anes_base_units
    if base is None:
        raise PricingError(f"{code}: anaesthesia code without base units", code=code, line=r.index)
    minutes = ln.minutes
    if minutes is None and c.anes != "AD":
        raise PricingError(f"{code}: anaesthesia line needs minutes (e.g. {code}-AAx129m)", code=code, line=r.index)
    if st.anes_cf is None:
        raise PricingError(f"no anaesthesia conversion factor known for {st.year}", code=code, line=r.index)
    if c.anes is None:
        r.flags.append("ANESTHESIA_MODIFIER_MISSING")
    r._kind = "anes"
    r._excluded = True
    r._anes = [base, minutes or 0, c.anes]
    r._parts = [Part(1, ZERO, ONE, ZERO, ONE)]
