# ruff: noqa
# mypy: ignore-errors
"""REFERENCE ORACLE - not production code. The pricing engine exactly as it was at commit f9d6ca5, before
the run-based rewrite of issue 11 (units ranked as runs of equal units instead of one part per unit).

tests/pricing/test_unit_runs.py prices random encounters with multi-unit lines through this copy and through
rvuedge.pricing.engine and asserts identical results (payments, wRVUs, flags, extras, explanation texts). Only
the imports below were adapted (relative -> absolute); every line after them is `git show
f9d6ca5:rvuedge/pricing/engine.py` verbatim, so keep it that way: do not lint, format or "fix" it. Its caches
(plans, contexts) are its own; give it its own RvuRow objects, since rows carry a per-context amount cache
keyed by ids each engine numbers independently.

Original module docstring follows.

The Medicare PFS pricing and wRVU-crediting engine (pfs-rules sections 2-5). Pure Python, no Django.

``price_encounter(encounter, lookup)`` follows the order of operations in pfs-rules 3.2:

1. resolve each line's row (26/TC/53 rows) and validate modifiers against PCTC/BILAT/ASST/CO/TEAM;
2. status gate (1.4, 3.4): non-payable lines get 0 or null and never enter ranking;
3. FSA per unit with the setting's PE (NA -> other setting + flag), floored work GPCI, CF by QP status;
4. OPPS imaging cap (non-facility); 5. bilateral adjustment;
6. family reductions: endoscopy (MULT 3), imaging per session (4, separate TC and PC rankings),
   cardiovascular (6) and ophthalmology (7) TC cuts, therapy PE cut (5);
7. standard surgical ranking (MULT 2 + collapsed endoscopy families), per claim role, 100/50/50/50/50,
   6th+ by report; 8. surgical role (62/66/80/81/82/AS); 9. global split (54/55/56, 78);
10. provider type (NPP 85%); 11. multiply and round once per line (unit by unit where factors differ);
12. wRVU credit from the same arithmetic with the policy's factors.

Each line keeps a payment explanation and a wRVU explanation whose last amounts equal the results.

Internally a line holds *parts*: ``[units, base amount, payment factor, work RVU, credit factor, by_report]``.
Ranking splits a line into one part per unit; parts with equal values are merged again before rounding.

Speed (bench/pricing.py): the context of an encounter (locality, CF, policy, setting, lookup) is cached, and
within it each *kind* of line (code, modifiers; nothing line-specific such as a setting, units > 1 or a
non-physician provider) is resolved in full once. What resolving it decided - row, amounts, flags, the
working state its rules left, the part it can take in cross-line rules - is kept as a *plan*; later lines of
that kind are built from the plan (``_price``). A line nothing changed is finished when it is resolved; the
common multiple-procedure ranking (``_rank_simple``) finishes the lines it ranks. tests/pricing/test_plans.py
checks that planned lines equal lines resolved afresh.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from rvuedge.pricing.lookup import ChainLookup, RvuLookup
from rvuedge.pricing.model import (
    FACILITY,
    NATIONAL_GPCI,
    NON_FACILITY,
    NPP_PROVIDER_TYPES,
    Encounter,
    EncounterResult,
    PricingError,
    RvuRow,
    setting_for_pos,
)
from rvuedge.pricing.money import ONE, ZERO, cents, fmt_exact, mul_factor, round_wrvu, time_units
from rvuedge.pricing.model import LineResult as _ModelLineResult
from rvuedge.pricing.policy import CMS_MIRROR, Policy


class LineResult(_ModelLineResult):
    """The model's line result with this engine's parts, plain lists (the model's are ``Part`` objects since
    issue 13; the only change made to this frozen copy)."""

    @property
    def _parts(self) -> list[list[Any]]:
        parts = self._p
        if parts is None:
            parts = self._p = [[self.units, self.fee_schedule_amount, ONE, self.row.work_rvu, ONE, False]]  # type: ignore[list-item,union-attr]
        return parts  # type: ignore[return-value]

    @_parts.setter
    def _parts(self, value: list[list[Any]]) -> None:
        self._p = value  # type: ignore[assignment]

__all__ = ["CF_TABLE", "MODIFIER_KINDS", "NEUTRAL_MODIFIERS", "price_encounter"]

# ---------------------------------------------------------------------------------------------- constants
#: Calendar-year CFs: (PFS non-QP, PFS QP, anaesthesia non-QP, anaesthesia QP) [pfs-rules 2.2].
CF_TABLE: dict[int, tuple[Decimal, Decimal, Decimal, Decimal]] = {
    2025: (Decimal("32.3465"), Decimal("32.3465"), Decimal("20.3178"), Decimal("20.3178")),
    2026: (Decimal("33.4009"), Decimal("33.5675"), Decimal("20.4976"), Decimal("20.5998")),
}
_LATEST_YEAR = max(CF_TABLE)
#: The 1.0 work-GPCI floor is in force through this date (CAA 2026) [pfs-rules 2.5].
WORK_FLOOR_END = dt.date(2026, 12, 31)
_WORK_FLOOR = Decimal("1.000")
_ALASKA_FLOOR = Decimal("1.500")

HALF = Decimal("0.5")
_ZERO_CENTS = Decimal("0.00")
_BILAT_FACTOR = {"0": ONE, "1": Decimal("1.5"), "2": ONE, "3": Decimal("2")}
_PAIR_FACTOR = {"0": HALF, "1": Decimal("0.75"), "2": HALF}
_CO_SURGERY = Decimal("0.625")
_ASSISTANT = Decimal("0.16")
_AS_MODIFIER = Decimal("0.136")  # 16% x 85%
_IMAGING_TC_CUT = Decimal("0.50")
_IMAGING_PC_CUT = Decimal("0.05")
_IMAGING_TC_FACTOR = Decimal("0.5")
_IMAGING_PC_FACTOR = Decimal("0.95")
_THERAPY_PE_CUT = Decimal("0.50")
_TC_CUTS = {"6": (Decimal("0.25"), Decimal("0.75"), "CARDIO_MPPR", "diagnostic cardiovascular"),
            "7": (Decimal("0.20"), Decimal("0.8"), "OPHTHO_MPPR", "diagnostic ophthalmology")}
_ANES_FACTOR = {"AA": ONE, "QZ": ONE, "QK": HALF, "QX": HALF, "QY": HALF, "AD": ONE}
_AD_BASE = Decimal("3")

#: What each pricing modifier does; anything else is payment-neutral (known) or flagged (unknown).
MODIFIER_KINDS: dict[str, str] = {
    "26": "comp", "TC": "comp", "53": "disc", "52": "reduced", "50": "bilat", "RT": "rt", "LT": "lt",
    "62": "role", "66": "role", "80": "role", "81": "role", "82": "role", "AS": "role",
    "54": "split", "55": "split", "56": "split", "78": "split",
    "AA": "anes", "QZ": "anes", "QK": "anes", "QX": "anes", "QY": "anes", "AD": "anes",
    "59": "distinct", "XE": "distinct", "XS": "distinct", "XP": "distinct", "XU": "distinct",
    "FS": "fs", "22": "increased",
}
#: Known modifiers with no price effect (pfs-rules 3.1 and standard coding).
NEUTRAL_MODIFIERS = frozenset(
    {
        "22", "24", "25", "51", "57", "58", "76", "77", "79", "FS", "GC", "GE", "GP", "GO", "GN", "RT", "LT",
        "59", "XE", "XS", "XP", "XU", "GA", "GY", "GZ", "GX", "KX", "Q5", "Q6", "95", "93", "GT", "FQ", "FR",
        "CR", "JW", "JZ", "KS", "QS", "G8", "G9", "P1", "P2", "P3", "P4", "P5", "P6", "23", "47", "33",
        "E1", "E2", "E3", "E4", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "FA",
        "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "TA", "LC", "LD", "RC", "RI", "LM", "CT",
        "ET", "SA", "SB", "SC", "AI", "GW", "GV", "CS", "PO", "PN",
    }
)
_CROSS_LINE_MULT = frozenset("234567")
_NONE: list[Any] = []  # shared empty list for "no pairs / no families" (never appended to)
_MP_INDICATOR = {"2": "MULT PROC 2", "3": "MULT PROC 3"}
_ROLE_GROUP = {None: "primary", "62": "co-surgeon", "80": "assistant", "81": "assistant", "82": "assistant",
               "AS": "assistant"}
_ZERO_STATUS = {
    "B": ("STATUS_B_BUNDLED", "bundled: never paid separately", False),
    "E": ("STATUS_E_EXCLUDED", "excluded from the PFS by regulation", False),
    "G": ("STATUS_G_NOT_VALID_FOR_MEDICARE", "not valid for Medicare (another code is used)", True),
    "I": ("STATUS_I_NOT_VALID_FOR_MEDICARE", "not valid for Medicare purposes", True),
    "M": ("STATUS_M_MEASUREMENT", "measurement (quality reporting) code", False),
    "N": ("STATUS_N_NONCOVERED", "not covered by Medicare", True),
    "P": ("STATUS_P_BUNDLED_SUPPLY", "bundled or excluded supply-type item", False),
    "X": ("STATUS_X_STATUTORY_EXCLUSION", "statutory exclusion: not a physician service", False),
}
_REJECT_STATUS = {
    "D": "was deleted at the start of the year (status D)",
    "F": "is deleted/discontinued with no grace period (status F)",
    "H": "modifier row was deleted this year (status H)",
}
_PCTC_TEXT = {
    "0": "physician service", "2": "professional-component-only code", "3": "technical-component-only code",
    "4": "global-test-only code", "5": "incident-to code", "6": "lab physician interpretation code",
    "7": "PT/OT service", "8": "physician interpretation of an abnormal smear", "9": "PC/TC concept n/a",
}

# part layout
_N, _B, _F, _W, _G, _BR = 0, 1, 2, 3, 4, 5


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


# ---------------------------------------------------------------------------------------------- context
_CTX_IDS: dict[tuple[Decimal, ...], int] = {}
_CTX_COUNTER = itertools.count(1)


def _context_id(key: tuple[Decimal, ...]) -> int:
    cid = _CTX_IDS.get(key)
    if cid is None:
        if len(_CTX_IDS) > 4096:
            _CTX_IDS.clear()  # ids are never reused, so stale per-row cache entries can't be hit
        cid = _CTX_IDS[key] = next(_CTX_COUNTER) * 4
    return cid


class _Ctx:
    """GPCIs, CFs and floors for one (locality, CF inputs, QP, date) combination; cached across encounters."""

    __slots__ = ("gpci", "cf", "anes_cf", "gw", "gpe", "gmp", "cid", "floor_note", "year")

    def __init__(self, enc: Encounter, gpci: Any):
        dos = enc.date_of_service
        year = dos.year if dos is not None else _LATEST_YEAR
        self.year = year
        table = CF_TABLE.get(year)
        if enc.qp:
            cf = enc.conversion_factor_qp or (table[1] if table else None)
            anes = enc.anesthesia_cf_qp or (table[3] if table else None)
        else:
            cf = enc.conversion_factor or (table[0] if table else None)
            anes = enc.anesthesia_cf or (table[2] if table else None)
        self.cf = cf
        self.anes_cf = anes
        self.gpci = gpci
        floor = enc.apply_work_gpci_floor
        if floor is None:
            floor = dos is None or dos <= WORK_FLOOR_END
        raw = gpci.work_no_floor
        if floor:
            gw = raw if raw is not None else gpci.work
            if gw < _WORK_FLOOR:
                gw = _WORK_FLOOR
                note = "1.0 work GPCI floor applied"
            else:
                gw = gpci.work if gpci.work >= gw else gw
                note = "1.0 work GPCI floor in force (not binding)"
        elif raw is not None:
            gw, note = raw, "work GPCI without the 1.0 floor"
        else:
            gw, note = gpci.work, "1.0 floor not in force but only the floored work GPCI is known"
        if gpci.is_alaska and gw < _ALASKA_FLOOR:
            gw, note = _ALASKA_FLOOR, "Alaska 1.5 work GPCI floor applied"
        elif gpci.is_alaska:
            note = "Alaska 1.5 work GPCI floor"
        self.floor_note = note
        self.gw = gw
        self.gpe = gpci.pe
        self.gmp = gpci.mp
        self.cid = _context_id((gw, gpci.pe, gpci.mp, cf or ZERO))


_CTX_CACHE: dict[tuple[Any, ...], _Ctx] = {}


def _ctx_for(enc: Encounter) -> _Ctx:
    gpci = enc.gpci or NATIONAL_GPCI
    # id(gpci) is safe: the cached _Ctx keeps the Gpci alive, so its id cannot be reused while cached
    key = (id(gpci), enc.conversion_factor, enc.conversion_factor_qp, enc.anesthesia_cf, enc.anesthesia_cf_qp,
           enc.qp, enc.date_of_service, enc.apply_work_gpci_floor)
    ctx = _CTX_CACHE.get(key)
    if ctx is None or ctx.gpci is not gpci:
        if len(_CTX_CACHE) > 1024:
            _CTX_CACHE.clear()
        ctx = _CTX_CACHE[key] = _Ctx(enc, gpci)
    return ctx


class _State:
    """Everything a pricing run needs besides the lines; cached across encounters with the same inputs."""

    __slots__ = ("lookup", "policy", "cf", "gw", "gpe", "gmp", "cid", "anes_cf", "setting", "locality", "opps",
                 "ctx", "year", "dos", "qp", "plain", "source_fn")

    def __init__(self, enc: Encounter, lookup: RvuLookup, policy: Policy, ctx: _Ctx):
        self.lookup = lookup
        self.policy = policy
        self.ctx = ctx
        self.cf = ctx.cf
        self.gw = ctx.gw
        self.gpe = ctx.gpe
        self.gmp = ctx.gmp
        self.cid = ctx.cid
        self.anes_cf = ctx.anes_cf
        self.year = ctx.year
        self.dos = enc.date_of_service
        self.qp = enc.qp
        if enc.setting is not None:
            self.setting: str | None = enc.setting
        elif enc.pos is not None:
            self.setting = setting_for_pos(enc.pos)
        else:
            self.setting = None
        self.locality = enc.locality or ctx.gpci.locality
        self.opps = getattr(lookup, "opps_cap", None)
        #: code (or (code, modifiers)) -> what resolving such a line decided (see _resolve); rows of a lookup
        #: never change
        self.plain: dict[Any, tuple[Any, ...]] = {}
        self.source_fn = self.source  # handed to every result, which calls it only when its source is read

    def source(self) -> dict[str, Any]:
        return {
            "release": getattr(self.lookup, "release", None) or None,
            "date_of_service": self.dos.isoformat() if self.dos else None,
            "locality": self.locality,
            "setting": self.setting,
            "qp": self.qp,
            "conversion_factor": None if self.cf is None else str(self.cf),
            "anesthesia_conversion_factor": None if self.anes_cf is None else str(self.anes_cf),
            "gpci": {"work": str(self.gw), "pe": str(self.gpe), "mp": str(self.gmp),
                     "work_file": str(self.ctx.gpci.work),
                     "work_no_floor": None if self.ctx.gpci.work_no_floor is None
                     else str(self.ctx.gpci.work_no_floor)},
            "work_gpci_floor": self.ctx.floor_note,
            "policy": self.policy.name,
            "rvu_release": self.policy.rvu_release.to_dict(),
        }


_STATE_CACHE: dict[tuple[Any, ...], _State] = {}


_LAST: dict[str | None, tuple[Any, _State]] = {}  # setting -> (inputs, state) of the last such encounter


def _state_for(enc: Encounter, lookup: RvuLookup, policy: Policy, cache: bool) -> _State:
    if not cache:
        return _State(enc, lookup, policy, _ctx_for(enc))
    return _state_lookup(enc, enc.gpci or NATIONAL_GPCI, lookup, policy)


def _state_lookup(enc: Encounter, gpci: Any, lookup: RvuLookup, policy: Policy) -> _State:
    last_entry = _LAST.get(enc.setting)
    if last_entry is not None:  # same input objects as the previous encounter: skip hashing the key
        last, last_state = last_entry
        (l_gpci, l_lookup, l_policy, l_cf, l_cfq, l_acf, l_acfq, l_qp, l_dos, l_floor, l_setting, l_pos,
         l_loc) = last
        if (l_gpci is gpci and l_lookup is lookup and l_policy is policy and l_cf is enc.conversion_factor
                and l_cfq is enc.conversion_factor_qp and l_acf is enc.anesthesia_cf
                and l_acfq is enc.anesthesia_cf_qp and l_qp is enc.qp and l_dos is enc.date_of_service
                and l_floor is enc.apply_work_gpci_floor and l_setting is enc.setting and l_pos is enc.pos
                and l_loc is enc.locality):
            return last_state  # type: ignore[no-any-return]
    # ids are safe: a cached _State keeps its Gpci, lookup and policy alive, and identity is re-checked
    key = (id(gpci), enc.conversion_factor, enc.conversion_factor_qp, enc.anesthesia_cf, enc.anesthesia_cf_qp,
           enc.qp, enc.date_of_service, enc.apply_work_gpci_floor, id(lookup), id(policy), enc.setting, enc.pos,
           enc.locality)
    st = _STATE_CACHE.get(key)
    if st is None or st.lookup is not lookup or st.policy is not policy or st.ctx.gpci is not gpci:
        if len(_STATE_CACHE) > 256:
            _STATE_CACHE.clear()
        st = _STATE_CACHE[key] = _State(enc, lookup, policy, _ctx_for(enc))
    _LAST[enc.setting] = ((gpci, lookup, policy, enc.conversion_factor, enc.conversion_factor_qp, enc.anesthesia_cf,
                 enc.anesthesia_cf_qp, enc.qp, enc.date_of_service, enc.apply_work_gpci_floor, enc.setting, enc.pos,
                 enc.locality), st)
    return st

def _fsa(row: RvuRow, fac: bool, st: _State) -> Decimal:
    """Cent-rounded FSA of one unit, cached on the row per (GPCIs, CF, setting)."""
    key = st.cid + fac
    cache = row._cache
    value = cache.get(key)
    if value is None:
        cf = st.cf
        if cf is None:
            raise PricingError(f"no conversion factor known for {st.year}; pass conversion_factor", code=row.code)
        pe = row.pe_fac if fac else row.pe_nonfac
        value = cents((row.work_rvu * st.gw + pe * st.gpe + row.mp_rvu * st.gmp) * cf)
        if len(cache) > 64:
            cache.clear()
        cache[key] = value
    return value


def _pe_amount(row: RvuRow, fac: bool, st: _State) -> Decimal:
    key = st.cid + 2 + fac
    cache = row._cache
    value = cache.get(key)
    if value is None:
        value = cents((row.pe_fac if fac else row.pe_nonfac) * st.gpe * (st.cf or ZERO))
        cache[key] = value
    return value


# ---------------------------------------------------------------------------------------------- helpers
def _part_amount(p: list[Any]) -> Decimal:
    """Unrounded payment of a part (skipping Decimal multiplications by exactly 1: they are costly)."""
    x = p[_B] if p[_F] is ONE else p[_B] * p[_F]
    return x if p[_N] == 1 else x * p[_N]


def _part_credit(p: list[Any]) -> Decimal:
    x = p[_W] if p[_G] is ONE else p[_W] * p[_G]
    return x if p[_N] == 1 else x * p[_N]


def _amount(parts: list[list[Any]]) -> Decimal | None:
    if len(parts) == 1:
        return None if parts[0][_BR] else _part_amount(parts[0])
    total = ZERO
    for p in parts:
        if p[_BR]:
            return None
        total += _part_amount(p)
    return total


def _credit(parts: list[list[Any]]) -> Decimal:
    if len(parts) == 1:
        return _part_credit(parts[0])
    total = ZERO
    for p in parts:
        total += _part_credit(p)
    return total


def _push(r: LineResult, step: tuple[Any, ...]) -> None:
    if r._steps is None:
        r._steps = [step]
    else:
        r._steps.append(step)


def _wpush(r: LineResult, step: tuple[Any, ...]) -> None:
    if r._wsteps is None:
        r._wsteps = [step]
    else:
        r._wsteps.append(step)


def _step(r: LineResult, rule: str, indicator: str | None, factor: Decimal | None, fmt: Any,
          *args: Any) -> None:
    """Record a payment step; ``fmt`` is a str.format template (list args are joined) or a callable."""
    _push(r, (rule, indicator, factor, None if r._null else _amount(r._parts), fmt, args))


def _wstep(r: LineResult, rule: str, indicator: str | None, factor: Decimal | None, fmt: Any,
           *args: Any) -> None:
    _wpush(r, (rule, indicator, factor, _credit(r._parts), fmt, args))


def _scale(r: LineResult, pay: Decimal | None, credit: Decimal | None) -> None:
    for p in r._parts:
        if pay is not None:
            p[_F] = mul_factor(p[_F], pay)
        if credit is not None:
            p[_G] = mul_factor(p[_G], credit)


def _deny(r: LineResult, flag: str, rule: str, indicator: str, text: str) -> None:
    """Not payable (and not credited): factor 0, out of ranking."""
    for p in r._parts:
        p[_F] = ZERO
        p[_G] = ZERO
    r._excluded = True
    r.flags.append(flag)
    _step(r, rule, indicator, ZERO, text)
    _wstep(r, rule, indicator, ZERO, text)


def _explode(r: LineResult) -> list[list[Any]]:
    """Split the line's parts into one part per unit (for ranking units as separate services)."""
    parts = r._parts
    if len(parts) == 1 and parts[0][_N] == 1:
        return parts
    if all(p[_N] == 1 for p in parts):
        return parts
    out = []
    for p in parts:
        for _ in range(p[_N]):
            q = list(p)
            q[_N] = 1
            out.append(q)
    r._parts = out
    return out


def _tiebreak(r: LineResult) -> tuple[Any, ...]:
    """Deterministic, order-independent tie-break between equally valued units: every input that can change
    a line's outcome, so that lines tied on all of them are interchangeable."""
    ln = r.line
    mods = tuple(sorted(m for m in r.modifiers if m in MODIFIER_KINDS))  # payment-neutral ones never count
    return (r.code, r.row.mod if r.row else "", mods, r.units, ln.provider_type,
            ln.session or "", ln.days_furnished or 0, r.setting or "", ln.incident_to, ln.minutes or 0)


def _add_rank(r: LineResult, rank: int) -> None:
    if r._ranks is None:
        r._ranks = [rank]
    else:
        r._ranks.append(rank)


def _glob_days(row: RvuRow) -> int | None:
    return int(row.glob_days) if row.glob_days.isdigit() else None


# ---------------------------------------------------------------------------------------------- per line
def _resolve(index: int, ln: Any, st: _State) -> LineResult:
    code = ln.code
    mods = ln.modifiers
    r = LineResult(index, ln)
    c = _classify(code, mods, r) if mods else _NO_MODS
    r._mods = c
    # setting
    if ln.setting is not None:
        setting: str | None = ln.setting
        r._echo_setting = True
    elif ln.pos is not None:
        setting = setting_for_pos(ln.pos)
        r._echo_setting = True
    else:
        setting = st.setting
    r.setting = setting
    # 1. row
    lookup = st.lookup
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
    status = row.status
    r.status = status
    if c.comp and not (row.pctc == "1" or (row.pctc == "6" and c.comp == "26")):
        raise PricingError(
            f"{code}-{c.comp}: modifier {c.comp} is not valid with PC/TC indicator {row.pctc} "
            f"({_PCTC_TEXT.get(row.pctc, 'unknown')})", code=code, line=index)
    # 2. status gate
    if (status != "A" or row.not_used_for_medicare or c.anes) and _gate(r, c, st, row, status, index):
        return r
    # 3. setting + FSA
    if setting is None:
        raise PricingError(f"{code}: no setting (facility / non_facility) or place of service given",
                           code=code, line=index)
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
    units = ln.units
    r._ctx = st.ctx  # the explanation starts with the FSA and work-RVU steps, built when read
    if na_note is not None:
        r._na_note = na_note
    policy = st.policy
    if (c is _NO_MODS and row.pctc in ("0", "9") and ln.provider_type == "physician"
            and (units == 1 or row.bilat not in ("1", "2", "3")) and ln.days_furnished is None
            and not ln.incident_to):
        r._session = ln.session or ""
        if not mods and _plannable(ln):
            _remember(st, code, _plan(r, na_note, row.bilat not in ("1", "2", "3"), True))
        r._done = 1  # finished now; a cross-line rule that touches it leaves parts or ranks for _finish
        _unreduced(r, fsa, row.work_rvu, units)
        return r  # fast path: nothing else can apply before the cross-line rules
    r._session = ln.session if ln.session is not None else (
        f"distinct:{index}" if c.distinct else "")  # 59/X{EPSU}: a session of its own
    flags = r.flags
    # diagnostic test TC billed for a facility patient; incident-to code in a facility
    if setting == FACILITY and row.pctc == "1" and row.mod in ("", "TC"):
        flags.append("TC_BILLED_IN_FACILITY")
    if setting == FACILITY and row.pctc == "5":
        _deny(r, "INCIDENT_TO_CODE_IN_FACILITY", "PCTC", "PCTC 5",
              "PC/TC 5 incident-to code: not payable for a facility patient")
    if ln.incident_to and setting == FACILITY:
        flags.append("INCIDENT_TO_NOT_IN_FACILITY")
    # 4. OPPS cap
    if setting == NON_FACILITY and st.opps is not None:
        cap = st.opps(code, row.mod, st.locality)
        if cap is not None and cap < fsa:
            for p in r._parts:
                p[_B] = cap
            r.extras["opps_cap_amount"] = cents(cap)
            flags.append("OPPS_CAP_APPLIED")
            _step(r, "OPPS_CAP", "OPPSCAP", None, "OPPS cap: pay the lower of the FSA {} and the OPPS amount {}",
                  fsa, cap)
    # 5. bilateral
    bilat = row.bilat
    if c.bil50 or (c.rt and c.lt):
        if bilat == "9" or bilat not in _BILAT_FACTOR:
            if c.bil50:
                raise PricingError(f"{code}-50: modifier 50 is not valid: BILAT SURG {bilat} (bilateral concept "
                                   "does not apply)", code=code, line=index)
        else:
            _bilateral(r, bilat, policy, "modifier 50" if c.bil50 else "RT+LT")
            if units > 1:
                flags.append("BILATERAL_WITH_UNITS")
            if c.bil50 and (c.rt or c.lt):
                flags.append("MODIFIER_50_WITH_RT_LT")
    elif units == 2 and bilat in ("1", "2", "3") and not (c.rt or c.lt) and row.glob_days != "ZZZ":
        r._parts[0][_N] = 1
        flags.append("TWO_UNITS_PRICED_AS_BILATERAL")
        _bilateral(r, bilat, policy, "2 units")
    elif c.rt != c.lt and bilat in _PAIR_FACTOR:
        r._pair = "RT" if c.rt else "LT"
    # 8 (validation part). surgical role: denial now (keeps the line out of ranking), factor later
    role = c.role
    if role is not None:
        _resolve_role(r, role, row)
    # 9. global split
    split = c.split
    if split is not None:
        _resolve_split(r, split, row, ln, index)
    elif ln.days_furnished is not None:
        raise PricingError(f"{code}: days_furnished applies only to modifier 55", code=code, line=index)
    if c.reduced:
        r._null = "reduced service (52): priced by the contractor"
        flags.append("CONTRACTOR_PRICED_REDUCED_SERVICE")
        _late(r, ("REDUCED_SERVICE", "MOD 52", None, policy.reduced_service_wrvu_factor,
                  "52 reduced service: no formula price (contractor review); credit x{}",
                  (policy.reduced_service_wrvu_factor,)))
        r._excluded = True
    elif c.disc and not used53:
        r._null = "discontinued (53) without its own row: priced by the contractor"
        flags.append("CONTRACTOR_PRICED_DISCONTINUED")
        _late(r, ("DISCONTINUED", "MOD 53", None, policy.discontinued_wrvu_factor,
                  "53 discontinued: no 53 row, contractor priced; credit x{}", (policy.discontinued_wrvu_factor,)))
        r._excluded = True
    elif used53:
        _push(r, ("DISCONTINUED", "MOD 53", None, _amount(r._parts),
                  "53 discontinued: priced from the file's own {}-53 row", (code,)))
    if c.inc22 and policy.increased_service_wrvu_factor != ONE:
        _late(r, ("INCREASED_SERVICE", "MOD 22", None, policy.increased_service_wrvu_factor,
                  "22 increased service: no automatic payment increase; credit x{}",
                  (policy.increased_service_wrvu_factor,)))
    if c.fs and policy.split_shared_wrvu_factor != ONE:
        _late(r, ("SPLIT_SHARED", "MOD FS", None, policy.split_shared_wrvu_factor,
                  "FS split/shared visit: credit x{}", (policy.split_shared_wrvu_factor,)))
    # 10. provider type
    if ln.provider_type in NPP_PROVIDER_TYPES and role != "AS" and not ln.incident_to:
        _late(r, ("NPP", ln.provider_type.upper(), policy.npp_payment_factor, policy.npp_wrvu_factor,
                  "{} billing under own NPI: {}% of the physician amount",
                  (ln.provider_type.upper(), fmt_exact(policy.npp_payment_factor * 100))))
    untouched = (r._p is None and r._late is None and r._null is None and r._pair is None and not r._excluded
                 and r._steps is None and r._extras is None)
    if units == 1 and not c.distinct and _plannable(ln):
        # nothing about the line is line-specific: remembered for the next line like it (see _price)
        _remember(st, (code, mods) if mods else code, _plan(r, na_note, False, untouched))
    if untouched:  # nothing changed the line (its modifiers chose the row or changed nothing): finished now
        r._done = 1
        _unreduced(r, fsa, row.work_rvu, units)
    return r


_PLAN_UNITS_OK = 6  # index in a plan (see _plan): may a line of more than one unit be built from it
#: Plans kept across all cached contexts (a plan is well under 1 KB). Line kinds are codes x modifier
#: combinations x contexts, so a long-running server stays bounded; past the budget every plan is dropped
#: (they are only a shortcut: lines are resolved afresh until they are planned again).
_MAX_PLANS = 200_000
_plan_count = 0


def _plannable(ln: Any) -> bool:
    """Nothing about the line is line-specific (its own setting or place of service, a non-physician provider,
    days furnished, incident-to), so a plan can stand for it. _price checks the same inline (hot path)."""
    return (ln.setting is None and ln.pos is None and ln.provider_type == "physician" and ln.days_furnished is None
            and not ln.incident_to)


def _remember(st: _State, key: Any, plan: tuple[Any, ...]) -> None:
    global _plan_count
    _plan_count += 1
    if _plan_count > _MAX_PLANS:
        for cached in [*_STATE_CACHE.values(), *(entry[1] for entry in _LAST.values())]:
            cached.plain.clear()
        st.plain.clear()  # also when this context is not cached (cache=False)
        _plan_count = 1
    st.plain[key] = plan


def _plan(r: LineResult, na_note: str | None, units_ok: bool, untouched: bool) -> tuple[Any, ...]:
    """What resolving this line decided, for the next line like it in the same context (see _price): its row,
    amounts and flags; ``cross`` the part such a line can take in cross-line rules: 0 none, 1 the
    multiple-procedure ranking only (MULT PROC 2), 2 anything else (endoscopy, imaging/therapy/
    cardiovascular/ophthalmology families, status T, an RT/LT pair, a component beside its global code,
    split care); ``addon`` whether it is an add-on code; the last item is None for a line nothing changed
    (finished when resolved) or else the working state its rules left (parts, explanation steps, later
    factors, extras, ...), copied for each new line."""
    row = r.row
    assert row is not None
    mp = row.mult_proc
    c = r._mods
    if r.status == "T" or c.comp or r._pair or c.split or (mp != "2" and mp in _CROSS_LINE_MULT):
        cross = 2
    else:
        cross = 1 if mp == "2" else 0
    state = None
    if not untouched:
        state = (None if r._p is None else tuple(tuple(p) for p in r._p), tuple(r._steps or ()),
                 tuple(r._wsteps or ()), None if r._late is None else tuple(r._late),
                 None if r._extras is None else dict(r._extras), r._null, r._excluded, r._pair)
    return (row, r.status, r._fac, r.fee_schedule_amount, tuple(r._flags or ()), na_note, units_ok, row.work_rvu,
            round_wrvu(row.work_rvu), r._mods, cross, row.glob_days == "ZZZ", state)


def _gate(r: LineResult, c: _Mods, st: _State, row: RvuRow, status: str, index: int) -> bool:
    """Status gate (pfs-rules 1.4, 3.4). True when the line is finished (not priced from RVUs)."""
    code = r.code
    if status == "J" or row.anes_base_units is not None:
        _resolve_anesthesia(r, c, st)
        return True
    if c.anes:
        raise PricingError(f"{code}: {c.anes} is an anaesthesia modifier but {code} is not an anaesthesia code",
                           code=code, line=index)
    if status in _REJECT_STATUS:
        raise PricingError(f"{code} {_REJECT_STATUS[status]}; it cannot be billed", code=code, line=index)
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
        r._parts = [[units, ZERO, ZERO, work if credit else ZERO, ONE, False]]
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
        r._parts = [[units, ZERO, ONE, work, ONE, False]]
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


def _late(r: LineResult, item: tuple[Any, ...]) -> None:
    if r._late is None:
        r._late = [item]
    else:
        r._late.append(item)


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


def _resolve_role(r: LineResult, role: str, row: RvuRow) -> None:
    code = r.code
    if role == "62":
        ind = row.co_surg
        label = f"CO-SURG {ind}"
        if ind in ("0", "9"):
            _deny(r, "CO_SURGERY_NOT_ALLOWED" if ind == "0" else "CO_SURGERY_NOT_APPLICABLE", "CO_SURGERY", label,
                  f"62 co-surgery not payable for {code} ({label})")
            return
        if ind == "1":
            r.flags.append("CO_SURGERY_DOCUMENTATION_REQUIRED")
        _late(r, ("CO_SURGERY", label, _CO_SURGERY, "co", "62 co-surgeon: 62.5% of the FSA", ()))
    elif role == "66":
        ind = row.team
        label = f"TEAM SURG {ind}"
        if ind in ("0", "9"):
            _deny(r, "TEAM_SURGERY_NOT_ALLOWED" if ind == "0" else "TEAM_SURGERY_NOT_APPLICABLE", "TEAM_SURGERY",
                  label, f"66 team surgery not payable for {code} ({label})")
            return
        r._null = "team surgery: priced by report"
        r.flags.append("TEAM_SURGERY_BY_REPORT")
        r._excluded = True
        _late(r, ("TEAM_SURGERY", label, None, "team", "66 team surgery: priced by report (contractor)", ()))
    else:
        ind = row.asst
        label = f"ASST SURG {ind}"
        if ind in ("1", "9"):
            _deny(r, "ASSISTANT_NOT_PAYABLE" if ind == "1" else "ASSISTANT_NOT_APPLICABLE", "ASSISTANT", label,
                  f"{role} assistant at surgery never paid for {code} ({label})")
            return
        if ind == "0":
            r.flags.append("ASSISTANT_DOCUMENTATION_REQUIRED")
        if role == "AS":
            _late(r, ("ASSISTANT", label, _AS_MODIFIER, "as",
                      "AS non-physician assistant: 16% x 85% = 13.6% of the FSA", ()))
        else:
            _late(r, ("ASSISTANT", label, _ASSISTANT, "asst", f"{role} assistant at surgery: 16% of the FSA", ()))


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
    r._parts = [[1, ZERO, ONE, ZERO, ONE, False]]


# ---------------------------------------------------------------------------------------------- cross-line
def _cross_line(res: list[LineResult], st: _State, enc: Encounter) -> str | None:
    """One scan over the lines: decide whether they are one claim, then run steps 6-7 of pfs-rules 3.2,
    calling only the rules some line can trigger. Returns why the lines are separate claims, if they are."""
    t_status = pairs_wanted = dup = echo = False
    n3 = n_tc = n5 = n_rank = n_anes = 0
    codes: set[str] = set()
    ranked: list[LineResult] = []  # MULT PROC 2 and 3 lines
    for r in res:
        code = r.code
        if code in codes:
            dup = True
        else:
            codes.add(code)
        if r._echo_setting:
            echo = True
        kind = r._kind
        if kind == "anes":
            n_anes += 1
            continue
        if kind != "price" or r._excluded:
            continue
        if r.status == "T":
            t_status = True
        if r._pair:
            pairs_wanted = True
        mp = r.row.mult_proc  # type: ignore[union-attr]
        if mp == "2":
            n_rank += r.units
            ranked.append(r)
        elif mp == "3":
            n_rank += r.units
            n3 += r.units
            ranked.append(r)
        elif mp == "4" or mp == "6" or mp == "7":
            n_tc += r.units
        elif mp == "5":
            n5 += r.units
    if enc.separate_claims is not None or dup or echo:
        reason = _separate_reason(res, enc)
        if reason is not None:
            return reason
    if t_status:
        _status_t(res)
    pairs = _pairs(res, st.policy) if pairs_wanted else _NONE
    families = _endoscopy(res, st) if n3 > 1 else _NONE
    if n_tc > 1:
        _tc_families(res, st)
    if n5 > 1:
        _therapy(res, st)
    if n_rank > 1 and (families or pairs or not _rank_simple(ranked, st)):
        _rank_surgery(res, st, families, pairs)
    if n_anes > 1:
        _combine_anesthesia(res)
    return None


def _separate_reason(res: list[LineResult], enc: Encounter) -> str | None:
    if enc.separate_claims is not None:
        return "the lines are separate claims" if enc.separate_claims else None
    if len(res) < 2:
        return None
    settings = {r.setting for r in res if r._echo_setting}
    if settings and len({r.setting for r in res}) > 1:
        return "the lines are priced in different settings (independent scenarios)"
    comps: dict[str, set[str]] = {}
    split: dict[str, int] = {}
    anes: dict[str, int] = {}
    for r in res:
        code = r.code
        c = r._mods
        if r._kind == "anes":
            anes[code] = anes.get(code, 0) + 1
            continue
        if c.split in ("54", "55", "56"):
            split[code] = split.get(code, 0) + 1
        comps.setdefault(code, set()).add(c.comp)
    for code, seen in comps.items():
        if "" in seen and len(seen) > 1:
            return f"{code} appears both as a global service and as a component (alternatives)"
    for code, n in split.items():
        if n > 1:
            return f"{code} split-care lines (54/55/56) are billed by different physicians (separate claims)"
    for code, n in anes.items():
        if n > 1:
            return f"{code} appears on more than one anaesthesia line (alternative scenarios)"
    return None


def _status_t(res: list[LineResult]) -> None:
    ts = [r for r in res if r._kind == "price" and r.status == "T" and not r._excluded]
    if not ts:
        return
    if any(r._kind == "price" and r.status != "T" and not r._excluded for r in res):
        for r in ts:
            _deny(r, "STATUS_T_BUNDLED", "STATUS", "STATUS T",
                  "Status T: not paid because another PFS service is paid that day")


def _pairs(res: list[LineResult], policy: Policy) -> list[tuple[LineResult, LineResult]]:
    groups: dict[tuple[str, str, str | None], list[LineResult]] = {}
    for r in res:
        if r._pair and r._kind == "price" and not r._excluded and r.units == 1:
            groups.setdefault((r.code, r.row.mod, r._mods.role), []).append(r)  # type: ignore[union-attr]
    out = []
    for members in groups.values():
        rts = sorted((r for r in members if r._pair == "RT"), key=_tiebreak)
        lts = sorted((r for r in members if r._pair == "LT"), key=_tiebreak)
        for a, b in zip(rts, lts, strict=False):
            # one bilateral procedure shown as 100% on the RT line + the rest on the LT line (BILAT 1: 50%, so
            # the pair pays 150% as modifier 50 does, to the cent; BILAT 0/2: 0%, paid once); see
            # docs/pfs-readings.md, section 5
            bilat = a.row.bilat  # type: ignore[union-attr]
            whole = _PAIR_FACTOR[bilat] * 2
            if bilat == "1":
                credit = policy.bilateral_wrvu_factor if policy.bilateral_wrvu_factor is not None else (
                    _BILAT_FACTOR["1"] if policy.bilateral else ONE)
            else:
                credit = ONE
            first_credit = min(ONE, credit)
            rest, rest_credit = whole - ONE, credit - first_credit
            what = ("bilateral procedure (BILAT 1: 150%)" if bilat == "1"
                    else f"procedure paid once (BILAT {bilat})")
            for r, pay, wfactor, text in (
                    (a, ONE, first_credit, "RT and LT lines priced as one {}: 100% on this RT line, {}% on the LT "
                     "line"),
                    (b, rest, rest_credit, "RT and LT lines priced as one {}: 100% on the RT line, {}% on this LT "
                     "line")):
                r.flags.append("BILATERAL_RT_LT_PAIR")
                _scale(r, pay, wfactor)
                _step(r, "BILATERAL", f"BILAT SURG {bilat}", pay, text, what, fmt_exact(rest * 100))
                _wstep(r, "BILATERAL", f"BILAT SURG {bilat}", wfactor, "bilateral pair: credit x{} (pair x{})",
                       wfactor, credit)
            out.append((a, b))
    return out


def _endoscopy(res: list[LineResult], st: _State) -> list[list[Any]]:
    """Collapse MULT PROC 3 families; return ranking units [members...] for families of 2+ units."""
    families: dict[tuple[Any, str], list[LineResult]] = {}
    for r in res:
        row = r.row
        if r._kind == "price" and not r._excluded and row.mult_proc == "3" and row.endo_base:  # type: ignore[union-attr]
            families.setdefault((r._mods.role, row.endo_base), []).append(r)  # type: ignore[union-attr]
    units_out: list[list[Any]] = []
    policy = st.policy
    for (_role, base_code), members in families.items():
        if sum(r.units for r in members) < 2:
            continue
        base_rows = [r for r in members if r.row.code == base_code and r.row.mod == ""]  # type: ignore[union-attr]
        others = [r for r in members if r not in base_rows]
        if not others:
            continue
        base_row = st.lookup.get(base_code, "")
        if base_row is None:
            for r in members:
                r.flags.append("ENDO_BASE_ROW_MISSING")
            continue
        family_members: list[tuple[LineResult, list[Any]]] = []
        for r in base_rows:
            for p in r._parts:
                p[_F] = ZERO
                if policy.multiple_procedure:
                    p[_G] = ZERO
            r.flags.append("BASE_ENDOSCOPY_BUNDLED")
            _step(r, "ENDOSCOPY_FAMILY", "MULT PROC 3", ZERO,
                  "base endoscopy {} billed with its family members: no separate payment", base_code)
            _wstep(r, "ENDOSCOPY_FAMILY", "MULT PROC 3", ZERO if policy.multiple_procedure else ONE,
                   "base endoscopy bundled into the family" if policy.multiple_procedure
                   else "base endoscopy: full credit (policy)")
            family_members.extend((r, p) for p in r._parts)
        units = [(r, p) for r in others for p in _explode(r)]
        units.sort(key=lambda u: (_part_amount(u[1]), u[1][_W], _tiebreak(u[0])), reverse=True)
        top = units[0]
        reduced: set[int] = set()
        for r, p in units[1:]:
            base_fsa = _fsa(base_row, bool(r._fac), st)
            p[_B] = max(p[_B] - base_fsa, ZERO)
            if policy.multiple_procedure:
                p[_W] = max(p[_W] - base_row.work_rvu, ZERO)
            r.extras["base_amount"] = base_fsa
            r._formula = "FSA - base FSA"
            if id(r) not in reduced:
                reduced.add(id(r))
        for r in others:
            if id(r) in reduced:
                _step(r, "ENDOSCOPY_FAMILY", "MULT PROC 3", None,
                      "endoscopy family {}: pays its FSA minus the base FSA {} (highest member {} paid in full)",
                      base_code, r.extras["base_amount"], top[0].code)
                _wstep(r, "ENDOSCOPY_FAMILY", "MULT PROC 3", None,
                       "endoscopy family: work RVU minus the base work RVU {}" if policy.multiple_procedure
                       else "endoscopy family: full credit (policy)", base_row.work_rvu)
        family_members.extend(units)
        units_out.append(family_members)
    return units_out


def _tc_key(s: list[Any]) -> tuple[Any, ...]:
    return (s[2], s[3] or ZERO, s[4])  # sorted with reverse=True: highest first


def _pc_key(s: list[Any]) -> tuple[Any, ...]:
    return (s[3], s[2] or ZERO, s[4])


def _tc_families(res: list[LineResult], st: _State) -> None:
    """Imaging (MULT 4, per session, TC and PC), cardiovascular (6) and ophthalmology (7) TC reductions."""
    groups: dict[tuple[str, str], list[LineResult]] = {}
    for r in res:
        if r._kind != "price" or r._excluded:
            continue
        row = r.row
        mp = row.mult_proc  # type: ignore[union-attr]
        if mp == "4":
            if row.dx_img_family != "99":  # type: ignore[union-attr]
                groups.setdefault(("4", r._session), []).append(r)
        elif mp == "6" or mp == "7":
            groups.setdefault((mp, ""), []).append(r)
    policy = st.policy
    credit_pc = policy.imaging_pc_mppr_applies_to_wrvu
    lookup = st.lookup
    for (mp, session), members in groups.items():
        if len(members) < 2 and members[0].units < 2:
            continue
        # study: [line, part, TC amount, PC amount, tie-break, TC rank, PC rank]
        studies: list[list[Any]] = []
        for r in members:
            row = r.row
            mod = row.mod  # type: ignore[union-attr]
            if mod == "TC":
                tc, pc = r._parts[0][_B], None
            elif mod == "26":
                tc, pc = None, r._parts[0][_B]
            else:
                tc_row = lookup.get(r.code, "TC")
                pc_row = lookup.get(r.code, "26")
                if tc_row is None or pc_row is None:
                    r.flags.append("COMPONENT_ROWS_MISSING")
                    continue
                fac = bool(r._fac)
                tc = _fsa(tc_row, fac, st)
                if r.setting == NON_FACILITY and st.opps is not None:
                    cap = st.opps(r.code, "TC", st.locality)
                    if cap is not None and cap < tc:
                        tc = cap
                pc = _fsa(pc_row, fac, st)
            tb = _tiebreak(r)
            for p in _explode(r):
                studies.append([r, p, tc, pc, tb, None, None])
        tc_list = [x for x in studies if x[2] is not None]
        if len(tc_list) > 1:
            tc_list.sort(key=_tc_key, reverse=True)
            for k, x in enumerate(tc_list, 1):
                x[5] = k
        if mp == "4":
            pc_list = [x for x in studies if x[3] is not None]
            if len(pc_list) > 1:
                pc_list.sort(key=_pc_key, reverse=True)
                for k, x in enumerate(pc_list, 1):
                    x[6] = k
            rule, label, tc_cut, tc_factor = "IMAGING_MPPR", "MULT PROC 4", _IMAGING_TC_CUT, _IMAGING_TC_FACTOR
            tc_label = "-50% TC"
            what = "imaging study in session " + session if session and not session.startswith("distinct:") \
                else "imaging study"
        else:
            tc_cut, tc_factor, rule, what = _TC_CUTS[mp]
            label = "MULT PROC " + mp
            tc_label = "-25% TC" if mp == "6" else "-20% TC"
        touched: dict[int, tuple[LineResult, list[str]]] = {}
        n = len(studies)
        for r, p, tc, pc, _tb, tr, pr in studies:
            rank = tr if tr is not None else pr
            if rank is None:
                continue
            if r._ranks is None:
                r._ranks = [rank]
            else:
                r._ranks.append(rank)
            entry = touched.get(id(r))
            if entry is None:
                entry = touched[id(r)] = (r, [])
            cuts = entry[1]
            if tr is not None:
                r.extras["tc_amount"] = tc
            mod = r.row.mod  # type: ignore[union-attr]
            tc_red = tr is not None and tr > 1
            pc_red = pr is not None and pr > 1
            if mod == "TC":
                if tc_red:
                    p[_F] = mul_factor(p[_F], tc_factor)
                    cuts.append(tc_label)
            elif mod == "26":
                r.extras["pc_amount"] = pc
                if pc_red:
                    p[_F] = mul_factor(p[_F], _IMAGING_PC_FACTOR)
                    cuts.append("-5% PC")
                    if credit_pc:
                        p[_G] = mul_factor(p[_G], _IMAGING_PC_FACTOR)
            elif tc_red or pc_red:
                formula = "global"
                if tc_red:
                    p[_B] = p[_B] - tc_cut * tc
                    formula += f" - {tc_cut}*TC"
                    cuts.append(tc_label)
                if pc_red:
                    p[_B] = p[_B] - _IMAGING_PC_CUT * pc
                    formula += f" - {_IMAGING_PC_CUT}*PC"
                    cuts.append("-5% PC")
                    r.extras["pc_amount"] = pc
                    if credit_pc:
                        p[_G] = mul_factor(p[_G], _IMAGING_PC_FACTOR)
                if p[_B] < ZERO:
                    p[_B] = ZERO
                r._formula = formula
        for r, cuts in touched.values():
            _step(r, rule, label, None, "{}: rank {} of {} ({})", what, r._ranks, n,
                  ", ".join(cuts) + " of a later service" if cuts else "highest: paid in full")
            if _pc_credit_cut(r, mp, credit_pc):
                _wstep(r, rule, label, _IMAGING_PC_FACTOR, "-5%: professional component of a later imaging study")
            if mp == "4" and "OPPS_CAP_APPLIED" in r.flags:
                r.flags.append("OPPS_CAP_WITH_IMAGING_MPPR")


def _pc_credit_cut(r: LineResult, mp: str, credit_pc: bool) -> bool:
    if mp != "4" or not credit_pc:
        return False
    for p in r._parts:
        if p[_G] is not ONE and p[_G] != ONE:
            return True
    return False


_THERAPY_TEXT = ("-50% of the PE of every unit after the highest-PE unit: such a unit is priced from its own RVUs "
                 "with half the PE, (work x GPCI + 0.50 x PE x GPCI + MP x GPCI) x CF = {}")


def _therapy_unit(row: RvuRow, fac: bool, st: _State) -> Decimal:
    """A therapy unit after the highest-PE unit (MULT PROC 5): priced from its own RVUs with the PE halved,
    rounded once to cents - the MPPR price CMS publishes (pfs-rules correction 3), not the rounded FSA minus
    half the rounded PE amount."""
    key = ("mppr5", st.cid, fac)
    cache: dict[Any, Decimal] = row._cache  # type: ignore[assignment]
    value = cache.get(key)
    if value is None:
        pe = row.pe_fac if fac else row.pe_nonfac
        value = cache[key] = cents((row.work_rvu * st.gw + HALF * pe * st.gpe + row.mp_rvu * st.gmp)
                                   * (st.cf or ZERO))
    return value


def _therapy(res: list[LineResult], st: _State) -> None:
    members = [r for r in res if r._kind == "price" and not r._excluded and r.row.mult_proc == "5"]  # type: ignore[union-attr]
    if sum(r.units for r in members) < 2:
        return
    units = []
    for r in members:
        pe = _pe_amount(r.row, bool(r._fac), st)  # type: ignore[arg-type]
        units.extend((r, p, pe) for p in _explode(r))
    units.sort(key=lambda u: (u[2], u[1][_B], _tiebreak(u[0])), reverse=True)
    for k, (r, p, pe) in enumerate(units, 1):
        _add_rank(r, k)
        if k > 1:
            p[_B] = _therapy_unit(r.row, bool(r._fac), st)  # type: ignore[arg-type]
            r._formula = "(work + 0.50*PE + MP) x GPCIs x CF"
            r.extras["pe_amount"] = pe
            r.extras["reduced_unit_amount"] = p[_B]
    for r in members:
        ranks = r._ranks or []
        _step(r, "THERAPY_MPPR", "MULT PROC 5", None, "therapy unit rank {} of {}: {}", ", ".join(map(str, ranks)),
              len(units), _THERAPY_TEXT.format(r.extras["reduced_unit_amount"]) if r._formula else
              "highest-PE unit paid in full")


def _rank_unit(members: list[tuple[LineResult, list[Any]]]) -> tuple[Decimal, Decimal, tuple[Any, ...],
                                                                     list[tuple[LineResult, list[Any]]]]:
    amount = ZERO
    work = ZERO
    for _r, p in members:
        amount += p[_B] if p[_F] is ONE else p[_B] * p[_F]
        work += p[_W] if p[_G] is ONE else p[_W] * p[_G]
    return (amount, work, min(_tiebreak(m[0]) for m in members), members)


def _rank_surgery(res: list[LineResult], st: _State, families: list[list[Any]],
                  pairs: list[tuple[LineResult, LineResult]]) -> None:
    """MULT PROC 2 ranking (with collapsed MULT 3 families and RT/LT pairs), per claim role (pfs-rules 3.2/7)."""
    policy = st.policy
    in_unit: set[int] = set()
    groups: dict[str, list[tuple[Decimal, Decimal, tuple[Any, ...], list[tuple[LineResult, list[Any]]]]]] = {}
    for fam in families:
        for r, _p in fam:
            in_unit.add(id(r))
        groups.setdefault(_ROLE_GROUP.get(fam[0][0]._mods.role, "primary"), []).append(_rank_unit(fam))
    for a, b in pairs:
        if a.row.mult_proc in ("2", "3") and id(a) not in in_unit:  # type: ignore[union-attr]
            in_unit.add(id(a))
            in_unit.add(id(b))
            groups.setdefault(_ROLE_GROUP.get(a._mods.role, "primary"), []).append(
                _rank_unit([(a, p) for p in a._parts] + [(b, p) for p in b._parts]))
    for r in res:
        if r._kind != "price" or r._excluded or r.row.mult_proc not in ("2", "3") or id(r) in in_unit:  # type: ignore[union-attr]
            continue
        group = groups.setdefault(_ROLE_GROUP.get(r._mods.role, "primary"), [])
        tb = _tiebreak(r)
        for p in _explode(r):
            group.append((p[_B] if p[_F] is ONE else p[_B] * p[_F], p[_W] if p[_G] is ONE else p[_W] * p[_G],
                          tb, [(r, p)]))
    mpf = policy.multiple_procedure_wrvu_factor
    credit_mppr = policy.multiple_procedure
    by_report = policy.by_report_unit_wrvu_factor
    for group_name, units in groups.items():
        if len(units) < 2:
            continue
        units.sort(key=_unit_key, reverse=True)
        n = len(units)
        touched: dict[int, LineResult] = {}
        k = 0
        for amount, _work, _tb, members in units:
            k += 1
            for r, p in members:
                touched[id(r)] = r
                if r._ranks is None:
                    r._ranks = [k]
                else:
                    r._ranks.append(k)
                if amount != r.fee_schedule_amount and "ranking_amount" not in r.extras:
                    r.extras["ranking_amount"] = cents(amount)
                if k == 1:
                    continue
                if k <= 5:
                    p[_F] = mul_factor(p[_F], HALF)
                    if credit_mppr:
                        p[_G] = mul_factor(p[_G], mpf)
                else:
                    p[_BR] = True
                    p[_G] = mul_factor(p[_G], by_report)
                    if "MULTIPLE_PROCEDURE_BY_REPORT" not in r.flags:
                        r.flags.append("MULTIPLE_PROCEDURE_BY_REPORT")
        where = f" ({group_name} claim)" if group_name != "primary" else ""
        for r in touched.values():
            ranks = r._ranks or []
            top = min(ranks)
            indicator = "MULT PROC " + r.row.mult_proc  # type: ignore[union-attr]
            if max(ranks) > 5:
                text, factor = "6th and later procedures: priced by report (contractor)", None
            elif top > 1:
                text, factor = "-50%: later procedure", HALF
            elif len(ranks) == 1:
                text, factor = "highest-ranked procedure: 100%", ONE
            else:
                text, factor = "first unit 100%, later units -50%", None
            _step(r, "MULTIPLE_PROCEDURE", indicator, factor, "{}, rank {} of {}{}", text,
                  ", ".join(map(str, ranks)), n, where)
            if max(ranks) > 1:
                _wstep(r, "MULTIPLE_PROCEDURE", indicator, mpf if credit_mppr and top > 1 else None,
                       "credit for rank {}: {}", ", ".join(map(str, ranks)),
                       f"x{mpf} after the first" if credit_mppr else "full (policy)")


def _rank_simple(ranked: list[LineResult], st: _State) -> bool:
    """The common case of :func:`_rank_surgery`: every ranked line is one unit (untouched, or one part such
    as a bilateral line's) and no two units of a claim role share (amount, work RVU), so amount and work
    alone decide the order (the tie-break is never consulted) and each line takes one factor. Returns
    False, having changed nothing, when the general ranking is needed. An untouched line with no later
    factor to apply is finished here, as :func:`_finish` would finish it (ranking is the last rule that
    touches a line); the others are left to :func:`_finish`."""
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for r in ranked:
        if r._excluded:  # denied by an earlier cross-line rule
            continue
        if r.units != 1 or r._ranks is not None or r._null is not None:
            return False
        parts = r._p
        if parts is None:
            unit: tuple[Any, ...] = (r.fee_schedule_amount, r.row.work_rvu, r.index, r, None)  # type: ignore[union-attr]
        elif len(parts) == 1:
            p = parts[0]
            unit = (p[_B] if p[_F] is ONE else p[_B] * p[_F], p[_W] if p[_G] is ONE else p[_W] * p[_G], r.index, r,
                    p)
        else:
            return False
        role = r._mods.role
        name = "primary" if role is None else _ROLE_GROUP.get(role, "primary")
        group = groups.get(name)
        if group is None:
            groups[name] = [unit]
        else:
            group.append(unit)
    for units in groups.values():
        if len(units) > 1:
            units.sort(reverse=True)  # the line index is unique: the line itself is never compared
            prev = units[0]
            for u in units[1:]:
                if u[0] == prev[0] and u[1] == prev[1]:
                    return False  # a tie: the general ranking orders it by the tie-break
                prev = u
    policy = st.policy
    mpf = policy.multiple_procedure_wrvu_factor
    credit_mppr = policy.multiple_procedure
    later = mpf if credit_mppr else ONE
    by_report = policy.by_report_unit_wrvu_factor
    wfactor = mpf if credit_mppr else None
    # formatted when the explanation is read (extra arguments are ignored by str.format)
    wfmt = "credit for rank {}: x{} after the first" if credit_mppr else "credit for rank {}: full (policy)"
    for name, units in groups.items():
        n = len(units)
        if n < 2:
            continue
        where = f" ({name} claim)" if name != "primary" else ""
        k = 0
        for amount, work, _i, r, part in units:
            k += 1
            r._ranks = [k]
            indicator = _MP_INDICATOR[r.row.mult_proc]  # type: ignore[union-attr]
            if part is not None:
                _rank_part(r, part, k, n, where, indicator, amount, credit_mppr, mpf, by_report, wfactor, wfmt)
                continue
            pending = r._late is not None  # later factors (role, split, NPP): _finish applies them
            if k == 1:
                _push(r, ("MULTIPLE_PROCEDURE", indicator, ONE, amount, "{}, rank {} of {}{}",
                          ("highest-ranked procedure: 100%", k, n, where)))
                if pending:
                    r._p = [[1, amount, ONE, work, ONE, False]]
                else:
                    r.rank = 1
                    if r._done != 1:
                        _unreduced(r, amount, work, 1)
                    r._done = 2
                continue
            if k <= 5:
                factor, by_rep, g = HALF, False, later
                x = amount * HALF
                _push(r, ("MULTIPLE_PROCEDURE", indicator, HALF, x, "{}, rank {} of {}{}",
                          ("-50%: later procedure", k, n, where)))
            else:
                factor, by_rep, g = ONE, True, by_report
                x = None
                r.flags.append("MULTIPLE_PROCEDURE_BY_REPORT")
                _push(r, ("MULTIPLE_PROCEDURE", indicator, None, None, "{}, rank {} of {}{}",
                          ("6th and later procedures: priced by report (contractor)", k, n, where)))
            credit = work if g is ONE else work * g
            _wpush(r, ("MULTIPLE_PROCEDURE", indicator, wfactor, credit, wfmt, (k, mpf)))
            if pending:
                r._p = [[1, amount, factor, work, g, by_rep]]
                continue
            r.rank = k
            r.wrvu_exact = credit
            r.wrvu = round_wrvu(credit)
            if g is not ONE and g != ONE:
                r._wrvu_factor = g
            if x is None:
                r.payment = r.payment_factor = None
                _push(r, ("PAYMENT", None, None, None, "no formula payment: {}",
                          ("6th and later procedures are priced by report",)))
            else:
                r.payment = payment = cents(x)
                r.payment_factor = HALF
                if x != payment:
                    _push(r, ("ROUND", None, None, payment, "payment rounded half-up to cents: {}", (payment,)))
            r._done = 2
    return True


def _rank_part(r: LineResult, p: list[Any], k: int, n: int, where: str, indicator: str, amount: Decimal,
               credit_mppr: bool, mpf: Decimal, by_report: Decimal, wfactor: Decimal | None, wfmt: str) -> None:
    """Rank k of n for a line whose one part an earlier rule changed (bilateral): the factor goes on the part
    and :func:`_finish` finishes the line, as in the general ranking."""
    if amount != r.fee_schedule_amount and "ranking_amount" not in r.extras:
        r.extras["ranking_amount"] = cents(amount)
    if k == 1:
        _step(r, "MULTIPLE_PROCEDURE", indicator, ONE, "{}, rank {} of {}{}", "highest-ranked procedure: 100%", k, n,
              where)
        return
    if k <= 5:
        p[_F] = mul_factor(p[_F], HALF)
        if credit_mppr:
            p[_G] = mul_factor(p[_G], mpf)
        _step(r, "MULTIPLE_PROCEDURE", indicator, HALF, "{}, rank {} of {}{}", "-50%: later procedure", k, n, where)
    else:
        p[_BR] = True
        p[_G] = mul_factor(p[_G], by_report)
        r.flags.append("MULTIPLE_PROCEDURE_BY_REPORT")
        _step(r, "MULTIPLE_PROCEDURE", indicator, None, "{}, rank {} of {}{}",
              "6th and later procedures: priced by report (contractor)", k, n, where)
    _wstep(r, "MULTIPLE_PROCEDURE", indicator, wfactor, wfmt, k, mpf)


def _unit_key(u: tuple[Any, ...]) -> tuple[Any, ...]:
    return (u[0], u[1], u[2])


def _combine_anesthesia(res: list[LineResult]) -> None:
    anes = [r for r in res if r._kind == "anes"]
    if len(anes) < 2:
        return
    anes.sort(key=lambda r: (r._anes[0], r.code), reverse=True)
    primary = anes[0]
    total = sum(r._anes[1] for r in anes)
    primary._anes[1] = total
    primary.flags.append("ANESTHESIA_MULTIPLE_PROCEDURES")
    for r in anes[1:]:
        r._anes = None
        r.flags.append("ANESTHESIA_COMBINED")


# ---------------------------------------------------------------------------------------------- finishing
def _unreduced(r: LineResult, fsa: Decimal, w: Decimal, n: int) -> None:
    """A line no rule reduced: payment = FSA x units (the FSA is already in cents), credit = work x units."""
    r.payment_factor = ONE
    if n == 1:
        r.payment = fsa
        r.wrvu_exact = w
        cache = r.row._cache  # type: ignore[union-attr]
        rounded = cache.get(-1)  # the row's rounded work RVU, kept beside its amounts
        if rounded is None:
            rounded = cache[-1] = round_wrvu(w)
        r.wrvu = rounded
    else:
        r.payment = cents(fsa * n)
        r.wrvu_exact = exact = w * n
        r.wrvu = round_wrvu(exact)


def _finish(r: LineResult, st: _State) -> None:
    kind = r._kind
    if kind == "anes":
        _finish_anesthesia(r, st)
        return
    if kind == "zero":
        r.payment = _ZERO_CENTS
        exact = r._parts[0][_W] * r.units
        r.wrvu_exact = exact
        r.wrvu = round_wrvu(exact)
        return
    if kind == "null":
        r.payment = None
        exact = r._parts[0][_W] * r.units
        r.wrvu_exact = exact
        r.wrvu = round_wrvu(exact)
        return
    if r._p is None and r._late is None and r._ranks is None and r._null is None and r._formula is None:
        _unreduced(r, r.fee_schedule_amount, r.row.work_rvu, r.units)  # type: ignore[union-attr,arg-type]
        return
    parts = r._parts
    if (r._late is None and r._ranks is None and r._null is None and r._formula is None and len(parts) == 1):
        n, b, f, w, g, br = parts[0]
        fsa = r.fee_schedule_amount
        if f is ONE and g is ONE and b is fsa and not br and n == r.units:
            _unreduced(r, fsa, w, n)  # type: ignore[arg-type]
            return
    policy = st.policy
    late = r._late
    if late:
        for rule, indicator, pay, credit, fmt, args in late:
            if isinstance(credit, str):
                credit = {"co": policy.co_surgery_wrvu_factor, "team": policy.team_wrvu_factor,
                          "asst": policy.assistant_wrvu_factor, "as": policy.as_modifier_wrvu_factor,
                          "split": pay if policy.global_split else None}[credit]
            _scale(r, pay, credit)
            _step(r, rule, indicator, pay, fmt, *args)
            if credit is not None and credit != ONE:
                _wstep(r, rule, indicator, credit, "credit x{} ({})", credit, rule.lower().replace("_", " "))
    ranks = r._ranks
    if ranks is not None:
        r.rank = min(ranks)
        if len(ranks) > 1:
            r.extras["ranks"] = ranks
    # 11. payment
    fsa = r.fee_schedule_amount
    if len(parts) == 1:
        p = parts[0]
        f = p[_F]
        n = p[_N]
        if r._null is not None or p[_BR]:
            payment = None
        else:
            x = p[_B] if f is ONE else p[_B] * f
            payment = cents(x * n) if n != 1 or x is not fsa else fsa
        r.payment_factor = f if (r._formula is None and payment is not None and p[_B] == fsa) else None
        g = p[_G]
        exact = p[_W] if g is ONE else p[_W] * g
        if n != 1:
            exact = exact * n
        if g is not ONE and g != ONE and p[_W] == r.row.work_rvu:  # type: ignore[union-attr]
            r._wrvu_factor = g
    else:
        merged: dict[tuple[Any, ...], list[Any]] = {}
        for p in parts:
            key = (p[_B], p[_F], p[_W], p[_G], p[_BR])
            m = merged.get(key)
            if m is None:
                merged[key] = list(p)
            else:
                m[_N] += p[_N]
        parts = r._parts = list(merged.values())
        if r._null is not None or any(p[_BR] for p in parts):
            payment = None
        else:
            payment = ZERO
            for p in parts:
                payment += cents(_part_amount(p))
        factors = {p[_F] for p in parts}
        same_base = all(p[_B] == fsa for p in parts)
        r.payment_factor = parts[0][_F] if (
            len(factors) == 1 and same_base and r._formula is None and payment is not None) else None
        if len(factors) > 1:
            r.extras["unit_factors"] = [str(p[_F]) + (f" x{p[_N]}" if p[_N] > 1 else "") for p in parts]
        exact = _credit(parts)
    if r._formula is not None:
        r.extras["formula"] = r._formula
    r.payment = payment
    r.wrvu_exact = exact
    r.wrvu = round_wrvu(exact)
    steps = r._steps
    last = steps[-1][3] if steps else (fsa * r.units if fsa is not None else None)
    if payment is None:
        reason = r._null or "6th and later procedures are priced by report"
        _push(r, ("PAYMENT", None, None, None, "no formula payment: {}", (reason,)))
    elif last is None or last != payment:
        _push(r, ("ROUND", None, None, payment, "payment rounded half-up to cents: {}", (payment,)))
    wsteps = r._wsteps
    wlast = wsteps[-1][3] if wsteps else r.row.work_rvu * r.units  # type: ignore[union-attr]
    if wlast != exact:
        _wpush(r, ("CREDIT", None, None, exact, "wRVU credit {}", (fmt_exact(exact),)))


def _finish_anesthesia(r: LineResult, st: _State) -> None:
    info = r._anes
    r.fee_schedule_amount = None
    r.wrvu_exact = ZERO
    r.wrvu = round_wrvu(ZERO)
    _wpush(r, ("WORK_RVU", "STATUS J", None, ZERO,
               "anaesthesia (status J): no PFS work RVU, credit 0", ()))
    if info is None:
        r.payment = _ZERO_CENTS
        r.payment_factor = ZERO
        _push(r, ("ANESTHESIA", "STATUS J", ZERO, r.payment,
                  "multiple anaesthesia procedures: paid on the line with the highest base units", ()))
        return
    base, minutes, mod = info
    places = st.policy.anesthesia_time_unit_decimals
    if mod == "AD":
        units = _AD_BASE + (ONE if r.line.present_at_induction else ZERO)
        text, args = "AD medical supervision: {} base units (no time units)", (units,)
    else:
        tu = time_units(minutes, places)
        units = base + tu
        text = "{} base units + {} min / 15 = {} time units -> {} units"
        args = (base, minutes, tu, units)
    factor = _ANES_FACTOR.get(mod or "AA", ONE)
    cf = st.anes_cf
    assert cf is not None
    amount = units * cf
    r.extras["total_units"] = units
    _push(r, ("ANESTHESIA", "STATUS J", None, amount, text + " x anaesthesia CF {}", (*args, cf)))
    if factor != ONE:
        amount = amount * factor
        _push(r, ("ANESTHESIA", f"MOD {mod}", factor, amount,
                  "{}: medically directed, 50% of the allowed amount", (mod,)))
        r.payment_factor = factor
    payment = cents(amount)
    r.payment = payment
    if payment != amount:
        _push(r, ("ROUND", None, None, payment, "payment rounded half-up to cents: {}", (payment,)))


# ---------------------------------------------------------------------------------------------- entry point
def price_encounter(
    encounter: Encounter,
    lookup: RvuLookup,
    *,
    release_lookups: Mapping[str, RvuLookup] | None = None,
) -> EncounterResult:
    """Price every line of one encounter and credit its wRVUs.

    Raises :class:`PricingError` for an unknown code (with near matches), a deleted code or an invalid
    modifier combination. ``release_lookups`` supplies the RVU releases named by a frozen/blended credit policy
    (otherwise ``lookup.for_release(name)`` is asked).
    """
    policy = encounter.policy or CMS_MIRROR
    result = _price(encounter, lookup, policy)
    if policy.rvu_release.mode != "current":
        _release_credit(result, encounter, lookup, policy, release_lookups)
    return result


def _price(enc: Encounter, lookup: RvuLookup, policy: Policy, *, cache: bool = True) -> EncounterResult:
    st = _state_for(enc, lookup, policy, cache)
    plain = st.plain
    res = []
    scan = False  # some line needs _cross_line (resolved now, or more than the ranking can apply to it)
    addons = False  # some line may be an add-on code (GLOB DAYS ZZZ)
    ranked: list[LineResult] = []  # planned MULT PROC 2 lines
    n_rank = 0
    for i, ln in enumerate(enc.lines):
        plan = None
        if ln.setting is None and ln.pos is None:
            mods = ln.modifiers
            plan = plain.get((ln.code, mods) if mods else ln.code)
        if (plan is not None and ln.provider_type == "physician" and ln.days_furnished is None
                and not ln.incident_to and (ln.units == 1 or plan[_PLAN_UNITS_OK])):
            # A line like one resolved before in this context (same code and modifiers, nothing line-specific:
            # _plannable): the decisions _resolve took for it, from the plan it left; finished now unless its
            # rules left working state for _finish.
            r = LineResult(i, ln)
            row, r.status, r._fac, fsa, flags, na_note, _units_ok, w, rounded, r._mods, cross, addon, state = plan
            r.setting = st.setting
            r.row = row
            if flags:
                r._flags = list(flags)
            r.fee_schedule_amount = fsa
            r._kind = "price"
            r._ctx = st.ctx
            if na_note is not None:
                r._na_note = na_note
            r._session = ln.session or ""
            if state is not None:  # rules changed the line: their working state, for _finish
                parts, steps, wsteps, late, extras, r._null, r._excluded, r._pair = state
                if parts is not None:
                    r._p = [list(p) for p in parts]
                if steps:
                    r._steps = list(steps)
                if wsteps:
                    r._wsteps = list(wsteps)
                if late is not None:
                    r._late = list(late)
                if extras is not None:
                    r._extras = dict(extras)
            elif r.units == 1:
                r._done = 1
                r.payment_factor = ONE
                r.payment = fsa
                r.wrvu_exact = w
                r.wrvu = rounded
            else:
                r._done = 1
                _unreduced(r, fsa, w, r.units)
            if cross == 1:
                if not r._excluded:
                    ranked.append(r)
                    n_rank += r.units
            elif cross:
                scan = True
            if addon:
                addons = True
        else:
            r = _resolve(i, ln, st)
            scan = addons = True
        res.append(r)
    if len(res) > 1 or (res and res[0].units > 1):  # units of one line can be ranked too
        if scan or enc.separate_claims is not None:
            separate = _cross_line(res, st, enc)
        else:
            # Planned lines with at most MULT PROC 2 between them: no other cross-line rule applies, and they
            # cannot be separate claims (no component beside its global code, no split care, no anaesthesia,
            # no per-line setting), so _cross_line would only rank them.
            separate = None
            if n_rank > 1 and not _rank_simple(ranked, st):
                _rank_surgery(res, st, _NONE, _NONE)
    else:
        separate = "the lines are separate claims" if enc.separate_claims else None
    flags: list[str] = []
    total_payment: Decimal | None = ZERO
    total_wrvu = ZERO
    has_primary = None
    if len(res) == 1:  # the common single-line case: totals are the line's values
        r = res[0]
        done = r._done  # see LineResult._done
        if not done or (done == 1 and (r._p is not None or r._ranks is not None)):
            _finish(r, st)
        if addons and r._kind == "price" and r.row.glob_days == "ZZZ":  # type: ignore[union-attr]
            r.flags.append("ADDON_WITHOUT_PRIMARY")
        if separate is not None:
            return EncounterResult(res, None, r.wrvu, r.wrvu_exact, separate, ["SEPARATE_CLAIMS"], st.source_fn)
        note = "a line is contractor priced or priced by report" if r.payment is None else None
        return EncounterResult(res, r.payment, r.wrvu, r.wrvu_exact, note, [], st.source_fn)
    for r in res:
        done = r._done  # see LineResult._done
        if not done or (done == 1 and (r._p is not None or r._ranks is not None)):
            _finish(r, st)
        if addons and r._kind == "price" and r.row.glob_days == "ZZZ":  # type: ignore[union-attr]
            if has_primary is None:
                has_primary = any(x._kind == "price" and x.row.glob_days != "ZZZ" for x in res)  # type: ignore[union-attr]
            if not has_primary:
                r.flags.append("ADDON_WITHOUT_PRIMARY")
        if total_payment is not None:
            total_payment = None if r.payment is None else total_payment + r.payment
        total_wrvu += r.wrvu_exact
    note = None
    if separate is not None:
        total_payment = None
        note = separate
        flags.append("SEPARATE_CLAIMS")
    elif total_payment is None:
        note = "a line is contractor priced or priced by report"
    return EncounterResult(res, total_payment, round_wrvu(total_wrvu), total_wrvu, note, flags, st.source_fn)


def _release_credit(result: EncounterResult, enc: Encounter, lookup: RvuLookup, policy: Policy,
                    release_lookups: Mapping[str, RvuLookup] | None) -> None:
    spec = policy.rvu_release
    weights = [(spec.release, ONE)] if spec.mode == "frozen" else [(w.release, w.weight) for w in spec.releases]
    current_policy = replace(policy, rvu_release=CMS_MIRROR.rvu_release)
    per_release: list[tuple[str, Decimal, list[LineResult], set[str]]] = []
    for name, weight in weights:
        assert name is not None
        other = (release_lookups or {}).get(name)
        if other is None:
            finder = getattr(lookup, "for_release", None)
            other = finder(name) if finder else None
        if other is None:
            raise PricingError(f"the credit policy needs RVU release {name}, which is not loaded")
        chain = ChainLookup(other, lookup)
        priced = _price(replace(enc, policy=current_policy), chain, current_policy, cache=False)
        per_release.append((name, weight, priced.lines, chain.fell_back))
    total = ZERO
    for i, line in enumerate(result.lines):
        exact = ZERO
        parts = []
        for name, weight, lines, fell_back in per_release:
            value = lines[i].wrvu_exact
            exact += weight * value
            parts.append(f"{weight} x {name} {fmt_exact(value)}")
            if line.code in fell_back:
                line.flags.append(f"WRVU_RELEASE_FALLBACK_{name}")
        line.extras["release_wrvus"] = {name: fmt_exact(lines[i].wrvu_exact) for name, _w, lines, _f in per_release}
        line.wrvu_exact = exact
        line.wrvu = round_wrvu(exact)
        _wpush(line, ("RVU_RELEASE", spec.mode.upper(), None, exact, "credit from {}: {} = {}",
                      (spec.describe(), " + ".join(parts), fmt_exact(exact))))
        line._wexplanation = None
        total += exact
    result.total_wrvu_exact = total
    result.total_wrvu = round_wrvu(total)
