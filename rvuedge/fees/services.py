"""The fee schedule as the pricing engine sees it: releases, localities and RVU rows from the database.

Pages, JSON endpoints, the CLI and the logbook all price through :func:`price_entry`, so every figure
carries the same source block (release, locality, GPCIs and conversion factor).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from rvuedge.pricing import (
    NATIONAL_GPCI,
    Encounter,
    EncounterLine,
    EncounterResult,
    Gpci,
    Policy,
    PricingError,
    RvuRow,
    get_profile,
    load_policy,
    near_codes,
    parse_entry,
    price_encounter,
)
from rvuedge.pricing.model import setting_for_pos
from rvuedge.pricing.modifiers import ModifierCheck, check_lines

from .catalog import QUARTER_MONTH
from .models import AnesthesiaCF, FeeRow, HcpcsModifier, HcpcsRelease, Locality, OppsCap, Release
from .models import Gpci as GpciModel

QUARTER_START = {"A": 1, "B": 4, "C": 7, "D": 10}


class NotFound(LookupError):
    """A release, locality or code the user named does not exist; the message says what does."""


# --------------------------------------------------------------------------- releases

def release_sort_key(release: Release) -> tuple[int, str]:
    return (release.year, release.name[5:])


def newest_release() -> Release | None:
    releases = list(Release.objects.all())
    return max(releases, key=release_sort_key) if releases else None


def get_release(name: str | None = None) -> Release:
    if not name:
        release = newest_release()
        if release is None:
            raise NotFound("No CMS release is loaded. Run: rvuedge data load PATH-TO-RVU-ZIP")
        return release
    release = Release.objects.filter(name=name.strip().upper()).first()
    if release is None:
        loaded = ", ".join(r.name for r in Release.objects.order_by("name")) or "none"
        raise NotFound(f"Release {name} is not loaded (loaded: {loaded})")
    return release


def effective_date(release: Release) -> dt.date:
    """The first day a release applies to (RVU26C -> 2026-07-01)."""
    return dt.date(release.year, QUARTER_START.get(release.quarter, 1), 1)


def release_label(release: Release) -> str:
    month = QUARTER_MONTH.get(release.quarter, "")
    return f"{release.name} (CY{release.year} {month} release)".replace("  ", " ")


# --------------------------------------------------------------------------- RVU rows

_CACHE_LOCK = threading.Lock()
_ROW_CACHE: dict[tuple[int, str], dict[str, list[RvuRow]]] = {}
#: (code, modifier) -> row or None, per release: the engine asks for one exact row per line (hot path).
_KEY_CACHE: dict[tuple[int, str], dict[tuple[str, str], RvuRow | None]] = {}
_CODE_CACHE: dict[tuple[int, str], frozenset[str]] = {}
_CAP_CACHE: dict[tuple[tuple[int, str], str], dict[tuple[str, str], tuple[Decimal, Decimal]]] = {}
#: release key -> whether the release was loaded with an OPPSCAP file
_CAP_FILE: dict[tuple[int, str], bool] = {}
ZERO = Decimal("0")

ROW_FIELDS = [
    "hcpcs", "modifier", "description", "status", "not_used_for_medicare", "work_rvu", "nonfac_pe_rvu",
    "fac_pe_rvu", "mp_rvu", "nonfac_na", "fac_na", "pctc", "glob_days", "pre_op", "intra_op", "post_op",
    "mult_proc", "bilat_surg", "asst_surg", "co_surg", "team_surg", "endo_base", "dx_img_family", "conv_factor",
    "opps_nonfac_pe", "opps_fac_pe", "opps_mp",
]


def _to_row(v: tuple[Any, ...], release: str) -> RvuRow:
    (code, mod, desc, status, notused, work, pe_nf, pe_f, mp, nf_na, f_na, pctc, glob, pre, intra, post,
     mult, bilat, asst, co, team, endo, dximg, cf, opps_nf, opps_f, opps_mp) = v
    return RvuRow(
        code=code, mod=mod, status=status, work_rvu=work, pe_nonfac=pe_nf, pe_fac=pe_f, mp_rvu=mp,
        nonfac_na=nf_na, fac_na=f_na, not_used_for_medicare=bool(notused.strip()), pctc=pctc or "9",
        glob_days=glob or "XXX", pre_op=pre, intra_op=intra, post_op=post, mult_proc=mult or "9",
        bilat=bilat or "9", asst=asst or "9", co_surg=co or "9", team=team or "9", endo_base=endo,
        dx_img_family=dximg, conv_factor=cf, description=desc, release=release,
        opps_nonfac_pe=opps_nf or ZERO, opps_fac_pe=opps_f or ZERO, opps_mp=opps_mp or ZERO,
    )


class DbLookup:
    """RVU rows of one release, read from the database and cached per process (keyed by release fingerprint)."""

    def __init__(self, release: Release, locality: str | None = None, opps_source: str | None = None):
        self.release_obj = release
        self.opps_source = opps_source  # None: "file" if the release has OPPSCAP rows, else "columns"
        self.release = release.name
        self.locality = locality
        self._key = (release.pk, release.fingerprint)
        self._rows = _ROW_CACHE.setdefault(self._key, {})
        self._by_key = _KEY_CACHE.setdefault(self._key, {})
        self._others: dict[str, DbLookup] = {}

    def preload(self) -> DbLookup:
        """Read every row of the release at once (bulk re-pricing)."""
        rows: dict[str, list[RvuRow]] = {}
        for v in FeeRow.objects.filter(release=self.release_obj).values_list(*ROW_FIELDS).iterator(5000):
            rows.setdefault(v[0], []).append(_to_row(v, self.release))
        with _CACHE_LOCK:
            self._rows.update(rows)
        return self

    def rows_for(self, code: str) -> list[RvuRow]:
        code = code.upper()
        rows = self._rows.get(code)
        if rows is None:
            rows = [
                _to_row(v, self.release)
                for v in FeeRow.objects.filter(release=self.release_obj, hcpcs=code)
                .order_by("modifier").values_list(*ROW_FIELDS)
            ]
            with _CACHE_LOCK:
                self._rows[code] = rows
        return rows

    def get(self, code: str, mod: str = "") -> RvuRow | None:
        key = (code, mod)
        try:
            return self._by_key[key]
        except KeyError:
            pass
        found = None
        for row in self.rows_for(code):
            if row.mod == mod:
                found = row
                break
        self._by_key[key] = found  # rows of a release never change (the cache is keyed by its fingerprint)
        return found

    def codes(self) -> frozenset[str]:
        codes = _CODE_CACHE.get(self._key)
        if codes is None:
            codes = frozenset(FeeRow.objects.filter(release=self.release_obj).values_list("hcpcs", flat=True))
            _CODE_CACHE[self._key] = codes
        return codes

    def near(self, code: str) -> list[str]:
        return near_codes(code, self.codes())

    def opps_cap_source(self, locality: str | None = None) -> str | None:
        """Where the OPPS imaging cap comes from for a locality (pfs-rules 2.6, correction 2): ``"file"`` when
        the release was loaded with an OPPSCAP file (its capped prices, both settings), ``"columns"`` when not
        (the engine computes the cap from the row's PPRRVU OPPS PE/MP columns), None for national pricing
        (CMS publishes capped amounts per locality only). ``opps_source`` given to the constructor forces
        one of the two (tests compare them)."""
        loc = locality or self.locality
        if not loc or "-" not in loc:
            return None
        if self.opps_source is not None:
            return self.opps_source
        has_file = _CAP_FILE.get(self._key)
        if has_file is None:
            has_file = _CAP_FILE[self._key] = OppsCap.objects.filter(release=self.release_obj).exists()
        return "file" if has_file else "columns"

    def opps_cap(self, code: str, mod: str, locality: str | None = None, fac: bool = False) -> Decimal | None:
        """The OPPSCAP file's capped price of a row in a locality (facility or non-facility), or None."""
        loc = locality or self.locality
        if not loc or "-" not in loc:
            return None
        caps = _CAP_CACHE.get((self._key, loc))
        if caps is None:
            mac, number = loc.split("-", 1)
            caps = {
                (h, m): (nonfac, fac_price)
                for h, m, nonfac, fac_price in OppsCap.objects.filter(
                    release=self.release_obj, mac=mac, locality=number)
                .values_list("hcpcs", "modifier", "nonfac_price", "fac_price")
            }
            _CAP_CACHE[(self._key, loc)] = caps
        found = caps.get((code, mod))
        if found is None:
            return None
        return found[1] if fac else found[0]

    def for_release(self, name: str) -> DbLookup | None:
        if name == self.release:
            return self
        if name not in self._others:
            other = Release.objects.filter(name=name).first()
            if other is None:
                return None
            self._others[name] = DbLookup(other, self.locality)
        return self._others[name]


def clear_caches() -> None:
    with _CACHE_LOCK:
        _ROW_CACHE.clear()
        _KEY_CACHE.clear()
        _CODE_CACHE.clear()
        _CAP_CACHE.clear()
        _CAP_FILE.clear()
        _MODIFIER_CHECK.clear()


# --------------------------------------------------------------------------- modifiers

_MODIFIER_CHECK: dict[tuple[tuple[int, str], ...], ModifierCheck] = {}


def known_modifiers() -> ModifierCheck:
    """The modifiers a line may carry: CPT's, the engine's, the shipped HCPCS Level II list and every modifier of
    the loaded HCPCS files (a terminated one stays valid: logs reach back years). Cached per set of loaded HCPCS
    files, so a file loaded by another process is seen on the next call."""
    key = tuple(HcpcsRelease.objects.order_by("pk").values_list("pk", "sha256"))
    check = _MODIFIER_CHECK.get(key)
    if check is None:
        mods = HcpcsModifier.objects.values_list("modifier", flat=True).distinct() if key else ()
        check = ModifierCheck(mods)
        with _CACHE_LOCK:
            _MODIFIER_CHECK.clear()
            _MODIFIER_CHECK[key] = check
    return check


# --------------------------------------------------------------------------- localities

@dataclass(frozen=True)
class LocalityChoice:
    key: str  # "13202-01" or "national"
    label: str  # "Manhattan, NY (13202-01)"
    gpci: Gpci
    gpci_release: str | None  # the release whose GPCI file supplied the indices
    anesthesia_cf: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "gpci": {"work": str(self.gpci.work), "pe": str(self.gpci.pe), "mp": str(self.gpci.mp),
                     "work_no_floor": None if self.gpci.work_no_floor is None else str(self.gpci.work_no_floor)},
            "gpci_release": self.gpci_release,
            "anesthesia_cf": None if self.anesthesia_cf is None else str(self.anesthesia_cf),
        }


def gpci_release_for(release: Release) -> Release | None:
    """The release's own GPCI file, else the newest earlier (or any) release that has one."""
    if GpciModel.objects.filter(release=release).exists():
        return release
    with_gpci = [r for r in Release.objects.filter(gpcis__isnull=False).distinct()]
    if not with_gpci:
        return None
    earlier = [r for r in with_gpci if release_sort_key(r) <= release_sort_key(release)]
    return max(earlier or with_gpci, key=release_sort_key)


def _title(name: str) -> str:
    return " ".join(w if len(w) <= 2 and w.isupper() and w not in {"OF"} else w.capitalize()
                    for w in name.replace("*", "").split())


def national(release: Release) -> LocalityChoice:
    return LocalityChoice("national", "National (GPCIs 1.000)", NATIONAL_GPCI, None, release.anes_national_cf)


def localities(release: Release) -> list[dict[str, str]]:
    src = gpci_release_for(release)
    if src is None:
        return []
    return [
        {"key": f"{g.mac}-{g.locality}", "label": f"{_title(g.name)}, {g.state} ({g.mac}-{g.locality})"}
        for g in GpciModel.objects.filter(release=src).order_by("state", "name")
    ]


def resolve_locality(release: Release, text: str | None) -> LocalityChoice:
    """'national', 'MAC-LOCALITY' (13202-01) or a unique name fragment ('manhattan')."""
    query = (text or "national").strip()
    if query.lower() in {"", "national", "nat", "us"}:
        return national(release)
    src = gpci_release_for(release)
    if src is None:
        raise NotFound(f"{release.name} has no GPCI file loaded, so only 'national' pricing is available")
    qs = GpciModel.objects.filter(release=src)
    if "-" in query and query.replace("-", "").isdigit():
        mac, _, number = query.partition("-")
        matches = list(qs.filter(mac=mac.zfill(5), locality=number.zfill(2)))
    else:
        matches = list(qs.filter(Q(name__icontains=query) | Q(state__iexact=query)))
        if not matches:
            areas = Locality.objects.filter(release=src).filter(
                Q(area__icontains=query) | Q(counties__icontains=query)
            ).values_list("mac", "locality")
            matches = list(qs.filter(Q(*[Q(mac=m, locality=n) for m, n in areas], _connector=Q.OR))) if areas else []
    if not matches:
        raise NotFound(f"No locality matches {query!r} in {src.name}; use MAC-LOCALITY (e.g. 13202-01), "
                       "a name such as 'manhattan', or 'national'")
    if len(matches) > 1:
        names = "; ".join(f"{g.mac}-{g.locality} {_title(g.name)}" for g in matches[:8])
        raise NotFound(f"{query!r} matches {len(matches)} localities: {names}. Be more specific.")
    g = matches[0]
    key = f"{g.mac}-{g.locality}"
    anes = AnesthesiaCF.objects.filter(release=src, mac=g.mac, locality=g.locality).values_list(
        "conv_factor", flat=True).first()
    gpci = Gpci(work=g.work_gpci, pe=g.pe_gpci, mp=g.mp_gpci, work_no_floor=g.work_gpci_no_floor,
                locality=f"{g.name} ({key})", state=g.state)
    return LocalityChoice(key, f"{_title(g.name)}, {g.state} ({key})", gpci, src.name, anes)


# --------------------------------------------------------------------------- pricing

def policy_from(value: Policy | dict[str, Any] | str | None) -> Policy:
    if value is None or value == "":
        return get_profile("cms_mirror")
    if isinstance(value, Policy):
        return value
    if isinstance(value, str) and value.strip() and not value.strip().startswith("{"):
        return get_profile(value.strip())
    return load_policy(value)


@dataclass
class Priced:
    result: EncounterResult
    release: Release
    locality: LocalityChoice
    setting: str
    qp: bool
    date_of_service: dt.date
    policy: Policy

    @property
    def conversion_factor(self) -> Decimal:
        if self.qp and self.release.conv_factor_qp is not None:
            return self.release.conv_factor_qp
        return self.release.conv_factor

    def source(self) -> dict[str, Any]:
        return {
            "release": self.release.name,
            "release_label": release_label(self.release),
            "released": self.release.released.isoformat() if self.release.released else None,
            "locality": self.locality.to_dict(),
            "setting": self.setting,
            "qp": self.qp,
            "conversion_factor": str(self.conversion_factor),
            "conversion_factor_kind": "QP" if self.qp and self.release.conv_factor_qp is not None else "non-QP",
            "anesthesia_cf": None if self.locality.anesthesia_cf is None else str(self.locality.anesthesia_cf),
            "date_of_service": self.date_of_service.isoformat(),
            "policy": self.policy.name,
        }

    def to_dict(self, explain: bool = True) -> dict[str, Any]:
        out = self.result.to_dict(explain)
        src = self.source()
        out["engine"] = out.pop("source", None)
        out["source"] = src
        out["release"] = src["release"]
        out["locality"] = src["locality"]["key"]
        out["locality_label"] = src["locality"]["label"]
        out["conversion_factor"] = src["conversion_factor"]
        out["setting"] = self.setting
        out["date_of_service"] = src["date_of_service"]
        return out


def price_lines(
    lines: list[EncounterLine] | tuple[EncounterLine, ...] | str,
    *,
    release: Release | str | None = None,
    locality: LocalityChoice | str | None = None,
    setting: str | None = "non_facility",
    qp: bool = False,
    policy: Policy | dict[str, Any] | str | None = None,
    date_of_service: dt.date | None = None,
    modifiers: ModifierCheck | None = None,
) -> Priced:
    """Price one encounter against the database. ``lines`` may be rapid-entry text ('99214 20610-RT').

    Every modifier is checked first (:func:`rvuedge.pricing.modifiers.check_lines`): an unknown one is an error
    with near matches, one the code's indicators refuse names those they allow. ``modifiers`` is the check to use
    (a caller pricing many encounters builds it once with :func:`known_modifiers`)."""
    rel = release if isinstance(release, Release) else get_release(release)
    loc = locality if isinstance(locality, LocalityChoice) else resolve_locality(rel, locality)
    pol = policy_from(policy)
    if isinstance(lines, str):
        entry = parse_entry(lines)
        lines = entry.lines
        date_of_service = date_of_service or entry.date_of_service
    if not lines:
        raise PricingError("enter at least one code")
    dos = date_of_service or effective_date(rel)
    if setting and setting.isdigit():
        setting = setting_for_pos(setting)
    cf_qp = rel.conv_factor_qp if rel.conv_factor_qp is not None else rel.conv_factor
    anes_cf = loc.anesthesia_cf if loc.anesthesia_cf is not None else rel.anes_national_cf
    encounter = Encounter(
        lines=tuple(lines),
        setting=setting or "non_facility",
        gpci=loc.gpci,
        conversion_factor=rel.conv_factor,
        conversion_factor_qp=cf_qp,
        anesthesia_cf=anes_cf,
        anesthesia_cf_qp=anes_cf,
        qp=qp,
        date_of_service=dos,
        policy=pol,
        locality=None if loc.key == "national" else loc.key,
    )
    lookup = DbLookup(rel, None if loc.key == "national" else loc.key)
    check_lines(encounter.lines, modifiers or known_modifiers(), lookup)  # unknown or disallowed: an error
    result = price_encounter(encounter, lookup)
    return Priced(result, rel, loc, encounter.setting or "non_facility", qp, dos, pol)
