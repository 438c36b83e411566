"""The search vocabulary (``vocabulary.yaml``): how clinicians say things, and how CMS descriptors say them.

Pure Python (no Django): loads and checks the reviewed data file and rewrites a query into *slots*. A slot is
one thing the user asked for; it holds alternatives, any of which may match; an alternative is a tuple of
words (more than one word: a phrase, matched as adjacent words). Every slot must match (AND of ORs).

The file has four parts (see the comments at its top):

- ``abbreviations``: groups of words that mean the same (``[biopsy, bx]``); any member reaches every other.
- ``phrases``: lay or clinical phrases (``say``) and the descriptor words they mean (``means``), with the codes
  (``codes``) each entry is meant to reach; a test checks the words occur in those codes' descriptors.
- ``em_levels``: E/M families (office, hospital, emergency …) and, per level 1–5, the descriptor words of
  that level (``low``, ``mod`` …) and its codes.
- ``noise``: words people add that descriptors never carry ("patient", "procedure", "left").
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

VOCABULARY_PATH = Path(__file__).resolve().with_name("vocabulary.yaml")
WORD_RE = re.compile(r"[0-9a-z]+")
# Words that never narrow a search on their own (they are kept inside phrases: "without contrast").
STOPWORDS = frozenset("a an and as at by for from in into of on or per the to with w wo without".split())
LEVEL_RE = re.compile(r"\b(?:level|lvl|lev|l)\s*([1-5])\b")
ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5"}
LEVEL_ROMAN_RE = re.compile(r"\blevel\s+(i{1,3}|iv|v)\b")

Alternative = tuple[str, ...]
Slot = list[Alternative]


class VocabularyError(ValueError):
    """vocabulary.yaml is malformed; the message names the entry."""


def words(text: str) -> list[str]:
    """The words of a text as the index sees them: lower case, letters and digits ("w/o" -> ["w", "o"])."""
    return WORD_RE.findall(text.lower())


def normalise(text: str) -> str:
    """Query text before it is split: "w/o" -> "without", "&" -> "and", "c-section" -> "c section"."""
    t = text.lower()
    t = re.sub(r"\bw\s*/\s*o\b", " without ", t)
    t = re.sub(r"\bw\s*/\s*(?=[a-z])", " with ", t)
    t = re.sub(r"\bs\s*/\s*p\b", " status post ", t)
    t = t.replace("&", " and ").replace("+", " and ")
    return t


@dataclass(frozen=True)
class Phrase:
    say: tuple[Alternative, ...]
    means: tuple[Alternative, ...]
    codes: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class EmFamily:
    name: str
    words: tuple[Alternative, ...]  # any of these in the query selects the family
    levels: dict[int, tuple[tuple[Alternative, ...], tuple[str, ...]]]  # level -> (means, codes)


@dataclass
class Vocabulary:
    abbreviations: list[tuple[str, ...]] = field(default_factory=list)
    phrases: list[Phrase] = field(default_factory=list)
    em_levels: list[EmFamily] = field(default_factory=list)
    noise: frozenset[str] = frozenset()
    index_marks: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    sha256: str = ""

    def __post_init__(self) -> None:
        self.groups: dict[str, tuple[str, ...]] = {}
        for group in self.abbreviations:
            for w in group:
                self.groups[w] = tuple(dict.fromkeys(self.groups.get(w, ()) + group))
        self.by_say: dict[Alternative, list[Alternative]] = {}
        for p in self.phrases:
            for s in p.say:
                have = self.by_say.setdefault(s, [])
                have.extend(m for m in p.means if m not in have and m != s)
        self.drop = {tuple(words(n)) for n in self.noise}
        self.longest = max([len(s) for s in self.by_say] + [len(d) for d in self.drop] + [1])

    def marks(self, descriptor: str) -> str:
        """Words the index adds to a descriptor for its notations ("c+" -> "w dye"), so phrases reach them."""
        low = descriptor.lower()
        return " ".join(add for pattern, add in self.index_marks if pattern.search(low))

    def known_words(self) -> set[str]:
        """Every word the vocabulary knows (never "corrected" as a typo; offered as corrections)."""
        out: set[str] = set(self.groups) | {w for d in self.drop for w in d}
        for say, means in self.by_say.items():
            out.update(say)
            for m in means:
                out.update(m)
        for fam in self.em_levels:
            for w in fam.words:
                out.update(w)
        return {w for w in out if w.isalpha()}

    # ------------------------------------------------------------------ query rewriting

    def _alternatives(self, alt: Alternative) -> Slot:
        """One query word or phrase and what it can also be written as."""
        out: Slot = [alt]
        for m in self.by_say.get(alt, ()):
            if m not in out:
                out.append(m)
        if len(alt) == 1:
            for g in self.groups.get(alt[0], ()):
                if (g,) not in out:
                    out.append((g,))
        # Abbreviations inside a meaning: "spinal puncture" also as "spi pnxr" is listed explicitly, not derived.
        return out

    def _family(self, tokens: list[str]) -> EmFamily | None:
        joined = f" {' '.join(tokens)} "
        for fam in self.em_levels:
            if any(f" {' '.join(w)} " in joined for w in fam.words):
                return fam
        return self.em_levels[-1] if self.em_levels else None  # the last family is the default (office)

    def rewrite(self, text: str) -> list[Slot]:
        """Query text -> slots (AND of alternatives), with phrases, abbreviations and E/M levels applied."""
        t = normalise(text)
        t = LEVEL_ROMAN_RE.sub(lambda m: f"level {ROMAN[m.group(1)]}", t)
        levels = [int(m.group(1)) for m in LEVEL_RE.finditer(t)]
        t = LEVEL_RE.sub(" ", t)
        tokens = words(t)
        slots: list[Slot] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self.longest, len(tokens) - i), 0, -1):
                key = tuple(tokens[i:i + n])
                if key in self.by_say:
                    slots.append(self._alternatives(key))
                    i += n
                    break
                if key in self.drop and (n > 1 or key[0] not in self.by_say):
                    i += n
                    break
            else:
                tok = tokens[i]
                i += 1
                if tok in STOPWORDS or (len(tok) < 2 and not tok.isdigit()):
                    continue
                slots.append(self._alternatives((tok,)))
        if levels:
            fam = self._family(tokens)
            if fam is not None and levels[0] in fam.levels:
                slots.append(list(fam.levels[levels[0]][0]))
        return slots


# --------------------------------------------------------------------------- loading


def _alt(value: Any, where: str) -> Alternative:
    if isinstance(value, bool) or not isinstance(value, str | int) or not words(str(value)):
        raise VocabularyError(f"{where}: {value!r} is not a word or phrase")
    return tuple(words(str(value)))


def _alts(values: Any, where: str) -> tuple[Alternative, ...]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not values:
        raise VocabularyError(f"{where}: expected a non-empty list")
    return tuple(_alt(v, where) for v in values)


def _codes(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not values:
        raise VocabularyError(f"{where}: 'codes' must list the codes the entry is meant to reach")
    out = tuple(str(v).strip().upper() for v in values)
    bad = [c for c in out if not re.fullmatch(r"[0-9A-Z]{5}", c)]
    if bad:
        raise VocabularyError(f"{where}: not codes: {bad}")
    return out


def parse(data: Any, sha256: str = "") -> Vocabulary:
    if not isinstance(data, dict):
        raise VocabularyError("vocabulary.yaml: the top level must be a mapping")
    abbreviations = []
    for i, group in enumerate(data.get("abbreviations") or [], 1):
        where = f"abbreviations[{i}]"
        alts = _alts(group, where)
        if len(alts) < 2 or any(len(a) != 1 for a in alts):
            raise VocabularyError(f"{where}: a group is two or more single words, got {group!r}")
        abbreviations.append(tuple(a[0] for a in alts))
    phrases = []
    for i, item in enumerate(data.get("phrases") or [], 1):
        where = f"phrases[{i}]"
        if not isinstance(item, dict) or "say" not in item or "means" not in item:
            raise VocabularyError(f"{where}: needs 'say', 'means' and 'codes'")
        phrases.append(Phrase(say=_alts(item["say"], where), means=_alts(item["means"], where),
                              codes=_codes(item.get("codes"), where), note=str(item.get("note") or "")))
    fams = []
    for i, item in enumerate(data.get("em_levels") or [], 1):
        where = f"em_levels[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("levels"), dict):
            raise VocabularyError(f"{where}: needs 'name', 'words' and 'levels'")
        levels = {}
        for lvl, spec in item["levels"].items():
            if not isinstance(spec, dict) or int(lvl) not in range(1, 6):
                raise VocabularyError(f"{where}: level {lvl!r} needs 'means' and 'codes'")
            levels[int(lvl)] = (_alts(spec.get("means"), f"{where} level {lvl}"),
                                _codes(spec.get("codes"), f"{where} level {lvl}"))
        fams.append(EmFamily(name=str(item.get("name") or where), words=_alts(item.get("words"), where),
                             levels=levels))
    noise = frozenset(" ".join(a) for a in _alts(data["noise"], "noise")) if data.get("noise") else frozenset()
    marks = []
    for i, item in enumerate(data.get("index_marks") or [], 1):
        where = f"index_marks[{i}]"
        if not isinstance(item, dict) or not item.get("pattern") or not item.get("add"):
            raise VocabularyError(f"{where}: needs 'pattern' (a regular expression) and 'add' (words)")
        try:
            marks.append((re.compile(str(item["pattern"])), " ".join(words(str(item["add"])))))
        except re.error as exc:
            raise VocabularyError(f"{where}: bad pattern: {exc}") from exc
    return Vocabulary(abbreviations=abbreviations, phrases=phrases, em_levels=fams, noise=noise,
                      index_marks=marks, sha256=sha256)


_lock = threading.Lock()
_cache: dict[str, Any] = {}


def load(path: Path | None = None) -> Vocabulary:
    """The vocabulary, re-read when the file changes."""
    p = path or VOCABULARY_PATH
    mtime = p.stat().st_mtime
    hit = _cache.get(str(p))
    if hit and hit[0] == mtime:
        return hit[1]
    with _lock:
        raw = p.read_bytes()
        vocab = parse(yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)),
                      hashlib.sha256(raw).hexdigest())
        _cache[str(p)] = (mtime, vocab)
        return vocab
