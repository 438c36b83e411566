# ruff: noqa
# mypy: ignore-errors
"""REFERENCE ORACLE - not production code. rvuedge/pricing/policy.py exactly as it was at commit 773d8c2, before
issue 13 moved the validation of load_policy onto pydantic models.

tests/pricing/test_policy_oracle.py feeds the same policies (valid ones, and ones with a single fault) to this copy
and to rvuedge.pricing.load_policy and asserts the same Policy, or the same error field and message. Only the
import below was adapted (relative -> absolute); every line after it is `git show 773d8c2:rvuedge/pricing/policy.py`
verbatim, so keep it that way: do not lint, format or "fix" it.

Original module docstring follows.

wRVU credit policies (pfs-rules 3.1, 3.3, 3.4).

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

import json
import re
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any

from rvuedge.pricing.money import ONE, ZERO, dec

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
_IGNORED_KEYS = frozenset({"rounding", "notes"})
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


def get_profile(name: str) -> Policy:
    try:
        return PROFILES[name]
    except KeyError:
        raise PolicyError("wrvu_profile", f"unknown profile {name!r} (known: {', '.join(PROFILES)})") from None


def _factor(key: str, value: Any, low: Decimal | int | None, high: Decimal | int | None) -> Decimal:
    try:
        result = dec(value, key)
    except ValueError as exc:
        raise PolicyError(key, str(exc).split(": ", 1)[-1]) from None
    if (low is not None and result < low) or (high is not None and result > high):
        raise PolicyError(key, f"{result} is out of range [{low}, {high}]")
    return result


def _release(value: Any) -> RvuRelease:
    key = "rvu_release"
    if isinstance(value, str):
        value = {"mode": value}
    if not isinstance(value, dict):
        raise PolicyError(key, "expected an object like {\"mode\": \"current\"}")
    mode = value.get("mode", "current")
    allowed = {"current": {"mode"}, "frozen": {"mode", "release"}, "blend": {"mode", "releases"}}
    if mode not in allowed:
        raise PolicyError(f"{key}.mode", f"{mode!r} is not one of current, frozen, blend")
    extra = set(value) - allowed[mode]
    if extra:
        raise PolicyError(f"{key}.{sorted(extra)[0]}", f"unknown key for mode {mode!r}")
    if mode == "current":
        return _CURRENT
    if mode == "frozen":
        release = value.get("release")
        if not isinstance(release, str) or not _RELEASE_RE.match(release):
            raise PolicyError(f"{key}.release", "a release name such as 'RVU24A' is required")
        return RvuRelease("frozen", release.upper())
    items = value.get("releases")
    if not isinstance(items, list) or not items:
        raise PolicyError(f"{key}.releases", "a non-empty list of {release, weight} is required")
    weights: list[ReleaseWeight] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"{key}.releases[{i}]"
        if not isinstance(item, dict) or set(item) - {"release", "weight"} or "release" not in item:
            raise PolicyError(where, "expected {\"release\": ..., \"weight\": ...}")
        release = item["release"]
        if not isinstance(release, str) or not _RELEASE_RE.match(release):
            raise PolicyError(f"{where}.release", "a release name such as 'RVU25A' is required")
        release = release.upper()
        if release in seen:
            raise PolicyError(f"{where}.release", f"{release} is listed twice")
        seen.add(release)
        weight = _factor(f"{where}.weight", item.get("weight"), ZERO, ONE)
        if weight == ZERO:
            raise PolicyError(f"{where}.weight", "must be greater than 0")
        weights.append(ReleaseWeight(release, weight))
    total = sum((w.weight for w in weights), ZERO)
    if total != ONE:
        raise PolicyError(f"{key}.releases", f"weights sum to {total}, not 1")
    return RvuRelease("blend", None, tuple(weights))


def load_policy(obj: Policy | dict[str, Any] | str | None) -> Policy:
    """Build a :class:`Policy` from a profile name, a JSON text or a plain dict; raise :class:`PolicyError`."""
    if obj is None:
        return CMS_MIRROR
    if isinstance(obj, Policy):
        return obj
    if isinstance(obj, str):
        text = obj.strip()
        if text in PROFILES:
            return PROFILES[text]
        try:
            obj = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise PolicyError("(json)", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise PolicyError("(root)", f"expected an object, got {type(obj).__name__}")
    base_name = obj.get("wrvu_profile", obj.get("profile", "cms_mirror"))
    if not isinstance(base_name, str):
        raise PolicyError("wrvu_profile", "expected a profile name")
    base = get_profile(base_name)
    changes: dict[str, Any] = {}
    for key, value in obj.items():
        if key in ("wrvu_profile", "profile") or key in _IGNORED_KEYS:
            continue
        if key == "name":
            if not isinstance(value, str) or not value.strip():
                raise PolicyError(key, "expected a non-empty string")
            continue
        if key == "description":
            if not isinstance(value, str):
                raise PolicyError(key, "expected a string")
            changes[key] = value
            continue
        if key == "rvu_release":
            changes[key] = _release(value)
            continue
        spec = FIELD_HELP.get(key)
        if spec is None:
            raise PolicyError(key, "unknown policy key")
        kind, low, high, _help = spec
        if kind == "bool":
            if not isinstance(value, bool):
                raise PolicyError(key, f"expected true or false, got {value!r}")
            changes[key] = value
        elif kind == "choice":
            allowed = FIELD_CHOICES[key]
            if value not in allowed:
                raise PolicyError(key, f"expected one of {', '.join(allowed)}, got {value!r}")
            changes[key] = value
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int | Decimal) or int(value) != value:
                raise PolicyError(key, f"expected a whole number, got {value!r}")
            if not (low <= int(value) <= high):  # type: ignore[operator]
                raise PolicyError(key, f"{value} is out of range [{low}, {high}]")
            changes[key] = int(value)
        elif kind == "opt_factor" and value is None:
            changes[key] = None
        else:
            changes[key] = _factor(key, value, low, high)
    policy = replace(base, **changes) if changes else base
    name = obj.get("name")
    if isinstance(name, str) and name.strip():
        return replace(policy, name=name.strip())
    if policy != base and replace(policy, name=base.name, description=base.description) != base:
        return replace(policy, name=f"{base.name}+custom")
    return policy
