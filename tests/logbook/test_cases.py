"""Residents: case minimums loaded by the admin's command, counts by category and role, the portal export."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rvuedge.logbook.models import CaseMinimum
from tests.logbook.fixtures import log, make_user

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "rvuedge" / "logbook" / "data" / "example_minimums.csv"
SPECIALTY = "Example Surgery (not real minimums)"


def test_the_example_file_is_labelled_and_loads(capsys):
    text = EXAMPLE.read_text()
    assert "EXAMPLE ONLY" in text and "NOT the ACGME" in text
    call_command("logbook", "load-minimums", str(EXAMPLE))
    assert "Loaded 7 case minimums" in capsys.readouterr().out
    assert CaseMinimum.objects.filter(specialty=SPECIALTY).count() == 5
    assert all(CaseMinimum.objects.values_list("is_example", flat=True))
    call_command("logbook", "load-minimums", str(EXAMPLE))  # reloading replaces, never doubles
    assert CaseMinimum.objects.count() == 7


@pytest.mark.parametrize("body,message", [
    ("specialty,category\nA,B\n", "line 1: missing column(s) minimum"),
    ("specialty,category,minimum\nA,B,ten\n", "line 2, column minimum: 'ten' is not a whole number"),
    ("# comment\nspecialty,category,minimum,roles\nA,B,3,chief\n", "line 3, column roles: unknown role 'chief'"),
    ("specialty,category,minimum\nA,B,3\nA,b,4\n", "line 3: A / b is listed twice"),
    ("specialty,category,minimum\n,B,3\n", "line 2, column specialty: empty"),
])
def test_bad_files_name_the_line_and_column_and_load_nothing(tmp_path, body, message):
    path = tmp_path / "mins.csv"
    path.write_text(body)
    with pytest.raises(CommandError) as exc:
        call_command("logbook", "load-minimums", str(path))
    assert f"mins.csv, {message}" in str(exc.value) or message in str(exc.value)
    assert not CaseMinimum.objects.exists()


def test_case_counts_against_minimums(client):
    call_command("logbook", "load-minimums", str(EXAMPLE))
    res = make_user("resi", stage="resident", specialty=SPECIALTY)
    for role in ("primary", "primary", "first_assist", "observed"):
        log(res, "49505-RT", category="Hernia", role=role, setting="facility")
    log(res, "47562", category="cholecystectomy", role="supervised", setting="facility")
    client.force_login(res)
    r = client.get("/log/cases/")
    c = r.context["c"]
    progress = {p["category"]: (p["done"], p["minimum"]) for p in c["progress"]}
    assert progress["Hernia"] == (3, 20)             # observed does not count toward Hernia
    assert progress["Cholecystectomy"] == (1, 25)    # category matched case-insensitively
    table = {row["category"]: row["total"] for row in c["table"]}
    assert table == {"Hernia": 4, "cholecystectomy": 1}
    body = r.content.decode()
    assert "Example minimums" in body and "Export for the case-log portal" in body
    assert client.get("/api/log/cases").json()["progress"][0]["category"] == "Cholecystectomy"


def test_admin_lists_minimums(admin_client):
    call_command("logbook", "load-minimums", str(EXAMPLE))
    r = admin_client.get("/admin/logbook/caseminimum/")
    assert r.status_code == 200 and "Hernia" in r.content.decode()
