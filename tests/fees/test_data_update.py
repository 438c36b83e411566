"""`rvuedge data update`: finds the newest CMS release (cms.gov or a local mirror), loads it, tells what changed;
offline it says so, exits 75 and writes nothing; a second run changes nothing. And `rvuedge serve` sets an empty
database up under the same migrate lock as `rvuedge data load`."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import urllib.error
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rvuedge.fees import update
from rvuedge.fees.importer import LoadBusy
from rvuedge.fees.models import FeeRow, Release
from rvuedge.fees.parsers import parse_pprrvu
from tests.conftest import CMS_DIR
from tests.synthetic import ROWS_31, gpci_csv, pprrvu_csv, release_zip

PROJECT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db
RVU26C_CSV = CMS_DIR / "rvu26c" / "PPRRVU2026_Jul_nonQPP.csv"
CMS = update.CMS_ZIP_BASE


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("data", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def snapshot() -> list[tuple]:
    return [(r.pk, r.name, r.fingerprint, FeeRow.objects.filter(release=r).count())
            for r in Release.objects.order_by("name")]


def mirror(tmp_path: Path, *names: str) -> Path:
    """A local mirror laid out like ../shared/data/cms: one sub-folder per release (links to the real ones)."""
    root = tmp_path / "mirror"
    root.mkdir()
    for name in names:
        (root / name).symlink_to(CMS_DIR / name, target_is_directory=True)
    return root


class FakeCms:
    """urllib.request.urlopen for a cms.gov that serves ``files`` ({url: bytes}) and 404 for anything else."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.asked: list[str] = []

    def __call__(self, request, timeout=None):
        url = request if isinstance(request, str) else request.full_url
        self.asked.append(url.rsplit("/", 1)[-1])
        if url not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        body = io.BytesIO(self.files[url])
        body.headers = {"Content-Length": str(len(self.files[url]))}
        return body


# --------------------------------------------------------------------------- finding the newest (no database)

def test_following_quarter_and_reissue_names():
    assert [update.following(n) for n in ("RVU26A", "RVU26AR", "RVU26C", "RVU26D")] == [
        "RVU26B", "RVU26B", "RVU26D", "RVU27A"]
    assert update.reissue("rvu26a") == "RVU26AR" and update.reissue("RVU26AR") is None
    assert update.newest_of({"RVU25D", "RVU26A", "RVU26AR", "RVU24A"}) == "RVU26AR"
    assert update.zip_url(CMS, "RVU26C") == "https://www.cms.gov/files/zip/rvu26c.zip"


def test_newest_online_walks_forward_then_takes_the_reissue():
    def walk(start, start_exists, there):
        asked = []

        def exists(name):
            asked.append(name)
            return name in there
        return update.newest_online(start, start_exists, exists), asked

    # loaded RVU26A; CMS has B, C and C's re-issue: RVU26D and RVU27A missing end the walk
    assert walk("RVU26A", True, {"RVU26B", "RVU26C", "RVU26CR"}) == (
        "RVU26CR", ["RVU26B", "RVU26C", "RVU26D", "RVU27A", "RVU26CR"])
    # one quarter missing does not hide the next one
    assert walk("RVU26C", True, {"RVU27A"})[0] == "RVU27A"
    # nothing newer: the loaded release, its re-issue asked for once
    assert walk("RVU26C", True, set()) == ("RVU26C", ["RVU26D", "RVU27A", "RVU26CR"])
    # the newest known release, not loaded, is asked for too; none of it there -> None
    assert walk("RVU26A", False, set())[0] is None
    assert walk("RVU26A", False, {"RVU26A"})[0] == "RVU26A"


def test_http_exists_tells_missing_from_unreachable(monkeypatch):
    url = "https://www.cms.gov/files/zip/rvu26d.zip"

    def serve(outcome):
        def urlopen(request, timeout=None):
            assert request.get_header("Range") == "bytes=0-3" and timeout == 3
            if isinstance(outcome, Exception):
                raise outcome
            return io.BytesIO(outcome)
        monkeypatch.setattr("urllib.request.urlopen", urlopen)

    serve(b"PK\x03\x04rest of a zip")
    assert update.http_exists(url, timeout=3) is True
    serve(b"<!DOCTYPE html><title>Page not found</title>")  # a "not found" page answered 200
    assert update.http_exists(url, timeout=3) is False
    for code in (404, 410):
        serve(urllib.error.HTTPError(url, code, "Not Found", {}, None))
        assert update.http_exists(url, timeout=3) is False
    for outcome, text in (
        (urllib.error.HTTPError(url, 503, "Service Unavailable", {}, None), "cms.gov answered HTTP 503"),
        (urllib.error.URLError("[Errno -3] Temporary failure in name resolution"), "name resolution"),
        (TimeoutError("timed out"), "timed out"),
        (ConnectionResetError(104, "Connection reset by peer"), "Connection reset"),
    ):
        serve(outcome)
        with pytest.raises(update.Unreachable, match=text):
            update.http_exists(url, timeout=3)


def test_find_newest_in_a_mirror_and_bad_sources(tmp_path):
    root = mirror(tmp_path, "rvu24a", "rvu25a", "rvu26c")
    found = update.find_newest(str(root), {"RVU25A"}, exists=lambda url: pytest.fail("a mirror is not asked"))
    assert (found.name, found.location, found.source) == ("RVU26C", str(root / "rvu26c"), str(root))
    zipped = tmp_path / "zipped" / "rvu25a"
    zipped.mkdir(parents=True)
    (zipped / "RVU25A.zip").symlink_to(CMS_DIR / "rvu25a" / "RVU25A.zip")
    assert update.find_newest(str(zipped.parent), set(), exists=bool).location == str(zipped / "RVU25A.zip")
    with pytest.raises(update.SourceError, match="not a folder .* nor an https URL"):
        update.find_newest(str(tmp_path / "nowhere"), set(), exists=bool)
    with pytest.raises(update.SourceError, match="only https"):
        update.find_newest("http://www.cms.gov/files/zip/", set(), exists=bool)
    (tmp_path / "empty").mkdir()
    with pytest.raises(update.SourceError, match="no release folders"):
        update.find_newest(str(tmp_path / "empty"), set(), exists=bool)


# --------------------------------------------------------------------------- what changed (the real files)

def rows_of(path: Path) -> dict[update.Key, update.Row]:
    parsed = parse_pprrvu(path.read_bytes(), path.name)
    return {(r.hcpcs, r.modifier): update.Row(r.description, r.status, r.work_rvu, r.nonfac_total, r.fac_total)
            for r in parsed.rows}


def test_diff_of_the_real_rvu25a_and_rvu26c_files(cms_dir):
    diff = update.diff_releases("RVU25A", rows_of(cms_dir / "rvu25a" / "PPRRVU25_JAN.csv"),
                                "RVU26C", rows_of(RVU26C_CSV))
    assert (diff.rows_before, diff.rows_after) == (18865, 19356)
    assert (len(diff.added), len(diff.deleted), len(diff.work_changed), len(diff.total_changed),
            diff.status_changed) == (721, 230, 7477, 9099, 287)
    assert 18865 + len(diff.added) - len(diff.deleted) == 19356
    by_key = {c.key: c for c in diff.work_changed}
    knee = by_key[("27447", "")]  # the 2026 efficiency adjustment: 19.60 x 0.975 = 19.11
    assert (knee.old.work_rvu, knee.new.work_rvu, knee.work_change) == (
        Decimal("19.60"), Decimal("19.11"), Decimal("-0.49"))
    assert knee.to_dict()["work_rvu_change_percent"] == "-2.5"
    assert (knee.old.nonfac_total, knee.new.nonfac_total, knee.total_change) == (
        Decimal("38.88"), Decimal("34.71"), Decimal("-4.17"))
    assert ("99213", "") not in by_key  # time-based E/M work unchanged (1.30)
    first = diff.work_changed[0]  # the largest change: 61715 becomes carrier-priced (status C)
    assert (first.key, first.old.work_rvu, first.new.work_rvu, first.old.status, first.new.status) == (
        ("61715", ""), Decimal("18.95"), Decimal("0.00"), "A", "C")
    sizes = [abs(c.work_change) for c in diff.work_changed]
    assert sizes == sorted(sizes, reverse=True)
    assert [update.label(k) for k, _ in diff.added[:2]] == ["0948T", "0949T"]
    assert update.label(diff.deleted[0][0]) == "0042T"
    assert diff.total_changed[0].key == ("61626", "") and diff.total_changed[0].total_change == Decimal("264.32")


# --------------------------------------------------------------------------- the command

def test_offline_says_it_could_not_reach_cms_and_changes_nothing(monkeypatch, settings):
    settings.RVUEDGE_CMS_DATA = ""
    asked = []

    def offline(request, timeout=None):
        asked.append(request.full_url)
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    before = snapshot()
    with pytest.raises(CommandError) as exc:
        run("update")
    assert exc.value.returncode == update.EX_TEMPFAIL == 75
    assert str(exc.value) == "could not reach cms.gov: [Errno -2] Name or service not known; nothing changed"
    assert asked == ["https://www.cms.gov/files/zip/rvu26a.zip"]  # stops at the first request
    assert snapshot() == before
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("data", "update", "--json", stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["status"] == "unreachable" and answer["source"] == "cms.gov" and answer["changes"] is None
    assert answer["previous"] == "RVU25A" and answer["message"].endswith("nothing changed")
    assert snapshot() == before


def test_up_to_date_when_cms_has_nothing_newer(monkeypatch, settings):
    settings.RVUEDGE_CMS_DATA = ""
    cms = FakeCms({})
    monkeypatch.setattr("urllib.request.urlopen", cms)
    before = snapshot()
    assert run("update").strip() == "RVU25A is the newest release; nothing to do"
    assert cms.asked == ["rvu26a.zip", "rvu26b.zip", "rvu26c.zip"]
    assert run("update", "--quiet") == ""  # cron mails nothing when nothing happened
    assert snapshot() == before


def test_up_to_date_from_a_mirror(tmp_path, settings):
    settings.RVUEDGE_CMS_DATA = str(mirror(tmp_path, "rvu24a", "rvu25a"))  # the environment's mirror is used
    answer = json.loads(run("update", "--json"))
    assert answer == {"status": "up_to_date", "source": settings.RVUEDGE_CMS_DATA, "newest": "RVU25A",
                      "loaded": None, "previous": "RVU25A",
                      "message": "RVU25A is the newest release; nothing to do", "changes": None}


def test_update_from_a_mirror_loads_rvu26c_tells_what_changed_and_a_second_run_changes_nothing(tmp_path):
    root = mirror(tmp_path, "rvu24a", "rvu25a", "rvu26c")
    before = snapshot()
    answer = json.loads(run("update", "--source", str(root), "--json"))
    assert set(answer) == {"status", "source", "newest", "loaded", "previous", "message", "changes"}
    assert (answer["status"], answer["source"], answer["newest"], answer["loaded"], answer["previous"]) == (
        "loaded", str(root), "RVU26C", "RVU26C", "RVU25A")
    assert answer["message"] == (f"Loaded RVU26C (CY2026 July release) from {root}: RVU25A -> RVU26C: 721 codes "
                                 "added, 230 deleted, 7,477 with a new work RVU, 9,099 with new total RVUs")
    changes = answer["changes"]
    assert set(changes) == {"from", "to", "rows_before", "rows_after", "added", "deleted", "work_rvu_changed",
                            "total_rvu_changed", "status_changed"}
    assert (changes["from"], changes["to"], changes["rows_before"], changes["rows_after"]) == (
        "RVU25A", "RVU26C", 18865, 19356)
    assert changes["added"]["count"] == len(changes["added"]["codes"]) == 721
    assert changes["deleted"]["count"] == len(changes["deleted"]["codes"]) == 230
    assert "0948T" in changes["added"]["codes"] and "0042T" in changes["deleted"]["codes"]
    assert changes["work_rvu_changed"]["count"] == 7477 and changes["total_rvu_changed"]["count"] == 9099
    assert changes["status_changed"] == {"count": 287}
    top = changes["work_rvu_changed"]["top"]
    assert len(top) == 10 and [t["code"] for t in top[:3]] == ["61715", "33880", "33881"]
    assert top[1] == {"code": "33880", "modifier": "", "description": top[1]["description"], "status": ["A", "A"],
                      "work_rvu": ["34.58", "26.33"], "work_rvu_change": "-8.25", "work_rvu_change_percent": "-23.9",
                      "nonfac_total": top[1]["nonfac_total"], "fac_total": top[1]["fac_total"],
                      "total_rvu_change": top[1]["total_rvu_change"]}
    rel = Release.objects.get(name="RVU26C")
    assert FeeRow.objects.get(release=rel, hcpcs="27447", modifier="").work_rvu == Decimal("19.11")
    assert rel.source == str(root / "rvu26c")
    loaded = snapshot()
    assert len(loaded) == len(before) + 1
    # idempotent: a second run finds RVU26C loaded and writes nothing
    assert run("update", "--source", str(root)).strip() == "RVU26C is the newest release; nothing to do"
    assert run("update", "--source", str(root), "--quiet") == ""
    assert snapshot() == loaded


def test_update_online_downloads_the_newest_release_and_prints_the_changes(monkeypatch, settings):
    settings.RVUEDGE_CMS_DATA = ""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(RVU26C_CSV, RVU26C_CSV.name)
    zip_magic = b"PK\x03\x04 a zip asked for its first bytes only"
    cms = FakeCms({CMS + "rvu26a.zip": zip_magic, CMS + "rvu26b.zip": zip_magic, CMS + "rvu26c.zip": buf.getvalue()})
    monkeypatch.setattr("urllib.request.urlopen", cms)
    out = run("update")
    # RVU26A (newest known) and B exist, C exists, D and 27A do not, C has no re-issue; then C is downloaded
    assert cms.asked == ["rvu26a.zip", "rvu26b.zip", "rvu26c.zip", "rvu26d.zip", "rvu27a.zip", "rvu26cr.zip",
                         "rvu26c.zip"]
    assert out.startswith("Loaded RVU26C (CY2026 July release) from cms.gov.\n")
    assert "RVU26C: 19,356 fee rows, CF 33.4009; released 06/30/2026" in out
    assert "What changed from RVU25A to RVU26C" in out and "Work RVU changed" in out and "7,477" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("33880"))
    assert line.split()[-4:] == ["34.58", "26.33", "-8.25", "A"]
    assert "Added (721): 0948T, 0949T" in out and "… and 711 more (--json lists them all)" in out
    assert Release.objects.get(name="RVU26C").source == CMS + "rvu26c.zip"
    cms.asked.clear()
    assert run("update").strip() == "RVU26C is the newest release; nothing to do"
    assert cms.asked == ["rvu26d.zip", "rvu27a.zip", "rvu26cr.zip"]


def test_quiet_prints_one_summary_line(tmp_path):
    """--quiet (cron): exactly one line when a release was loaded. A synthetic RVU27A of six rows, all in RVU25A:
    27447's work RVU raised to 20.00 (its totals left as they are); 71046 and 71046-TC have totals 0.03 lower than
    RVU25A's (0.98 and 0.67 against 1.01 and 0.70), the other rows the same figures."""
    folder = tmp_path / "mirror" / "rvu27a"
    folder.mkdir(parents=True)
    rows = [r.replace("27447,,Synthetic knee replacement,A,,19.60", "27447,,Synthetic knee replacement,A,,20.00")
            for r in ROWS_31]
    (folder / "PPRRVU27_JAN.csv").write_bytes(pprrvu_csv(rows))
    out = run("update", "--source", str(tmp_path / "mirror"), "--quiet")
    assert out.count("\n") <= 1 and out.strip() == (
        f"Loaded RVU27A (CY2027 January release) from {tmp_path / 'mirror'}: RVU25A -> RVU27A: 0 codes added, "
        "18,859 deleted, 1 with a new work RVU, 2 with new total RVUs")


def test_a_concurrent_load_is_a_temporary_failure(tmp_path, monkeypatch):
    root = mirror(tmp_path, "rvu26c")

    def busy(*a, **k):
        raise LoadBusy("RVU26C is being loaded by another process right now; nothing was written by this load.")

    monkeypatch.setattr("rvuedge.fees.management.commands.data.load_release", busy)
    before = snapshot()
    with pytest.raises(CommandError, match="RVU26C is being loaded by another process") as exc:
        run("update", "--source", str(root))
    assert exc.value.returncode == 75 and snapshot() == before


def test_a_damaged_download_is_an_error_and_changes_nothing(monkeypatch, settings):
    settings.RVUEDGE_CMS_DATA = ""
    monkeypatch.setattr("urllib.request.urlopen", FakeCms({CMS + "rvu26a.zip": b"PK\x03\x04 but not a zip"}))
    before = snapshot()
    with pytest.raises(CommandError, match=r"rvu26a\.zip: not a readable zip archive.*nothing changed") as exc:
        run("update")
    assert exc.value.returncode == 1 and snapshot() == before


# --------------------------------------------------------------------------- real processes

def cli(env: dict[str, str], *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rvuedge.cli", *args], env=env, cwd=PROJECT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.mark.slow
def test_offline_from_the_command_line_exit_75_one_line_nothing_written(tmp_path):
    from tests.fees.test_concurrent_load import Db, fresh_database

    with socket.socket() as s:  # a port nothing listens on: connection refused, as offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with fresh_database(tmp_path, "update") as env:
        proc = cli(env, "data", "update", "--source", f"https://127.0.0.1:{port}/files/zip/")
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 75, (out, err)
        assert out == "" and "Traceback" not in err
        assert err.strip().splitlines()[-1].startswith(f"CommandError: could not reach 127.0.0.1:{port}: ")
        assert err.strip().endswith("; nothing changed")
        db = Db(env)
        try:
            assert db.one("SELECT count(*) FROM fees_release") == (0,)  # migrated, nothing loaded
        finally:
            db.close()


@pytest.mark.slow
def test_serve_waits_for_the_migrate_lock_on_an_empty_database(tmp_path):
    """`serve` on an empty database takes the same migrate lock as `data load`: while another process holds it,
    serve says it waits and migrates nothing; once released, it sets the database up and prepares."""
    import fcntl

    from rvuedge.fees.migrating import MIGRATE_LOCK_KEY, WAITING
    from tests.fees.test_concurrent_load import PG, Db, fresh_database

    zip_path = tmp_path / "RVU25A.zip"
    zip_path.write_bytes(release_zip({"PPRRVU25_JAN.csv": pprrvu_csv(), "GPCI2025.csv": gpci_csv()}))
    with fresh_database(tmp_path, "serve") as env:
        var = Path(env["RVUEDGE_DATA_DIR"])
        var.mkdir(parents=True, exist_ok=True)
        if PG:
            import psycopg

            holder = psycopg.connect(env["DATABASE_URL"], autocommit=True)
            holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK_KEY,))
        else:
            holder = open(var / "rvuedge.sqlite3-migrate.lock", "a")  # noqa: SIM115
            fcntl.flock(holder, fcntl.LOCK_EX)
        proc = cli(env, "serve", "--no-serve", "--data", str(zip_path))
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if WAITING in line:
                break
        assert any(WAITING in line for line in seen), (seen, proc.poll())
        db = Db(env)
        try:
            tables = ("SELECT count(*) FROM information_schema.tables WHERE table_name = 'fees_release'" if PG else
                      "SELECT count(*) FROM sqlite_master WHERE name = 'fees_release'")
            assert db.one(tables) == (0,)  # serve has not migrated beside the lock holder
            if PG:
                holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK_KEY,))
                holder.close()
            else:
                fcntl.flock(holder, fcntl.LOCK_UN)
                holder.close()
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            assert "Database migrated." in out and "Loaded RVU25A" in out and "Traceback" not in err
            assert db.one("SELECT count(*) FROM fees_release") == (1,)
        finally:
            db.close()
