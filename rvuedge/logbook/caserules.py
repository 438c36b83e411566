"""Case-minimum code rules (pure Python, no Django): which CPT codes belong to a minimums category.

A rule is a list of codes and inclusive ranges separated by semicolons, commas or spaces: ``27447``,
``27440-27447``, ``49505-49525; 49650``. Codes compare as five-character strings of the same shape, so
``20600-20611`` holds 20605 and 20610 but not 2060A.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"^([0-9A-Z]{5})(?:-([0-9A-Z]{5}))?$")


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class CodeRule:
    items: tuple[tuple[str, str], ...]

    def matches(self, code: str) -> bool:
        code = code.strip().upper()
        return any(lo <= code <= hi and len(code) == len(lo) and code[:1].isdigit() == lo[:1].isdigit()
                   for lo, hi in self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def text(self) -> str:
        return "; ".join(lo if lo == hi else f"{lo}-{hi}" for lo, hi in self.items)


def parse_rule(text: str) -> CodeRule:
    """``"27447; 27440-27446"`` -> a rule; RuleError names the bad part."""
    items = []
    for raw in re.split(r"[;,\s]+", (text or "").strip().upper()):
        if not raw:
            continue
        m = _TOKEN.match(raw)
        if not m:
            raise RuleError(f"{raw!r} is not a code (five characters) or a range such as 27440-27447")
        lo, hi = m.group(1), m.group(2) or m.group(1)
        if hi < lo:
            raise RuleError(f"{raw!r}: the range ends before it starts")
        items.append((lo, hi))
    return CodeRule(tuple(items))


def categories_for(codes: list[str], typed: str, rules: list[tuple[str, CodeRule]]) -> list[str]:
    """The minimums categories one case counts in: those whose code rules match any of its codes; when no
    rule matches, the category the resident typed if the set has it (case-insensitively); else none.
    A case is never counted in a category it does not belong to."""
    by_rule = [cat for cat, rule in rules if rule and any(rule.matches(c) for c in codes)]
    if by_rule:
        return by_rule
    typed = (typed or "").strip().lower()
    if not typed:
        return []
    return [cat for cat, _rule in rules if cat.lower() == typed][:1]
