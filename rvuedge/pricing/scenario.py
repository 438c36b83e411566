"""Run one self-contained scenario: the ``inputs`` object of a pfs-vectors.json vector.

``run_scenario(inputs)`` returns a dict with the same fields as the vector's ``expected`` (plus an
``explanation`` and ``wrvu_steps`` per line, and ``source``). The CLI ``rvuedge price --scenario FILE --json``
calls it.

Recognised ``inputs`` keys: ``lines`` (code, modifiers, units, units_are_minutes, postop_days_furnished,
setting, pos, session, provider_type), ``setting`` (``facility`` / ``non_facility`` / ``mixed``), ``pos``,
``locality``, ``gpci`` (work, pe, mp, work_no_floor), ``conversion_factor``, ``conversion_factor_qp``,
``qp_status``, ``date_of_service``, ``policy``, ``rvu_fixture``, ``sessions`` (code or code-mods -> label),
``opps_cap_amount`` (``{"74177-TC": "150.00"}``), ``anesthesia_base_units``, ``locality_anesthesia_cf``,
``anesthesia_cf``, ``anesthesia_cf_qp``, ``apply_work_gpci_floor``, ``separate_claims``, ``release``,
``release_fixtures`` (``{"RVU25A": [rows...]}`` for frozen/blended credit policies).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .engine import price_encounter
from .lookup import DictLookup
from .model import RVU_ROW_KEYS, Encounter, EncounterLine, Gpci
from .modifiers import check_lines
from .money import dec
from .policy import load_policy

__all__ = ["ScenarioError", "build_encounter", "build_lookup", "check_scenario", "run_scenario"]


class ScenarioError(ValueError):
    """A scenario that cannot be priced as written: an unknown key (a typo must never change a price
    silently) or a value of the wrong shape. ``where`` is the key's path, e.g. ``lines[0].rendering_provider``."""

    def __init__(self, where: str, message: str):
        self.where = where
        self.message = message
        super().__init__(f"scenario {where}: {message}")


# The shapes a scenario may take. Values keep their loose JSON types (strings or numbers for decimals; the
# builders below convert them with field-named errors); what the models enforce is that every key is known.
_Loose = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class _Line(BaseModel):
    model_config = _Loose
    code: Any
    modifiers: Any = None
    units: Any = None
    units_are_minutes: Any = None
    minutes: Any = None
    postop_days_furnished: Any = None
    days_furnished: Any = None
    session: Any = None
    provider_type: Any = None
    setting: Any = None
    pos: Any = None
    present_at_induction: Any = None
    incident_to: Any = None


class _Gpci(BaseModel):
    model_config = _Loose
    work: Any
    pe: Any
    mp: Any
    work_no_floor: Any = None
    work_gpci_no_floor: Any = None
    locality: Any = None
    state: Any = None


class _Inputs(BaseModel):
    model_config = _Loose
    lines: list[_Line]
    setting: Any = None
    pos: Any = None
    locality: Any = None
    gpci: _Gpci | None = None
    conversion_factor: Any = None
    conversion_factor_qp: Any = None
    qp_status: Any = None
    date_of_service: Any = None
    policy: Any = None
    rvu_fixture: list[dict[str, Any]] | None = None
    sessions: dict[str, Any] | None = None
    opps_cap_amount: dict[str, Any] | None = None
    anesthesia_base_units: dict[str, Any] | None = None
    locality_anesthesia_cf: Any = None
    anesthesia_cf: Any = None
    anesthesia_cf_qp: Any = None
    apply_work_gpci_floor: Any = None
    separate_claims: Any = None
    release: Any = None
    release_fixtures: dict[str, list[dict[str, Any]]] | None = None


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _accepted(model: type[BaseModel]) -> str:
    return ", ".join(sorted(model.model_fields))


def check_scenario(inputs: Any) -> None:
    """Refuse a scenario with an unknown key anywhere (naming the key and the accepted ones) or a wrong shape."""
    if not isinstance(inputs, dict):
        raise ScenarioError("(root)", f"expected an object, got {type(inputs).__name__}")
    try:
        _Inputs.model_validate(inputs)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        where = _where(loc)
        if err["type"] == "extra_forbidden":
            owner: type[BaseModel] = _Inputs
            if loc[0] == "lines":
                owner = _Line
            elif loc[0] == "gpci":
                owner = _Gpci
            raise ScenarioError(where, f"unknown key {loc[-1]!r} (accepted: {_accepted(owner)})") from None
        raise ScenarioError(where, err["msg"]) from None
    fixtures = [("rvu_fixture", inputs.get("rvu_fixture") or [])]
    fixtures += [(f"release_fixtures.{name}", rows) for name, rows in (inputs.get("release_fixtures") or {}).items()]
    for where, rows in fixtures:
        for i, row in enumerate(rows):
            unknown = sorted(set(row) - RVU_ROW_KEYS)
            if unknown:
                raise ScenarioError(f"{where}[{i}].{unknown[0]}",
                                    f"unknown key {unknown[0]!r} (accepted: {', '.join(sorted(RVU_ROW_KEYS))})")


def _opt_dec(value: Any, what: str) -> Any:
    return None if value in (None, "") else dec(value, what)


def build_lookup(inputs: dict[str, Any]) -> DictLookup:
    lookup = DictLookup.from_fixture(
        inputs.get("rvu_fixture") or [],
        anesthesia_base_units=inputs.get("anesthesia_base_units"),
        opps_caps=inputs.get("opps_cap_amount"),
        release=str(inputs.get("release") or "fixture"),
    )
    for name, rows in (inputs.get("release_fixtures") or {}).items():
        lookup.add_release(str(name).upper(), DictLookup.from_fixture(rows, release=str(name).upper()))
    return lookup


def _session(line: dict[str, Any], sessions: dict[str, Any]) -> str | None:
    if "session" in line:
        session: str | None = line["session"]
        return session
    if not sessions:
        return None
    mods = line.get("modifiers") or []
    for key in ("-".join([line["code"], *mods]), line["code"]):
        if key in sessions:
            return str(sessions[key])
    return None


def build_encounter(inputs: dict[str, Any]) -> Encounter:
    sessions = inputs.get("sessions") or {}
    lines = tuple(EncounterLine.from_mapping(item, session=_session(item, sessions)) for item in inputs["lines"])
    setting = inputs.get("setting")
    if setting == "mixed":
        setting = None
    gpci = inputs.get("gpci")
    dos = inputs.get("date_of_service")
    return Encounter(
        lines=lines,
        setting=setting,
        pos=inputs.get("pos"),
        gpci=Gpci.from_mapping(gpci, locality=inputs.get("locality")) if gpci else None,
        conversion_factor=_opt_dec(inputs.get("conversion_factor"), "conversion_factor"),
        conversion_factor_qp=_opt_dec(inputs.get("conversion_factor_qp"), "conversion_factor_qp"),
        anesthesia_cf=_opt_dec(inputs.get("locality_anesthesia_cf", inputs.get("anesthesia_cf")), "anesthesia_cf"),
        anesthesia_cf_qp=_opt_dec(inputs.get("anesthesia_cf_qp"), "anesthesia_cf_qp"),
        qp=bool(inputs.get("qp_status", False)),
        date_of_service=dt.date.fromisoformat(dos) if isinstance(dos, str) else dos,
        policy=load_policy(inputs.get("policy")),
        apply_work_gpci_floor=inputs.get("apply_work_gpci_floor"),
        separate_claims=inputs.get("separate_claims"),
        locality=inputs.get("locality"),
    )


def run_scenario(inputs: dict[str, Any], *, explain: bool = True) -> dict[str, Any]:
    """Price a vector's ``inputs`` and return a dict shaped like its ``expected``.

    Raises :class:`ScenarioError` for an unknown key anywhere in ``inputs``, :class:`PricingError` for an unknown
    modifier (a scenario has no loaded HCPCS file: CPT's, the engine's and the shipped HCPCS Level II list count)."""
    check_scenario(inputs)
    encounter, lookup = build_encounter(inputs), build_lookup(inputs)
    check_lines(encounter.lines, lookup=lookup)  # an unknown or disallowed modifier is an error, as everywhere
    result = price_encounter(encounter, lookup)
    return result.to_dict(explain=explain)
