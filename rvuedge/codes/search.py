"""Code search: one function, :func:`search`, on SQLite (FTS5) and PostgreSQL (full text + pg_trgm).

Order of results: the exact code, then code prefixes or a code range (in code order), then text matches
ranked by relevance (descriptor, our titles and synonyms, HCPCS Level II long descriptions). A word that
matches nothing is corrected against the index vocabulary ("arthroplsty" -> "arthroplasty").

The index (:class:`SearchEntry` + the FTS5 table or the tsvector column) is derived data. It is rebuilt
inside the transaction of every release, HCPCS and content load (:func:`rebuild_index`), and lazily
whenever what it was built from changed (:func:`ensure_index`), so it is never half-built or stale.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from rvuedge.fees.bulk import insert_rows
from rvuedge.fees.models import FeeRow, HcpcsCode, HcpcsRelease, Release
from rvuedge.fees.services import release_sort_key
from rvuedge.params import MAX_OFFSET

from .kinds import KINDS, code_kind, code_shape, sections
from .models import CodeContent, SearchEntry, SearchState, SearchTerm

# --------------------------------------------------------------------------- freshness

_SIG_TTL = 2.0
_sig_cache: dict[str, Any] = {"at": 0.0, "value": None}


def current_signature() -> str:
    """What the derived data depends on: loaded releases, HCPCS files and content edits."""
    rel = list(Release.objects.order_by("id").values_list("id", "fingerprint"))
    hcp = list(HcpcsRelease.objects.order_by("id").values_list("id", "sha256"))
    cc = CodeContent.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    text = repr((rel, hcp, cc["n"], cc["last"].isoformat() if cc["last"] else None))
    return hashlib.sha256(text.encode()).hexdigest()


def data_version() -> str:
    """The signature, memoised for a couple of seconds (cache keys for per-release derived data)."""
    now = time.monotonic()
    if _sig_cache["value"] is None or now - _sig_cache["at"] > _SIG_TTL:
        _sig_cache["value"] = current_signature()
        _sig_cache["at"] = now
    return _sig_cache["value"]


def forget_version() -> None:
    _sig_cache["value"] = None


def index_state() -> SearchState | None:
    return SearchState.objects.filter(pk=1).first()


def ensure_index() -> None:
    """Rebuild the index if the data it was built from changed (or it was never built)."""
    sig = data_version()
    if _built.get("signature") == sig:
        return
    state = index_state()
    if state is None or state.signature != sig:
        with transaction.atomic():
            rebuild_index()
        sig = data_version()
    _built["signature"] = sig


_built: dict[str, str] = {}

# --------------------------------------------------------------------------- building

WORD_RE = re.compile(r"[0-9a-z]+")
STOPWORDS = frozenset("a an and as at by for from in into of on or per the to with w wo without".split())


def _terms(text: str) -> list[str]:
    return [t for t in WORD_RE.findall(text.lower()) if len(t) >= 3 and not t.isdigit() and len(t) <= 60]


CENT = Decimal("0.01")
FTS5_CREATE = ("CREATE VIRTUAL TABLE codes_search_fts USING fts5(code, descriptor, title, synonyms, long_description, "
               "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')")


def _weight(status: str, in_newest: bool, hcpcs_active: bool) -> int:
    if in_newest:
        return 3 if status in {"A", "R", "T", "C", "J"} else 2
    return 1 if hcpcs_active else 0


def rebuild_index() -> SearchState:
    """Rebuild every search structure from the loaded data. Call inside a transaction (loads do)."""
    started = time.perf_counter()
    releases = sorted(Release.objects.all(), key=release_sort_key, reverse=True)
    newest_id = releases[0].pk if releases else None
    info: dict[str, dict[str, Any]] = {}
    table = FeeRow._meta.db_table
    with connection.cursor() as cur:
        for rel in releases:  # newest first: the newest release carrying a code supplies its descriptor
            cur.execute(f"SELECT hcpcs, modifier, description, status, work_rvu FROM {table} WHERE release_id = %s "
                        "ORDER BY hcpcs, modifier", [rel.pk])
            for code, mod, desc, status, work in cur.fetchall():
                have = info.get(code)
                if have is None:
                    info[code] = {"descriptor": desc, "status": status, "work_rvu": None if mod else work,
                                  "release": rel.name, "newest": rel.pk == newest_id, "long": ""}
        hrel = HcpcsRelease.objects.order_by("-name").first()
    if hrel is not None:
        for code, long_desc, short_desc, terminated in HcpcsCode.objects.filter(release=hrel).values_list(
                "code", "long_description", "short_description", "terminated").iterator(chunk_size=5000):
            have = info.get(code)
            active = terminated is None or terminated > timezone.now().date()
            if have is None:
                info[code] = {"descriptor": short_desc, "status": "", "work_rvu": None, "release": "",
                              "newest": False, "long": long_desc, "hcpcs_active": active}
            else:
                have["long"] = long_desc
                have["hcpcs_active"] = active
    content = {c.code: c for c in CodeContent.objects.only("code", "title", "synonyms")}
    for code in content:
        info.setdefault(code, {"descriptor": "", "status": "", "work_rvu": None, "release": "", "newest": False,
                               "long": ""})
    secs = sections()
    rows_out = []
    vocab: Counter[str] = Counter()
    for i, code in enumerate(sorted(info), 1):
        d = info[code]
        c = content.get(code)
        title = c.title if c else ""
        synonyms = " · ".join(c.synonyms) if c else ""
        place = secs.place(code)
        rows_out.append((
            i, code, code_kind(code), (d["descriptor"] or "")[:100], d["long"] or "", title[:200], synonyms,
            place.section.section if place.section else "",
            place.subsection.subsection if place.subsection else "",
            d["status"] or "", None if d["work_rvu"] is None else Decimal(str(d["work_rvu"])).quantize(CENT),
            d["release"],
            _weight(d["status"] or "", d["newest"], d.get("hcpcs_active", False)),
        ))
        vocab.update(set(_terms(f"{d['descriptor']} {d['long']} {title} {synonyms}")))
    SearchEntry.objects.all().delete()
    SearchTerm.objects.all().delete()
    insert_rows(SearchEntry, ["id", "code", "kind", "descriptor", "long_description", "title", "synonyms",
                              "section", "subsection", "status", "work_rvu", "release", "weight"], rows_out)
    insert_rows(SearchTerm, ["id", "term", "freq"],
                ((i, t, n) for i, (t, n) in enumerate(sorted(vocab.items()), 1)))
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            # Dropping and re-creating is much faster than DELETE on a FTS5 table (and still transactional).
            cur.execute("DROP TABLE IF EXISTS codes_search_fts")
            cur.execute(FTS5_CREATE)
            cur.execute("INSERT INTO codes_search_fts(rowid, code, descriptor, title, synonyms, long_description) "
                        "SELECT id, code, descriptor, title, synonyms, long_description FROM codes_searchentry")
        elif connection.vendor == "postgresql":
            cur.execute(
                "UPDATE codes_searchentry SET document = "
                "setweight(to_tsvector('simple', code), 'A') || "
                "setweight(to_tsvector('simple', title || ' ' || replace(synonyms, '·', ' ')), 'A') || "
                "setweight(to_tsvector('simple', descriptor), 'B') || "
                "setweight(to_tsvector('simple', long_description), 'C')"
            )
            cur.execute("ANALYZE codes_searchentry, codes_searchterm")  # fresh statistics for the planner
    sig = current_signature()
    prev = SearchState.objects.filter(pk=1).first()
    state = SearchState(pk=1, signature=sig, version=(prev.version + 1) if prev else 1, entries=len(rows_out),
                        built_at=timezone.now(), seconds=Decimal(f"{time.perf_counter() - started:.3f}"))
    state.save()
    forget_version()
    _vocab.clear()
    return state


# --------------------------------------------------------------------------- vocabulary (typo correction)

_vocab_lock = threading.Lock()
_vocab: dict[str, Any] = {}


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _vocabulary() -> dict[str, Any]:
    state = SearchState.objects.filter(pk=1).values_list("version", flat=True).first() or 0
    if _vocab.get("version") == state:
        return _vocab
    with _vocab_lock:
        terms = dict(SearchTerm.objects.values_list("term", "freq"))
        index: dict[str, list[str]] = {}
        if connection.vendor != "postgresql":
            for t in terms:
                if len(t) >= 4:
                    for d in _deletes(t):
                        index.setdefault(d, []).append(t)
        _vocab.clear()
        _vocab.update(version=state, terms=terms, sorted=sorted(terms), deletes=index)
    return _vocab


def _known_prefix(vocab: dict[str, Any], token: str) -> bool:
    words = vocab["sorted"]
    i = bisect.bisect_left(words, token)
    return i < len(words) and words[i].startswith(token)


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def corrections(token: str, limit: int = 3) -> list[str]:
    """Index words close to a word that is not in the index (best first)."""
    vocab = _vocabulary()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:  # pg_trgm: nearest words by trigram distance, from the GiST index
            cur.execute("SELECT term FROM codes_searchterm ORDER BY term <-> %s LIMIT 12", [token])
            candidates = [r[0] for r in cur.fetchall()]
    else:
        cands: set[str] = set(vocab["deletes"].get(token, ()))
        for d in _deletes(token):
            if d in vocab["terms"]:
                cands.add(d)
            cands.update(vocab["deletes"].get(d, ()))
        candidates = list(cands)
    limit_dist = 1 if len(token) < 6 else 2
    scored = [(_distance(token, c), -vocab["terms"].get(c, 0), c) for c in candidates]
    return [c for dist, _f, c in sorted(scored) if dist <= limit_dist][:limit]


# --------------------------------------------------------------------------- query

CODE_RE = re.compile(r"^[0-9A-Z]{5}$")
CODE_MOD_RE = re.compile(r"^([0-9A-Z]{5})-[0-9A-Z]{2}$")
PREFIX_RE = re.compile(r"^(?=.*\d)[0-9A-Z]{1,4}$|^[A-Z]\d{0,3}$")
RANGE_RE = re.compile(r"^([0-9A-Z]{5})\s*(?:-|–|—|\.\.|TO)\s*([0-9A-Z]{5})$")
DEFAULT_LIMIT = 25
MAX_LIMIT = 200


@dataclass
class SearchResult:
    query: str
    results: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    kind: str = "text"  # code, prefix, range, text, empty
    corrected: str | None = None
    range: tuple[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "kind": self.kind,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "corrected": self.corrected,
            "range": list(self.range) if self.range else None,
            "results": self.results,
        }


def _entry_dict(e: dict[str, Any], match: str) -> dict[str, Any]:
    kind = e["kind"]
    return {
        "code": e["code"],
        "descriptor": e["descriptor"],
        "title": e["title"],
        "category": KINDS.get(kind, KINDS["other"])[1],
        "kind": kind,
        "section": e["section"] or None,
        "subsection": e["subsection"] or None,
        "status": e["status"] or None,
        "work_rvu": None if e["work_rvu"] is None else str(e["work_rvu"]),
        "release": e["release"] or None,
        "current": e["weight"] >= 2,
        "match": match,
        "url": f"/codes/{e['code']}/",
    }


ENTRY_FIELDS = ["code", "kind", "descriptor", "title", "section", "subsection", "status", "work_rvu", "release",
                "weight"]


def _fetch(codes: list[str]) -> dict[str, dict[str, Any]]:
    if not codes:
        return {}
    return {e["code"]: e for e in SearchEntry.objects.filter(code__in=codes).values(*ENTRY_FIELDS)}


def _same_shape(a: str, b: str) -> bool:
    return code_shape(a) == code_shape(b)


# Our own title or one of our synonyms equal to the whole query ("tka", "knee replacement") ranks first.
EXACT_NAME = ("CASE WHEN lower(e.title) = %s OR (' · ' || lower(e.synonyms) || ' · ') LIKE %s THEN 0 ELSE 1 END")


def _text_query(tokens: list[list[str]], mode: str, limit: int, offset: int, count: bool,
                phrase: str = "") -> tuple[list[str], int]:
    """Codes matching every group of alternatives (AND) or any (OR), best first."""
    if not tokens:
        return [], 0
    exact = [phrase, f"% · {phrase} · %"]
    if connection.vendor == "postgresql":
        def alt(group: list[str]) -> str:
            return "(" + " | ".join(f"{t}:*" for t in group) + ")"

        q = (" & " if mode == "and" else " | ").join(alt(g) for g in tokens)
        sql = ("SELECT e.code FROM codes_searchentry e, to_tsquery('simple', %s) q WHERE e.document @@ q "
               f"ORDER BY {EXACT_NAME}, ts_rank(e.document, q) * (1 + e.weight * 0.25) DESC, e.code "
               "LIMIT %s OFFSET %s")
        with connection.cursor() as cur:
            cur.execute(sql, [q, *exact, limit, offset])
            codes = [r[0] for r in cur.fetchall()]
            total = len(codes) + offset
            if count and (len(codes) == limit or offset):
                cur.execute("SELECT count(*) FROM codes_searchentry WHERE document @@ to_tsquery('simple', %s)", [q])
                total = cur.fetchone()[0]
        return codes, total

    def alt_fts(group: list[str]) -> str:
        return "(" + " OR ".join(f'"{t}"*' for t in group) + ")"

    q = (" AND " if mode == "and" else " OR ").join(alt_fts(g) for g in tokens)
    sql = ("SELECT e.code FROM codes_search_fts f JOIN codes_searchentry e ON e.id = f.rowid "
           "WHERE codes_search_fts MATCH %s "
           f"ORDER BY {EXACT_NAME}, bm25(codes_search_fts, 10.0, 4.0, 6.0, 6.0, 1.0) * (1 + e.weight * 0.25), e.code "
           "LIMIT %s OFFSET %s")
    with connection.cursor() as cur:
        cur.execute(sql, [q, *exact, limit, offset])
        codes = [r[0] for r in cur.fetchall()]
        total = len(codes) + offset
        if count and (len(codes) == limit or offset):
            cur.execute("SELECT count(*) FROM codes_search_fts WHERE codes_search_fts MATCH %s", [q])
            total = cur.fetchone()[0]
    return codes, total


def _word_search(raw: str, want: int, count: bool) -> tuple[list[str], int, str | None]:
    """(codes, total, corrected query): every word must match (as a prefix); unknown words are corrected."""
    words = [t for t in WORD_RE.findall(raw.lower()) if t not in STOPWORDS and (len(t) >= 2 or t.isdigit())]
    if not words:
        return [], 0, None
    phrase = " ".join(WORD_RE.findall(raw.lower()))
    codes, total = _text_query([[w] for w in words], "and", want, 0, count, phrase)
    if codes:
        return codes, total, None
    vocab = _vocabulary()
    fixed: list[list[str]] = []
    changed = False
    for w in words:
        if len(w) < 4 or w.isdigit():
            fixed.append([w])
            continue
        known = w in vocab["terms"]
        if (known and vocab["terms"][w] > 1) or (not known and _known_prefix(vocab, w)):
            fixed.append([w])
            continue
        # unknown, or known only from one misspelt descriptor ("replacment"): try close words too
        alts = [c for c in corrections(w) if c != w]
        if alts:
            changed = True
            fixed.append(alts + [w] if known else alts)
        else:
            fixed.append([w])
    corrected = " ".join(g[0] for g in fixed) if changed else None
    if changed:
        codes, total = _text_query(fixed, "and", want, 0, count, phrase)
        if codes:
            return codes, total, corrected
    if len(fixed) > 1:  # nothing has every word: anything with any of them, best first
        codes, total = _text_query(fixed, "or", want, 0, count, phrase)
        return codes, total, corrected if codes else None
    return [], 0, None


def search(query: str, *, limit: int = DEFAULT_LIMIT, offset: int = 0, count: bool = True) -> SearchResult:
    """Search codes by code, prefix, range, words, synonyms and descriptions (typo-tolerant)."""
    ensure_index()
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, min(int(offset), MAX_OFFSET))  # past any result, and within a database integer
    raw = (query or "").strip()[:200]
    res = SearchResult(query=raw, limit=limit, offset=offset)
    if not raw:
        res.kind = "empty"
        return res
    up = re.sub(r"\s+", " ", raw.upper())

    m = RANGE_RE.match(up)
    if m and _same_shape(m.group(1), m.group(2)):
        lo, hi = sorted([m.group(1), m.group(2)])
        qs = SearchEntry.objects.filter(code__gte=lo, code__lte=hi).order_by("code")
        entries = [e for e in qs.values(*ENTRY_FIELDS) if _same_shape(e["code"], lo)]
        res.kind, res.range, res.total = "range", (lo, hi), len(entries)
        res.results = [_entry_dict(e, "range") for e in entries[offset:offset + limit]]
        return res

    m = CODE_MOD_RE.match(up)
    if m:
        up = m.group(1)
    compact = up.replace(" ", "")
    ordered: list[tuple[str, str]] = []  # (code, match)
    code_total = 0
    if CODE_RE.match(compact) and any(ch.isdigit() for ch in compact):
        res.kind = "code"
        if SearchEntry.objects.filter(code=compact).exists():
            ordered.append((compact, "code"))
            code_total = 1
        prefix = compact[:4]  # near neighbours: same first four characters
        near = list(SearchEntry.objects.filter(code__gte=prefix, code__lt=prefix + "~").exclude(code=compact)
                    .order_by("code").values_list("code", flat=True)[: offset + limit])
        ordered += [(c, "prefix") for c in near]
        code_total += SearchEntry.objects.filter(code__gte=prefix, code__lt=prefix + "~").exclude(
            code=compact).count() if count else len(near)
    elif PREFIX_RE.match(compact):
        res.kind = "prefix"
        qs = SearchEntry.objects.filter(code__gte=compact, code__lt=compact + "~")
        ordered += [(c, "prefix") for c in qs.order_by("code").values_list("code", flat=True)[: offset + limit]]
        code_total = qs.count() if count else len(ordered)

    text_codes: list[str] = []
    text_total = 0
    if not ordered:  # no code or prefix matched: search the words
        res.kind = "text"
        text_codes, text_total, res.corrected = _word_search(raw, offset + limit, count)
    seen = {c for c, _ in ordered}
    ordered += [(c, "text") for c in text_codes if c not in seen]
    res.total = code_total + text_total
    page = ordered[offset:offset + limit]
    rows = _fetch([c for c, _ in page])
    res.results = [_entry_dict(rows[c], match) for c, match in page if c in rows]
    return res


def bare_query(text: str, limit: int = 20) -> list[str]:
    """The baseline for bench/search.py: one bare full-text query, no ranking tweaks, no corrections."""
    words = [t for t in WORD_RE.findall(text.lower()) if t not in STOPWORDS]
    if not words:
        return []
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT code FROM codes_searchentry WHERE document @@ to_tsquery('simple', %s) LIMIT %s",
                        [" & ".join(f"{w}:*" for w in words), limit])
        else:
            cur.execute("SELECT rowid FROM codes_search_fts WHERE codes_search_fts MATCH %s LIMIT %s",
                        [" AND ".join(f'"{w}"*' for w in words), limit])
        return [str(r[0]) for r in cur.fetchall()]
