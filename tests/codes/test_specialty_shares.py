"""Issue 19 item 1: after `rvuedge benchmarks build-medicare FILE --release RVU25A`, the code page's Specialties
section, its JSON twin and `rvuedge code --json` show the measured shares with their source and year; the
editorial list is kept where no source has the code."""

from __future__ import annotations

import html
import io
import json

import pytest
from django.core.management import call_command

from rvuedge.benchmarks import queries as benchmark_queries
from rvuedge.benchmarks import synth
from rvuedge.benchmarks.queries import code_specialty_shares

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def medicare_file(tmp_path_factory, cms_dir):
    path = tmp_path_factory.mktemp("shares") / "MUP_PHY_R25_P05_V20_D23_Prov_Svc_synthetic.csv"
    synth.generate_file(path, 4000, cms_dir / "rvu25a" / "PPRRVU25_JAN.csv", seed=7)
    return path


def _specialties_section(client, code):
    page = client.get(f"/codes/{code}/").content.decode()
    return page.split('<section id="specialties">', 1)[1].split("</section>", 1)[0]


def test_measured_shares_replace_the_editorial_list_once_built(client, medicare_file):
    editorial = client.get("/codes/99213.json").json()
    assert editorial["specialty_shares"] is None and editorial["specialties"]  # the hand-written list
    section = _specialties_section(client, "99213")
    assert 'class="chip"' in section and html.escape(editorial["specialties"][0]) in section

    call_command("benchmarks", "build-medicare", str(medicare_file), "--release", "RVU25A", "--source",
                 "Synthetic Medicare 2023", stdout=io.StringIO())
    benchmark_queries.forget_volumes_version()  # another process would see the build within the version's two seconds

    expected = code_specialty_shares("99213")
    assert expected, "the synthetic file bills 99213"
    data = client.get("/codes/99213.json").json()
    measured = data["specialty_shares"]
    assert measured["source"] == "Synthetic Medicare 2023" and measured["year"] == expected[0]["year"]
    assert measured["release"] == "RVU25A" and measured["medicare_only"] is True
    assert [(s["specialty"], s["percent"]) for s in measured["items"]] == [
        (s["specialty"], s["percent"]) for s in expected]
    assert data["specialties"] == editorial["specialties"]  # still there for other surfaces

    section = _specialties_section(client, "99213")
    for s in expected:
        assert html.escape(s["specialty"]) in section and s["percent"] in section
    assert "Synthetic Medicare 2023" in section and str(measured["year"]) in section
    assert 'class="chip"' not in section

    out = io.StringIO()
    call_command("code", "99213", "--json", stdout=out)
    assert json.loads(out.getvalue())["specialty_shares"] == measured
    text = io.StringIO()
    call_command("code", "99213", stdout=text)
    assert f"{expected[0]['specialty']} {expected[0]['percent']}" in text.getvalue()

    # a code no source has keeps its editorial list
    other = client.get("/codes/0331T.json").json()
    assert other["specialty_shares"] is None
