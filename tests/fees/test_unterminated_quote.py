"""An unterminated quote is reported at the line where it opens, naming the file and the field.

The csv module reads a quote that never closes as one field running on to a later quote or to the
end of the file (or until its field-size limit), so the line it reports is where the damage ends.
No real CMS record spans lines, so a record that does is refused at the line where it starts.
"""

from __future__ import annotations

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from rvuedge.fees.models import FeeRow, Release
from rvuedge.fees.parsers import ParseError, parse_anes, parse_gpci, parse_locco, parse_oppscap, parse_pprrvu
from rvuedge.fees.parsers._common import open_quote_field
from tests.parsers import synth
from tests.synthetic import PREAMBLE_31, ROWS_31, pprrvu_csv, release_zip

FIRST_DATA_LINE = len(PREAMBLE_31) + 1
COLUMNS_31 = ["HCPCS", "MOD", "DESCRIPTION", "STATUS CODE", "NOT USED FOR MEDICARE PAYMENT", "WORK RVU"]


def quote_at(data: bytes, lineno: int, field: int) -> bytes:
    """Open a quote at the start of a field of a line (and never close it)."""
    lines = data.split(b"\r\n")
    cells = lines[lineno - 1].split(b",")
    cells[field] = b'"' + cells[field]
    lines[lineno - 1] = b",".join(cells)
    return b"\r\n".join(lines)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('a,"b,c', 1),
        ('"a', 0),
        ('a,"b","c', 2),
        ('a,"b""",c', None),
        ('a,"b""c,d', 1),
        ('a,b"c,d', None),  # a quote inside an unquoted field is a literal
        ('a,"b"x,"c', 2),  # text after a closing quote stays in the field
        ("a,b,c", None),
        ("", None),
        ('"', 0),
    ],
)
def test_open_quote_field(line, expected):
    assert open_quote_field(line) == expected


@settings(max_examples=150, deadline=None)
@given(row=st.integers(0, len(ROWS_31) - 1), field=st.integers(0, 30))
def test_pprrvu_quote_reported_where_it_opens(row, field):
    lineno = FIRST_DATA_LINE + row
    data = quote_at(pprrvu_csv(), lineno, field)
    with pytest.raises(ParseError) as exc:
        parse_pprrvu(data, "PPRRVU25_APR.csv")
    assert exc.value.line == lineno
    assert "unterminated quote" in exc.value.message
    if field < len(COLUMNS_31):
        assert exc.value.column == COLUMNS_31[field]
    assert "(it runs to the end of the file)" in exc.value.message  # the file has no other quote


def test_real_pprrvu_quote_closed_by_a_later_one(cms_dir):
    """A stray quote early in the real file runs on to the next quoted description: still line 21."""
    lines = (cms_dir / "rvu25a" / "PPRRVU25_JAN.csv").read_bytes().split(b"\r\n")
    cells = lines[20].split(b",")
    cells[2] = b'"' + cells[2]
    lines[20] = b",".join(cells)
    with pytest.raises(ParseError, match=r"PPRRVU25_JAN\.csv, line 21, column DESCRIPTION: unterminated quote: .*"
                                         r"\(it runs on to line \d+\)"):
        parse_pprrvu(b"\r\n".join(lines), "PPRRVU25_JAN.csv")


def test_real_oppscap_quote_past_the_field_limit(cms_dir):
    """In a file with no other quote the field runs past csv's field-size limit: still its first line."""
    data = (cms_dir / "rvu25a" / "OPPSCAP_JAN.csv").read_bytes()
    with pytest.raises(ParseError, match=rf"OPPSCAP_JAN\.csv, line 101, column MOD: unterminated quote: .*"
                                         rf"past the {csv.field_size_limit():,}-character field limit"):
        parse_oppscap(quote_at(data, 101, 1), "OPPSCAP_JAN.csv")


@pytest.mark.parametrize(
    ("parse", "data", "line", "field", "column"),
    [
        (parse_gpci, synth.gpci_csv(), 5, 3, "Locality Name"),
        (parse_anes, synth.anes_csv(), 3, 2, "Locality Name"),
        (parse_locco, synth.locco_csv(), 7, 3, "Fee Schedule Area"),
        (parse_oppscap, synth.oppscap_csv(), 4, 5, "FACILITY PRICE"),
        (parse_gpci, synth.gpci_csv(), 1, 0, "field 1"),  # in the title line, before any header
    ],
)
def test_other_files_report_the_opening_line_and_field(parse, data, line, field, column):
    with pytest.raises(ParseError) as exc:
        parse(quote_at(data, line, field), "X.csv")
    assert (exc.value.line, exc.value.column) == (line, column), str(exc.value)
    assert "unterminated quote" in exc.value.message


@pytest.mark.django_db
def test_cli_names_file_line_and_field(tmp_path):
    rows = list(ROWS_31)
    rows[1] = rows[1].replace("Synthetic knee", '"Synthetic knee')
    path = tmp_path / "RVU25B.zip"
    path.write_bytes(release_zip({"PPRRVU25_APR.csv": pprrvu_csv(rows)}))
    before = (Release.objects.count(), FeeRow.objects.count())
    with pytest.raises(CommandError, match=r"^PPRRVU25_APR\.csv, line 12, column DESCRIPTION: unterminated quote"):
        call_command("data", "load", str(path), stdout=StringIO(), stderr=StringIO())
    assert (Release.objects.count(), FeeRow.objects.count()) == before
