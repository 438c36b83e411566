"""Residents: case minimums loaded by the admin's command, counts by category and role, the portal export."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rvuedge.logbook.models import CaseMinimum
from tests.personas import log, make_user

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "rvuedge" / "logbook" / "data" / "example_minimums.csv"
SPECIALTY = "Example Surgery (not real minimums)"


def test_the_example_file_is_labelled_and_loads(capsys):
    text = EXAMPLE.read_text()
    assert "EXAMPLE ONLY" in text and "NOT the ACGME" in text
    call_command("logbook", "load-minimums", str(EXAMPLE))
    assert "Loaded 7 case minimums" in capsys.readouterr().out
    assert CaseMinimum.objects.filter(specialty=SPECIALTY).count() == 5
    assert CaseMinimum.objects.get(category="Knee arthroplasty").codes == "27446-27447; 27486-27488"
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
    # Nothing of the file is loaded: only the example set that ships loaded (migration 0005) is there.
    assert set(CaseMinimum.objects.values_list("specialty", flat=True)) == {
        SPECIALTY, "Example Orthopaedics (not real minimums)"}


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


ORTHO = "Example Orthopaedics (not real minimums)"


def test_the_example_set_ships_loaded_no_command_needed():
    assert CaseMinimum.objects.filter(specialty=SPECIALTY).count() == 5
    assert CaseMinimum.objects.filter(specialty=ORTHO).count() == 2


def test_code_rules_assign_27447_to_knee_arthroplasty(client):
    res = make_user("ortho", stage="resident", minimums_set=ORTHO)
    log(res, "27447-RT", role="primary", setting="facility")                           # no category typed
    log(res, "27447-LT", category="Hip", role="first_assist", setting="facility")      # typed wrong: rule wins
    log(res, "20610-RT", category="knee arthroplasty", role="primary")                 # rule: Joint injection
    client.force_login(res)
    c = client.get("/log/cases/").context["c"]
    progress = {p["category"]: p["done"] for p in c["progress"]}
    assert progress == {"Knee arthroplasty": 2, "Joint injection": 1}
    assert c["matched_by_code"] == 3 and c["minimums_set"] == ORTHO


def test_uncategorised_encounters_are_never_counted_in_a_category(client):
    res = make_user("gen", stage="resident", minimums_set=SPECIALTY)
    for _ in range(5):
        log(res, "99214", role="performed")                          # an office visit: no rule, no category
    log(res, "99213", category="Clinic", role="performed")           # a category the set does not have
    log(res, "47562", category="", role="primary", setting="facility")  # cholecystectomy by code
    client.force_login(res)
    c = client.get("/log/cases/").context["c"]
    progress = {p["category"]: p["done"] for p in c["progress"]}
    assert progress == {"Hernia": 0, "Cholecystectomy": 1, "Colectomy": 0, "Endoscopy": 0, "Joint injection": 0}
    assert client.get("/api/log/cases").json()["progress"][4] == {**client.get("/api/log/cases").json()[
        "progress"][4], "category": "Joint injection", "done": 0}


def test_a_newcomers_cases_page_explains_what_to_do(client):
    res = make_user("day1", stage="resident", specialty="General Surgery")
    client.force_login(res)
    page = client.get("/log/cases/").content.decode()
    assert 'data-testid="cases-start"' in page
    assert "Pick your programme's minimums set" in page and "Example Surgery (not real minimums)" in page
    assert "27447 counts as Knee arthroplasty" in page and "Log your first case" in page
    # Picking the set on the profile is all it takes.
    r = client.post("/accounts/profile/", {"career_stage": "resident", "specialty": "General Surgery",
                                           "default_setting": "non_facility", "credit_policy": "cms_mirror",
                                           "fte": "1.00", "minimums_set": SPECIALTY})
    assert r.status_code == 302
    page = client.get("/log/cases/").content.decode()
    assert 'data-testid="cases-start"' not in page and "Progress toward minimums" in page


def test_code_rules_are_checked_when_loading(tmp_path):
    path = tmp_path / "mins.csv"
    path.write_text("specialty,category,minimum,codes\nA,Knee,3,27447-27440\n")
    with pytest.raises(CommandError, match="line 2, column codes: '27447-27440': the range ends before it starts"):
        call_command("logbook", "load-minimums", str(path))


def test_a_resident_loads_their_programmes_set_which_nobody_else_sees(client, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    res = make_user("prog", stage="resident")
    other = make_user("other", stage="resident")
    client.force_login(res)
    body = (b"specialty,category,minimum,roles,codes\n"
            b"Lakeside GS 2026,Hernia,30,primary,49505-49525\nLakeside GS 2026,Knee,2,,27447\n")
    r = client.post("/log/cases/", {"minimums": SimpleUploadedFile("lakeside.csv", body, "text/csv")})
    assert r.status_code == 302
    res.profile.refresh_from_db()
    assert res.profile.minimums_set == "Lakeside GS 2026"
    log(res, "49505-RT", role="primary", setting="facility")
    c = client.get("/log/cases/").context["c"]
    assert {p["category"]: (p["done"], p["minimum"]) for p in c["progress"]} == {"Hernia": (1, 30), "Knee": (0, 2)}
    client.force_login(other)
    assert "Lakeside GS 2026" not in client.get("/accounts/profile/").content.decode()
    assert "Lakeside GS 2026" not in client.get("/log/cases/").content.decode()


def test_a_bad_uploaded_set_names_the_line_and_loads_nothing(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    res = make_user("prog2", stage="resident")
    client.force_login(res)
    body = b"specialty,category,minimum\nMine,Hernia,lots\n"
    r = client.post("/log/cases/", {"minimums": SimpleUploadedFile("mine.csv", body, "text/csv")})
    assert r.status_code == 400 and "mine.csv, line 2, column minimum: &#x27;lots&#x27; is not a whole number" in (
        r.content.decode())
    assert not CaseMinimum.objects.filter(owner=res).exists()
