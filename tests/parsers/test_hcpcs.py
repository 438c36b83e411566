"""HCPCS Level II fixed-width parser: the January 2026 CMS file and synthetic records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rvuedge.fees.parsers import ParseError, detect_kind, parse_hcpcs

from . import synth

HCPCS_FILE = "hcpcs2026jan/HCPC2026_JAN_ANWEB_01122026.txt"


@pytest.fixture(scope="module")
def hcpcs(parse_cms):
    return parse_cms(HCPCS_FILE, "hcpcs")


def test_counts_and_the_one_warning(hcpcs):
    # 8,623 code records (id 3) and 383 modifier records (id 7). The 546-character G9871 line is
    # blank after position 320, so it is kept (with a warning); the last, all-blank line is skipped
    # silently.
    assert len(hcpcs.codes) == 8623
    assert len(hcpcs.modifiers) == 383
    assert hcpcs.warnings == [
        "HCPC2026_JAN_ANWEB_01122026.txt, line 9170: record is 546 characters, expected 320; "
        "the extra characters are blank, record kept"
    ]
    assert len({c.code for c in hcpcs.codes}) == 8623
    assert len({m.modifier for m in hcpcs.modifiers}) == 383


def test_g9871_salvaged(hcpcs):
    g = next(c for c in hcpcs.codes if c.code == "G9871")
    assert g.line == 9170
    assert (g.added, g.action_effective, g.terminated, g.action_code) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 1),
        None,
        "A",
    )
    assert g.long_description and g.short_description
    assert g.pricing_indicators == ("00",) and g.betos == "Y1" and g.type_of_service == ("1",)


def test_continuation_lines_joined_with_single_spaces(hcpcs, cms_dir: Path):
    """Rebuild each multi-line description from the raw file and compare (no descriptor text in here)."""
    lines = (cms_dir / HCPCS_FILE).read_text("ascii").split("\n")
    by_code = {c.code: c for c in hcpcs.codes}
    checked = 0
    for i, ln in enumerate(lines):
        if len(ln) > 11 and ln[10] == "3" and i + 1 < len(lines) and lines[i + 1][10:11] == "4":
            parts = [ln[11:91].strip()]
            j = i + 1
            while j < len(lines) and lines[j][10:11] == "4" and lines[j][:5] == ln[:5]:
                parts.append(lines[j][11:91].strip())
                j += 1
            assert by_code[ln[:5]].long_description == " ".join(parts)
            checked += 1
    assert checked > 1000
    assert all(
        "\n" not in c.long_description and c.long_description == c.long_description.strip()
        for c in hcpcs.codes
    )


def test_fields(hcpcs):
    for c in hcpcs.codes:
        assert len(c.code) == 5 and c.code[0].isalpha()
        assert all(len(p) == 2 for p in c.pricing_indicators)
        assert c.anes_base_units == 0
        assert c.added is not None
        assert c.action_code in "ABCDFNPRST"
    assert sum(1 for c in hcpcs.codes if c.terminated) > 0
    a = next(c for c in hcpcs.codes if c.code == "A0021")
    assert (a.added, a.action_effective, a.betos, a.type_of_service, a.coverage) == (
        dt.date(1985, 1, 1), dt.date(1996, 9, 10), "O1A", ("D",), "I",
    )  # fmt: skip
    mods = {m.modifier: m for m in hcpcs.modifiers}
    assert {"GA", "TC", "LT", "RT", "XS"} <= set(mods)  # Level II modifiers only (no CPT "26")
    assert all(len(m) == 2 for m in mods)


def test_synthetic_records(data_dir: Path):
    f = parse_hcpcs((data_dir / "synthetic_hcpcs.txt").read_bytes(), "synthetic_hcpcs.txt")
    assert f.warnings == []
    assert [c.code for c in f.codes] == ["A9990", "G9990"]
    a = f.codes[0]
    assert a.long_description == (
        "Synthetic supply item, first part of a long description that goes on for another line and one more."
    )
    assert (a.short_description, a.betos, a.type_of_service, a.line) == ("Synthetic supply", "D1A", ("P",), 3)
    g = f.codes[1]
    assert g.pricing_indicators == ("11", "00")
    assert (g.terminated, g.action_code) == (dt.date(2026, 12, 31), "D")
    (m,) = f.modifiers
    assert (m.modifier, m.long_description, m.short_description) == (
        "ZZ", "Synthetic modifier for testing continued on a second line", "Synthetic mod",
    )  # fmt: skip
    assert detect_kind("upload.txt", (data_dir / "synthetic_hcpcs.txt").read_bytes()) == "hcpcs"


def test_bad_lines_are_skipped_with_warnings():
    good = synth.hcpcs_record("A9991", "3", "Synthetic good code", "Synthetic good")
    recs = [
        good,
        synth.hcpcs_record("A9991", "4", "second line", seq="00200"),
        synth.hcpcs_record("A9992", "3", "Synthetic truncated")[:200],  # too short: data missing
        synth.hcpcs_record("A9992", "4", "orphan continuation", seq="00200"),  # its first line was bad
        synth.hcpcs_record("A9993", "3", "Synthetic bad date", added="20261341"),
        synth.hcpcs_record("A9994", "3", "Synthetic long line") + "X",  # non-blank beyond 320
        synth.hcpcs_record("A9995", "9", "Synthetic unknown record id"),
        synth.hcpcs_record("a999!", "3", "Synthetic bad code"),
        synth.hcpcs_record("A9996", "3", "Synthetic trailing blanks trimmed").rstrip(),  # 293+ chars: padded
        synth.hcpcs_record("A9997", "3", "Synthetic extra blanks") + " " * 20,
    ]
    f = parse_hcpcs("\n".join(recs).encode(), "H.txt")
    assert [c.code for c in f.codes] == ["A9991", "A9996", "A9997"]
    assert f.codes[0].long_description == "Synthetic good code second line"
    assert f.warnings == [
        "H.txt, line 3: record is 200 characters, expected 320; line skipped",
        "H.txt, line 4: continuation line for 'A9992' does not follow its first line; line skipped",
        "H.txt, line 5: code added date '20261341' is not a valid date; line skipped",
        "H.txt, line 6: record is 321 characters, expected 320; line skipped",
        "H.txt, line 7: unknown record id '9' in position 11; line skipped",
        "H.txt, line 8: invalid HCPCS code 'a999!'; line skipped",
        "H.txt, line 10: record is 340 characters, expected 320; the extra characters are blank, record kept",
    ]


def test_no_records_at_all_is_an_error():
    with pytest.raises(ParseError) as exc:
        parse_hcpcs(b"this is not a HCPCS file\r\nat all\r\n", "notes.txt")
    assert exc.value.file == "notes.txt" and exc.value.line == 1 and exc.value.column
