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

from .engine import price_encounter
from .lookup import DictLookup
from .model import Encounter, EncounterLine, Gpci
from .money import dec
from .policy import load_policy

__all__ = ["build_encounter", "build_lookup", "run_scenario"]


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
        return line["session"]
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
    """Price a vector's ``inputs`` and return a dict shaped like its ``expected``."""
    result = price_encounter(build_encounter(inputs), build_lookup(inputs))
    return result.to_dict(explain=explain)
