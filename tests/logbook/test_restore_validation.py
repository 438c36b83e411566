"""Restoring a JSON backup (issue 11): a malformed value anywhere refuses the whole file, with a message naming the
value's path; the file is read safely (size cap, NaN/Infinity, deep nesting); and nothing a restore accepts can
break a later export of the log (a property test over mutated backups).
"""

from __future__ import annotations

import copy
import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rvuedge.logbook import backup
from rvuedge.logbook.actions import MAX_LINES, do_toggle_favourite, do_trash_encounters
from rvuedge.logbook.models import Encounter, Favourite
from rvuedge.pricing import MAX_MINUTES, MAX_UNITS
from tests.personas import log, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def good(alice) -> dict:
    """A valid backup of a small log: three encounters (one in the trash), lines with modifiers, a favourite."""
    log(alice, "99214 20610-RT", date="2025-03-04", site="Clinic A", notes="converted to open")
    log(alice, "27447-50", date="2025-03-05", setting="facility", role="primary", attending="Dr. Rivera",
        category="Arthroplasty", idempotency_key="phone:1")
    gone = log(alice, "99213", date="2025-03-06")
    do_trash_encounters(alice, [gone.pk])
    do_toggle_favourite(alice, "20610-RT")
    data = backup.backup(alice, alice.profile)
    assert len(data["encounters"]) == 3
    return data


_users = iter(range(10**9))


def _fresh_user():
    return make_user(f"restorer{next(_users)}")


def _refused(data, where: str, *words: str) -> None:
    user = _fresh_user()
    fte_before = user.profile.fte
    with pytest.raises(backup.RestoreError) as info:
        backup.restore(user, user.profile, data)
    assert info.value.where == where, str(info.value)
    assert str(info.value).startswith(f"{where}: ")
    for word in words:
        assert word in str(info.value), str(info.value)
    assert not Encounter.objects.filter(user=user).exists()
    assert not Favourite.objects.filter(user=user).exists()
    user.profile.refresh_from_db()
    assert user.profile.fte == fte_before


def _set(data: dict, path: list, value) -> dict:
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


# (path in the backup, value, the path the message must name, words it must hold)
BAD = [
    (["encounters", 1, "lines", 0, "explanation"], "x", "encounters[1].lines[0].explanation", "expected an object"),
    (["encounters", 0, "lines", 1, "units"], -1, "encounters[0].lines[1].units", f"from 1 to {MAX_UNITS}"),
    (["encounters", 0, "lines", 0, "units"], 2**31, "encounters[0].lines[0].units", f"from 1 to {MAX_UNITS}"),
    (["encounters", 0, "lines", 0, "units"], 0, "encounters[0].lines[0].units", "from 1"),
    (["encounters", 0, "lines", 0, "units"], 1.5, "encounters[0].lines[0].units", "whole number"),
    (["encounters", 0, "lines", 0, "units"], "2", "encounters[0].lines[0].units", "whole number"),
    (["encounters", 0, "lines", 0, "units"], True, "encounters[0].lines[0].units", "whole number"),
    (["encounters", 0, "lines", 0, "minutes"], MAX_MINUTES + 1, "encounters[0].lines[0].minutes", str(MAX_MINUTES)),
    (["encounters", 0, "lines", 0, "position"], 99999, "encounters[0].lines[0].position", f"0 to {MAX_LINES - 1}"),
    (["encounters", 0, "lines", 1, "position"], 0, "encounters[0].lines[1].position", "used by another line"),
    (["encounters", 0, "total_wrvu"], 1e20, "encounters[0].total_wrvu", "digits"),
    (["encounters", 0, "total_wrvu"], "1e20", "encounters[0].total_wrvu", "decimal number"),
    (["encounters", 0, "total_wrvu"], "2.715", "encounters[0].total_wrvu", "decimal places"),
    (["encounters", 0, "total_wrvu"], float("nan"), "encounters[0].total_wrvu", "number"),
    (["encounters", 0, "total_wrvu"], None, "encounters[0].total_wrvu", "required"),
    (["encounters", 0, "total_payment"], [1], "encounters[0].total_payment", "expected a number, got a list"),
    (["encounters", 0, "lines", 0, "wrvu_exact"], "1.1234567", "encounters[0].lines[0].wrvu_exact", "decimal places"),
    (["profile", "fte"], 999, "profile.fte", "digits"),
    (["profile", "fte"], "3.00", "profile.fte", "at most 2"),
    (["profile", "fte"], 0, "profile.fte", "more than 0"),
    (["profile", "annual_goal"], "-5", "profile.annual_goal", "negative"),
    (["profile", "career_stage"], "wizard", "profile.career_stage", "expected one of"),
    (["profile", "specialty"], "s" * 81, "profile.specialty", "limited to 80 characters"),
    (["profile", "custom_policy"], {"wrvu_profile": "nonsense"}, "profile.custom_policy", ""),
    (["profile"], [], "profile", "expected an object"),
    (["encounters", 0, "notes"], "n" * 1001, "encounters[0].notes", "limited to 1000 characters"),
    (["encounters", 0, "site"], "s" * 81, "encounters[0].site", "limited to 80 characters"),
    (["encounters", 0, "entry"], "9" * 501, "encounters[0].entry", "limited to 500 characters"),
    (["encounters", 0, "notes"], "bad\x00byte", "encounters[0].notes", "NUL"),
    (["encounters", 0, "notes"], "lone \ud800", "encounters[0].notes", "Unicode"),
    (["encounters", 0, "notes"], "call 555-123-4567", "encounters[0].notes", "phone"),
    (["encounters", 0, "notes"], 5, "encounters[0].notes", "expected text"),
    (["encounters", 0, "release"], "R" * 17, "encounters[0].release", "16 characters"),
    (["encounters", 0, "idempotency_key"], "k" * 101, "encounters[0].idempotency_key", "100 characters"),
    (["encounters", 0, "setting"], "moon", "encounters[0].setting", "expected one of"),
    (["encounters", 0, "role"], "janitor", "encounters[0].role", "expected one of"),
    (["encounters", 0, "pos"], "2x", "encounters[0].pos", "two digits"),
    (["encounters", 0, "date"], "2025-02-30", "encounters[0].date", "date"),
    (["encounters", 0, "date"], "1800-01-01", "encounters[0].date", "out of range"),
    (["encounters", 0, "date"], 20250304, "encounters[0].date", "expected a date"),
    (["encounters", 0, "created_at"], "yesterday", "encounters[0].created_at", "date-time"),
    (["encounters", 0, "created_at"], "0001-01-01T00:00:00+05:00", "encounters[0].created_at", "out of range"),
    (["encounters", 2, "deleted_at"], 7, "encounters[2].deleted_at", "date-time"),
    (["encounters", 0, "uid"], "not-a-uuid", "encounters[0].uid", "UUID"),
    (["encounters", 0, "uid"], None, "encounters[0].uid", "UUID"),
    (["encounters", 0, "lines"], [], "encounters[0].lines", "non-empty list"),
    (["encounters", 0, "lines"], "99213", "encounters[0].lines", "non-empty list"),
    (["encounters", 0, "lines", 0], "99213", "encounters[0].lines[0]", "expected an object"),
    (["encounters", 0, "lines", 0, "code"], "123", "encounters[0].lines[0].code", "5-character code"),
    (["encounters", 0, "lines", 0, "code"], None, "encounters[0].lines[0].code", "5-character code"),
    (["encounters", 0, "lines", 1, "modifiers"], "ZZZZZZ", "encounters[0].lines[1].modifiers", "two-character"),
    (["encounters", 0, "lines", 1, "modifiers"], "RT-LT-50-51-80", "encounters[0].lines[1].modifiers", "up to 4"),
    (["encounters", 0, "lines", 0, "description"], "d" * 101, "encounters[0].lines[0].description", "100 characters"),
    (["encounters", 0, "lines", 0, "explanation", "wrvu_steps"], "x", "encounters[0].lines[0].explanation.wrvu_steps",
     "expected a list"),
    (["encounters", 0, "lines", 0, "explanation", "wrvu_steps"], [1], "encounters[0].lines[0].explanation.wrvu_steps[0]",
     "\"text\""),
    (["encounters", 0, "lines", 0, "explanation", "payment_steps"], [{"text": 5}],
     "encounters[0].lines[0].explanation.payment_steps[0]", "\"text\""),
    (["encounters", 0, "lines", 0, "explanation", "flags"], [1], "encounters[0].lines[0].explanation.flags", "texts"),
    (["encounters", 0, "lines", 0, "explanation", "x"], float("inf"), "encounters[0].lines[0].explanation", "NaN"),
    (["encounters", 0, "lines", 0, "explanation", "x"], "\ud800", "encounters[0].lines[0].explanation", "Unicode"),
    (["encounters", 0, "lines", 0, "explanation", "big"], "b" * 200_000, "encounters[0].lines[0].explanation",
     "longer than"),
    (["encounters", 0, "policy"], "cms", "encounters[0].policy", "expected an object"),
    (["encounters", 0, "source"], [], "encounters[0].source", "expected an object"),
    (["encounters", 0, "flags"], "x", "encounters[0].flags", "expected a list"),
    (["encounters", 0], [], "encounters[0]", "expected an object"),
    (["encounters"], {}, "encounters", "expected a list"),
    (["favourites"], "20610-RT", "favourites", "expected a list"),
    (["favourites", 0], 20610, "favourites[0]", "expected text"),
    (["favourites", 0], "f" * 21, "favourites[0]", "20 characters"),
    (["version"], 2, "version", "not supported"),
    (["format"], "something-else", "file", "not an RVU Edge log backup"),
]


@pytest.mark.parametrize(("path", "value", "where", "words"), [(p, v, w, x) for p, v, w, x in BAD],
                         ids=[f"{w}={str(v)[:20]!r}" for _p, v, w, _x in BAD])
def test_a_bad_value_refuses_the_whole_file_naming_it(good, path, value, where, words):
    _refused(_set(good, path, value), where, words)


def test_deep_nesting_in_a_kept_json_value_is_refused(good):
    deep: list = []
    node = deep
    for _ in range(backup.JSON_MAX_DEPTH + 5):
        node.append([])
        node = node[0]
    _refused(_set(good, ["encounters", 1, "lines", 0, "explanation", "deep"], deep),
             "encounters[1].lines[0].explanation", "nested")
    _refused(_set(good, ["encounters", 0, "flags"], deep), "encounters[0].flags", "nested")


def test_too_many_lines_are_refused(good):
    lines = [dict(good["encounters"][0]["lines"][0], position=i) for i in range(MAX_LINES + 1)]
    _refused(_set(good, ["encounters", 0, "lines"], lines), "encounters[0].lines", f"at most {MAX_LINES}")


def test_a_bad_value_in_an_encounter_already_present_still_refuses_the_file(good, alice):
    # Encounters already in the log are skipped, but a file with a bad value is refused whole all the same.
    data = _set(good, ["encounters", 0, "lines", 0, "units"], -1)
    with pytest.raises(backup.RestoreError, match=r"encounters\[0\]\.lines\[0\]\.units"):
        backup.restore(alice, alice.profile, data)


def test_control_characters_are_cleaned_and_the_rest_restored_as_it_was(good):
    data = _set(good, ["encounters", 0, "notes"], "bell\x07 and\x1b escape\r\nnext line")
    data = _set(data, ["encounters", 0, "site"], "Main\tOR\x0b")
    user = _fresh_user()
    assert backup.restore(user, user.profile, data) == {"restored": 3, "skipped": 0}
    enc = Encounter.objects.get(user=user, uid=good["encounters"][0]["uid"])
    assert enc.notes == "bell and escape\nnext line" and enc.site == "Main OR"
    again = backup.backup(user, user.profile)
    for a, b in zip(again["encounters"], good["encounters"], strict=True):
        if a["uid"] != good["encounters"][0]["uid"]:
            assert a == b


def test_numbers_may_come_as_json_numbers(good):
    data = _set(good, ["encounters", 0, "total_wrvu"], 2.71)
    data = _set(data, ["encounters", 0, "lines", 0, "wrvu"], 1)
    data = _set(data, ["profile", "fte"], 0.8)
    user = _fresh_user()
    backup.restore(user, user.profile, data)
    enc = Encounter.objects.get(user=user, uid=good["encounters"][0]["uid"])
    assert str(enc.total_wrvu) == "2.71" and str(enc.lines.get(position=0).wrvu) == "1.00"
    user.profile.refresh_from_db()
    assert str(user.profile.fte) == "0.80"


# --------------------------------------------------------------------------- reading the file

@pytest.mark.parametrize(("text", "words"), [
    (b'{"format": "rvuedge-log-backup", "version": 1, "encounters": [], "x": NaN}', "NaN"),
    (b'{"format": "rvuedge-log-backup", "version": 1, "encounters": [], "x": -Infinity}', "Infinity"),
    (b'{"format": "rvuedge-log-backup", "version": 1, "encounters": [], "x": 1e999}', "too large"),
    (b'{"format": "rvuedge-log-backup", "version": 1, "encounters": [], "x": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    (b'{"format": "rvuedge-log-backup",', "not valid JSON (line 1"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"", "not valid JSON"),
])
def test_the_file_is_read_strictly_and_safely(text, words):
    with pytest.raises(backup.RestoreError, match="^file: ") as info:
        backup.parse_backup(text)
    assert words in str(info.value)


def _upload(client, content: bytes, name: str = "backup.json"):
    return client.post("/log/backup/restore/", {"file": SimpleUploadedFile(name, content, "application/json")},
                       follow=True)


def test_the_page_names_the_bad_value_and_restores_nothing(alice, good):
    newbie = make_user("newbie")
    client = Client()
    client.force_login(newbie)
    page = _upload(client, json.dumps(_set(good, ["encounters", 2, "lines", 0, "units"], -1)).encode()).content.decode()
    assert "Nothing was restored" in page and "encounters[2].lines[0].units" in page
    page = _upload(client, b"[" * 100_000 + b"]" * 100_000).content.decode()
    assert "nested too deeply" in page
    page = _upload(client, b'{"format": "rvuedge-log-backup", "version": 1, "x": NaN}').content.decode()
    assert "NaN is not a number JSON allows" in page
    assert not Encounter.objects.filter(user=newbie).exists()
    page = _upload(client, json.dumps(good).encode()).content.decode()
    assert "Restored 3 encounters" in page and Encounter.objects.filter(user=newbie).count() == 3


def test_a_backup_over_the_size_cap_is_refused_without_being_kept(alice, good, settings):
    settings.RVUEDGE_RESTORE_MAX_BYTES = 2000
    text = json.dumps(good).encode()
    assert len(text) > 2000
    newbie = make_user("newbie")
    client = Client()
    client.force_login(newbie)
    page = _upload(client, text).content.decode()
    assert "larger than" in page and "RVUEDGE_RESTORE_MAX_BYTES" in page and "Nothing was restored" in page
    assert not Encounter.objects.filter(user=newbie).exists()
    with pytest.raises(backup.RestoreError, match="larger than"):
        backup.parse_backup(text)
    settings.RVUEDGE_RESTORE_MAX_BYTES = len(text)
    assert "Restored 3 encounters" in _upload(client, text).content.decode()


def test_the_restore_still_needs_the_csrf_token(alice, good):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    r = client.post("/log/backup/restore/", {"file": SimpleUploadedFile("b.json", json.dumps(good).encode())})
    assert r.status_code == 403
    anonymous = Client()
    r = anonymous.post("/log/backup/restore/", {"file": SimpleUploadedFile("b.json", json.dumps(good).encode())})
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


# --------------------------------------------------------------------------- whatever is restored exports

def _paths(node, prefix=()):
    """Every (container path, key) in a backup, for mutating it."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["", "=1+1", "-2+3+cmd|' /C calc'!A0", "\x07bell\x1b", "nul\x00", "\ud800", "9" * 1200, "RT",
                     "99213", "2025-03-04", "2025-03-04T10:00:00+00:00", "1.50", "-1", "NaN", "1e20",
                     "00000000-0000-0000-0000-000000000000", "facility", "primary", "22", "80-51"]))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["text", "wrvu_steps", "payment_steps", "flags", "a"]), inner, max_size=3), max_leaves=6)

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_whatever_a_restore_accepts_exports_in_every_format(good, data):
    mutated = copy.deepcopy(good)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from(_paths(mutated)), label="path")
        node = mutated
        for key in path[:-1]:
            node = node[key]
        if data.draw(st.booleans(), label="delete") and isinstance(node, dict):
            del node[path[-1]]
        else:
            node[path[-1]] = data.draw(_values, label="value")
    # Half the examples go through the JSON text a user would upload, half straight in.
    user = _fresh_user()
    try:
        if data.draw(st.booleans(), label="as file"):
            payload = backup.parse_backup(json.dumps(mutated).encode("utf-8", "surrogatepass"))
        else:
            payload = mutated
        backup.restore(user, user.profile, payload)
    except backup.RestoreError as exc:
        assert exc.where and str(exc).startswith(f"{exc.where}: ")
        assert not Encounter.objects.filter(user=user).exists()
        event(f"refused at {exc.where.split('[')[0].split('.')[0]}")
        return
    client = Client()
    client.force_login(user)
    for fmt in ("csv", "lines", "portal", "xlsx", "json", "pdf"):
        r = client.get(f"/log/export/?format={fmt}&start=1990-01-01&end=2030-12-31")
        assert r.status_code == 200, fmt
        body = b"".join(r.streaming_content) if r.streaming else r.content
        if fmt in ("csv", "lines", "portal"):
            list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        elif fmt == "xlsx":
            from openpyxl import load_workbook

            load_workbook(io.BytesIO(body), read_only=True)
        elif fmt == "json":
            again = json.loads(body)
            other = _fresh_user()
            backup.restore(other, other.profile, again)  # what was restored restores again
            assert Encounter.objects.filter(user=other).count() == Encounter.objects.filter(user=user).count()
    event("restored and exported")
