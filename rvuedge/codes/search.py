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
from rvuedge.pricing.money import round_wrvu

from . import vocabulary
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
    text = repr((rel, hcp, cc["n"], cc["last"].isoformat() if cc["last"] else None, vocabulary.load().sha256))
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


FTS5_CREATE = ("CREATE VIRTUAL TABLE codes_search_fts USING fts5(code, descriptor, title, synonyms, long_description, "
               "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')")


def _weight(status: str, in_newest: bool, hcpcs_active: bool) -> int:
    if in_newest:
        return 3 if status in {"A", "R", "T", "C", "J"} else 2
    return 1 if hcpcs_active else 0


PAYABLE = frozenset("ARTCJ")  # PFS statuses paid (or anaesthesia-priced) by Medicare
SUPPLY_LETTERS = frozenset("ABCEKLV")  # HCPCS Level II supplies, DME, devices, orthotics, transport, vision/hearing


def code_prior(code: str, kind: str, status: str, in_newest: bool, hcpcs_active: bool, glob_days: str,
               editorial: bool) -> float:
    """A ranking prior per code, multiplied into text relevance (higher ranks first when the words fit both).

    Current and payable first (PFS status A/R/T/C/J), then current codes that are priced elsewhere (lab X,
    drugs E, …), then active HCPCS codes outside the PFS; deleted codes last. Category I and HCPCS services above
    dental D-codes, supplies/DME, Category II and PLA/MAAA codes. Codes we wrote a page for (our editorial
    "common" mark) rise; add-on codes (global ZZZ) sink below the base code of their family.
    """
    if in_newest:
        prior = 1.0 if status in PAYABLE else 0.6
    elif hcpcs_active:
        prior = 0.5
    else:
        return 0.0
    if kind == "level2":
        if code[0] in "DM" or code[:2] in {"G8", "G9"}:  # dental; quality-measure reporting codes
            prior = 0.05
        elif code[0] in SUPPLY_LETTERS:
            prior -= 0.2
    elif kind == "cat2":
        prior -= 0.45
    elif kind in {"pla", "maaa"}:
        prior -= 0.35
    elif kind == "cat3":
        prior -= 0.15
    if glob_days == "ZZZ":
        prior -= 0.25
    if editorial:
        prior += 0.5
    return round(max(prior, 0.0), 3)


def rebuild_index() -> SearchState:
    """Rebuild every search structure from the loaded data. Call inside a transaction (loads do)."""
    started = time.perf_counter()
    releases = sorted(Release.objects.all(), key=release_sort_key, reverse=True)
    newest_id = releases[0].pk if releases else None
    info: dict[str, dict[str, Any]] = {}
    table = FeeRow._meta.db_table
    with connection.cursor() as cur:
        for rel in releases:  # newest first: the newest release carrying a code supplies its descriptor
            cur.execute(f"SELECT hcpcs, modifier, description, status, work_rvu, glob_days FROM {table} "
                        "WHERE release_id = %s ORDER BY hcpcs, modifier", [rel.pk])
            for code, mod, desc, status, work, glob in cur.fetchall():
                have = info.get(code)
                if have is None:
                    info[code] = {"descriptor": desc, "status": status, "work_rvu": None if mod else work,
                                  "release": rel.name, "newest": rel.pk == newest_id, "long": "", "glob": glob}
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
    vocab_data = vocabulary.load()
    rows_out = []
    vocab: Counter[str] = Counter()
    for i, code in enumerate(sorted(info), 1):
        d = info[code]
        c = content.get(code)
        title = c.title if c else ""
        synonyms = " · ".join(c.synonyms) if c else ""
        place = secs.place(code)
        kind = code_kind(code)
        prior = code_prior(code, kind, d["status"] or "", d["newest"], d.get("hcpcs_active", False),
                           d.get("glob") or "", c is not None)
        rows_out.append((
            i, code, kind, (d["descriptor"] or "")[:100], d["long"] or "", title[:200], synonyms,
            place.section.section if place.section else "",
            place.subsection.subsection if place.subsection else "",
            d["status"] or "", None if d["work_rvu"] is None else round_wrvu(Decimal(str(d["work_rvu"]))),
            d["release"],
            _weight(d["status"] or "", d["newest"], d.get("hcpcs_active", False)),
            prior, vocab_data.marks(d["descriptor"] or "")[:200],
        ))
        vocab.update(set(_terms(f"{d['descriptor']} {d['long']} {title} {synonyms}")))
    SearchEntry.objects.all().delete()
    SearchTerm.objects.all().delete()
    insert_rows(SearchEntry, ["id", "code", "kind", "descriptor", "long_description", "title", "synonyms",
                              "section", "subsection", "status", "work_rvu", "release", "weight", "prior", "marks"],
                rows_out)
    for w in vocab_data.known_words():  # vocabulary words are known words: never "corrected", offered as fixes
        if 3 <= len(w) <= 60:
            vocab[w] += 1
    insert_rows(SearchTerm, ["id", "term", "freq"],
                ((i, t, n) for i, (t, n) in enumerate(sorted(vocab.items()), 1)))
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            # Dropping and re-creating is much faster than DELETE on a FTS5 table (and still transactional).
            cur.execute("DROP TABLE IF EXISTS codes_search_fts")
            cur.execute(FTS5_CREATE)
            cur.execute("INSERT INTO codes_search_fts(rowid, code, descriptor, title, synonyms, long_description) "
                        "SELECT id, code, descriptor || ' ' || marks, title, synonyms, long_description "
                        "FROM codes_searchentry")
        elif connection.vendor == "postgresql":
            cur.execute(
                "UPDATE codes_searchentry SET document = "
                # Punctuation to spaces first, so that both backends see the same words ("w/o" -> "w o").
                "setweight(to_tsvector('simple', code), 'A') || "
                "setweight(to_tsvector('simple', regexp_replace(lower(title || ' ' || synonyms), '[^a-z0-9]+', ' ', "
                "'g')), 'A') || "
                "setweight(to_tsvector('simple', regexp_replace(lower(descriptor || ' ' || marks), '[^a-z0-9]+', ' ', "
                "'g')), 'B') || "
                "setweight(to_tsvector('simple', regexp_replace(lower(long_description), '[^a-z0-9]+', ' ', 'g')), "
                "'C')"
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
        if not candidates and len(token) >= 6:  # two edits apart ("circumsicion"): words of the same start
            words = vocab["sorted"]
            i = bisect.bisect_left(words, token[:2])
            while i < len(words) and words[i].startswith(token[:2]):
                if abs(len(words[i]) - len(token)) <= 2:
                    candidates.append(words[i])
                i += 1
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
EXACT_NAME = ("CASE WHEN e.weight > 0 AND (lower(e.title) = %s OR (' · ' || lower(e.synonyms) || ' · ') LIKE %s) "
              "THEN 0 ELSE 1 END")
USE_VOCABULARY = True  # bench/search_eval.py turns these off to measure the "before" figures in the same run
USE_PRIOR = True


def _prior() -> str:
    """Relevance is multiplied by this (see code_prior); bm25 is negative on SQLite (lower is better)."""
    return "(1 + e.weight * 0.25 + e.prior * 1.5)" if USE_PRIOR else "(1 + e.weight * 0.25)"


def _prefix(tok: str, typed: bool) -> bool:
    """Words the user typed match as prefixes (typeahead); vocabulary words of 3 letters or fewer match whole."""
    return typed or len(tok) > 3


def _fts_alt(alt: vocabulary.Alternative, typed: bool) -> str:
    if len(alt) == 1:
        return f'"{alt[0]}"' + ("*" if _prefix(alt[0], typed) else "")
    return '"' + " ".join(alt) + '"' + ("*" if _prefix(alt[-1], typed) else "")


def _pg_alt(alt: vocabulary.Alternative, typed: bool) -> str:
    parts = [*alt[:-1], alt[-1] + (":*" if _prefix(alt[-1], typed) else "")]
    return "(" + " <-> ".join(parts) + ")"


def _match(slots: list[vocabulary.Slot], mode: str, pg: bool) -> str:
    """AND (or OR) of slots, each an OR of its alternatives; the first alternative is what the user typed."""
    render = _pg_alt if pg else _fts_alt
    groups = ["(" + (" | " if pg else " OR ").join(render(a, i == 0) for i, a in enumerate(slot)) + ")"
              for slot in slots]
    return (" & " if pg else " AND ").join(groups) if mode == "and" else (" | " if pg else " OR ").join(groups)


def _text_query(slots: list[vocabulary.Slot], mode: str, limit: int, offset: int, count: bool,
                phrase: str = "") -> tuple[list[str], int]:
    """Codes matching every slot (AND) or any (OR), best first."""
    if not slots:
        return [], 0
    exact = [phrase, f"% · {phrase} · %"]
    if connection.vendor == "postgresql":
        q = _match(slots, mode, pg=True)
        # ts_rank normalisation 1: divided by 1 + log(length), as bm25 favours the shorter descriptor; ts_rank
        # spreads less than bm25, so the prior weighs in squared
        sql = ("SELECT e.code FROM codes_searchentry e, to_tsquery('simple', %s) q WHERE e.document @@ q "
               f"ORDER BY {EXACT_NAME}, ts_rank(e.document, q, 1) * power({_prior()}, 2) DESC, e.code "
               "LIMIT %s OFFSET %s")
        with connection.cursor() as cur:
            cur.execute(sql, [q, *exact, limit, offset])
            codes = [r[0] for r in cur.fetchall()]
            total = len(codes) + offset
            if count and (len(codes) == limit or offset):
                cur.execute("SELECT count(*) FROM codes_searchentry WHERE document @@ to_tsquery('simple', %s)", [q])
                total = cur.fetchone()[0]
        return codes, total

    q = _match(slots, mode, pg=False)
    sql = ("SELECT e.code FROM codes_search_fts f JOIN codes_searchentry e ON e.id = f.rowid "
           "WHERE codes_search_fts MATCH %s "
           f"ORDER BY {EXACT_NAME}, bm25(codes_search_fts, 10.0, 4.0, 6.0, 6.0, 1.0) * {_prior()}, e.code "
           "LIMIT %s OFFSET %s")
    with connection.cursor() as cur:
        cur.execute(sql, [q, *exact, limit, offset])
        codes = [r[0] for r in cur.fetchall()]
        total = len(codes) + offset
        if count and (len(codes) == limit or offset):
            cur.execute("SELECT count(*) FROM codes_search_fts WHERE codes_search_fts MATCH %s", [q])
            total = cur.fetchone()[0]
    return codes, total


def _is_known(vocab: dict[str, Any], word: str) -> bool:
    """A word of the index or the vocabulary, or the start of one (still being typed)."""
    return word in vocab["terms"] or _known_prefix(vocab, word)


def correct(raw: str) -> str | None:
    """The query with its unknown words corrected, or None. Only a word that matches nothing (not a word of the
    index or of the vocabulary, nor the start of one) is corrected, to its single nearest known word."""
    vocab = _vocabulary()
    out: list[str] = []
    changed = False
    for w in vocabulary.words(vocabulary.normalise(raw)):
        if len(w) >= 4 and not w.isdigit() and not any(ch.isdigit() for ch in w) and not _is_known(vocab, w):
            fixes = corrections(w, limit=1)
            if fixes:
                out.append(fixes[0])
                changed = True
                continue
        out.append(w)
    return " ".join(out) if changed else None


def _slots(text: str) -> list[vocabulary.Slot]:
    if USE_VOCABULARY:
        return vocabulary.load().rewrite(text)
    words = [t for t in vocabulary.words(text) if t not in STOPWORDS and (len(t) >= 2 or t.isdigit())]
    return [[(w,)] for w in words]


def _word_search(raw: str, want: int, count: bool) -> tuple[list[str], int, str | None]:
    """(codes, total, corrected query): every slot must match (words as prefixes, vocabulary alternatives)."""
    corrected = correct(raw)
    text = corrected or raw
    slots = _slots(text)
    if not slots:
        return [], 0, None
    phrase = " ".join(WORD_RE.findall(text.lower()))
    codes, total = _text_query(slots, "and", want, 0, count, phrase)
    if codes:
        return codes, total, corrected
    if len(slots) > 1:
        # Nothing has every word: every word but one (the last first: it may still be being typed), then any
        # word of three letters or more, best first.
        for skip in list(reversed(range(len(slots))))[:3]:
            codes, total = _text_query(slots[:skip] + slots[skip + 1:], "and", want, 0, count, phrase)
            if codes:
                return codes, total, corrected
        strong = [s for s in slots if len(s[0]) > 1 or (len(s[0][0]) >= 3 and not s[0][0].isdigit())]
        codes, total = _text_query(strong, "or", want, 0, count, phrase)
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


TYPEAHEAD_LIMIT = 8


def suggest(query: str) -> SearchResult:
    """What the typeahead shows while someone types (the code search box and the log's entry box)."""
    return search(query, limit=TYPEAHEAD_LIMIT, count=False)
