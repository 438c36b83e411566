"""Where the engine gets RVU rows from.

:class:`RvuLookup` is the small protocol the engine needs (``get``, ``rows_for``, ``near``). Two optional
methods are used when present: ``opps_cap(code, mod, locality, fac=False) -> Decimal | None`` (the OPPSCAP amount
for a capped imaging row, pfs-rules 2.6) with ``opps_cap_source(locality) -> "file" | "columns" | None`` (the
database lookup: the release's OPPSCAP file, or the cap computed from the PPRRVU OPPS columns when it has none) and ``for_release(name) -> RvuLookup`` (frozen/blended credit policies).
Anaesthesia base units travel on the row (status ``J`` row with ``anes_base_units``).

:class:`DictLookup` is the in-memory implementation used by tests and scenarios; the database-backed one
lives with the Django app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from .model import RvuRow
from .money import dec

__all__ = ["ChainLookup", "DictLookup", "RvuLookup", "near_codes"]


@runtime_checkable
class RvuLookup(Protocol):
    def get(self, code: str, mod: str = "") -> RvuRow | None:
        """The row for code + modifier ('' = global row, '26', 'TC', '53'), or None."""
        ...

    def rows_for(self, code: str) -> list[RvuRow]:
        """Every row of a code (global first), empty if the code is unknown."""
        ...

    def near(self, code: str) -> list[str]:
        """Known codes that look like a mistyped ``code`` (best first, a handful at most)."""
        ...


def near_codes(code: str, known: Iterable[str], limit: int = 5) -> list[str]:
    """Codes one substitution or one adjacent transposition away, then codes sharing the first 4 characters."""
    code = code.strip().upper()
    close: list[str] = []
    prefix: list[str] = []
    for other in known:
        if other == code:
            continue
        if len(other) == len(code):
            diff = [i for i, (a, b) in enumerate(zip(other, code, strict=True)) if a != b]
            if len(diff) == 1 or (
                len(diff) == 2 and diff[1] == diff[0] + 1 and other[diff[0]] == code[diff[1]]
                and other[diff[1]] == code[diff[0]]
            ):
                close.append(other)
                continue
        if len(code) >= 4 and other[:4] == code[:4]:
            prefix.append(other)
    return (sorted(close) + sorted(prefix))[:limit]


class DictLookup:
    """In-memory rows keyed by (code, modifier), with optional OPPS caps (``{"74177-TC": "150.00"}``)."""

    def __init__(
        self,
        rows: Iterable[RvuRow | Mapping[str, Any]] = (),
        *,
        release: str = "",
        opps_caps: Mapping[str, Any] | None = None,
        releases: Mapping[str, RvuLookup] | None = None,
    ):
        self.release = release
        self._rows: dict[tuple[str, str], RvuRow] = {}
        self._by_code: dict[str, list[RvuRow]] = {}
        for row in rows:
            self.add(row if isinstance(row, RvuRow) else RvuRow.from_mapping(dict(row)))
        self._caps: dict[str, Decimal] = {}
        for key, value in (opps_caps or {}).items():
            self._caps[str(key).strip().upper()] = dec(value, f"opps_cap[{key}]")
        self._releases = dict(releases or {})

    @classmethod
    def from_fixture(
        cls,
        fixture: Iterable[Mapping[str, Any]],
        *,
        anesthesia_base_units: Mapping[str, Any] | None = None,
        opps_caps: Mapping[str, Any] | None = None,
        release: str = "fixture",
    ) -> DictLookup:
        """Build from a vector's ``rvu_fixture`` list, ``anesthesia_base_units`` and ``opps_cap_amount``."""
        lookup = cls(fixture, release=release, opps_caps=opps_caps)
        for code, units in (anesthesia_base_units or {}).items():
            code = str(code).strip().upper()
            existing = lookup.get(code)
            if existing is None or existing.status == "J":
                lookup.add(RvuRow(code=code, status="J", anes_base_units=dec(units, f"base units {code}"),
                                  pctc="9", glob_days="XXX", release=release))
        return lookup

    def add(self, row: RvuRow) -> None:
        key = (row.code, row.mod)
        previous = self._rows.get(key)
        self._rows[key] = row
        rows = self._by_code.setdefault(row.code, [])
        if previous is not None:
            rows.remove(previous)
        rows.append(row)
        rows.sort(key=lambda r: (r.mod != "", r.mod))

    def get(self, code: str, mod: str = "") -> RvuRow | None:
        return self._rows.get((code, mod))

    def rows_for(self, code: str) -> list[RvuRow]:
        return list(self._by_code.get(code, ()))

    def near(self, code: str) -> list[str]:
        return near_codes(code, self._by_code)

    def opps_cap(self, code: str, mod: str, locality: str | None = None, fac: bool = False) -> Decimal | None:
        """A fixture cap (the spec's ``opps_cap_amount``) is a non-facility amount: the engine asks for it only
        for non-facility lines (no ``opps_cap_source``: see the engine's ``_opps_cap``)."""
        if not self._caps or fac:
            return None
        key = f"{code}-{mod}" if mod else code
        if locality:
            value = self._caps.get(f"{locality.upper()}:{key}")
            if value is not None:
                return value
        return self._caps.get(key)

    def for_release(self, name: str) -> RvuLookup | None:
        if name == self.release:
            return self
        return self._releases.get(name)

    def add_release(self, name: str, lookup: RvuLookup) -> None:
        self._releases[name] = lookup

    def __len__(self) -> int:
        return len(self._rows)


class ChainLookup:
    """Rows from ``primary`` where it has the code, else from ``fallback``; remembers the codes that fell back."""

    def __init__(self, primary: RvuLookup, fallback: RvuLookup):
        self.primary = primary
        self.fallback = fallback
        self.release = getattr(primary, "release", "")
        self.fell_back: set[str] = set()

    def get(self, code: str, mod: str = "") -> RvuRow | None:
        if self.primary.rows_for(code):
            return self.primary.get(code, mod)
        row = self.fallback.get(code, mod)
        if row is not None:
            self.fell_back.add(code)
        return row

    def rows_for(self, code: str) -> list[RvuRow]:
        return self.primary.rows_for(code) or self.fallback.rows_for(code)

    def near(self, code: str) -> list[str]:
        return self.primary.near(code) or self.fallback.near(code)

    def opps_cap(self, code: str, mod: str, locality: str | None = None) -> Decimal | None:
        cap = getattr(self.fallback, "opps_cap", None)
        return cap(code, mod, locality) if cap else None
