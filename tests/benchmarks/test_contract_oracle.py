"""load_contract against the hand-written loader it replaced (issue 13: the validation moved onto pydantic models).

The oracle is terms.py as it was before (tests/benchmarks/reference_terms_773d8c2.py, with the policy loader of the
same commit). A valid contract (a dict, JSON text or JSON bytes) must give the same ContractTerms, repr for repr; a
contract with one fault must give the same error: the same field and the same message. Where the old loader
crashed with an exception other than ContractError (an "rvu_release" of null, a figure that is an object holding a
fraction, a flag that is a fraction), the new one must raise a ContractError."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rvuedge.benchmarks import terms as new

from ..faults import as_json, one_fault, outcome
from ..pricing.test_policy_oracle import POLICY, RVU_RELEASE
from . import reference_terms_773d8c2 as old

# RVUEDGE_HYPOTHESIS_EXAMPLES=2000 for a deeper run.
N_EXAMPLES = int(os.environ.get("RVUEDGE_HYPOTHESIS_EXAMPLES", "200"))

#: the example the CLI prints (``rvuedge contract example``) and the one in rvuedge/benchmarks/contracts.py's
#: docstring (less its "rate", which stands beside "tiers" there only to show the shorthand)
EXAMPLES = [
    {"name": "Example: tiered offer", "base_salary": "0", "fte": "1.0", "threshold": "0",
     "tiers": [{"up_to": "4500", "rate": "55"}, {"up_to": "7000", "rate": "65"}, {"rate": "75"}],
     "tier_mode": "accrual", "tier_reset": "year", "payout_share": "1", "stipends": [],
     "credit_policy": "cms_mirror", "rvu_release": {"mode": "current"}, "year_start_month": 1},
    {"name": "Hospital offer 2026", "base_salary": "240000", "fte": "1.0", "threshold": "4500",
     "tiers": [{"up_to": "4500", "rate": "55"}, {"up_to": "7000", "rate": "65"}, {"rate": "75"}],
     "tier_mode": "accrual", "tier_reset": "year", "payout_share": "1",
     "draw": {"amount": "240000", "true_up": "quarter", "clawback": True, "carry_forward": False},
     "stipends": [{"name": "Medical directorship", "amount": "20000"}], "credit_policy": "cms_mirror",
     "rvu_release": {"mode": "current"}, "year_start_month": 1},
    {"name": "Current", "rate": "50", "rvu_release": "current"},
    {"rate": 1, "rvu_release": {"mode": "frozen", "release": " rvu24a "}, "credit_policy": {"bilateral": False}},
]
KEYS = ["name", "base_salary", "fte", "threshold", "tiers", "rate", "tier_mode", "tier_reset", "payout_share", "draw",
        "stipends", "credit_policy", "rvu_release", "year_start_month", "notes", "start", "end", "up_to", "from",
        "amount", "true_up", "clawback", "carry_forward", "mode", "release", "salary"]


def _figure(low: int, high: int, places: int = 2) -> st.SearchStrategy[Any]:
    d = st.decimals(min_value=low, max_value=high, places=places, allow_nan=False, allow_infinity=False)
    return st.one_of(d, d.map(str), d.map(lambda v: f"${v:,}"), d.map(float), st.integers(low, high))


def _choice(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(values).flatmap(lambda v: st.sampled_from([v, v.upper(), f" {v.title()} "]))


@st.composite
def _pay(draw: st.DrawFn) -> dict[str, Any]:
    """rate, tiers or neither; a draw only with one of them."""
    kind = draw(st.sampled_from(["rate", "tiers", "none"]))
    if kind == "none":
        return {}
    if kind == "rate":
        out: dict[str, Any] = {"rate": draw(_figure(0, 500))}
    else:
        bounds = sorted(draw(st.lists(st.integers(1, 20000), max_size=3, unique=True)))
        tiers = [{"up_to": draw(st.sampled_from([b, str(b), f"{b:,}"])), "rate": draw(_figure(0, 500))} for b in bounds]
        out = {"tiers": [*tiers, {"rate": draw(_figure(0, 500))}]}
        if draw(st.booleans()):
            out["tiers"][-1]["from"] = "ignored"
    if draw(st.booleans()):
        out["draw"] = draw(st.fixed_dictionaries({"amount": _figure(0, 500000)}, optional={
            "true_up": _choice(tuple(new.PERIODS)), "clawback": st.booleans(), "carry_forward": st.booleans()}))
    return out


#: a policy object within a contract: its numbers are kept as text, so a whole number must be an int
POLICY_OBJECT = POLICY.filter(lambda p: not isinstance(p.get("anesthesia_time_unit_decimals"), Decimal))


@st.composite
def _contract_release(draw: st.DrawFn) -> Any:
    """An rvu_release as a contract may give it: release names in any case, padded with spaces."""
    release = draw(RVU_RELEASE)
    items = [release] if isinstance(release, dict) else []
    items += release.get("releases", []) if isinstance(release, dict) else []
    for item in items:
        if "release" in item and draw(st.booleans()):
            item["release"] = f" {item['release'].lower()} "
    return release


NAME = st.text(max_size=12) | st.text(min_size=1, max_size=3).map(lambda t: f"  {t * 60}  ")
STIPEND = st.fixed_dictionaries({"amount": _figure(0, 100000)}, optional={"name": NAME | st.none()})
CONTRACT = st.builds(lambda pay, rest: {**rest, **pay}, _pay(), st.fixed_dictionaries({}, optional={
    "name": NAME.filter(str.strip), "base_salary": _figure(0, 900000),
    "fte": _figure(0, 1, 2).filter(lambda v: Decimal(str(v).strip("$")) >= Decimal("0.01")),
    "threshold": _figure(0, 9000), "payout_share": _figure(0, 1), "tier_mode": _choice(new.TIER_MODES),
    "tier_reset": _choice(tuple(new.PERIODS)), "year_start_month": st.integers(1, 12) | st.integers(1, 12).map(Decimal),
    "stipends": st.lists(STIPEND, max_size=2), "credit_policy": st.sampled_from(["cms_mirror", "no_reductions"]) | POLICY_OBJECT,
    "rvu_release": _contract_release(), "notes": st.text(max_size=5), "start": st.just("2026-01-01"), "end": st.none(),
}))


def _same(doc: Any) -> tuple[Any, ...]:
    was, now = outcome(old.load_contract, old.ContractError, doc), outcome(new.load_contract, new.ContractError, doc)
    assert now[0] != "crash", now
    if was[0] == "crash":  # the old loader's bug: the new one names the field instead
        assert now[0] == "error", (was, now)
    else:
        assert now == was
    return now


def test_the_example_contracts_load_as_before() -> None:
    for doc in EXAMPLES:
        assert _same(doc)[0] == "ok", doc
        assert _same(as_json(doc))[0] == "ok" and _same(as_json(doc).encode())[0] == "ok"


@settings(max_examples=N_EXAMPLES)
@given(CONTRACT, st.sampled_from(["dict", "str", "bytes"]))
def test_valid_contracts_load_as_before(doc: dict[str, Any], form: str) -> None:
    text = as_json(doc)
    assert _same({"dict": doc, "str": text, "bytes": text.encode()}[form])[0] == "ok"


@settings(max_examples=2 * N_EXAMPLES)
@given(st.data())
def test_one_fault_is_named_as_before(data: st.DataObject) -> None:
    doc = data.draw(one_fault(data.draw(CONTRACT), KEYS))
    _same(as_json(doc) if data.draw(st.booleans()) else doc)


@settings(max_examples=N_EXAMPLES)
@given(st.data())
def test_one_fault_in_the_pay_terms_is_named_as_before(data: st.DataObject) -> None:
    doc = data.draw(one_fault(data.draw(_pay()) or {"rate": "1"}, KEYS))
    _same(doc)


def test_the_old_crashes_are_named() -> None:
    assert _same({"rate": 1, "rvu_release": None})[1:] == ("rvu_release", 'expected an object like {"mode": '
                                                                          '"current"}')
    assert _same({"rate": 1, "rvu_release": ["frozen"]})[1] == "rvu_release"
    assert _same({"rvu_release": {"mode": "blend", "releases": 5}})[1:] == (
        "rvu_release.releases", "a non-empty list of {release, weight} is required")
    assert _same({"rate": {"x": Decimal("1.5")}})[1:] == ("rate", 'expected a number, got {"x": "1.5"}')
    assert _same({"year_start_month": Decimal("NaN")})[1] == "year_start_month"
    assert _same({"rate": 1, "draw": {"amount": 1, "clawback": Decimal("1.5")}})[1:] == (
        "draw.clawback", "expected true or false, got 1.5")
