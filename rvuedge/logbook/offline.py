"""The compact code table the offline entry page validates against (``/log/offline/table.json``).

One release's codes, for the user's release (the profile's fixed release, else the one that credits today):
each code (and each code-modifier row the file has, such as ``71046-26``) with its work RVU, status, global
days and the four payment-policy indicators that decide whether modifiers 50, 62, 66 and 80/81/82/AS apply.
The rules that read those indicators travel with the table as data (:data:`INDICATOR_RULES`), as do the
modifiers the server accepts and the PHI guard's rules (:func:`rvuedge.phi.rules_as_data`), so the
browser checks the same things the server does without a hand-kept copy of them.

The offline credit is the sum of work RVU x units: it is shown as *provisional* until the server prices the
encounter (multiple-procedure and bilateral rules, the user's credit policy), and the server's credit
replaces it when the queue syncs.

The table is built once per release and kept (raw JSON and gzip bytes) for the process; it changes only when
a release or the HCPCS modifier list is loaded.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from rvuedge.fees.models import FeeRow, Release
from rvuedge.fees.services import release_sort_key
from rvuedge.phi import rules_as_data
from rvuedge.pricing.engine import REJECT_STATUS

from .credit import EntryError, choose_release, known_modifiers

__all__ = ["INDICATOR_RULES", "OfflineTable", "offline_table", "table_release"]

TABLE_VERSION = 1

#: Modifier -> (indicator position in a code's ``ind`` string, indicator values that allow it, refused
#: outright (True, the server answers 422) or logged with no credit (False), what the indicator is called).
#: Positions: 0 BILAT SURG, 1 ASST SURG, 2 CO SURG, 3 TEAM SURG (the CMS PPRRVU columns).
INDICATOR_RULES: dict[str, tuple[int, str, bool, str]] = {
    "50": (0, "0123", True, "BILAT SURG"),
    "80": (1, "02", False, "ASST SURG"),
    "81": (1, "02", False, "ASST SURG"),
    "82": (1, "02", False, "ASST SURG"),
    "AS": (1, "02", False, "ASST SURG"),
    "62": (2, "12", False, "CO SURG"),
    "66": (3, "12", False, "TEAM SURG"),
}
#: Statuses the server refuses (the engine's own list), with its words.
REFUSED_STATUS: dict[str, str] = dict(REJECT_STATUS)


@dataclass(frozen=True)
class OfflineTable:
    release: str
    raw: bytes
    gz: bytes
    etag: str


_lock = threading.Lock()
_cache: dict[tuple[Any, ...], OfflineTable] = {}


def table_release(profile, today: dt.date | None = None) -> Release:
    """The release the user's entries are credited with today: the profile's fixed release, else the one
    :func:`~rvuedge.logbook.credit.choose_release` picks for today's date."""
    releases = sorted(Release.objects.all(), key=release_sort_key)
    if not releases:
        raise EntryError("entry", "No CMS release is loaded yet, so nothing can be credited.")
    name = (profile.default_release or "").upper()
    if name:
        fixed = next((r for r in releases if r.name == name), None)
        if fixed is not None:
            return fixed
    return choose_release(releases, today or timezone.localdate())[0]


def _build(release: Release, modifiers: list[str]) -> bytes:
    codes: dict[str, list[str]] = {}
    rows = FeeRow.objects.filter(release=release).order_by("hcpcs", "modifier").values_list(
        "hcpcs", "modifier", "work_rvu", "status", "glob_days", "bilat_surg", "asst_surg", "co_surg", "team_surg")
    for hcpcs, modifier, work, status, glob, bilat, asst, co, team in rows.iterator(chunk_size=5000):
        key = f"{hcpcs}-{modifier}" if modifier else hcpcs
        # work RVU as the file writes it, without trailing zeros ("1.92", "0", "16.8")
        work_text = format(work.normalize(), "f") if work else "0"
        codes[key] = [work_text, status, glob or "", f"{bilat or '9'}{asst or '9'}{co or '9'}{team or '9'}"]
    doc = {
        "v": TABLE_VERSION,
        "release": release.name,
        "year": release.year,
        "fields": ["work_rvu", "status", "glob_days", "ind"],
        "indicator_rules": {m: {"pos": pos, "ok": ok, "refused": refused, "label": label}
                            for m, (pos, ok, refused, label) in INDICATOR_RULES.items()},
        "refused_status": REFUSED_STATUS,
        "modifiers": " ".join(modifiers),
        "phi": rules_as_data(),
        "codes": codes,
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode()


def offline_table(profile, today: dt.date | None = None) -> OfflineTable:
    """The table for ``profile``'s release (built once per release and modifier list, then reused)."""
    release = table_release(profile, today)
    modifiers = sorted(known_modifiers().known)
    key = (release.pk, release.fingerprint, release.loaded_at, hashlib.sha1(" ".join(modifiers).encode()).hexdigest())
    hit = _cache.get(key)
    if hit is not None:
        return hit
    with _lock:
        hit = _cache.get(key)
        if hit is None:
            raw = _build(release, modifiers)
            gz = gzip.compress(raw, compresslevel=9, mtime=0)
            hit = OfflineTable(release.name, raw, gz, '"' + hashlib.sha256(raw).hexdigest()[:32] + '"')
            while len(_cache) >= 4:  # a handful of releases in use at once; drop the oldest
                _cache.pop(next(iter(_cache)))
            _cache[key] = hit
    return hit
