"""Free text cleaning (rvuedge.text) and its use on the log's entry paths."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from rvuedge.text import TextError, cell_text, clean_text


@pytest.mark.parametrize("value", ["a\x00b", "\x00", "x\ud800y", "\udfff"])
def test_nul_and_lone_surrogates_are_refused(value):
    with pytest.raises(TextError):
        clean_text(value)


@pytest.mark.parametrize(("value", "multiline", "expected"), [
    ("  Main OR  ", False, "Main OR"),
    ("Main\tOR", False, "Main OR"),
    ("a\r\nb\rc\nd", True, "a\nb\nc\nd"),
    ("a\r\nb", False, "a b"),
    ("bell\x07 vt\x0b ff\x0c esc\x1b del\x7f c1\x85", False, "bell vt ff esc del c1"),
    (None, False, ""),
])
def test_control_characters_are_dropped(value, multiline, expected):
    assert clean_text(value, multiline=multiline) == expected


@given(st.text())
def test_cleaned_text_always_fits_a_spreadsheet_cell(text):
    try:
        cleaned = clean_text(text, multiline=True)
    except TextError:
        assert "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        return
    assert not ILLEGAL_CHARACTERS_RE.search(cleaned)
    assert cell_text(cleaned) == cleaned


@given(st.text())
def test_cell_text_never_leaves_an_illegal_character(text):
    out = cell_text(text)
    assert not ILLEGAL_CHARACTERS_RE.search(out)
    out.encode("utf-8")  # no lone surrogates left
