"""load_policy against the hand-written loader it replaced (issue 13: the validation moved onto pydantic models).

The oracle is policy.py as it was before (tests/pricing/reference_policy_773d8c2.py). A valid policy (as a dict or
as JSON text) must give the same Policy, repr for repr (so Decimals keep their digits); a policy with one fault must
give the same error: the same field and the same message. Where the old loader crashed with an exception other
than PolicyError (a non-finite whole number, a mode that is a list), the new one must raise a PolicyError."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rvuedge.pricing import policy as new

from ..faults import as_json, one_fault, outcome
from . import reference_policy_773d8c2 as old
from .test_vectors import SPEC_DIR, VECTORS

# RVUEDGE_HYPOTHESIS_EXAMPLES=2000 for a deeper run.
N_EXAMPLES = int(os.environ.get("RVUEDGE_HYPOTHESIS_EXAMPLES", "200"))

#: the policies the spec's golden vectors price with (pfs-vectors.json, as tests/pricing/test_vectors.py reads it)
SPEC_POLICIES = [v["inputs"]["policy"] for v in VECTORS if v["inputs"].get("policy") is not None]
KEYS = [*new.FIELD_HELP, "name", "description", "wrvu_profile", "profile", "rvu_release", "rounding", "notes",
        "mode", "release", "releases", "weight", "bogus"]


def _number(low: Decimal, high: Decimal) -> st.SearchStrategy[Any]:
    d = st.decimals(min_value=low, max_value=high, places=3, allow_nan=False, allow_infinity=False)
    return st.one_of(d, d.map(str), d.map(lambda v: f" {v} "), d.map(float), st.integers(int(low), int(high)))


def _field(name: str, kind: str, low: Any, high: Any) -> st.SearchStrategy[Any]:
    if kind == "bool":
        return st.booleans()
    if kind == "choice":
        return st.sampled_from(new.FIELD_CHOICES[name])
    if kind == "int":
        return st.integers(low, high) | st.integers(low, high).map(Decimal)
    return _number(low, high) | st.none() if kind == "opt_factor" else _number(low, high)


RELEASE = st.from_regex(r"[A-Za-z0-9_.\-]{1,10}", fullmatch=True)


@st.composite
def _blend(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(RELEASE, min_size=1, max_size=3, unique_by=str.upper))
    cuts = sorted(draw(st.lists(st.integers(1, 19), min_size=len(names) - 1, max_size=len(names) - 1, unique=True)))
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, 20], strict=True)]
    weights = [draw(st.sampled_from([str, Decimal, float]))(Decimal(s) / 20) for s in shares]
    return {"mode": "blend", "releases": [{"release": n, "weight": w} for n, w in zip(names, weights, strict=True)]}


RVU_RELEASE = st.one_of(
    st.just("current"), st.just({}), st.just({"mode": "current"}),
    st.builds(lambda r: {"mode": "frozen", "release": r}, RELEASE),
    _blend(),
)
POLICY = st.fixed_dictionaries({}, optional={
    **{name: _field(name, *spec[:3]) for name, spec in new.FIELD_HELP.items()},
    "wrvu_profile": st.sampled_from(list(new.PROFILES)), "profile": st.sampled_from(list(new.PROFILES)),
    "name": st.text(min_size=1, max_size=12).filter(str.strip), "description": st.text(max_size=12),
    "rvu_release": RVU_RELEASE, "rounding": st.text(max_size=5), "notes": st.just(["free", "text"]),
})


def _same(doc: Any) -> tuple[Any, ...]:
    was, now = outcome(old.load_policy, old.PolicyError, doc), outcome(new.load_policy, new.PolicyError, doc)
    assert now[0] != "crash", now
    if was[0] == "crash":  # the old loader's bug: the new one names the field instead
        assert now[0] == "error", (was, now)
    else:
        assert now == was
    return now


def test_the_field_table_did_not_change() -> None:
    assert new.FIELD_HELP == old.FIELD_HELP and new.FIELD_CHOICES == old.FIELD_CHOICES
    assert repr(new.CMS_MIRROR) == repr(old.CMS_MIRROR) and repr(new.NO_REDUCTIONS) == repr(old.NO_REDUCTIONS)


def test_the_shipped_policies_load_as_before() -> None:
    assert SPEC_POLICIES, f"no policy in {SPEC_DIR / 'pfs-vectors.json'}"
    for doc in (*SPEC_POLICIES, *map(json.dumps, SPEC_POLICIES), {}, None, "cms_mirror", " no_reductions ", '{"wrvu_profile": "no_reductions"}',
                {"profile": "no_reductions", "name": "Full credit", "bilateral_wrvu_factor": None},
                new.NO_REDUCTIONS.to_dict(), new.CMS_MIRROR.to_dict()):
        assert _same(doc)[0] == "ok", doc


@settings(max_examples=N_EXAMPLES)
@given(POLICY, st.booleans())
def test_valid_policies_load_as_before(doc: dict[str, Any], as_text: bool) -> None:
    assert _same(as_json(doc) if as_text else doc)[0] == "ok"


@settings(max_examples=2 * N_EXAMPLES)
@given(st.data())
def test_one_fault_is_named_as_before(data: st.DataObject) -> None:
    doc = data.draw(one_fault(data.draw(POLICY), KEYS))
    _same(as_json(doc) if data.draw(st.booleans()) else doc)


@settings(max_examples=N_EXAMPLES)
@given(st.data())
def test_one_fault_in_the_release_is_named_as_before(data: st.DataObject) -> None:
    doc = data.draw(one_fault({"rvu_release": data.draw(RVU_RELEASE)}, KEYS))
    _same(doc)


def test_the_old_crashes_are_named() -> None:
    assert _same({"rvu_release": {"mode": []}})[1:] == ("rvu_release.mode", "[] is not one of current, frozen, blend")
    assert _same({"anesthesia_time_unit_decimals": Decimal("NaN")})[1:] == (
        "anesthesia_time_unit_decimals", "expected a whole number, got Decimal('NaN')")
    assert _same({"anesthesia_time_unit_decimals": Decimal("Infinity")})[1] == "anesthesia_time_unit_decimals"
