"""The PHI guard: every identifier pattern is refused, ordinary clinical notes pass, and nothing is stored."""

from __future__ import annotations

import pytest

from rvuedge.logbook.models import Encounter
from rvuedge.phi import PhiError, check_fields, find_phi

REFUSED = [
    ("ssn", "SSN 123-45-6789"),
    ("ssn", "123 45 6789"),
    ("digits", "pt 00123456 seen"),
    ("digits", "acct A1234567"),
    ("phone", "call 555-123-4567"),
    ("phone", "(555) 123-4567"),
    ("phone", "+1 555 123 4567"),
    ("email", "family: jane.doe@example.com"),
    ("date", "born 01/02/1960"),
    ("date", "1960-01-02"),
    ("date", "March 3, 1958"),
    ("date", "3 Mar 1958"),
    ("keyword", "DOB unknown"),
    ("keyword", "d.o.b."),
    ("keyword", "date of birth on file"),
    ("keyword", "MRN on sticker"),
    ("keyword", "medical record number pending"),
    ("keyword", "social security"),
]

ACCEPTED = [
    "difficult airway, converted to open",
    "CPT 27447 left knee",
    "EBL 200 mL, L4-5 and C5-6, ASA 3",
    "99214 20610-RT 27447-50x2",
    "f/u 6 wks, VAS 7/10, BMI 42.5",
    "Dr. Rivera, Mercy Hospital main OR",
    "ICD M17.11; 45 min; 2 units",
    "",
]


@pytest.mark.parametrize("kind,text", REFUSED)
def test_it_refuses_each_identifier_pattern(kind, text):
    kinds = [f.kind for f in find_phi(text)]
    assert kind in kinds, (text, kinds)


@pytest.mark.parametrize("text", ACCEPTED)
def test_it_accepts_ordinary_notes(text):
    assert find_phi(text) == []


def test_the_message_names_the_field_and_the_match():
    with pytest.raises(PhiError) as exc:
        check_fields({"site": "Main OR", "notes": "call 555-123-4567"}, {"notes": "Notes"})
    assert exc.value.field == "notes"
    assert "Notes" in exc.value.message and "phone number" in exc.value.message and "555-123-4567" in exc.value.message




@pytest.mark.django_db
@pytest.mark.parametrize("field", ["notes", "site", "attending", "category"])
def test_the_entry_page_refuses_and_stores_nothing(alice_client, alice, field):
    r = alice_client.post("/log/", {"entry": "99213", "date": "2025-03-04", "role": "performed",
                                    field: "MRN 1234567"})
    assert r.status_code == 422
    assert "patient identifier" in r.content.decode()
    assert not Encounter.objects.filter(user=alice).exists()


@pytest.mark.django_db
def test_the_api_refuses_and_stores_nothing(alice_client, alice):
    r = alice_client.post("/api/log/encounters", {"entry": "99213", "notes": "DOB 01/02/1960"},
                          content_type="application/json")
    assert r.status_code == 422
    assert r.json()["field"] == "notes"
    assert not Encounter.objects.filter(user=alice).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("entry", ["99214 DOB 01/02/1960", "99213 MRN 00123456", "99213 555-12-3456"])
def test_an_identifier_typed_in_the_codes_box_is_named_as_such(alice_client, alice, entry):
    r = alice_client.post("/log/", {"entry": entry, "date": "2025-03-04", "role": "performed"})
    assert r.status_code == 422
    assert "The codes box" in r.content.decode() and "nothing was saved" in r.content.decode()
    assert not Encounter.objects.filter(user=alice).exists()
    check = alice_client.get("/log/check/", {"entry": entry}).content.decode()
    assert "The codes box" in check
    api = alice_client.post("/api/log/encounters", {"entry": entry}, content_type="application/json")
    assert api.status_code == 422 and "The codes box" in api.json()["detail"]
    assert not Encounter.objects.filter(user=alice).exists()


@pytest.mark.django_db
def test_a_typo_in_the_box_is_still_a_code_error_and_the_date_token_is_not_an_identifier(alice_client):
    check = alice_client.get("/log/check/", {"entry": "99214 2061O @2025-03-04"}).content.decode()
    assert "The codes box" not in check
    r = alice_client.post("/log/", {"entry": "99213 @2025-03-04", "role": "performed"})
    assert r.status_code == 302
