"""Which modifiers exist and which a code's indicators allow: a typo such as ``27447-5O`` must be refused with a
"did you mean 50?", never credited at 100% in silence.

Known modifiers are the CPT ones (two digits, AMA CPT Appendix A), the ones the pricing engine understands, and
the HCPCS Level II ones: every modifier of the CMS HCPCS file shipped in ``data/hcpcs_level2_modifiers.csv``
(January 2026; the file's header names its source) plus any a newer HCPCS file loaded with ``rvuedge data
load-hcpcs`` adds. :func:`check_lines` is the one check every path runs before pricing (``rvuedge price``,
scenarios, the code pages, the log's entry box, API and import). Pure Python, no Django.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from .engine import MODIFIER_KINDS, NEUTRAL_MODIFIERS
from .model import PricingError, RvuRow

__all__ = ["CPT_MODIFIERS", "ModifierCheck", "allowed_modifiers", "check_lines", "hcpcs_level2_modifiers",
           "indicator_problem"]

#: CPT Category I modifiers (the two-digit ones; AMA CPT Appendix A) and the Category II performance modifiers.
CPT_MODIFIERS = frozenset({
    "22", "23", "24", "25", "26", "27", "32", "33", "47", "50", "51", "52", "53", "54", "55", "56", "57", "58",
    "59", "62", "63", "66", "73", "74", "76", "77", "78", "79", "80", "81", "82", "90", "91", "92", "93", "95",
    "96", "97", "99", "1P", "2P", "3P", "8P",
})

_DATA = Path(__file__).resolve().parent / "data" / "hcpcs_level2_modifiers.csv"

#: A letter typed for the digit it looks like (O for 0, I or L for 1...): the likeliest modifier typo.
_LOOKALIKE = {("O", "0"), ("I", "1"), ("L", "1"), ("S", "5"), ("B", "8"), ("Z", "2"), ("G", "6")}


@lru_cache(maxsize=1)
def hcpcs_level2_modifiers() -> dict[str, str]:
    """Modifier -> termination date ('' while in force) of the shipped CMS HCPCS Level II modifier list."""
    with _DATA.open(newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {row["modifier"].strip().upper(): row["terminated"].strip() for row in rows}


class ModifierCheck:
    """Known modifiers: CPT's, the engine's, the shipped HCPCS Level II list and any given (a loaded HCPCS file)."""

    def __init__(self, hcpcs_modifiers: Iterable[str] = ()):
        shipped = hcpcs_level2_modifiers()
        self.hcpcs = frozenset(shipped) | frozenset(m.strip().upper() for m in hcpcs_modifiers)
        self.terminated = frozenset(m for m, ended in shipped.items() if ended)
        self.engine = frozenset(MODIFIER_KINDS) | NEUTRAL_MODIFIERS
        self.known = CPT_MODIFIERS | self.engine | self.hcpcs

    def problem(self, modifier: str) -> str | None:
        """Why ``modifier`` cannot be used, or None when it is a known modifier."""
        if modifier in self.known:
            return None
        if modifier.isdigit():
            return f"unknown modifier {modifier}: not a CPT modifier"
        return f"unknown modifier {modifier}: not a CPT or HCPCS Level II modifier"

    def near(self, modifier: str, limit: int = 3) -> list[str]:
        """Known modifiers the typed one is probably a typo of, likeliest first (5O -> 50; ZZ -> none).

        A look-alike character (O for 0, I for 1...) wins alone; otherwise one character changed or two swapped,
        modifiers in everyday use (CPT's and the engine's) before the rest; terminated ones are never offered."""
        lookalike: list[str] = []
        other: list[tuple[int, str]] = []
        for m in self.known - self.terminated:
            if len(m) != len(modifier) or m == modifier:
                continue
            diff = [(typed, known) for known, typed in zip(m, modifier, strict=True) if known != typed]
            if len(diff) == 1:
                if diff[0] in _LOOKALIKE:
                    lookalike.append(m)
                else:
                    other.append((1 if m in CPT_MODIFIERS or m in self.engine else 2, m))
            elif len(diff) == 2 and sorted(m) == sorted(modifier):
                other.append((0, m))  # two characters swapped: 05 -> 50
        if lookalike:
            return sorted(lookalike)[:limit]
        return [m for _rank, m in sorted(other)][:limit]

    def unknown_error(self, code: str, modifier: str, line: int | None = None) -> PricingError | None:
        """The error for an unknown modifier on a line (with did-you-mean suggestions as CODE-MOD), or None."""
        problem = self.problem(modifier)
        if problem is None:
            return None
        return PricingError(f"{code}-{modifier}: {problem}", code=code, line=line,
                            near=[f"{code}-{n}" for n in self.near(modifier)])


# --------------------------------------------------------------------------- what a code's indicators allow

_PCTC_MEANING = {
    "0": "physician service", "1": "diagnostic test with professional and technical components",
    "2": "professional-component-only code", "3": "technical-component-only code", "4": "global-test-only code",
    "5": "incident-to code", "6": "lab physician interpretation code", "7": "PT/OT service",
    "8": "physician interpretation of an abnormal smear", "9": "PC/TC concept n/a",
}
_BILATERAL_OK = frozenset("0123")  # the engine accepts 50 (BILAT SURG 0: no adjustment, paid at 100%)
_BILATERAL_PAYS = frozenset("123")  # the bilateral adjustment applies
_SPLITS = ("54", "55", "56", "78")
#: The modifiers :func:`indicator_problem` checks; a line without any of them is not looked at.
_BY_INDICATOR = frozenset({"26", "TC", "50", *_SPLITS})
_ROLES = {"62": ("co_surg", "12"), "66": ("team", "12"), "80": ("asst", "02"), "81": ("asst", "02"),
          "82": ("asst", "02"), "AS": ("asst", "02")}


def allowed_modifiers(row: RvuRow) -> list[str]:
    """The modifiers with a payment effect that ``row``'s indicators allow and pay, in the engine's terms: 26/TC by
    PC/TC indicator, 50 by BILAT SURG 1-3, 62/66 by CO-/TEAM SURG 1-2, 80/81/82/AS by ASST SURG 0 (with
    documentation) or 2, 54/55/56/78 by the global-surgery shares. 52 and 53 apply to any code; payment-neutral
    modifiers (25, 59, XS, RT, GC...) too."""
    out: list[str] = []
    if row.pctc == "1":
        out += ["26", "TC"]
    elif row.pctc == "6":
        out.append("26")
    if row.bilat in _BILATERAL_PAYS:
        out.append("50")
    for mod, (field, ok) in _ROLES.items():
        if getattr(row, field) in ok:
            out.append(mod)
    if row.pre_op or row.intra_op or row.post_op:
        out += list(_SPLITS)
    out += ["52", "53"]
    return out


def _allowed_text(code: str, row: RvuRow) -> str:
    allowed = allowed_modifiers(row)
    return (f"{code}'s indicators allow {', '.join(allowed)} (and payment-neutral modifiers such as 25, 59, XS, "
            "RT, LT, GC)")


def _priced_from_rvus(row: RvuRow) -> bool:
    """Whether the engine prices the row from its RVUs (past the status gate), where 50 and 54-78 are checked."""
    if row.status == "J" or row.anes_base_units is not None or row.not_used_for_medicare:
        return False
    if row.status in ("A", "T"):
        return True
    return row.status == "R" and bool(row.work_rvu or row.pe_nonfac or row.pe_fac or row.mp_rvu)


class _Rows(Protocol):
    def get(self, code: str, mod: str = "") -> RvuRow | None: ...


def indicator_problem(code: str, modifiers: Sequence[str], lookup: _Rows) -> str | None:
    """Why the code's indicators refuse one of ``modifiers`` (naming what they allow), or None.

    The same conditions under which the engine refuses a line (26/TC against PC/TC, 50 against BILAT SURG, a
    global-surgery split without pre/intra/post-op shares), stated with the list of what is allowed."""
    comp = next((m for m in modifiers if m in ("26", "TC")), "")
    base = lookup.get(code, "")
    if comp:
        row = lookup.get(code, comp) or base
        if row is not None and not (row.pctc == "1" or (row.pctc == "6" and comp == "26")):
            return (f"{code}-{comp}: modifier {comp} is not valid with PC/TC indicator {row.pctc} "
                    f"({_PCTC_MEANING.get(row.pctc, 'unknown')}); {_allowed_text(code, row)}")
    row = lookup.get(code, comp) if comp else base
    if row is None or not _priced_from_rvus(row):
        return None
    if "50" in modifiers and row.bilat not in _BILATERAL_OK:
        return (f"{code}-50: modifier 50 is not valid with BILAT SURG indicator {row.bilat} (the bilateral "
                f"concept does not apply); {_allowed_text(code, row)}")
    split = next((m for m in modifiers if m in _SPLITS), None)
    if split and not (row.pre_op or row.intra_op or row.post_op):
        return (f"{code}-{split}: modifier {split} needs a global-surgery code with pre/intra/post-op shares "
                f"({code} has GLOB DAYS {row.glob_days}); {_allowed_text(code, row)}")
    return None


def check_lines(lines: Sequence[Any], check: ModifierCheck | None = None, lookup: _Rows | None = None) -> None:
    """Refuse the first line with an unknown modifier (did you mean...?) or, given the RVU rows, a modifier its
    code's indicators do not allow (naming those they do). Raises :class:`PricingError` with ``line`` set."""
    check = check or default_check()
    known = check.known
    for i, ln in enumerate(lines):
        mods = ln.modifiers
        if not mods:
            continue
        for m in mods:
            if m not in known:
                raise check.unknown_error(ln.code, m, i)  # type: ignore[misc]  # not None: m is unknown
    if lookup is None:
        return
    for i, ln in enumerate(lines):
        mods = ln.modifiers
        if mods and not _BY_INDICATOR.isdisjoint(mods):
            problem = indicator_problem(ln.code, mods, lookup)
            if problem:
                raise PricingError(problem, code=ln.code, line=i)


@lru_cache(maxsize=1)
def default_check() -> ModifierCheck:
    """CPT, the engine's and the shipped HCPCS Level II modifiers (no loaded HCPCS file needed)."""
    return ModifierCheck()
