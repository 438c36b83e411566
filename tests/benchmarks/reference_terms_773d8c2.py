# ruff: noqa
# mypy: ignore-errors
"""REFERENCE ORACLE - not production code. rvuedge/benchmarks/terms.py exactly as it was at commit 773d8c2, before
issue 13 moved the validation of load_contract onto pydantic models.

tests/benchmarks/test_contract_oracle.py feeds the same contracts (valid ones, and ones with a single fault) to this
copy and to rvuedge.benchmarks.terms.load_contract and asserts the same ContractTerms, or the same error field and
message. Only the imports below were adapted (the credit policy comes from the reference copy of policy.py of the
same commit); every line after them is `git show 773d8c2:rvuedge/benchmarks/terms.py` verbatim, so keep it that way:
do not lint, format or "fix" it.

Original module docstring follows.

Contract terms: the contract JSON (documented in :mod:`.contracts`) read and checked into
:class:`ContractTerms`. Pure Python, ``Decimal`` throughout; every error names the field at fault."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from rvuedge.pricing.money import cents
from tests.pricing.reference_policy_773d8c2 import PolicyError, load_policy

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
PERIODS = {"year": 1, "quarter": 4, "month": 12}
PERIOD_LABEL = {"year": "Year", "quarter": "Q", "month": "M"}
TIER_MODES = ("accrual", "highest")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ContractError(ValueError):
    """An invalid contract; ``field`` names the offending key (``tiers[1].rate``)."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        self.message = message
        super().__init__(f"contract field '{field_name}': {message}")


def fmt_wrvu(value: Decimal) -> str:
    """4500 -> '4,500'; 1234.5 -> '1,234.50'."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{cents(value):,}"


def fmt_money(value: Decimal) -> str:
    """247500 -> '$247,500'; 1234.5 -> '$1,234.50'; negatives get a leading minus."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value == value.to_integral_value():
        return f"{sign}${int(value):,}"
    return f"{sign}${cents(value):,}"


def fmt_pct(value: Decimal) -> str:
    text = format((value * 100).normalize(), "f")
    return f"{text}%"


# --------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class Tier:
    up_to: Decimal | None  # annual wRVUs at 1.0 FTE; None = open-ended
    rate: Decimal

    def to_dict(self) -> dict[str, str]:
        out = {"rate": str(self.rate)}
        if self.up_to is not None:
            out = {"up_to": str(self.up_to), **out}
        return out


@dataclass(frozen=True)
class Draw:
    amount: Decimal  # annual, at 1.0 FTE
    true_up: str = "year"
    clawback: bool = True
    carry_forward: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"amount": str(self.amount), "true_up": self.true_up, "clawback": self.clawback,
                "carry_forward": self.carry_forward}


@dataclass(frozen=True)
class Stipend:
    name: str
    amount: Decimal  # annual

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "amount": str(self.amount)}


@dataclass(frozen=True)
class ContractTerms:
    name: str = "Contract"
    base_salary: Decimal = ZERO
    fte: Decimal = ONE
    threshold: Decimal = ZERO
    tiers: tuple[Tier, ...] = ()
    tier_mode: str = "accrual"
    tier_reset: str = "year"
    payout_share: Decimal = ONE
    draw: Draw | None = None
    stipends: tuple[Stipend, ...] = ()
    credit_policy: str | dict[str, Any] = "cms_mirror"
    rvu_release: dict[str, Any] = field(default_factory=lambda: {"mode": "current"})
    year_start_month: int = 1

    @property
    def segments(self) -> int:
        """Segments per year: the finest of the tier-reset and true-up periods."""
        return max(PERIODS[self.tier_reset], PERIODS[self.draw.true_up] if self.draw else 1)

    @property
    def segment_kind(self) -> str:
        return {1: "year", 4: "quarter", 12: "month"}[self.segments]

    def policy_dict(self) -> dict[str, Any]:
        """The credit policy as :func:`rvuedge.pricing.load_policy` takes it, with ``rvu_release`` folded in."""
        base = {"wrvu_profile": self.credit_policy} if isinstance(self.credit_policy, str) else dict(self.credit_policy)
        if self.rvu_release.get("mode", "current") != "current" or "rvu_release" not in base:
            base["rvu_release"] = self.rvu_release
        return base

    def describe_release(self) -> str:
        mode = self.rvu_release.get("mode", "current")
        if mode == "frozen":
            return f"frozen at {self.rvu_release.get('release')}"
        if mode == "blend":
            return "blend of " + " + ".join(
                f"{fmt_pct(Decimal(str(r['weight'])))} {r['release']}" for r in self.rvu_release.get("releases", [])
            )
        return "current release"

    def describe_policy(self) -> str:
        if isinstance(self.credit_policy, str):
            return self.credit_policy
        return str(self.credit_policy.get("name") or self.credit_policy.get("wrvu_profile", "custom"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "base_salary": str(self.base_salary),
            "fte": str(self.fte),
            "threshold": str(self.threshold),
            "tiers": [t.to_dict() for t in self.tiers],
            "tier_mode": self.tier_mode,
            "tier_reset": self.tier_reset,
            "payout_share": str(self.payout_share),
            "draw": self.draw.to_dict() if self.draw else None,
            "stipends": [s.to_dict() for s in self.stipends],
            "credit_policy": self.credit_policy,
            "rvu_release": self.rvu_release,
            "year_start_month": self.year_start_month,
        }
        return out


#: No figure of a contract (dollars, wRVUs, rates) comes near a billion; bounding every input there keeps all
#: arithmetic far inside the Decimal context (28 digits), so no input can overflow it.
MAX_FIGURE = Decimal(1_000_000_000)
MAX_PLACES = 10  # decimal places a typed figure may have (Decimals computed by the caller are exempt)


def decimal_field(key: str, value: Any, *, low: Decimal | None = ZERO, high: Decimal | None = MAX_FIGURE) -> Decimal:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise ContractError(key, f"expected a number, got {json.dumps(value)[:40]}")
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace(",", "").replace("$", "")
    if len(text) > 40:
        raise ContractError(key, f"{text[:20]}… is not a number (at most 40 characters)")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ContractError(key, f"{value!r} is not a number") from None
    if not result.is_finite():
        raise ContractError(key, f"{value!r} is not a finite number")
    if low is not None and result < low:
        raise ContractError(key, f"{text} is below {low}")
    if high is not None and result > high:
        raise ContractError(key, f"{text} is above {high:,}")
    if abs(result) > MAX_FIGURE:
        raise ContractError(key, f"{text} is out of range (at most {MAX_FIGURE:,} either way)")
    if result and not isinstance(value, Decimal) and result.normalize().as_tuple().exponent < -MAX_PLACES:
        raise ContractError(key, f"{text} has more than {MAX_PLACES} decimal places")
    return result


def _choice(key: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise ContractError(key, f"{value!r} is not one of {', '.join(choices)}")
    return value.strip().lower()


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ContractError(key, f"expected true or false, got {json.dumps(value)}")
    return value


_KEYS = {
    "name", "base_salary", "fte", "threshold", "tiers", "rate", "tier_mode", "tier_reset", "payout_share",
    "draw", "stipends", "credit_policy", "rvu_release", "year_start_month", "notes", "start", "end",
}


def load_contract(obj: dict[str, Any] | str | bytes | ContractTerms) -> ContractTerms:
    """Validate a contract (JSON text or dict) into :class:`ContractTerms`; raise :class:`ContractError`."""
    if isinstance(obj, ContractTerms):
        return obj
    if isinstance(obj, bytes | str):
        try:
            obj = json.loads(obj, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ContractError("(json)", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise ContractError("(root)", f"expected an object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - _KEYS)
    if unknown:
        raise ContractError(unknown[0], f"unknown key (known: {', '.join(sorted(_KEYS - {'notes', 'start', 'end'}))})")

    name = obj.get("name", "Contract")
    if not isinstance(name, str) or not name.strip():
        raise ContractError("name", "expected a non-empty string")
    kw: dict[str, Any] = {"name": name.strip()[:120]}
    if "base_salary" in obj:
        kw["base_salary"] = decimal_field("base_salary", obj["base_salary"])
    if "fte" in obj:
        kw["fte"] = decimal_field("fte", obj["fte"], low=Decimal("0.01"), high=Decimal("1.5"))
    if "threshold" in obj:
        kw["threshold"] = decimal_field("threshold", obj["threshold"])
    if "payout_share" in obj:
        kw["payout_share"] = decimal_field("payout_share", obj["payout_share"], high=ONE)
    if "tier_mode" in obj:
        kw["tier_mode"] = _choice("tier_mode", obj["tier_mode"], TIER_MODES)
    if "tier_reset" in obj:
        kw["tier_reset"] = _choice("tier_reset", obj["tier_reset"], tuple(PERIODS))
    if "year_start_month" in obj:
        month = obj["year_start_month"]
        if isinstance(month, bool) or not isinstance(month, int | Decimal) or not 1 <= int(month) <= 12 \
                or int(month) != month:
            raise ContractError("year_start_month", f"expected a month number 1-12, got {json.dumps(str(month))}")
        kw["year_start_month"] = int(month)

    if "tiers" in obj and "rate" in obj:
        raise ContractError("rate", "give either 'rate' or 'tiers', not both")
    if "rate" in obj:
        kw["tiers"] = (Tier(None, decimal_field("rate", obj["rate"])),)
    elif "tiers" in obj:
        kw["tiers"] = _tiers(obj["tiers"])

    draw = obj.get("draw")
    if draw is not None:
        if not isinstance(draw, dict):
            raise ContractError("draw", "expected an object like {\"amount\": \"240000\", \"true_up\": \"quarter\"}")
        extra = sorted(set(draw) - {"amount", "true_up", "clawback", "carry_forward"})
        if extra:
            raise ContractError(f"draw.{extra[0]}", "unknown key")
        if "amount" not in draw:
            raise ContractError("draw.amount", "required")
        kw["draw"] = Draw(
            amount=decimal_field("draw.amount", draw["amount"]),
            true_up=_choice("draw.true_up", draw.get("true_up", "year"), tuple(PERIODS)),
            clawback=_bool("draw.clawback", draw.get("clawback", True)),
            carry_forward=_bool("draw.carry_forward", draw.get("carry_forward", False)),
        )
        if not kw.get("tiers"):
            raise ContractError("draw", "a draw is an advance against productivity pay: give 'rate' or 'tiers'")

    stipends = obj.get("stipends", [])
    if not isinstance(stipends, list):
        raise ContractError("stipends", "expected a list of {\"name\": ..., \"amount\": ...}")
    items = []
    for i, s in enumerate(stipends):
        where = f"stipends[{i}]"
        if not isinstance(s, dict) or set(s) - {"name", "amount"} or "amount" not in s:
            raise ContractError(where, "expected {\"name\": ..., \"amount\": ...}")
        sname = s.get("name") or f"Stipend {i + 1}"
        if not isinstance(sname, str):
            raise ContractError(f"{where}.name", "expected a string")
        items.append(Stipend(sname.strip()[:80], decimal_field(f"{where}.amount", s["amount"])))
    kw["stipends"] = tuple(items)

    policy = obj.get("credit_policy", "cms_mirror")
    release = obj.get("rvu_release", {"mode": "current"})
    if isinstance(release, str):
        release = {"mode": release}
    kw["credit_policy"] = policy
    release = _plain(release)
    if isinstance(release, dict):
        if isinstance(release.get("release"), str):
            release["release"] = release["release"].strip().upper()
        for item in release.get("releases") or []:
            if isinstance(item, dict) and isinstance(item.get("release"), str):
                item["release"] = item["release"].strip().upper()
    kw["rvu_release"] = release
    if isinstance(policy, dict):
        kw["credit_policy"] = _plain(policy)
    elif not isinstance(policy, str):
        raise ContractError("credit_policy", "expected a profile name or a policy object")
    terms = ContractTerms(**kw)
    _check_policy(terms)
    return terms


def _plain(value: Any) -> Any:
    """JSON-safe copy (Decimals from parse_float become strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _check_policy(terms: ContractTerms) -> None:
    try:
        load_policy(terms.policy_dict())
    except PolicyError as exc:
        where = exc.field if exc.field.startswith("rvu_release") else f"credit_policy.{exc.field}"
        if exc.field == "wrvu_profile" and isinstance(terms.credit_policy, str):
            where = "credit_policy"
        raise ContractError(where, exc.message) from None


def _tiers(value: Any) -> tuple[Tier, ...]:
    if not isinstance(value, list):
        raise ContractError("tiers", "expected a list of {\"up_to\": ..., \"rate\": ...}")
    tiers: list[Tier] = []
    previous = ZERO
    for i, item in enumerate(value):
        where = f"tiers[{i}]"
        if not isinstance(item, dict) or set(item) - {"up_to", "rate", "from"} or "rate" not in item:
            raise ContractError(where, "expected {\"up_to\": ..., \"rate\": ...}")
        rate = decimal_field(f"{where}.rate", item["rate"])
        up_to = item.get("up_to")
        last = i == len(value) - 1
        if up_to is None:
            if not last:
                raise ContractError(f"{where}.up_to", "only the last tier may be open-ended")
            tiers.append(Tier(None, rate))
            continue
        bound = decimal_field(f"{where}.up_to", up_to)
        if bound <= previous:
            raise ContractError(f"{where}.up_to", f"{bound} must be above the previous bound {previous}")
        if last:
            raise ContractError(f"{where}.up_to", "the last tier must be open-ended (leave out 'up_to')")
        tiers.append(Tier(bound, rate))
        previous = bound
    return tuple(tiers)
