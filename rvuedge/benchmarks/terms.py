"""Contract terms: the contract JSON (documented in :mod:`.contracts`) read and checked into
:class:`ContractTerms`. Pure Python, ``Decimal`` throughout; the checking is a pydantic model
(:class:`_ContractDocument`, on :mod:`rvuedge.pricing.validation`) and every error names the field at fault."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self, cast

from pydantic import BeforeValidator, Field, PlainValidator, field_validator, model_validator

from rvuedge.pricing.money import cents
from rvuedge.pricing.policy import PolicyError, load_policy
from rvuedge.pricing.validation import Document, as_json, error_at, read_json, true_or_false, validate

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


def policy_document(credit_policy: str | dict[str, Any], rvu_release: Any) -> dict[str, Any]:
    """A contract's credit policy as :func:`rvuedge.pricing.load_policy` takes it: a named profile or a policy
    object, with the contract's ``rvu_release`` folded in (unless it is "current" and the policy names its own)."""
    base = {"wrvu_profile": credit_policy} if isinstance(credit_policy, str) else dict(credit_policy)
    mode = rvu_release.get("mode", "current") if isinstance(rvu_release, dict) else None
    if mode != "current" or "rvu_release" not in base:
        base["rvu_release"] = rvu_release
    return base


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
        return policy_document(self.credit_policy, self.rvu_release)

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


def _figure(value: Any, low: Decimal | None, high: Decimal | None) -> Decimal:
    """A typed figure ('$240,000', 55, '0.8') as a Decimal; a fault raises ValueError in our words."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise ValueError(f"expected a number, got {as_json(value)[:40]}")
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace(",", "").replace("$", "")
    if len(text) > 40:
        raise ValueError(f"{text[:20]}… is not a number (at most 40 characters)")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if low is not None and result < low:
        raise ValueError(f"{text} is below {low}")
    if high is not None and result > high:
        raise ValueError(f"{text} is above {high:,}")
    if abs(result) > MAX_FIGURE:
        raise ValueError(f"{text} is out of range (at most {MAX_FIGURE:,} either way)")
    if result and not isinstance(value, Decimal) and result.normalize().as_tuple().exponent < -MAX_PLACES:
        raise ValueError(f"{text} has more than {MAX_PLACES} decimal places")
    return result


def decimal_field(key: str, value: Any, *, low: Decimal | None = ZERO, high: Decimal | None = MAX_FIGURE) -> Decimal:
    try:
        return _figure(value, low, high)
    except ValueError as exc:
        raise ContractError(key, str(exc)) from None


# --------------------------------------------------------------------------- the contract document (pydantic)
# Field validators raise ValueError(message): the message is shown as written (rvuedge.pricing.validation).


def _between(low: Decimal | None = ZERO, high: Decimal | None = MAX_FIGURE) -> PlainValidator:
    """A figure from ``low`` to ``high``."""
    return PlainValidator(lambda value: _figure(value, low, high))


Figure = Annotated[Decimal, _between()]


def _one_of(choices: Sequence[str]) -> PlainValidator:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return value.strip().lower()

    return PlainValidator(check)


def _month(value: Any) -> int:
    if (isinstance(value, bool) or not isinstance(value, int | Decimal)
            or (isinstance(value, Decimal) and not value.is_finite()) or not 1 <= int(value) <= 12
            or int(value) != value):
        raise ValueError(f"expected a month number 1-12, got {json.dumps(str(value))}")
    return int(value)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty string")
    return value.strip()[:120]


def _stipend_name(value: Any) -> str | None:
    """None (left out or empty: the stipend is numbered) or the name, at most 80 characters."""
    if not value:
        return None
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value.strip()[:80]


def _list_of(example: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if not isinstance(value, list):
            raise ValueError(f"expected a list of {example}")
        return value

    return BeforeValidator(check)


def _credit_policy(value: Any) -> str | dict[str, Any]:
    if isinstance(value, dict):
        return cast(dict[str, Any], _plain(value))
    if not isinstance(value, str):
        raise ValueError("expected a profile name or a policy object")
    return value


def _rvu_release(value: Any) -> Any:
    """A JSON-safe copy, release names upper-cased; load_policy checks it (with the credit policy)."""
    if isinstance(value, str):
        value = {"mode": value}
    release = _plain(value)
    if isinstance(release, dict):
        if isinstance(release.get("release"), str):
            release["release"] = release["release"].strip().upper()
        for item in release.get("releases") if isinstance(release.get("releases"), list) else []:
            if isinstance(item, dict) and isinstance(item.get("release"), str):
                item["release"] = item["release"].strip().upper()
    return release


class _Tier(Document):
    shape = 'expected {"up_to": ..., "rate": ...}'
    rate: Figure
    up_to: Figure | None = None
    from_: Any = Field(default=None, alias="from")  # ignored (the bound of the tier before)


class _Draw(Document):
    not_an_object = 'expected an object like {"amount": "240000", "true_up": "quarter"}'
    amount: Figure
    true_up: Annotated[str, _one_of(tuple(PERIODS))] = "year"
    clawback: Annotated[bool, PlainValidator(true_or_false)] = True
    carry_forward: Annotated[bool, PlainValidator(true_or_false)] = False


class _Stipend(Document):
    shape = 'expected {"name": ..., "amount": ...}'
    name: Annotated[str | None, PlainValidator(_stipend_name)] = None
    amount: Figure


#: keys a contract may carry that the pay engine does not read
_IGNORED = ("notes", "start", "end")


class _ContractDocument(Document):
    """The contract JSON (documented in :mod:`.contracts`); fields in the order their errors are looked for."""

    name: Annotated[str, PlainValidator(_name)] = "Contract"
    base_salary: Figure = ZERO
    fte: Annotated[Decimal, _between(Decimal("0.01"), Decimal("1.5"))] = ONE
    threshold: Figure = ZERO
    payout_share: Annotated[Decimal, _between(high=ONE)] = ONE
    tier_mode: Annotated[str, _one_of(TIER_MODES)] = "accrual"
    tier_reset: Annotated[str, _one_of(tuple(PERIODS))] = "year"
    year_start_month: Annotated[int, PlainValidator(_month)] = 1
    rate: Figure = Field(default=None)  # shorthand for one open tier
    tiers: Annotated[list[_Tier], _list_of('{"up_to": ..., "rate": ...}')] = Field(default_factory=list)
    draw: _Draw | None = None
    stipends: Annotated[list[_Stipend], _list_of('{"name": ..., "amount": ...}')] = Field(default_factory=list)
    credit_policy: Annotated[str | dict[str, Any], PlainValidator(_credit_policy)] = "cms_mirror"
    rvu_release: Annotated[Any, BeforeValidator(_rvu_release)] = Field(default_factory=lambda: {"mode": "current"})
    notes: Any = None
    start: Any = None
    end: Any = None

    @classmethod
    def unknown_key_message(cls) -> str:
        return f"unknown key (known: {', '.join(sorted(set(cls.model_fields) - set(_IGNORED)))})"

    @model_validator(mode="before")
    @classmethod
    def _rate_or_tiers(cls, data: Any) -> Any:
        if isinstance(data, dict) and "rate" in data and "tiers" in data:
            raise error_at(("rate",), "give either 'rate' or 'tiers', not both")
        return data

    @field_validator("tiers")
    @classmethod
    def _ascending(cls, tiers: list[_Tier]) -> list[_Tier]:
        previous = ZERO
        for i, tier in enumerate(tiers):
            last = i == len(tiers) - 1
            if tier.up_to is None:
                if not last:
                    raise error_at((i, "up_to"), "only the last tier may be open-ended")
                continue
            if tier.up_to <= previous:
                raise error_at((i, "up_to"), f"{tier.up_to} must be above the previous bound {previous}")
            if last:
                raise error_at((i, "up_to"), "the last tier must be open-ended (leave out 'up_to')")
            previous = tier.up_to
        return tiers

    @model_validator(mode="after")
    def _draw_and_policy(self) -> Self:
        if self.draw is not None and not self.tier_list():
            raise error_at(("draw",), "a draw is an advance against productivity pay: give 'rate' or 'tiers'")
        try:
            load_policy(policy_document(self.credit_policy, self.rvu_release))
        except PolicyError as exc:
            where = exc.field if exc.field.startswith("rvu_release") else f"credit_policy.{exc.field}"
            if exc.field == "wrvu_profile" and isinstance(self.credit_policy, str):
                where = "credit_policy"
            raise error_at((where,), exc.message) from None
        return self

    def tier_list(self) -> tuple[Tier, ...]:
        if "rate" in self.model_fields_set:
            return (Tier(None, self.rate),)
        return tuple(Tier(t.up_to, t.rate) for t in self.tiers)

    def terms(self) -> ContractTerms:
        draw = self.draw
        return ContractTerms(
            name=self.name, base_salary=self.base_salary, fte=self.fte, threshold=self.threshold,
            tiers=self.tier_list(), tier_mode=self.tier_mode, tier_reset=self.tier_reset,
            payout_share=self.payout_share,
            draw=Draw(draw.amount, draw.true_up, draw.clawback, draw.carry_forward) if draw else None,
            stipends=tuple(Stipend(s.name if s.name is not None else f"Stipend {i + 1}", s.amount)
                           for i, s in enumerate(self.stipends)),
            credit_policy=self.credit_policy, rvu_release=self.rvu_release, year_start_month=self.year_start_month,
        )


def load_contract(obj: dict[str, Any] | str | bytes | ContractTerms) -> ContractTerms:
    """Validate a contract (JSON text or dict) into :class:`ContractTerms`; raise :class:`ContractError`."""
    if isinstance(obj, ContractTerms):
        return obj
    data = read_json(obj, ContractError) if isinstance(obj, bytes | str) else obj
    return validate(_ContractDocument, data, ContractError).terms()


def _plain(value: Any) -> Any:
    """JSON-safe copy (Decimals from parse_float become strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
