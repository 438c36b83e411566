"""Figures in editorial pages come from the loaded CMS data (placeholders), never typed into the Markdown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rvuedge.fees.figures import editorial_figures
from rvuedge.fees.models import Release

pytestmark = pytest.mark.django_db

PAGES = Path(__file__).resolve().parents[2] / "rvuedge" / "content" / "pages"
#: a dollar figure with cents or more decimals (a conversion factor, a payment) typed into editorial text
TYPED_FIGURE = re.compile(r"\$\s?\d[\d,]*\.\d{2,}")


def _main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def test_how_wrvus_work_shows_the_loaded_releases_conversion_factor(client):
    html = _main(client.get("/resources/how-wrvus-work/").content.decode())
    assert "{{" not in html
    assert "In RVU25A they are <strong>$32.3465</strong> for QPs and <strong>$32.3465</strong>" in html
    assert "33.5675" not in html and "33.4009" not in html  # 2026 figures are not loaded here


def test_a_newer_release_changes_the_figures(client, rvu26c):
    html = _main(client.get("/resources/how-wrvus-work/").content.decode())
    cf = Release.objects.get(name="RVU26C").conv_factor
    assert str(cf) == "33.4009"  # what the CMS file says (PROVENANCE.md)
    assert f"<strong>${cf}</strong> for everyone else" in html and "RVU26C" in html
    # the QPP file (33.5675) is not among the test files: the page says so instead of quoting a typed number
    assert "33.5675" not in html and "not loaded (CMS publishes it in RVU26C's QPP file)" in html
    assert "$32.3465" not in html


def test_without_a_release_the_page_says_so(client):
    Release.objects.all().delete()
    html = _main(client.get("/resources/how-wrvus-work/").content.decode())
    assert "(no release loaded)" in html and "{{" not in html
    assert editorial_figures()["conversion_factor_nonqp"] == "(no release loaded)"


@pytest.mark.parametrize("page", sorted(p.name for p in PAGES.glob("*.md")))
def test_no_editorial_page_types_a_dollar_figure(page):
    text = (PAGES / page).read_text()
    assert not TYPED_FIGURE.findall(text), f"{page}: use a placeholder filled from the loaded data"
