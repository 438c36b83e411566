"""The pricing context of an encounter: GPCIs, CFs and floors (``_Ctx``), everything a run needs besides the lines
(``_State``), and the per-row amounts cached under a context id (FSA, PE amount, OPPS cap)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
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
    """GPCIs, CFs and floors for one (locality, CF inputs, QP, date) combination."""

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


class _State:
    """Everything pricing one encounter needs besides the lines."""

    __slots__ = ("lookup", "policy", "cf", "gw", "gpe", "gmp", "cid", "anes_cf", "setting", "locality", "opps",
                 "opps_source", "ctx", "year", "dos", "qp", "source_fn")

    def __init__(self, enc: Encounter, lookup: RvuLookup, policy: Policy):
        ctx = _Ctx(enc, enc.gpci or NATIONAL_GPCI)
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
        self.opps: Callable[..., Decimal | None] | None = getattr(lookup, "opps_cap", None)
        source_fn = getattr(lookup, "opps_cap_source", None)
        # "file" (OPPSCAP prices, both settings), "columns" (computed from the PPRRVU OPPS columns, both
        # settings), "fixture" (a lookup's own non-facility caps, e.g. a spec vector's) or None
        self.opps_source = source_fn(self.locality) if source_fn is not None else (
            "fixture" if self.opps is not None else None)
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
        cache: dict[Any, Decimal] = row._cache
        value = cache.get(key)
        if value is None:
            value = cache[key] = cents((row.work_rvu * st.gw + pe * st.gpe + row.opps_mp * st.gmp) * st.cf)
        return value
    opps = st.opps
    if opps is None:
        return None
    if source == "file":
        return opps(row.code, row.mod, st.locality, fac=fac)
    if source == "fixture" and setting == NON_FACILITY:
        return opps(row.code, row.mod, st.locality)
    return None


def _pe_amount(row: RvuRow, fac: bool, st: _State) -> Decimal:
    key = st.cid + 2 + fac
    cache = row._cache
    value = cache.get(key)
    if value is None:
        value = cents((row.pe_fac if fac else row.pe_nonfac) * st.gpe * (st.cf or ZERO))
        cache[key] = value
    return value
