"""PHI guard: reject free text that looks like a patient identifier (pure Python, no Django).

The log keeps codes, dates of service, roles and labels, never patient identifiers. Notes and labels are
checked for the HIPAA Safe Harbor identifiers that can be recognised by shape: social security numbers,
long digit runs (medical record or account numbers), phone numbers, e-mail addresses, full calendar dates
(dates of birth; the date of service has its own field) and the words that introduce them (DOB, MRN, SSN).

    >>> find_phi("difficult airway, converted to open")
    []
    >>> [f.kind for f in find_phi("MRN 00123456")]
    ['keyword', 'digits']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PhiError", "PhiFinding", "check_fields", "find_phi", "rules_as_data"]


@dataclass(frozen=True)
class PhiFinding:
    kind: str
    text: str
    message: str


_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"

# (kind, pattern, message). Order matters only for which message is shown first.
_RULES: list[tuple[str, re.Pattern[str], str]] = [
    ("keyword", re.compile(
        r"\b(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s*date|born\s+(?:on|in)|m\.?r\.?n\.?|medical\s+record\s+(?:number|no|#)"
        r"|record\s*(?:number|no\.?|#)|s\.?s\.?n\.?|social\s+security|patient\s+(?:name|id|number)|acct\s*#|account\s+(?:number|no))\b",
        re.I),
     "mentions a patient identifier ({text}); the log must not hold one"),
    ("ssn", re.compile(r"(?<![\d-])\d{3}[- ]\d{2}[- ]\d{4}(?![\d-])"),
     "looks like a social security number ({text})"),
    # The lookbehind starts a match only where a run of address characters starts: without it a long run of
    # letters or digits and no "@" costs quadratic time (a 131,072-digit cell took minutes).
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
     "looks like an e-mail address ({text})"),
    ("phone", re.compile(r"(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])"),
     "looks like a phone number ({text})"),
    ("date", re.compile(
        r"(?<![\d/.-])(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}[/.-]\d{1,2}[/.-]\d{1,2})(?![\d/.-])"
        r"|\b" + _MONTHS + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b"
        r"|\b\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTHS + r"\.?,?\s+\d{4}\b", re.I),
     "looks like a full date ({text}); dates of birth are patient identifiers, and the date of service has its own field"),
    ("digits", re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{0,3}\d{7,}(?![0-9])"),
     "has a long number ({text}) that looks like a medical record or account number"),
]


class PhiError(ValueError):
    """Text that looks like a patient identifier; ``field`` names the input, ``findings`` say why."""

    def __init__(self, field: str, label: str, findings: list[PhiFinding]):
        self.field = field
        self.findings = findings
        self.message = (f"{label} {findings[0].message}. Remove patient identifiers: the log keeps codes, "
                        "dates of service, roles and labels only.")
        super().__init__(self.message)


# Clean text (the common case) is cleared in one pass instead of one per rule; text without a digit or an
# "@" can only match the keyword rule.
_ANY = re.compile("|".join(f"(?:{p.pattern})" for _k, p, _m in _RULES), re.I)
_KEYWORDS = _RULES[0][1]
_DIGIT_OR_AT = re.compile(r"[\d@]")


def _suspicious(text: str) -> bool:
    if _DIGIT_OR_AT.search(text):
        return _ANY.search(text) is not None
    return _KEYWORDS.search(text) is not None


def find_phi(text: str | None) -> list[PhiFinding]:
    """Every identifier-like span in ``text`` (empty list = clean)."""
    if not text or not _suspicious(text):
        return []
    found: list[PhiFinding] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern, message in _RULES:
        for m in pattern.finditer(text):
            span = m.span()
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            taken.append(span)
            shown = m.group(0).strip()
            found.append(PhiFinding(kind, shown, message.format(text=repr(shown))))
    return found


def check_fields(fields: dict[str, str | None], labels: dict[str, str] | None = None) -> None:
    """Raise :class:`PhiError` for the first field whose text looks like a patient identifier."""
    joined = "\n".join(v for v in fields.values() if v)
    if not joined or not _suspicious(joined):
        return
    for name, value in fields.items():
        findings = find_phi(value)
        if findings:
            label = (labels or {}).get(name) or name.replace("_", " ").capitalize()
            raise PhiError(name, label, findings)


def rules_as_data() -> list[dict[str, str]]:
    """The rules above as data for the browser (the offline entry page runs the same guard before it stores
    anything on the device): each rule's kind, its pattern source, its flags and its message (``{text}`` is
    the matched text). The patterns use only syntax that Python's ``re`` and JavaScript's ``RegExp`` read the
    same way (classes, lookbehind, ``\\b``); ``i`` is the only flag."""
    return [{"kind": kind, "pattern": pattern.pattern, "flags": "i" if pattern.flags & re.I else "",
             "message": message} for kind, pattern, message in _RULES]
