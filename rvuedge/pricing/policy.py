"""wRVU credit policies (pfs-rules 3.1, 3.3, 3.4).

A :class:`Policy` says how an employer credits work RVUs; Medicare's payment rules are fixed in the engine.
Two named profiles ship:

* ``cms_mirror`` (default) copies Medicare's percentages where they reflect a share of the *work*
  (multiple procedure 50%, bilateral 150%, co-surgery 62.5%, assistant 16%, split-care shares, imaging PC 95%)
  and ignores payment-only cuts (NPP 85%, OPPS cap, therapy PE, cardio/ophtho/imaging TC).
* ``no_reductions`` credits the full file work RVU on every unit: no multiple-procedure, endoscopy-family,
  assistant, co-surgery, split-care, 52/53 or by-report reductions, and a bilateral procedure counts as two
  sides (x2).

Custom policies come from plain JSON (:func:`load_policy`): start from ``wrvu_profile`` (default
``cms_mirror``) and override any field. ``rvu_release`` picks which RVU release the *credit* is computed
from: ``{"mode": "current"}``, ``{"mode": "frozen", "release": "RVU24A"}`` or
``{"mode": "blend", "releases": [{"release": "RVU25A", "weight": "0.5"}, ...]}`` (weights sum to 1).
Payment always uses the release in force.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, PlainValidator, ValidationInfo, create_model, model_validator

from .money import ONE, ZERO, dec
from .validation import Document, error_at, read_json, true_or_false, validate

__all__ = [
    "CMS_MIRROR",
    "NO_REDUCTIONS",
    "PROFILES",
    "Policy",
    "PolicyError",
    "ReleaseWeight",
    "RvuRelease",
    "get_profile",
    "load_policy",
]


class PolicyError(ValueError):
    """An invalid policy; ``field`` names the offending key (dotted for nested keys)."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        self.message = message
        super().__init__(f"policy field '{field_name}': {message}")


@dataclass(frozen=True, slots=True)
class ReleaseWeight:
    release: str
    weight: Decimal

    def to_dict(self) -> dict[str, str]:
        return {"release": self.release, "weight": str(self.weight)}


@dataclass(frozen=True, slots=True)
class RvuRelease:
    """Which RVU release(s) the wRVU credit uses. ``current`` = the release priced for payment."""

    mode: str = "current"
    release: str | None = None
    releases: tuple[ReleaseWeight, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        if self.mode == "frozen":
            return {"mode": "frozen", "release": self.release}
        if self.mode == "blend":
            return {"mode": "blend", "releases": [r.to_dict() for r in self.releases]}
        return {"mode": "current"}

    def describe(self) -> str:
        if self.mode == "frozen":
            return f"frozen at {self.release}"
        if self.mode == "blend":
            return "blend " + " + ".join(f"{r.weight}x{r.release}" for r in self.releases)
        return "current release"


_CURRENT = RvuRelease()


@dataclass(frozen=True, slots=True)
class Policy:
    """wRVU credit settings. Factors are Decimals; toggles are bools. See :data:`FIELD_HELP`."""

    name: str = "cms_mirror"
    multiple_procedure: bool = True
    multiple_procedure_wrvu_factor: Decimal = Decimal("0.5")
    bilateral: bool = True
    bilateral_wrvu_factor: Decimal | None = None
    assistant_wrvu_factor: Decimal = Decimal("0.16")
    as_modifier_wrvu_factor: Decimal = Decimal("0.16")
    co_surgery_wrvu_factor: Decimal = Decimal("0.625")
    team_wrvu_factor: Decimal = ONE
    reduced_service_wrvu_factor: Decimal = Decimal("0.5")
    discontinued_wrvu_factor: Decimal = Decimal("0.5")
    increased_service_wrvu_factor: Decimal = ONE
    by_report_unit_wrvu_factor: Decimal = Decimal("0.5")
    global_split: bool = True
    split_shared_wrvu_factor: Decimal = ONE
    imaging_pc_mppr_applies_to_wrvu: bool = True
    credit_non_medicare_rvus: bool = True
    npp_payment_factor: Decimal = Decimal("0.85")
    npp_wrvu_factor: Decimal = ONE
    anesthesia_time_unit_decimals: int = 1
    #: wRVU credit of an incident-to code (PC/TC 5) billed for a facility patient, which Medicare does not pay:
    #: "none" (0, as the payment) or "full" (its work RVU x units).
    incident_to_facility_wrvu: str = "none"
    rvu_release: RvuRelease = field(default=_CURRENT)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "name":
                out["wrvu_profile"] = value
            elif isinstance(value, RvuRelease):
                out[f.name] = value.to_dict()
            elif isinstance(value, Decimal):
                out[f.name] = str(value)
            else:
                out[f.name] = value
        return out


#: field -> (kind, low, high, help). kind: "bool", "factor", "opt_factor", "int", "choice" (FIELD_CHOICES).
#: The one place of each field's kind, range and help: the fields of the policy document that :func:`load_policy`
#: validates are made from it (:data:`_PolicyDocument`).
FIELD_HELP: dict[str, tuple[str, Decimal | int | None, Decimal | int | None, str]] = {
    "multiple_procedure": ("bool", None, None, "apply MULT PROC 2/3 ranking and endoscopy-family arithmetic to credit"),
    "multiple_procedure_wrvu_factor": ("factor", ZERO, ONE, "credit factor for 2nd-5th ranked procedures"),
    "bilateral": ("bool", None, None, "apply the bilateral factor to credit (off: 1 x work)"),
    "bilateral_wrvu_factor": ("opt_factor", ZERO, Decimal(3), "override the bilateral credit factor (null: Medicare's)"),
    "assistant_wrvu_factor": ("factor", ZERO, ONE, "credit factor for 80/81/82"),
    "as_modifier_wrvu_factor": ("factor", ZERO, ONE, "credit factor for AS"),
    "co_surgery_wrvu_factor": ("factor", ZERO, ONE, "credit factor for 62"),
    "team_wrvu_factor": ("factor", ZERO, Decimal(3), "credit factor for 66"),
    "reduced_service_wrvu_factor": ("factor", ZERO, ONE, "credit factor for 52"),
    "discontinued_wrvu_factor": ("factor", ZERO, ONE, "credit factor for 53 without its own row"),
    "increased_service_wrvu_factor": ("factor", ONE, Decimal(3), "credit factor for 22"),
    "by_report_unit_wrvu_factor": ("factor", ZERO, ONE, "credit factor for 6th+ procedures (by report)"),
    "global_split": ("bool", None, None, "apply 54/55/56/78 shares to credit"),
    "split_shared_wrvu_factor": ("factor", ZERO, ONE, "credit factor for split/shared (FS) visits"),
    "imaging_pc_mppr_applies_to_wrvu": ("bool", None, None, "credit the imaging PC 95% on later studies"),
    "credit_non_medicare_rvus": ("bool", None, None, "credit work RVUs of status N/I/G codes"),
    "npp_payment_factor": ("factor", ZERO, ONE, "payment factor for NP/PA/CNS under own NPI"),
    "npp_wrvu_factor": ("factor", ZERO, ONE, "credit factor for NP/PA/CNS lines"),
    "anesthesia_time_unit_decimals": ("int", 0, 4, "decimals kept in anaesthesia time units"),
    "incident_to_facility_wrvu": ("choice", None, None, "credit of an incident-to code (PC/TC 5) billed for a "
                                  "facility patient, which Medicare does not pay: none or full"),
}
#: the allowed values of each "choice" field
FIELD_CHOICES: dict[str, tuple[str, ...]] = {"incident_to_facility_wrvu": ("none", "full")}
_RELEASE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")

CMS_MIRROR = Policy()
NO_REDUCTIONS = Policy(
    name="no_reductions",
    multiple_procedure=False,
    multiple_procedure_wrvu_factor=ONE,
    bilateral_wrvu_factor=Decimal("2"),
    assistant_wrvu_factor=ONE,
    as_modifier_wrvu_factor=ONE,
    co_surgery_wrvu_factor=ONE,
    reduced_service_wrvu_factor=ONE,
    discontinued_wrvu_factor=ONE,
    by_report_unit_wrvu_factor=ONE,
    global_split=False,
    imaging_pc_mppr_applies_to_wrvu=False,
)
PROFILES: dict[str, Policy] = {"cms_mirror": CMS_MIRROR, "no_reductions": NO_REDUCTIONS}


def _unknown_profile(name: str) -> str:
    return f"unknown profile {name!r} (known: {', '.join(PROFILES)})"


def get_profile(name: str) -> Policy:
    try:
        return PROFILES[name]
    except KeyError:
        raise PolicyError("wrvu_profile", _unknown_profile(name)) from None


# --------------------------------------------------------------------------- the policy document (pydantic)
# Field validators raise ValueError(message): the message is shown as written (rvuedge.pricing.validation).


def _factor(low: Decimal | int | None, high: Decimal | int | None) -> Callable[[Any], Decimal]:
    def check(value: Any) -> Decimal:
        try:
            result = dec(value)
        except ValueError as exc:
            raise ValueError(str(exc).split(": ", 1)[-1]) from None
        if (low is not None and result < low) or (high is not None and result > high):
            raise ValueError(f"{result} is out of range [{low}, {high}]")
        return result

    return check


def _whole(low: Decimal | int | None, high: Decimal | int | None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if (isinstance(value, bool) or not isinstance(value, int | Decimal)
                or (isinstance(value, Decimal) and not value.is_finite()) or int(value) != value):
            raise ValueError(f"expected a whole number, got {value!r}")
        if (low is not None and int(value) < low) or (high is not None and int(value) > high):
            raise ValueError(f"{value} is out of range [{low}, {high}]")
        return int(value)

    return check


def _one_of(allowed: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {value!r}")
        return value

    return check


def _field_type(name: str, kind: str, low: Decimal | int | None, high: Decimal | int | None) -> Any:
    """The annotated type of a :data:`FIELD_HELP` field: its kind and range, checked in our words."""
    if kind == "bool":
        return Annotated[bool, PlainValidator(true_or_false)]
    if kind == "choice":
        return Annotated[str, PlainValidator(_one_of(FIELD_CHOICES[name]))]
    if kind == "int":
        return Annotated[int, PlainValidator(_whole(low, high))]
    factor = Annotated[Decimal, PlainValidator(_factor(low, high))]
    return factor | None if kind == "opt_factor" else factor


def _release_name(example: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not _RELEASE_RE.match(value):
            raise ValueError(f"a release name such as {example!r} is required")
        return value.upper()

    return check


_share = _factor(ZERO, ONE)


def _weight(value: Any) -> Decimal:
    weight = _share(value)
    if weight == ZERO:
        raise ValueError("must be greater than 0")
    return weight


def _non_empty_list(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise ValueError("a non-empty list of {release, weight} is required")
    return value


def _blend_release(value: Any, info: ValidationInfo) -> str:
    """A release of a blend, once only: the names seen so far are in the validation context."""
    release = _release_name("RVU25A")(value)
    seen: set[str] = (info.context or {}).setdefault("seen", set())
    if release in seen:
        raise ValueError(f"{release} is listed twice")
    seen.add(release)
    return release


class _Weight(Document):
    shape = 'expected {"release": ..., "weight": ...}'
    release: Annotated[str, PlainValidator(_blend_release)]
    weight: Annotated[Decimal, PlainValidator(_weight)] = Field(default=None, validate_default=True)


class _Current(Document):
    unknown_key = "unknown key for mode 'current'"
    mode: str = "current"

    def to_release(self) -> RvuRelease:
        return _CURRENT


class _Frozen(Document):
    unknown_key = "unknown key for mode 'frozen'"
    mode: str
    release: Annotated[str, PlainValidator(_release_name("RVU24A"))] = Field(default=None, validate_default=True)

    def to_release(self) -> RvuRelease:
        return RvuRelease("frozen", self.release)


class _Blend(Document):
    unknown_key = "unknown key for mode 'blend'"
    mode: str
    releases: Annotated[list[_Weight], BeforeValidator(_non_empty_list)] = Field(default=None, validate_default=True)

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> Self:
        total = sum((w.weight for w in self.releases), ZERO)
        if total != ONE:
            raise error_at(("releases",), f"weights sum to {total}, not 1")
        return self

    def to_release(self) -> RvuRelease:
        return RvuRelease("blend", None, tuple(ReleaseWeight(w.release, w.weight) for w in self.releases))


_MODES: dict[str, type[_Current | _Frozen | _Blend]] = {"current": _Current, "frozen": _Frozen, "blend": _Blend}


def _rvu_release(value: Any) -> RvuRelease:
    """``"frozen"`` or ``{"mode": ...}``, checked by the model of its mode."""
    if isinstance(value, str):
        value = {"mode": value}
    if not isinstance(value, dict):
        raise ValueError("expected an object like {\"mode\": \"current\"}")
    mode = value.get("mode", "current")
    model = _MODES.get(mode) if isinstance(mode, str) else None
    if model is None:
        raise error_at(("mode",), f"{mode!r} is not one of current, frozen, blend", mode)
    return model.model_validate(value, context={"seen": set()}).to_release()


def _profile_name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a profile name")
    if value not in PROFILES:
        raise ValueError(_unknown_profile(value))
    return value


def _non_empty_string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty string")
    return value.strip()


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


class _PolicyKeys(Document):
    """The keys of a policy document besides the :data:`FIELD_HELP` fields (added by :data:`_PolicyDocument`)."""

    unknown_key = "unknown policy key"
    wrvu_profile: Annotated[str, PlainValidator(_profile_name)] = "cms_mirror"
    name: Annotated[str | None, PlainValidator(_non_empty_string)] = None
    description: Annotated[str, PlainValidator(_string)] = ""
    rvu_release: Annotated[RvuRelease, PlainValidator(_rvu_release)] = _CURRENT
    rounding: Any = None  # free text, ignored
    notes: Any = None  # free text, ignored

    @model_validator(mode="before")
    @classmethod
    def _profile_alias(cls, data: Any) -> Any:
        """``profile`` is an older name of ``wrvu_profile``, read only when ``wrvu_profile`` is not given."""
        if isinstance(data, dict) and "profile" in data:
            data = dict(data)
            profile = data.pop("profile")
            data.setdefault("wrvu_profile", profile)
        return data


#: The policy document: the keys above and one field per FIELD_HELP entry, of its kind and range.
_FIELDS: dict[str, Any] = {name: (_field_type(name, kind, low, high), Field(default=None, description=text))
                           for name, (kind, low, high, text) in FIELD_HELP.items()}
_PolicyDocument = create_model("PolicyDocument", __base__=_PolicyKeys, **_FIELDS)
_NOT_CHANGES = frozenset({"wrvu_profile", "name", "rounding", "notes"})


def load_policy(obj: Policy | dict[str, Any] | str | None) -> Policy:
    """Build a :class:`Policy` from a profile name, a JSON text or a plain dict; raise :class:`PolicyError`."""
    if obj is None:
        return CMS_MIRROR
    if isinstance(obj, Policy):
        return obj
    data: Any = obj
    if isinstance(obj, str):
        text = obj.strip()
        if text in PROFILES:
            return PROFILES[text]
        data = read_json(text, PolicyError)
    doc = validate(_PolicyDocument, data, PolicyError)
    base = PROFILES[doc.wrvu_profile]
    changes = {key: getattr(doc, key) for key in doc.model_fields_set - _NOT_CHANGES}
    policy = replace(base, **changes) if changes else base
    if doc.name is not None:
        return replace(policy, name=doc.name)
    if policy != base and replace(policy, name=base.name, description=base.description) != base:
        return replace(policy, name=f"{base.name}+custom")
    return policy
