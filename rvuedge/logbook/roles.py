"""Roles that fit the service (pure Python, no Django): the default role by code kind, the case-log portal's
labels, and what a role does to credit.

* Default role: E/M and every non-surgical service -> "performed"; a surgical code (CPT 10000-69999) -> the
  profile's usual surgical role, else "primary"; a student's default stays "observed".
* Credit: a role the CMS fee schedule prices with a modifier is credited as that modifier through the pricing
  engine and the user's credit policy: first assist -> assistant at surgery (modifier 80: the
  policy's ``assistant_wrvu_factor``, 16% under cms_mirror), co-surgeon -> modifier 62
  (``co_surgery_wrvu_factor``, 62.5%). A line that already carries 62/66/80/81/82/AS keeps its own.
  Primary, performed and supervised (teaching physician, who bills the service in full) are not reduced, nor
  is "assisted" (a general "I helped" for trainees, with no CMS role behind it: pick first assist for that).
* Export: the portal's vocabulary per role and code kind (a 99214 is never "Surgeon").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any

PERFORMED, PRIMARY, FIRST_ASSIST, ASSISTED, CO_SURGEON, OBSERVED, SUPERVISED = (
    "performed", "primary", "first_assist", "assisted", "co_surgeon", "observed", "supervised")

#: Modifiers that already say who did the surgery (pricing engine's "role" kind).
ROLE_MODIFIERS = frozenset({"62", "66", "80", "81", "82", "AS"})
#: Roles credited as a CMS surgical-role modifier on surgical lines.
ROLE_MODIFIER = {FIRST_ASSIST: "80", CO_SURGEON: "62"}
ROLE_REASON = {"80": "assistant at surgery, modifier 80", "62": "co-surgeon, modifier 62"}

#: The case-log portal's "Resident Role" vocabulary, for surgical codes and for other services.
PORTAL_SURGICAL = {PRIMARY: "Surgeon", PERFORMED: "Surgeon", CO_SURGEON: "Surgeon", FIRST_ASSIST: "Assistant",
                   ASSISTED: "Assistant", SUPERVISED: "Teaching Assistant", OBSERVED: "Observed"}
PORTAL_OTHER = {PRIMARY: "Performed", PERFORMED: "Performed", CO_SURGEON: "Performed", FIRST_ASSIST: "Assisted",
                ASSISTED: "Assisted", SUPERVISED: "Supervised", OBSERVED: "Observed"}


def is_surgical(code: str) -> bool:
    """CPT's surgery section: 10004-69990 (five digits)."""
    return len(code) == 5 and code.isdigit() and "10000" <= code <= "69999"


def is_em(code: str) -> bool:
    """Evaluation and management: 99202-99499."""
    return len(code) == 5 and code.isdigit() and "99202" <= code <= "99499"


def default_role(stage: str, surgical_role: str, codes: Iterable[str]) -> str:
    """The role an encounter is logged with when none is picked."""
    surgical = any(is_surgical(c) for c in codes)
    if stage == "student":
        return surgical_role if surgical and surgical_role else OBSERVED
    if surgical:
        return surgical_role or PRIMARY
    return PERFORMED


def role_lines(lines: list[Any], role: str | None) -> tuple[list[Any], list[int], str | None]:
    """The lines as the role is priced: the role's modifier added to surgical lines that carry no role
    modifier. Returns (lines, indexes changed, modifier)."""
    mod = ROLE_MODIFIER.get(role or "")
    if not mod:
        return list(lines), [], None
    out, changed = [], []
    for i, ln in enumerate(lines):
        if is_surgical(ln.code) and not ROLE_MODIFIERS.intersection(ln.modifiers):
            out.append(replace(ln, modifiers=(*ln.modifiers, mod)))
            changed.append(i)
        else:
            out.append(ln)
    return out, changed, mod


def role_note(role_label: str, modifier: str, factor: Decimal | None, *, denied: bool = False) -> str:
    """"First assist: −84%: assistant at surgery, modifier 80 (credit policy ×0.16)"."""
    reason = ROLE_REASON.get(modifier, f"modifier {modifier}")
    if denied:
        return f"{role_label}: no credit: {reason}, which CMS never pays on this code"
    if factor is None:
        return f"{role_label}: credited as {reason}"
    cut = (1 - factor) * 100
    share = f"−{cut.normalize():f}%" if cut > 0 else "no reduction"
    return f"{role_label}: {share}: {reason} (credit policy ×{factor.normalize():f})"


#: Roles credited in full on a surgical line, and why (shown on the line, so "no reduction" is never silent).
FULL_CREDIT_REASON = {
    SUPERVISED: "no reduction: the teaching physician bills the service in full (modifier GC)",
    ASSISTED: "no reduction: no CMS role behind \"assisted\"; log First assist to credit as assistant at "
              "surgery (modifier 80)",
}


def full_credit_note(role: str, role_label: str, code: str, modifiers: Iterable[str]) -> str | None:
    """Why a surgical line logged in a role that the fee schedule does not reduce keeps its full credit."""
    reason = FULL_CREDIT_REASON.get(role)
    if reason is None or not is_surgical(code) or ROLE_MODIFIERS.intersection(modifiers):
        return None
    return f"{role_label}: {reason}"


def portal_label(role: str, codes: Iterable[str]) -> str:
    table = PORTAL_SURGICAL if any(is_surgical(c) for c in codes) else PORTAL_OTHER
    return table.get(role, role)
