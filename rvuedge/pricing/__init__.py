"""RVU Edge pricing engine: Medicare PFS payment and wRVU credit for one encounter (pure Python, no Django).

Usage::

    from rvuedge.pricing import DictLookup, Encounter, Gpci, parse_entry, price_encounter

    entry = parse_entry("99214 20610-RT @2026-03-15")
    enc = Encounter(lines=entry.lines, setting="non_facility", date_of_service=entry.date_of_service,
                    gpci=Gpci.from_mapping({"work": "1.020", "pe": "1.080", "mp": "0.950"}))
    result = price_encounter(enc, lookup)          # lookup: any RvuLookup (DictLookup, the DB one, ...)
    result.total_payment, result.total_wrvu        # Decimal('...'), Decimal('...')
    result.lines[0].explanation                    # [Step(rule, indicator, factor, amount, text), ...]
"""

from __future__ import annotations

from .engine import CF_TABLE, MODIFIER_KINDS, NEUTRAL_MODIFIERS, price_encounter
from .lines import LineSyntaxError, ParsedEntry, parse_entry, parse_line
from .lookup import ChainLookup, DictLookup, RvuLookup, near_codes
from .model import (
    FACILITY,
    FACILITY_POS,
    MAX_MINUTES,
    MAX_UNITS,
    NATIONAL_GPCI,
    NON_FACILITY,
    Encounter,
    EncounterLine,
    EncounterResult,
    Gpci,
    LineResult,
    PricingError,
    RvuRow,
    Step,
    setting_for_pos,
)
from .policy import (
    CMS_MIRROR,
    NO_REDUCTIONS,
    PROFILES,
    Policy,
    PolicyError,
    ReleaseWeight,
    RvuRelease,
    get_profile,
    load_policy,
)
from .scenario import ScenarioError, build_encounter, build_lookup, check_scenario, run_scenario

__all__ = [
    "CF_TABLE",
    "CMS_MIRROR",
    "FACILITY",
    "FACILITY_POS",
    "MAX_MINUTES",
    "MAX_UNITS",
    "MODIFIER_KINDS",
    "NATIONAL_GPCI",
    "NEUTRAL_MODIFIERS",
    "NON_FACILITY",
    "NO_REDUCTIONS",
    "PROFILES",
    "ChainLookup",
    "DictLookup",
    "Encounter",
    "EncounterLine",
    "EncounterResult",
    "Gpci",
    "LineResult",
    "LineSyntaxError",
    "ParsedEntry",
    "Policy",
    "PolicyError",
    "PricingError",
    "ReleaseWeight",
    "RvuLookup",
    "RvuRelease",
    "RvuRow",
    "ScenarioError",
    "Step",
    "build_encounter",
    "build_lookup",
    "check_scenario",
    "get_profile",
    "load_policy",
    "near_codes",
    "parse_entry",
    "parse_line",
    "price_encounter",
    "run_scenario",
    "setting_for_pos",
]
