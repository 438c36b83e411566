"""Which modifiers exist: a typo such as ``27447-ZZ`` must be refused, never credited at 100% in silence.

CPT modifiers (two digits, AMA) are listed here; HCPCS Level II modifiers (letters, or a letter and a digit)
come from the CMS HCPCS file when it is loaded (``rvuedge data load-hcpcs``), and otherwise from the ones the
engine itself knows. Pure Python, no Django.
"""

from __future__ import annotations

from collections.abc import Iterable

from .engine import MODIFIER_KINDS, NEUTRAL_MODIFIERS

__all__ = ["CPT_MODIFIERS", "ModifierCheck"]

#: CPT Category I modifiers (the two-digit ones; AMA CPT Appendix A) and the Category II performance modifiers.
CPT_MODIFIERS = frozenset({
    "22", "23", "24", "25", "26", "27", "32", "33", "47", "50", "51", "52", "53", "54", "55", "56", "57", "58",
    "59", "62", "63", "66", "73", "74", "76", "77", "78", "79", "80", "81", "82", "90", "91", "92", "93", "95",
    "96", "97", "99", "1P", "2P", "3P", "8P",
})


class ModifierCheck:
    """Known modifiers: CPT's, the engine's, and the HCPCS Level II modifiers given (from the loaded file)."""

    def __init__(self, hcpcs_modifiers: Iterable[str] = ()):
        self.hcpcs = frozenset(m.strip().upper() for m in hcpcs_modifiers)
        self.known = CPT_MODIFIERS | frozenset(MODIFIER_KINDS) | NEUTRAL_MODIFIERS | self.hcpcs

    def problem(self, modifier: str) -> str | None:
        """Why ``modifier`` cannot be logged, or None when it is a known modifier."""
        if modifier in self.known:
            return None
        if modifier.isdigit():
            return f"unknown modifier {modifier}: not a CPT modifier"
        if self.hcpcs:
            return f"unknown modifier {modifier}: not a CPT or HCPCS Level II modifier"
        return (f"unknown modifier {modifier}: not a CPT modifier nor one RVU Edge knows (load the HCPCS Level II "
                "file with `rvuedge data load-hcpcs` to recognise every HCPCS modifier)")

    def near(self, modifier: str) -> list[str]:
        """Known modifiers one character away (ZZ -> nothing; 5O -> 50), for a 'did you mean'."""
        out = []
        for m in sorted(self.known):
            if len(m) == len(modifier) and sum(a != b for a, b in zip(m, modifier, strict=True)) == 1:
                out.append(m)
        return out[:5]
