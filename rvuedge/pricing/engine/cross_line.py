"""Stage 6 of pfs-rules 3.2 and the claim-level checks: one scan over the lines decides whether they are one
claim, then runs the family rules some line can trigger (status T, RT/LT pairs, endoscopy, imaging,
cardiovascular and ophthalmology TC cuts, therapy PE cut) and the ranking; anaesthesia lines are combined."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..model import Encounter, LineResult, Part, RvuRow
from ..money import ONE, ZERO, cents, fmt_exact, mul_factor
from ..policy import Policy
from .constants import (
    _BILAT_FACTOR,
    _IMAGING_PC_CUT,
    _IMAGING_PC_FACTOR,
    _IMAGING_TC_CUT,
    _IMAGING_TC_FACTOR,
    _NONE,
    _PAIR_FACTOR,
    _TC_CUTS,
    HALF,
)
from .context import _fsa, _opps_cap, _pe_amount, _State
from .ranking import _rank_simple, _rank_surgery
from .steps import _add_ranks, _deny, _runs, _scale, _split, _step, _tiebreak, _unit_amount, _wstep


def _cross_line(res: list[LineResult], st: _State, enc: Encounter) -> str | None:
    """One scan over the lines: decide whether they are one claim, then run steps 6-7 of pfs-rules 3.2,
    calling only the rules some line can trigger. Returns why the lines are separate claims, if they are."""
    t_status = pairs_wanted = dup = echo = False
    n3 = n_tc = n5 = n_rank = n_anes = 0
    codes: set[str] = set()
    bases: set[str] = set()  # ENDO BASE codes named by the MULT PROC 3 lines
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
            if r.row.endo_base:  # type: ignore[union-attr]
                bases.add(r.row.endo_base)  # type: ignore[union-attr]
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
    # a base endoscopy is "a code some MULT PROC 3 row names as its ENDO BASE", whatever its own indicator (in
    # the CMS files the bases carry MULT PROC 2 and no ENDO BASE: 43235, 45378, 29870)
    families = _endoscopy(res, st, bases) if n3 > 1 or (n3 and not bases.isdisjoint(codes)) else _NONE
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


def _endoscopy(res: list[LineResult], st: _State, bases: set[str]) -> list[list[Any]]:
    """Collapse MULT PROC 3 families; return ranking units [members...] for families of 2+ units. A family's
    base is the code its members name as ENDO BASE (``bases``): its global line joins the family whatever its
    own MULT PROC indicator, and is not paid separately when billed with a member."""
    families: dict[tuple[Any, str], list[LineResult]] = {}
    for r in res:
        row = r.row
        if r._kind != "price" or r._excluded:
            continue
        if row.mult_proc == "3" and row.endo_base:  # type: ignore[union-attr]
            families.setdefault((r._mods.role, row.endo_base), []).append(r)  # type: ignore[union-attr]
        elif row.code in bases and row.mod == "" and row.mult_proc in ("2", "3"):  # type: ignore[union-attr]
            families.setdefault((r._mods.role, row.code), []).append(r)  # type: ignore[union-attr]
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
        # members (line, part, ranks it takes in the family's one rank): every unit of a member code takes one
        family_members: list[tuple[LineResult, Part, int]] = []
        for r in base_rows:
            for p in r._parts:
                p.pay_factor = ZERO
                if policy.multiple_procedure:
                    p.credit_factor = ZERO
            r.flags.append("BASE_ENDOSCOPY_BUNDLED")
            _step(r, "ENDOSCOPY_FAMILY", "MULT PROC 3", ZERO,
                  "base endoscopy {} billed with its family members: no separate payment", base_code)
            _wstep(r, "ENDOSCOPY_FAMILY", "MULT PROC 3", ZERO if policy.multiple_procedure else ONE,
                   "base endoscopy bundled into the family" if policy.multiple_procedure
                   else "base endoscopy: full credit (policy)")
            family_members.extend((r, p, 1) for p in r._parts)
        runs = [(r, p) for r in others for p in _runs(r)]
        runs.sort(key=lambda u: (_unit_amount(u[1]), u[1].work, _tiebreak(u[0])), reverse=True)
        top = runs[0]
        if top[1].units > 1:  # the highest unit is paid in full, the rest of its run is reduced
            runs.insert(1, (top[0], _split(top[0], top[1], 1)))
        reduced: set[int] = set()
        for r, p in runs[1:]:
            base_fsa = _fsa(base_row, bool(r._fac), st)
            p.base = max(p.base - base_fsa, ZERO)
            if policy.multiple_procedure:
                p.work = max(p.work - base_row.work_rvu, ZERO)
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
        family_members.extend((r, p, p.units) for r, p in runs)
        units_out.append(family_members)
    return units_out


def _tc_key(s: list[Any]) -> tuple[Any, ...]:
    return (s[2], s[3] or ZERO, s[4])  # sorted with reverse=True: highest first


def _pc_key(s: list[Any]) -> tuple[Any, ...]:
    return (s[3], s[2] or ZERO, s[4])


def _tc_families(res: list[LineResult], st: _State) -> None:
    """Imaging (MULT 4, per session, TC and PC), cardiovascular (6) and ophthalmology (7) TC reductions."""
    credit_pc = st.policy.imaging_pc_mppr_applies_to_wrvu
    for (mp, session), members in _tc_groups(res).items():
        if len(members) < 2 and members[0].units < 2:
            continue
        studies, n, tc_units, pc_units = _studies(members, st)
        if tc_units > 1:
            _rank_studies(studies, 2, _tc_key)
        if mp == "4" and pc_units > 1:
            _rank_studies(studies, 3, _pc_key)
        rule, label, tc_cut, tc_factor, tc_label, what = _family_rule(mp, session)
        touched = _cut_studies(studies, tc_cut, tc_factor, tc_label, credit_pc)
        for r, cuts in touched.values():
            _step(r, rule, label, None, _tc_text, what, r._ranks, n, cuts)
            if _pc_credit_cut(r, mp, credit_pc):
                _wstep(r, rule, label, _IMAGING_PC_FACTOR, "-5%: professional component of a later imaging study")
            if mp == "4" and "OPPS_CAP_APPLIED" in r.flags:
                r.flags.append("OPPS_CAP_WITH_IMAGING_MPPR")


def _tc_groups(res: list[LineResult]) -> dict[tuple[str, str], list[LineResult]]:
    """Imaging lines per session (MULT PROC 4, not family 99), cardiovascular (6) and ophthalmology (7) lines."""
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
    return groups


def _studies(members: list[LineResult], st: _State) -> tuple[list[list[Any]], int, int, int]:
    """Each run of a family's lines as a study ``[line, run, TC amount, PC amount, tie-break, TC rank of its first
    unit, PC rank of it]`` (a global line's TC and PC amounts come from its component rows, the TC capped by
    OPPS), and the units in all, with a TC and with a PC."""
    lookup = st.lookup
    studies: list[list[Any]] = []
    n = tc_units = pc_units = 0
    for r in members:
        mod = r.row.mod  # type: ignore[union-attr]
        if mod == "TC":
            tc, pc = r._parts[0].base, None
        elif mod == "26":
            tc, pc = None, r._parts[0].base
        else:
            tc_row = lookup.get(r.code, "TC")
            pc_row = lookup.get(r.code, "26")
            if tc_row is None or pc_row is None:
                r.flags.append("COMPONENT_ROWS_MISSING")
                continue
            fac = bool(r._fac)
            tc = _fsa(tc_row, fac, st)
            if st.opps_source is not None:
                cap = _opps_cap(st, tc_row, fac, r.setting)
                if cap is not None and cap < tc:
                    tc = cap
            pc = _fsa(pc_row, fac, st)
        tb = _tiebreak(r)
        for p in _runs(r):  # a run of n equal units takes n consecutive ranks in each ranking
            studies.append([r, p, tc, pc, tb, None, None])
            count = p.units
            n += count
            if tc is not None:
                tc_units += count
            if pc is not None:
                pc_units += count
    return studies, n, tc_units, pc_units


def _rank_studies(studies: list[list[Any]], amount: int, key: Any) -> None:
    """Rank the studies that have a TC (``amount`` 2) or a PC (3) amount: each run's first unit's rank goes in
    column 5 (TC) or 6 (PC)."""
    ranked = [x for x in studies if x[amount] is not None]
    ranked.sort(key=key, reverse=True)
    k = 1
    for x in ranked:
        x[amount + 3] = k
        k += x[1].units


def _family_rule(mp: str, session: str) -> tuple[str, str, Decimal, Decimal, str, str]:
    """Rule name, indicator label, TC cut and factor, the cut's label and what a study is, by MULT PROC."""
    if mp == "4":
        what = "imaging study in session " + session if session and not session.startswith("distinct:") \
            else "imaging study"
        return "IMAGING_MPPR", "MULT PROC 4", _IMAGING_TC_CUT, _IMAGING_TC_FACTOR, "-50% TC", what
    tc_cut, tc_factor, rule, what = _TC_CUTS[mp]
    return rule, "MULT PROC " + mp, tc_cut, tc_factor, "-25% TC" if mp == "6" else "-20% TC", what


def _cut_studies(studies: list[list[Any]], tc_cut: Decimal, tc_factor: Decimal, tc_label: str,
                 credit_pc: bool) -> dict[int, tuple[LineResult, list[tuple[tuple[str, ...], int]]]]:
    """Give each ranked study its ranks and cut every unit after the first; returns the lines touched, each with
    its cuts (for the explanation)."""
    touched: dict[int, tuple[LineResult, list[tuple[tuple[str, ...], int]]]] = {}
    for r, p, tc, pc, _tb, tr, pr in studies:
        rank = tr if tr is not None else pr
        if rank is None:
            continue
        count = p.units
        _add_ranks(r, rank, count)
        entry = touched.get(id(r))
        if entry is None:
            entry = touched[id(r)] = (r, [])
        cuts = entry[1]
        if tr is not None:
            r.extras["tc_amount"] = tc
        # the run's units hold ranks tr, tr + 1, ... (and pr, pr + 1, ...): only its first unit can be
        # ranked first, so it is split in at most two pieces
        if count > 1 and (tr == 1 or pr == 1):
            rest = _split(r, p, 1)
            _tc_cut(r, p, tc, pc, tr is not None and tr > 1, pr is not None and pr > 1, cuts, tc_cut, tc_factor,
                    tc_label, credit_pc)
            _tc_cut(r, rest, tc, pc, tr is not None, pr is not None, cuts, tc_cut, tc_factor, tc_label, credit_pc)
        else:
            _tc_cut(r, p, tc, pc, tr is not None and tr > 1, pr is not None and pr > 1, cuts, tc_cut, tc_factor,
                    tc_label, credit_pc)
    return touched


def _tc_text(what: str, ranks: Any, n: int, cuts: list[tuple[tuple[str, ...], int]]) -> str:
    """The step text of a TC/PC ranking, formatted when the explanation is read: every unit's rank and
    every unit's reductions (``cuts``: the reductions of one unit, and how many units took them)."""
    if cuts:
        labels: list[str] = []
        for unit, count in cuts:
            labels.extend(unit * count)
        tail = ", ".join(labels) + " of a later service"
    else:
        tail = "highest: paid in full"
    return f"{what}: rank {ranks} of {n} ({tail})"


def _tc_cut(r: LineResult, p: Part, tc: Decimal | None, pc: Decimal | None, tc_red: bool, pc_red: bool,
            cuts: list[tuple[tuple[str, ...], int]], tc_cut: Decimal, tc_factor: Decimal, tc_label: str,
            credit_pc: bool) -> None:
    """The TC/PC reductions of each unit of the piece ``p`` (its units are all ranked first or all later)."""
    mod = r.row.mod  # type: ignore[union-attr]
    unit: tuple[str, ...] = ()
    if mod == "TC":
        if tc_red:
            p.pay_factor = mul_factor(p.pay_factor, tc_factor)
            unit = (tc_label,)
    elif mod == "26":
        r.extras["pc_amount"] = pc
        if pc_red:
            p.pay_factor = mul_factor(p.pay_factor, _IMAGING_PC_FACTOR)
            unit = ("-5% PC",)
            if credit_pc:
                p.credit_factor = mul_factor(p.credit_factor, _IMAGING_PC_FACTOR)
    elif tc_red or pc_red:
        formula = "global"
        if tc_red:
            p.base = p.base - tc_cut * tc  # type: ignore[operator]
            formula += f" - {tc_cut}*TC"
            unit = (tc_label,)
        if pc_red:
            p.base = p.base - _IMAGING_PC_CUT * pc  # type: ignore[operator]
            formula += f" - {_IMAGING_PC_CUT}*PC"
            unit += ("-5% PC",)
            r.extras["pc_amount"] = pc
            if credit_pc:
                p.credit_factor = mul_factor(p.credit_factor, _IMAGING_PC_FACTOR)
        if p.base < ZERO:
            p.base = ZERO
        r._formula = formula
    if unit:
        cuts.append((unit, p.units))


def _pc_credit_cut(r: LineResult, mp: str, credit_pc: bool) -> bool:
    if mp != "4" or not credit_pc:
        return False
    for p in r._parts:
        if p.credit_factor is not ONE and p.credit_factor != ONE:
            return True
    return False


_THERAPY_TEXT = ("-50% of the PE of every unit after the highest-PE unit: such a unit is priced from its own RVUs "
                 "with half the PE, (work x GPCI + 0.50 x PE x GPCI + MP x GPCI) x CF = {}")


def _therapy_unit(row: RvuRow, fac: bool, st: _State) -> Decimal:
    """A therapy unit after the highest-PE unit (MULT PROC 5): priced from its own RVUs with the PE halved,
    rounded once to cents - the MPPR price CMS publishes (pfs-rules correction 3), not the rounded FSA minus
    half the rounded PE amount."""
    key = ("mppr5", st.cid, fac)
    cache: dict[Any, Decimal] = row._cache
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
    runs: list[tuple[LineResult, Part, Decimal]] = []
    for r in members:
        pe = _pe_amount(r.row, bool(r._fac), st)  # type: ignore[arg-type]
        runs.extend((r, p, pe) for p in _runs(r))
    runs.sort(key=lambda u: (u[2], u[1].base, _tiebreak(u[0])), reverse=True)
    r, p, pe = runs[0]
    if p.units > 1:  # the highest-PE unit is paid in full, the rest of its run is reduced
        runs.insert(1, (r, _split(r, p, 1), pe))
    k = 0
    for r, p, pe in runs:
        count = p.units
        _add_ranks(r, k + 1, count)
        if k:
            p.base = _therapy_unit(r.row, bool(r._fac), st)  # type: ignore[arg-type]  # a priced line has a row
            r._formula = "(work + 0.50*PE + MP) x GPCIs x CF"
            r.extras["pe_amount"] = pe
            r.extras["reduced_unit_amount"] = p.base
        k += count
    for r in members:
        _step(r, "THERAPY_MPPR", "MULT PROC 5", None, "therapy unit rank {} of {}: {}", r._ranks, k,
              _THERAPY_TEXT.format(r.extras["reduced_unit_amount"]) if r._formula else
              "highest-PE unit paid in full")


def _combine_anesthesia(res: list[LineResult]) -> None:
    """Several anaesthesia lines: paid on the one with the most base units, with every line's minutes."""
    anes = [(r, r._anes) for r in res if r._kind == "anes" and r._anes is not None]
    if len(anes) < 2:
        return
    anes.sort(key=lambda item: (item[1][0], item[0].code), reverse=True)
    primary, info = anes[0]
    info[1] = sum(i[1] for _r, i in anes)
    primary.flags.append("ANESTHESIA_MULTIPLE_PROCEDURES")
    for r, _info in anes[1:]:
        r._anes = None
        r.flags.append("ANESTHESIA_COMBINED")
