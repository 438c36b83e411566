"""Editorial content: `rvuedge content load` is idempotent, atomic, and respects edits made in the admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from rvuedge.codes.content import (
    CONTENT_DIR,
    ContentError,
    load_code_content,
    parse_code_file,
    render_markdown,
)
from rvuedge.codes.models import CodeContent
from rvuedge.codes.search import search

pytestmark = pytest.mark.django_db

SYNTHETIC = """---
code: "27447"
title: "Synthetic title for tests"
synonyms: ["zebra knee"]
specialties: ["Testing"]
summary: "A synthetic summary written for the tests."
faq:
  - q: "Is this synthetic?"
    a: "Yes."
---
## Plain language

Plain words <script>alert(1)</script> with a [link](/how-wrvus-work/).

## Clinical context

Context.
"""


def test_the_session_loaded_every_file_and_a_second_load_changes_nothing(capsys):
    files = sorted((CONTENT_DIR / "codes").glob("*.md"))
    assert CodeContent.objects.count() == len(files) > 100
    result = load_code_content()
    assert (result.created, result.updated, result.unchanged) == ([], [], len(files))
    call_command("content", "load")
    assert "0 created, 0 updated" in capsys.readouterr().out


def test_a_file_is_parsed_into_fields():
    data = parse_code_file(CONTENT_DIR / "codes" / "0331T.md")
    assert data["code"] == "0331T" and "MIBG" in data["synonyms"]
    assert data["plain_language"] and data["clinical_context"] and len(data["faq"]) >= 3


def test_admin_edits_are_kept_unless_forced(tmp_path, admin_client):
    folder = tmp_path / "codes"
    folder.mkdir()
    (folder / "27447.md").write_text(SYNTHETIC)
    result = load_code_content(directory=folder)  # 27447 updated from our synthetic file; the others removed
    assert result.updated == ["27447"] and len(result.removed) >= 100
    row = CodeContent.objects.get(code="27447")
    assert row.title == "Synthetic title for tests" and "zebra knee" in row.synonyms
    assert search("zebra").results[0]["code"] == "27447"  # the index was rebuilt in the same transaction

    r = admin_client.post(f"/admin/codes/codecontent/{row.pk}/change/", {
        "code": "27447", "title": "Edited in the admin", "synonyms_text": "giraffe knee, TKA",
        "specialties_text": "Orthopaedic surgery", "summary": "Edited.", "plain_language": "Edited.",
        "clinical_context": "Edited.", "faq_json": '[{"q": "Edited?", "a": "Yes."}]',
    })
    assert r.status_code == 302, r.content.decode()[:2000]
    row.refresh_from_db()
    assert row.edited_in_admin and row.synonyms == ["giraffe knee", "TKA"]
    assert search("giraffe").results[0]["code"] == "27447"

    (folder / "27447.md").write_text(SYNTHETIC.replace("Synthetic title", "Changed title"))
    result = load_code_content(directory=folder)
    assert result.kept_admin_edits == ["27447"]
    assert CodeContent.objects.get(code="27447").title == "Edited in the admin"
    result = load_code_content(directory=folder, force=True)
    assert result.updated == ["27447"]
    row.refresh_from_db()
    assert row.title == "Changed title for tests" and not row.edited_in_admin


def test_a_bad_file_names_file_and_field_and_writes_nothing(tmp_path):
    folder = tmp_path / "codes"
    folder.mkdir()
    (folder / "27447.md").write_text(SYNTHETIC.replace("Synthetic title", "Other title"))
    (folder / "99214.md").write_text(SYNTHETIC.replace('code: "27447"', 'code: "99214"').replace(
        '  - q: "Is this synthetic?"\n    a: "Yes."', '  - q: "No answer"'))
    before = CodeContent.objects.get(code="27447").title
    with pytest.raises(ContentError, match=r"99214\.md: faq item 1 needs both 'q' and 'a'"):
        load_code_content(directory=folder)
    assert CodeContent.objects.get(code="27447").title == before
    (folder / "99214.md").write_text(SYNTHETIC)  # says 27447 inside 99214.md
    with pytest.raises(CommandError, match=r"field 'code' is 27447 but the file is named 99214\.md"):
        call_command("content", "load", "--dir", str(folder))


def test_markdown_is_sanitised_and_resource_links_are_rewritten():
    html = render_markdown("Hi <script>alert(1)</script> <a href='javascript:x'>x</a> [r](/gpci-explainer/)")
    assert "<script" not in html and "javascript:" not in html
    assert 'href="/resources/gpci-explainer/"' in html


def test_serve_loads_content_when_none_is_loaded(monkeypatch):
    CodeContent.objects.all().delete()
    call_command("serve", "--no-serve")
    assert CodeContent.objects.count() == len(list((CONTENT_DIR / "codes").glob("*.md")))


def test_cms_loads_leave_content_alone(cms_dir, tmp_path):
    from rvuedge.fees.importer import load_hcpcs

    CodeContent.objects.filter(code="27447").update(title="Kept", edited_in_admin=True)
    src = Path(cms_dir) / "hcpcs2026jan" / "HCPC2026_JAN_ANWEB_01122026.txt"
    copy = tmp_path / src.name
    lines = src.read_bytes().splitlines(keepends=True)
    copy.write_bytes(b"".join(lines[:-1]))  # a different file under the same name: a real replace
    result = load_hcpcs(str(copy), replace=True)
    assert result.created
    assert CodeContent.objects.get(code="27447").title == "Kept"
    assert CodeContent.objects.get(code="27447").edited_in_admin
    assert search("27447").results[0]["title"] == "Kept"  # the rebuilt index still carries our content


def test_admin_lists_content_and_messages(admin_client):
    assert admin_client.get("/admin/codes/codecontent/").status_code == 200
    assert admin_client.get("/admin/codes/contactmessage/").status_code == 200
    assert get_user_model().objects.filter(is_superuser=True).exists()
