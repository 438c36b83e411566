"""Hypothesis helpers for comparing two loaders of the same JSON document (a policy, a contract): JSON-like junk,
and a valid document given exactly one fault (one value replaced, one key added or removed, one list item dropped).

One fault, because for a document with several a loader may name any of them first; with one fault there is one
right answer, and both loaders must give it in the same words."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

Path = tuple[Any, ...]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.decimals(allow_nan=True, allow_infinity=True).filter(lambda d: not d.is_snan()),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["", " ", "abc", "1e9", "-0", "0", "1", "1.5", "NaN", "1,5", "$5", "x" * 50, "RVU24A", "rvu24a ",
                     "current", "frozen", "blend", "none", "full", "cms_mirror", "no_reductions", "year", "Quarter"]),
)
#: a scalar, or a container holding at most one scalar (so one replacement stays one fault)
JUNK = st.one_of(SCALARS, st.lists(SCALARS, max_size=1), st.dictionaries(st.text(max_size=6), SCALARS, max_size=1))


def node_paths(doc: Any, prefix: Path = ()) -> list[Path]:
    """Every node of a JSON-like document, the root () first."""
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += node_paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += node_paths(value, (*prefix, i))
    return out


def _parent(doc: Any, path: Path) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


@st.composite
def one_fault(draw: st.DrawFn, valid: Any, keys: list[str]) -> Any:
    """``valid`` with one change: a node replaced by junk, a key from ``keys`` (or a new one) added to an object,
    or a key or list item removed."""
    doc = copy.deepcopy(valid)
    path = draw(st.sampled_from(node_paths(doc)))
    target = doc if not path else _parent(doc, path)[path[-1]]
    ops = ["replace"]
    if isinstance(target, dict):
        ops.append("add")
    if path:
        ops.append("remove")
    op = draw(st.sampled_from(ops))
    if op == "add":
        key = draw(st.sampled_from(keys) | st.text(min_size=1, max_size=6))
        target[key] = draw(JUNK)
        return doc
    if op == "remove":
        del _parent(doc, path)[path[-1]]
        return doc
    junk = draw(JUNK)
    if not path:
        return junk
    _parent(doc, path)[path[-1]] = junk
    return doc


def as_json(doc: Any) -> str:
    """JSON text of a document (Decimals as numbers; NaN and infinities as Python's json writes them)."""
    return json.dumps(doc, default=lambda d: float(d) if isinstance(d, Decimal) else str(d))


def outcome(load: Any, error: type[Exception], doc: Any) -> tuple[Any, ...]:
    """("ok", repr of the result) | ("error", field, message) | ("crash", exception type) for one call."""
    try:
        result = load(doc)
    except error as exc:
        return ("error", exc.field, exc.message)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - an exception other than the loader's own is what is compared
        return ("crash", type(exc).__name__, str(exc))
    return ("ok", repr(result))
