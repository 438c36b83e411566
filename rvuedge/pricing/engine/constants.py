"""Engine constants: conversion factors, the work-GPCI floor, rule factors, modifier kinds and status texts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ..money import ONE

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
REJECT_STATUS = {
    "D": "was deleted at the start of the year (status D)",
    "F": "is deleted/discontinued with no grace period (status F)",
    "H": "modifier row was deleted this year (status H)",
}
_PCTC_TEXT = {
    "0": "physician service", "2": "professional-component-only code", "3": "technical-component-only code",
    "4": "global-test-only code", "5": "incident-to code", "6": "lab physician interpretation code",
    "7": "PT/OT service", "8": "physician interpretation of an abnormal smear", "9": "PC/TC concept n/a",
}

