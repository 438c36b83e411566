"""`rvuedge logbook restore USER FILE`: an operator restores a backup of any size, all or nothing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rvuedge.logbook.backup import backup
from rvuedge.logbook.models import Encounter
from tests.personas import log, make_user

pytestmark = pytest.mark.django_db


def _backup_file(tmp_path, user):
    data = backup(user, user.profile)
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(data, default=str))
    return path, data


def test_restore_from_the_command_line_ignores_the_web_cap(tmp_path, alice, settings):
    log(alice, "99214 20610-RT", date="2025-03-04")
    log(alice, "27447", date="2025-04-01", notes="left knee, smooth")
    path, _ = _backup_file(tmp_path, alice)
    settings.RVUEDGE_RESTORE_MAX_BYTES = 10  # the web upload's cap does not apply to an operator's file
    carol = make_user("carol")
    out = StringIO()
    call_command("logbook", "restore", "carol", str(path), stdout=out)
    assert "Restored into carol's log" in out.getvalue()
    assert Encounter.objects.filter(user=carol).count() == 2
    assert sorted(Encounter.objects.filter(user=carol).values_list("notes", flat=True)) == ["", "left knee, smooth"]


def test_a_bad_backup_restores_nothing_and_names_the_value(tmp_path, alice):
    log(alice, "99214", date="2025-03-04")
    log(alice, "27447", date="2025-04-01")
    path, data = _backup_file(tmp_path, alice)
    data["encounters"][1]["lines"][0]["units"] = -1
    path.write_text(json.dumps(data, default=str))
    carol = make_user("carol")
    with pytest.raises(CommandError, match=r"nothing was restored\. encounters\[1\]\.lines\[0\]\.units"):
        call_command("logbook", "restore", "carol", str(path))
    assert not Encounter.objects.filter(user=carol).exists()


def test_unknown_user_and_missing_file_are_clear(tmp_path, alice):
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("logbook", "restore", "nobody", str(tmp_path / "x.json"))
    with pytest.raises(CommandError, match="x.json"):
        call_command("logbook", "restore", "alice", str(tmp_path / "x.json"))
