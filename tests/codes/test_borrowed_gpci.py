"""A release loaded without a GPCI file of its own (RVU26C, from its PPRRVU file alone) says so on the page."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_locality_payment_names_the_borrowed_gpci_file(rvu26c):
    body = Client().get("/codes/27447/", {"release": "RVU26C", "locality": "13202-01"}).content.decode()
    assert "RVU26C has no GPCI file of its own:" in body
    assert "uses the GPCIs of RVU25A" in body


def test_a_release_with_its_own_gpci_file_has_no_such_note(rvu26c):
    body = Client().get("/codes/27447/", {"release": "RVU25A", "locality": "13202-01"}).content.decode()
    assert "has no GPCI file of its own" not in body


def test_national_payment_needs_no_gpci_note(rvu26c):
    body = Client().get("/codes/27447/", {"release": "RVU26C"}).content.decode()
    assert "has no GPCI file of its own" not in body
