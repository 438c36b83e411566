"""Inputs and results of the pricing engine. Pure Python, Decimal only, no Django.

Inputs (:class:`RvuRow`, :class:`Gpci`, :class:`EncounterLine`, :class:`Encounter`) are frozen dataclasses.
Results (:class:`Step`, :class:`LineResult`, :class:`EncounterResult`) are slotted classes filled in by the
engine; each has ``to_dict()`` giving JSON-ready values (Decimals as strings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .money import ONE, ZERO, dec, fmt_cents, fmt_exact, fmt_opt_cents
from .policy import Policy

__all__ = [
    "FACILITY",
    "FACILITY_POS",
    "MAX_MINUTES",
    "MAX_UNITS",
    "NATIONAL_GPCI",
    "NON_FACILITY",
    "NPP_PROVIDER_TYPES",
    "PROVIDER_TYPES",
    "Encounter",
    "EncounterLine",
    "EncounterResult",
    "Gpci",
    "LineResult",
    "PricingError",
    "RvuRow",
    "Step",
    "normalize_setting",
    "setting_for_pos",
]

FACILITY = "facility"
NON_FACILITY = "non_facility"
_SETTING_ALIASES = {
    "facility": FACILITY,
    "fac": FACILITY,
    "non_facility": NON_FACILITY,
    "non-facility": NON_FACILITY,
    "nonfacility": NON_FACILITY,
    "nonfac": NON_FACILITY,
    "office": NON_FACILITY,
}
#: Facility places of service (pfs-rules 2.1 [S12]) plus telehealth POS 02 (UNSOURCED: 02 -> facility rate).
FACILITY_POS = frozenset(
    {"02", "19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)
#: Provider types paid at the NPP rate when billing under their own NPI (pfs-rules 4).
NPP_PROVIDER_TYPES = frozenset({"np", "pa", "cns"})
# The most units or minutes one claim line can carry: the CMS-1500 / 837P units field holds three digits
# (anaesthesia time is entered in minutes, up to 2,000). Named once here; every entry path (rapid entry,
# API, import, restore, `rvuedge price`, scenarios) builds an EncounterLine and so meets these bounds.
MAX_UNITS = 999
MAX_MINUTES = 2000
PROVIDER_TYPES = frozenset({"physician", "np", "pa", "cns", "cnm", "crna", "aa", "pt", "ot", "slp", "other"})


class PricingError(ValueError):
    """A line cannot be priced: unknown code, invalid modifier combination, deleted code, missing input."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        line: int | None = None,
        near: tuple[str, ...] | list[str] = (),
    ):
        self.reason = message
        self.code = code
        self.line = line
        self.near = tuple(near)
        text = message
        if line is not None:
            text = f"line {line + 1}: {text}"
        if self.near:
            text += f" (did you mean {', '.join(self.near)}?)"
        super().__init__(text)


def normalize_setting(value: str | None) -> str | None:
    if value is None:
        return None
    key = str(value).strip().lower()
    try:
        return _SETTING_ALIASES[key]
    except KeyError:
        raise PricingError(f"unknown setting {value!r} (use 'facility' or 'non_facility')") from None


def setting_for_pos(pos: str | int) -> str:
    """Map a CMS place-of-service code to the PE setting (pfs-rules 2.1)."""
    text = str(pos).strip()
    if text.isdigit() and len(text) == 1:
        text = "0" + text
    if len(text) != 2 or not text.isdigit():
        raise PricingError(f"place of service {pos!r} must be a 2-digit code")
    return FACILITY if text in FACILITY_POS else NON_FACILITY


_ROW_ALIASES = {
    "hcpcs": "code",
    "modifier": "mod",
    "status_code": "status",
    "work": "work_rvu",
    "nonfac_pe_rvu": "pe_nonfac",
    "non_fac_pe_rvu": "pe_nonfac",
    "fac_pe_rvu": "pe_fac",
    "facility_pe_rvu": "pe_fac",
    "mp": "mp_rvu",
    "not_used_for_medicare_payment": "not_used_for_medicare",
    "bilat_surg": "bilat",
    "asst_surg": "asst",
    "team_surg": "team",
    "pctc_ind": "pctc",
}
_ROW_DECIMALS = {"work_rvu", "pe_nonfac", "pe_fac", "mp_rvu", "pre_op", "intra_op", "post_op", "opps_nonfac_pe",
                 "opps_fac_pe", "opps_mp"}
_ROW_OPT_DECIMALS = {"conv_factor", "anes_base_units"}
_ROW_BOOLS = {"nonfac_na", "fac_na", "not_used_for_medicare"}
_ROW_STRS = {
    "code",
    "mod",
    "status",
    "pctc",
    "glob_days",
    "mult_proc",
    "bilat",
    "asst",
    "co_surg",
    "team",
    "endo_base",
    "dx_img_family",
    "description",
    "release",
}
#: Every key an RVU row mapping (a scenario fixture row, the importer's field names) may carry.
RVU_ROW_KEYS = frozenset(_ROW_ALIASES) | _ROW_DECIMALS | _ROW_OPT_DECIMALS | _ROW_BOOLS | _ROW_STRS


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().upper()
    return text not in ("", "0", "FALSE", "N", "NO")


@dataclass(frozen=True, slots=True)
class RvuRow:
    """One PPRRVU row (HCPCS + modifier) with the indicators the engine uses; indicators are strings."""

    code: str
    mod: str = ""
    status: str = "A"
    work_rvu: Decimal = ZERO
    pe_nonfac: Decimal = ZERO
    pe_fac: Decimal = ZERO
    mp_rvu: Decimal = ZERO
    nonfac_na: bool = False
    fac_na: bool = False
    not_used_for_medicare: bool = False
    pctc: str = "9"
    glob_days: str = "XXX"
    pre_op: Decimal = ZERO
    intra_op: Decimal = ZERO
    post_op: Decimal = ZERO
    mult_proc: str = "9"
    bilat: str = "9"
    asst: str = "9"
    co_surg: str = "9"
    team: str = "9"
    endo_base: str = ""
    dx_img_family: str = ""
    conv_factor: Decimal | None = None
    anes_base_units: Decimal | None = None
    description: str = ""
    release: str = ""
    #: PPRRVU columns 29-31: the non-facility PE, facility PE and MP RVUs used for the OPPS payment amount
    #: (the OPPS imaging cap, computed from them when a release has no OPPSCAP file).
    opps_nonfac_pe: Decimal = ZERO
    opps_fac_pe: Decimal = ZERO
    opps_mp: Decimal = ZERO
    #: "CODE" or "CODE-MOD" (derived).
    key: str = field(init=False, repr=False, compare=False)
    # Per-row cache of fee schedule amounts by pricing context (engine-internal; not compared or hashed).
    _cache: dict[int, Decimal] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.code}-{self.mod}" if self.mod else self.code)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> RvuRow:
        """Build from a vector ``rvu_fixture`` dict (or the importer's field names: hcpcs, modifier, ...)."""
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = _ROW_ALIASES.get(key, key)
            if name in _ROW_DECIMALS:
                kwargs[name] = ZERO if value in (None, "", "NA") else dec(value, name)
            elif name in _ROW_OPT_DECIMALS:
                kwargs[name] = None if value in (None, "", "NA") else dec(value, name)
            elif name in _ROW_BOOLS:
                kwargs[name] = _flag(value)
            elif name in _ROW_STRS:
                kwargs[name] = "" if value is None else str(value).strip()
        if "code" not in kwargs:
            raise ValueError("an RVU row needs a code")
        kwargs["code"] = kwargs["code"].upper()
        kwargs["mod"] = kwargs.get("mod", "").upper()
        kwargs["status"] = kwargs.get("status", "A").upper() or "A"
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class Gpci:
    """Locality GPCIs. ``work`` is the file's with-floor work GPCI; ``work_no_floor`` the raw one, if known."""

    work: Decimal
    pe: Decimal
    mp: Decimal
    work_no_floor: Decimal | None = None
    locality: str | None = None
    state: str | None = None

    @classmethod
    def from_mapping(cls, data: dict[str, Any], locality: str | None = None) -> Gpci:
        no_floor = data.get("work_no_floor", data.get("work_gpci_no_floor"))
        return cls(
            work=dec(data["work"], "gpci.work"),
            pe=dec(data["pe"], "gpci.pe"),
            mp=dec(data["mp"], "gpci.mp"),
            work_no_floor=None if no_floor in (None, "") else dec(no_floor, "gpci.work_no_floor"),
            locality=data.get("locality", locality),
            state=data.get("state"),
        )

    @property
    def is_alaska(self) -> bool:
        return (self.state or "").upper() == "AK" or "ALASKA" in (self.locality or "").upper()


NATIONAL_GPCI = Gpci(Decimal("1.000"), Decimal("1.000"), Decimal("1.000"), locality="NATIONAL")


@dataclass(frozen=True, slots=True)
class EncounterLine:
    """One entered line. ``minutes`` is anaesthesia time; ``days_furnished`` the post-op days for -55."""

    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    minutes: int | None = None
    session: str | None = None
    provider_type: str = "physician"
    days_furnished: int | None = None
    setting: str | None = None
    pos: str | None = None
    present_at_induction: bool = False
    incident_to: bool = False

    def __post_init__(self) -> None:
        code = str(self.code).strip().upper()
        object.__setattr__(self, "code", code)
        mods = tuple(str(m).strip().upper() for m in self.modifiers)
        if mods != self.modifiers:
            object.__setattr__(self, "modifiers", mods)
        if isinstance(self.units, bool) or not isinstance(self.units, int) or not 1 <= self.units <= MAX_UNITS:
            raise PricingError(f"{code}: units must be a whole number from 1 to {MAX_UNITS}, got {self.units!r}",
                               code=code)
        if self.minutes is not None and (
            isinstance(self.minutes, bool) or not isinstance(self.minutes, int) or not 0 <= self.minutes <= MAX_MINUTES
        ):
            raise PricingError(f"{code}: minutes must be a whole number from 0 to {MAX_MINUTES}", code=code)
        ptype = str(self.provider_type).strip().lower()
        if ptype not in PROVIDER_TYPES:
            raise PricingError(
                f"{code}: unknown provider type {self.provider_type!r} ({', '.join(sorted(PROVIDER_TYPES))})",
                code=code,
            )
        if ptype != self.provider_type:
            object.__setattr__(self, "provider_type", ptype)
        if self.setting is not None:
            object.__setattr__(self, "setting", normalize_setting(self.setting))

    @classmethod
    def from_mapping(cls, data: dict[str, Any], session: str | None = None) -> EncounterLine:
        """Build from a vector ``inputs.lines`` item (``units_are_minutes`` moves units into minutes)."""
        units = int(data.get("units", 1))
        minutes = data.get("minutes")
        if data.get("units_are_minutes"):
            minutes = units
        days = data.get("days_furnished", data.get("postop_days_furnished"))
        return cls(
            code=data["code"],
            modifiers=tuple(data.get("modifiers") or ()),
            units=units,
            minutes=None if minutes is None else int(minutes),
            session=data.get("session", session),
            provider_type=data.get("provider_type", "physician"),
            days_furnished=None if days is None else int(days),
            setting=data.get("setting"),
            pos=data.get("pos"),
            present_at_induction=bool(data.get("present_at_induction", False)),
            incident_to=bool(data.get("incident_to", False)),
        )


@dataclass(frozen=True, slots=True)
class Encounter:
    """One provider, one patient, one date of service (pfs-rules 3.2).

    ``setting`` (or ``pos``) applies to lines without their own. ``conversion_factor`` is the non-QP CF and
    ``conversion_factor_qp`` the QP CF; either defaults to the CY table for ``date_of_service``. The same holds
    for the anaesthesia CFs. ``apply_work_gpci_floor`` None = by date (the 1.0 floor is in force through
    2026-12-31). ``separate_claims`` None = infer whether the lines are alternatives (then no total).
    """

    lines: tuple[EncounterLine, ...]
    setting: str | None = None
    pos: str | None = None
    gpci: Gpci | None = None
    conversion_factor: Decimal | None = None
    conversion_factor_qp: Decimal | None = None
    anesthesia_cf: Decimal | None = None
    anesthesia_cf_qp: Decimal | None = None
    qp: bool = False
    date_of_service: dt.date | None = None
    policy: Policy | None = None
    apply_work_gpci_floor: bool | None = None
    separate_claims: bool | None = None
    locality: str | None = None

    def __post_init__(self) -> None:
        lines: object = self.lines  # callers may pass a list
        if not isinstance(lines, tuple):
            object.__setattr__(self, "lines", tuple(self.lines))
        if self.setting is not None:
            object.__setattr__(self, "setting", normalize_setting(self.setting))


class Step:
    """One explanation step: the rule applied, its indicator, the factor and the running amount after it."""

    __slots__ = ("rule", "indicator", "factor", "amount", "text")

    def __init__(
        self, rule: str, indicator: str | None, factor: Decimal | None, amount: Decimal | None, text: str
    ):
        self.rule = rule
        self.indicator = indicator
        self.factor = factor
        self.amount = amount
        self.text = text

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "indicator": self.indicator,
            "factor": None if self.factor is None else str(self.factor),
            "amount": None if self.amount is None else str(self.amount),
            "text": self.text,
        }

    def __repr__(self) -> str:
        return f"Step({self.rule!r}, {self.indicator!r}, {self.factor}, {self.amount}, {self.text!r})"


def _materialize(raw: Any) -> list[Step]:
    out = []
    for rule, indicator, factor, amount, fmt, args in raw:
        if callable(fmt):
            text = fmt(*args)
        elif args:
            text = fmt.format(*(", ".join(map(str, a)) if isinstance(a, list) else a for a in args))
        else:
            text = fmt
        out.append(Step(rule, indicator, factor, amount, text))
    return out


@dataclass(slots=True)
class Part:
    """A run of equal units of a line as the engine works on it: ``units`` units of ``base`` (one unit's amount)
    paid at ``pay_factor``, each crediting ``work`` RVUs at ``credit_factor``; ``by_report`` when a rule leaves the
    run to be priced by report. Rules change a part in place; a rank boundary splits it in two (:meth:`copy`)."""

    units: int
    base: Decimal
    pay_factor: Decimal
    work: Decimal
    credit_factor: Decimal
    by_report: bool = False

    def copy(self) -> Part:
        return Part(self.units, self.base, self.pay_factor, self.work, self.credit_factor, self.by_report)


class LineResult:
    """The priced line. Public attributes mirror the vector ``expected.lines[]`` fields.

    ``explanation`` (payment) and ``wrvu_steps`` (credit) are built lazily from compact step records;
    the last step's amount equals ``payment`` / ``wrvu_exact``.
    """

    __slots__ = (
        "index", "line", "code", "modifiers", "units", "_flags", "_extras", "_steps", "_wsteps", "_ctx", "_na_note",
        "row", "status", "setting", "fee_schedule_amount", "payment_factor", "payment", "wrvu", "wrvu_exact",
        "_wrvu_factor", "rank", "_explanation", "_wexplanation",
        # engine working state
        "_kind", "_p", "_mods", "_null", "_excluded", "_formula", "_late", "_ranks", "_pair", "_anes",
        "_echo_setting", "_fac", "_session", "_done", "_runs",
    )
    # Slots the engine assigns after __init__ (declared for the type checker; no class attributes are made).
    row: RvuRow | None
    status: str
    setting: str | None
    _mods: Any  # engine.resolve._Mods
    _kind: str  # "price", "zero", "null" or "anes"
    _anes: list[Any] | None  # [base units, minutes, modifier] of an anaesthesia line
    _fac: bool
    _session: str
    _na_note: str
    _wrvu_factor: Decimal
    _explanation: list[Step] | None
    _wexplanation: list[Step] | None
    _runs: bool

    def __init__(self, index: int, line: EncounterLine):
        # Only slots that may be read before the engine assigns them get a default here (hot path).
        # Always assigned by the engine: row, status, setting, _mods, _kind; assigned where used:
        # _fac, _session, _anes, _na_note, _wrvu_factor, _explanation, _wexplanation, _runs (read via getattr).
        self.index = index
        self.line = line
        self.code = line.code
        self.modifiers = line.modifiers
        self.units = line.units
        self._flags: list[str] | None = None
        self._extras: dict[str, Any] | None = None
        self._ctx: Any = None  # set when the explanation starts with the implicit FSA / work-RVU steps
        self._steps: list[tuple[Any, ...]] | None = None  # compact step records, created on first step
        self._wsteps: list[tuple[Any, ...]] | None = None
        self.fee_schedule_amount: Decimal | None = None
        self.payment_factor: Decimal | None = None
        self.payment: Decimal | None = None
        self.wrvu: Decimal = ZERO
        self.wrvu_exact: Decimal = ZERO
        self.rank: int | None = None
        self._p: list[Part] | None = None  # parts, created on first use (see _parts)
        self._null: str | None = None
        self._excluded = False
        self._formula: str | None = None
        self._late: list[tuple[Any, ...]] | None = None
        self._ranks: Any = None  # the engine's ranks of the line's units (a list, or runs of ranks)
        self._pair: str | None = None
        self._echo_setting = False
        self._done = 0  # 1: finished when resolved, valid while no rule touches it; 2: finished by the ranking

    @property
    def _parts(self) -> list[Part]:
        """The engine's working parts (:class:`Part`); a line no rule touches never needs them (hot path), so they
        are built on first use."""
        parts = self._p
        if parts is None:
            parts = self._p = [Part(self.units, self.fee_schedule_amount, ONE, self.row.work_rvu, ONE)]  # type: ignore[arg-type,union-attr]
        return parts

    @_parts.setter
    def _parts(self, value: list[Part]) -> None:
        self._p = value

    @property
    def wrvu_factor(self) -> Decimal | None:
        """The combined credit factor when every unit has the same one and it is not 1."""
        return getattr(self, "_wrvu_factor", None)

    @property
    def flags(self) -> list[str]:
        """Warnings and decisions, e.g. ``OPPS_CAP_APPLIED`` (created on first use)."""
        if self._flags is None:
            self._flags = []
        return self._flags

    @property
    def extras(self) -> dict[str, Any]:
        """Vector-style extra fields (rank details, tc_amount, formula, ...), created on first use.

        ``ranks`` (one rank per unit) is kept by the engine as runs of ranks and listed when first read, so
        pricing a line costs the same for 999 units as for 10."""
        extras = self._extras
        if extras is None:
            extras = self._extras = {}
        elif self._ranks is not None:
            ranks = extras.get("ranks")
            if ranks is not None and type(ranks) is not list:
                extras["ranks"] = ranks.to_list()
        return extras

    @property
    def explanation(self) -> list[Step]:
        steps: list[Step] | None = getattr(self, "_explanation", None)
        if steps is None:
            steps = _materialize(self._steps or ())
            if self._ctx is not None:
                steps.insert(0, self._fsa_step())
            self._explanation = steps
        return steps

    @property
    def wrvu_steps(self) -> list[Step]:
        steps: list[Step] | None = getattr(self, "_wexplanation", None)
        if steps is None:
            steps = _materialize(self._wsteps or ())
            if self._ctx is not None:
                row = self.row
                assert row is not None
                work, units = row.work_rvu, self.units
                text = f"work RVU {work}" + (f" x {units} units" if units != 1 else "")
                steps.insert(0, Step("WORK_RVU", row.key, None, work * units if units != 1 else work, text))
            self._wexplanation = steps
        return steps

    def _fsa_step(self) -> Step:
        """The first payment step: the FSA formula with the GPCIs and CF actually used."""
        row, ctx, fsa, units = self.row, self._ctx, self.fee_schedule_amount, self.units
        assert row is not None and fsa is not None
        fac = bool(self._fac)
        pe = row.pe_fac if fac else row.pe_nonfac
        text = (f"FSA {fsa} = ({row.work_rvu} x {ctx.gw} + {pe} x {ctx.gpe} + {row.mp_rvu} x {ctx.gmp}) x {ctx.cf} "
                f"({'facility' if fac else 'non-facility'} PE)")
        if units != 1:
            text += f" x {units} units"
        na_note = getattr(self, "_na_note", None)
        if na_note:
            text += f"; {na_note}"
        return Step("FSA", row.key, None, fsa * units if units != 1 else fsa, text)

    def to_dict(self, explain: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "modifiers": list(self.modifiers),
            "units": self.units,
            "fee_schedule_amount": fmt_opt_cents(self.fee_schedule_amount),
            "payment_factor": None if self.payment_factor is None else str(self.payment_factor),
            "payment": fmt_opt_cents(self.payment),
            "wrvu": fmt_cents(self.wrvu),
            "wrvu_exact": fmt_exact(self.wrvu_exact),
            "flags": list(self._flags or ()),
        }
        if self._echo_setting:
            out["setting"] = self.setting
        if self.rank is not None:
            out["rank"] = self.rank
        for key, value in (self.extras if self._extras else {}).items():
            if isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, list):
                value = [str(v) if isinstance(v, Decimal) else v for v in value]
            out[key] = value
        wrvu_factor = self.wrvu_factor
        if wrvu_factor is not None:
            out["wrvu_factor"] = str(wrvu_factor)
        if self.row is not None:
            out["row"] = self.row.key
        if explain:
            out["explanation"] = [s.to_dict() for s in self.explanation]
            out["wrvu_steps"] = [s.to_dict() for s in self.wrvu_steps]
        return out

    def __repr__(self) -> str:
        mods = "-" + "-".join(self.modifiers) if self.modifiers else ""
        return f"LineResult({self.code}{mods} x{self.units}: payment={self.payment} wrvu={self.wrvu_exact})"


class EncounterResult:
    """All lines plus totals. ``total_payment`` is None when a line is unpriced or the lines are alternatives."""

    __slots__ = ("lines", "total_payment", "total_wrvu", "total_wrvu_exact", "total_note", "flags", "_source")

    def __init__(
        self,
        lines: list[LineResult],
        total_payment: Decimal | None,
        total_wrvu: Decimal,
        total_wrvu_exact: Decimal,
        total_note: str | None,
        flags: list[str],
        source: dict[str, Any] | Callable[[], dict[str, Any]],
    ):
        self.lines = lines
        self.total_payment = total_payment
        self.total_wrvu = total_wrvu
        self.total_wrvu_exact = total_wrvu_exact
        self.total_note = total_note
        self.flags = flags
        self._source = source

    @property
    def source(self) -> dict[str, Any]:
        """Where the numbers came from: release, CF, GPCIs used, floors, policy (built on first access)."""
        if callable(self._source):
            self._source = self._source()
        return self._source

    def to_dict(self, explain: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "lines": [line.to_dict(explain) for line in self.lines],
            "total_payment": fmt_opt_cents(self.total_payment),
            "total_wrvu": fmt_cents(self.total_wrvu),
            "total_wrvu_exact": fmt_exact(self.total_wrvu_exact),
            "flags": list(self.flags),
            "source": self.source,
        }
        if self.total_note:
            out["total_note"] = self.total_note
        return out

    def __repr__(self) -> str:
        return f"EncounterResult({len(self.lines)} lines, payment={self.total_payment}, wrvu={self.total_wrvu})"
