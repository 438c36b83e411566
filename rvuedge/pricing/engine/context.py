"""The pricing context of an encounter: GPCIs, CFs and floors (``_Ctx``), everything a run needs besides the lines
(``_State``), and the per-row amounts cached under a context id (FSA, PE amount, OPPS cap)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from ..lookup import RvuLookup
from ..model import NATIONAL_GPCI, NON_FACILITY, Encounter, PricingError, RvuRow, setting_for_pos
from ..money import ZERO, cents
from ..policy import Policy
from .constants import _ALASKA_FLOOR, _LATEST_YEAR, _WORK_FLOOR, CF_TABLE, WORK_FLOOR_END

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
                 "opps_source", "ctx", "year", "dos", "qp", "plain", "source_fn")

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
        source_fn = getattr(lookup, "opps_cap_source", None)
        # "file" (OPPSCAP prices, both settings), "columns" (computed from the PPRRVU OPPS columns, both
        # settings), "fixture" (a lookup's own non-facility caps, e.g. a spec vector's) or None
        self.opps_source = source_fn(self.locality) if source_fn is not None else (
            "fixture" if self.opps is not None else None)
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


def _opps_cap(st: _State, row: RvuRow, fac: bool, setting: str | None) -> Decimal | None:
    """The OPPS imaging cap of one unit of ``row`` priced on the ``fac`` side, or None (pfs-rules 2.6 and its
    correction 2): the release's OPPSCAP price ("file"), else (work RVU x work GPCI + OPPS PE RVU x PE GPCI +
    OPPS MP RVU x MP GPCI) x CF in cents from the PPRRVU columns ("columns"), which reproduces every status-A
    row of the OPPSCAP files of RVU22A-RVU25D on both sides; a fixture's caps are non-facility amounts."""
    source = st.opps_source
    if source == "columns":
        pe = row.opps_fac_pe if fac else row.opps_nonfac_pe
        if not (pe or row.opps_mp) or st.cf is None:
            return None
        key = ("opps", st.cid, fac)
        cache: dict[Any, Decimal] = row._cache  # type: ignore[assignment]
        value = cache.get(key)
        if value is None:
            value = cache[key] = cents((row.work_rvu * st.gw + pe * st.gpe + row.opps_mp * st.gmp) * st.cf)
        return value
    if source == "file":
        return st.opps(row.code, row.mod, st.locality, fac=fac)  # type: ignore[misc]
    if source == "fixture" and setting == NON_FACILITY:
        return st.opps(row.code, row.mod, st.locality)  # type: ignore[misc]
    return None


def _pe_amount(row: RvuRow, fac: bool, st: _State) -> Decimal:
    key = st.cid + 2 + fac
    cache = row._cache
    value = cache.get(key)
    if value is None:
        value = cents((row.pe_fac if fac else row.pe_nonfac) * st.gpe * (st.cf or ZERO))
        cache[key] = value
    return value
