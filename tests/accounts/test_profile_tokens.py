"""Profile settings (validated credit policy), and personal API tokens created and revoked there, stored hashed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from rvuedge.accounts.models import ApiToken, token_digest
from tests.personas import log

pytestmark = pytest.mark.django_db


def _post(client, **changes):
    data = {"career_stage": "attending", "specialty": "Orthopaedics", "default_locality": "", "default_setting": "facility",
            "default_release": "", "credit_policy": "cms_mirror", "fte": "0.8", "annual_goal": "7000",
            "monthly_goal": "", "custom_policy_text": ""}
    data.update(changes)
    return client.post("/accounts/profile/", data)


def test_profile_saves_and_new_encounters_use_it(alice_client, alice):
    r = _post(alice_client, default_locality="13202-01", credit_policy="no_reductions")
    assert r.status_code == 302
    alice.refresh_from_db()
    p = alice.profile
    assert (p.specialty, p.fte, p.annual_goal, p.default_setting) == ("Orthopaedics", Decimal("0.80"), Decimal("7000.00"),
                                                                     "facility")
    assert p.effective_monthly_goal == Decimal("583.33")
    enc = log(alice, "27447 20610")
    assert (enc.policy_name, enc.locality, enc.setting) == ("no_reductions", "13202-01", "facility")


def test_a_custom_policy_is_validated(alice_client, alice):
    r = _post(alice_client, credit_policy="custom", custom_policy_text='{"bilateral": "yes"}')
    assert r.status_code == 200 and "bilateral" in r.content.decode() and "true or false" in r.content.decode()
    r = _post(alice_client, credit_policy="custom", custom_policy_text="{not json")
    assert "Not valid JSON" in r.content.decode()
    spec = {"rvu_release": {"mode": "frozen", "release": "RVU25A"}}
    assert _post(alice_client, credit_policy="custom", custom_policy_text=json.dumps(spec)).status_code == 302
    alice.profile.refresh_from_db()
    assert alice.profile.custom_policy == spec
    assert log(alice, "99214").policy_name == "cms_mirror+custom"


def test_unknown_locality_or_bad_fte_is_refused(alice_client):
    assert _post(alice_client, default_locality="99999-99").status_code == 200
    assert "FTE is between" in _post(alice_client, fte="3").content.decode()


def test_tokens_are_shown_once_and_stored_hashed(alice_client, alice):
    r = alice_client.post("/accounts/tokens/", {"name": "my phone"})
    assert r.status_code == 302
    page = alice_client.get("/accounts/profile/").content.decode()
    plain = page.split('class="mono token-out"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert plain.startswith("rvu_") and len(plain) > 30
    token = ApiToken.objects.get(user=alice)
    assert token.digest == token_digest(plain) and plain not in (token.digest, token.prefix)
    assert plain not in alice_client.get("/accounts/profile/").content.decode()  # shown once
    assert alice_client.get("/api/log/encounters", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 200
    alice_client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert not ApiToken.objects.exists()


def test_the_specialty_field_suggests_the_names_benchmarks_know(client, django_user_model):
    page = client.get("/accounts/signup/").content.decode()
    assert 'list="specialty-names"' in page and '<option value="Orthopedic Surgery">' in page
    user = django_user_model.objects.create_user("sp", "sp@example.org", "pw-for-tests-only")
    client.force_login(user)
    page = client.get("/accounts/profile/").content.decode()
    assert 'list="specialty-names"' in page and '<option value="Family Practice">' in page
