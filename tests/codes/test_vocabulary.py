"""The search vocabulary, entry by entry, against the CMS files (RVU26C short descriptors, HCPCS 2026 long
descriptions) and our own page titles: every phrase must really reach the codes it names."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import yaml

from rvuedge.codes import vocabulary
from rvuedge.codes.kinds import CONTENT_DIR
from rvuedge.fees import parsers
from tests.conftest import CMS_DIR

VOCAB = vocabulary.load()
RVU26C = CMS_DIR / "rvu26c" / "PPRRVU2026_Jul_nonQPP.csv"
HCPCS = CMS_DIR / "hcpcs2026jan" / "HCPC2026_JAN_ANWEB_01122026.txt"


@functools.cache
def texts() -> dict[str, str]:
    """code -> its words (short descriptor, HCPCS long and short description, our title), space-separated."""
    if not RVU26C.exists() or not HCPCS.exists():
        pytest.fail(f"The real CMS files are missing under {CMS_DIR} (set RVUEDGE_CMS_DATA)")
    out: dict[str, list[str]] = {}
    for row in parsers.PARSERS["pprrvu"](RVU26C.read_bytes(), RVU26C.name).rows:
        if not row.modifier:
            out.setdefault(row.hcpcs, []).append(row.description)
    for c in parsers.PARSERS["hcpcs"](HCPCS.read_bytes(), HCPCS.name).codes:
        out.setdefault(c.code, []).extend([c.long_description, c.short_description])
    for path in (CONTENT_DIR / "codes").glob("*.md"):
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("\n---", 1)[0][3:])
        out.setdefault(path.stem, []).append(str(meta.get("title") or ""))
    return {code: " " + " ".join(vocabulary.words(" ".join(parts))) + " " for code, parts in out.items()}


@functools.cache
def all_words() -> set[str]:
    return {w for t in texts().values() for w in t.split()}


def reaches(code: str, means: tuple[vocabulary.Alternative, ...]) -> bool:
    text = texts().get(code)
    assert text is not None, f"{code} is neither in RVU26C nor in the 2026 HCPCS file"
    text += " ".join(vocabulary.words(VOCAB.marks(text))) + " "
    return any(f" {' '.join(m)} " in text for m in means)


def test_the_file_parses_and_is_not_empty():
    assert len(VOCAB.abbreviations) > 100 and len(VOCAB.phrases) > 300 and len(VOCAB.em_levels) >= 5
    data = yaml.safe_load(vocabulary.VOCABULARY_PATH.read_text(encoding="utf-8"))
    assert set(data) == {"abbreviations", "phrases", "em_levels", "index_marks", "noise"}


@pytest.mark.parametrize("group", VOCAB.abbreviations, ids=lambda g: "/".join(g))
def test_each_abbreviation_group_has_a_word_the_descriptors_use(group):
    assert set(group) & all_words(), f"no word of {group} occurs in any descriptor"


@pytest.mark.parametrize("phrase", VOCAB.phrases, ids=lambda p: " ".join(p.say[0]))
def test_each_phrase_reaches_the_codes_it_names(phrase):
    missed = [c for c in phrase.codes if not reaches(c, phrase.means)]
    assert not missed, f"{[' '.join(m) for m in phrase.means]} does not occur in the descriptors of {missed}"


@pytest.mark.parametrize("fam", VOCAB.em_levels, ids=lambda f: f.name)
def test_each_em_level_reaches_its_codes(fam):
    for level, (means, codes) in fam.levels.items():
        missed = [c for c in codes if not reaches(c, means)]
        assert not missed, f"{fam.name} level {level}: {means} not in {missed}"


@pytest.mark.parametrize("i", range(len(VOCAB.index_marks)))
def test_each_index_mark_matches_some_descriptor(i):
    pattern, _add = VOCAB.index_marks[i]
    raw = [row.description.lower() for row in parsers.PARSERS["pprrvu"](RVU26C.read_bytes(), RVU26C.name).rows]
    assert any(pattern.search(d) for d in raw), pattern.pattern


def test_noise_words_never_swallow_a_phrase():
    for phrase in VOCAB.phrases:
        for say in phrase.say:
            assert say not in VOCAB.drop, f"{say} is both a phrase and noise"


def test_rewrite_examples():
    r = VOCAB.rewrite
    assert r("CT head w/o")[-1] == [("without",), ("w", "o"), ("wo",)]  # "w/o" alone: without anything
    assert ("w", "o", "dye") in r("CT head without contrast")[-1]
    assert ("cesarean", "delivery") in r("c-section")[0]
    office = r("established office visit level 3")
    assert [("est", "low")] == [a for a in office[-1] if a == ("est", "low")]
    assert r("ED level 4")[-1] == [("visit", "mod")]
    assert r("flu shot")[0][0] == ("flu", "shot") and ("iiv4",) in r("flu shot")[0]
    assert r("left knee injection patient") == r("knee injection")  # noise words dropped


def test_a_malformed_file_names_the_entry(tmp_path: Path):
    bad = tmp_path / "v.yaml"
    bad.write_text("phrases:\n- say: [x ray]\n  means: [radex]\n", encoding="utf-8")
    with pytest.raises(vocabulary.VocabularyError, match=r"phrases\[1\].*codes"):
        vocabulary.load(bad)
    bad.write_text("abbreviations:\n- [office, off]\n", encoding="utf-8")  # YAML reads a bare off as false
    with pytest.raises(vocabulary.VocabularyError, match=r"abbreviations\[1\]"):
        vocabulary.load(bad)
