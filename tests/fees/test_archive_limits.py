"""Decompression bombs and oversized inputs are refused before they are inflated, with bounded memory.

The limits (rvuedge/fees/archives.py) are measured here against every real CMS zip and file, so a
limit that a real release would hit fails this test rather than a user's load.
"""

from __future__ import annotations

import bz2
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rvuedge.fees import archives
from rvuedge.fees.importer import LoadError, kind_of, load_hcpcs, load_release
from rvuedge.fees.models import FeeRow, Release
from tests.fees.zipbuild import RawMember, deflate_bomb, deflated, raw_zip
from tests.synthetic import gpci_csv, pprrvu_csv, release_zip

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]
RSS_CEILING_KB = 400 * 1024  # peak resident memory of a refused `rvuedge data load`
GIB = 1024**3


def snapshot():
    return list(Release.objects.values_list("pk", "name", "fingerprint")), FeeRow.objects.count()


def load(path: Path | str) -> None:
    call_command("data", "load", str(path), stdout=StringIO(), stderr=StringIO())


# --------------------------------------------------------------------------- the limits vs real files

def test_real_cms_files_fit_the_limits_with_a_wide_margin(cms_dir):
    biggest_member = biggest_ratio = biggest_zip = most_entries = biggest_total = 0
    zips = sorted(cms_dir.glob("*/*.zip"))
    assert len(zips) >= 5
    for path in zips:
        biggest_zip = max(biggest_zip, path.stat().st_size)
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            most_entries = max(most_entries, len(infos))
            read = [i for i in infos if kind_of(i.filename)]
            assert read, path
            biggest_total = max(biggest_total, sum(i.file_size for i in read))
            for info in read:
                assert info.compress_type in archives.SAFE_METHODS
                biggest_member = max(biggest_member, info.file_size)
                biggest_ratio = max(biggest_ratio, info.file_size / info.compress_size)
    for path in cms_dir.glob("*/*"):
        if path.suffix.lower() in (".csv", ".txt") and kind_of(path.name):
            biggest_member = max(biggest_member, path.stat().st_size)
    # The measured figures quoted in archives.py, and a margin of at least 4x under every limit.
    assert biggest_member == 5_350_232 and biggest_zip == 4_055_697 and most_entries == 16
    assert 12 < biggest_ratio < 13
    assert biggest_member * 6 <= archives.MAX_MEMBER_BYTES
    assert biggest_ratio * 8 <= archives.MAX_RATIO
    assert biggest_zip * 16 <= archives.MAX_ARCHIVE_BYTES
    assert most_entries * 60 <= archives.MAX_MEMBERS
    assert biggest_total * 10 <= archives.MAX_TOTAL_BYTES


def test_a_hand_built_honest_zip_loads(tmp_path):
    """The raw zip builder the bomb tests use writes archives the loader accepts when they are honest."""
    member = deflated(pprrvu_csv())
    member.name = "PPRRVU25_APR.csv"
    path = tmp_path / "RVU25B.zip"
    path.write_bytes(raw_zip([member]))
    load(path)
    assert FeeRow.objects.filter(release__name="RVU25B").count() == 6


# --------------------------------------------------------------------------- bombs in a real process

def bomb(tmp_path: Path, case: str, gib: int = 2) -> tuple[Path, str]:
    """(source path, what the error must say besides the file name) for one kind of bomb."""
    if case == "huge file on disk":
        sparse = tmp_path / "PPRRVU25_APR.csv"  # a 2 GiB file on disk (sparse: costs no space)
        with sparse.open("wb") as fh:
            fh.truncate(gib * GIB)
        return sparse, "limit is 32.0 MiB"
    if case == "bzip2 member":  # bzip2 inflates a member in one call, whatever its header says: never read
        packed = bz2.compress(b"\0" * (16 * 1024 * 1024))
        path = tmp_path / "bzip2.zip"
        path.write_bytes(raw_zip([RawMember("PPRRVU25_APR.csv", packed, 0, 100_000, method=zipfile.ZIP_BZIP2)]))
        return path, "compressed with bzip2"
    payload, crc, size = deflate_bomb(b"0," * (512 * 1024), gib * 1024)  # 2 MB of zip, 2 GiB inflated
    assert size == gib * GIB and len(payload) < 1.1 * gib * 1024 * 1024
    declared, expected = {
        "honest huge declared size": (size, "limit is 32.0 MiB"),  # says 2 GiB, and is
        "lying header": (30 * 1024 * 1024, "inflates past its declared size of 30.0 MiB"),  # within every limit
        "lying header, small": (100_000, "inflates past its declared size of 100,000 bytes"),
    }[case]
    path = tmp_path / "bomb.zip"
    path.write_bytes(raw_zip([RawMember("PPRRVU25_APR.csv", payload, crc, declared)]))
    return path, expected


# Runs `rvuedge data load` and, as the process exits, writes its peak resident memory (VmHWM, in kB) to a
# file. (getrusage/wait4 would not do: a child's ru_maxrss starts at the size of the process it was
# forked from, here pytest itself.)
PEAK_RSS_WRAPPER = """
import atexit, sys
def report(path=sys.argv[1]):
    with open("/proc/self/status") as status, open(path, "w") as out:
        out.write(next(ln for ln in status if ln.startswith("VmHWM:")).split()[1])
atexit.register(report)
sys.argv = ["rvuedge", *sys.argv[2:]]
from rvuedge.cli import main
main()
"""


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A migrated SQLite database file to copy, so that each command below does not migrate afresh."""
    data_dir = tmp_path_factory.mktemp("migrated")
    env = dict(os.environ, RVUEDGE_DATA_DIR=str(data_dir))
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "rvuedge.cli", "migrate", "-v", "0"], env=env, cwd=PROJECT, check=True,
                   timeout=300)
    with sqlite3.connect(data_dir / "rvuedge.sqlite3") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return data_dir / "rvuedge.sqlite3"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc for VmHWM")
@pytest.mark.parametrize("case", [
    "honest huge declared size",
    "lying header",
    pytest.param("lying header, small", marks=pytest.mark.slow),
    pytest.param("bzip2 member", marks=pytest.mark.slow),
    pytest.param("huge file on disk", marks=pytest.mark.slow),
])
def test_bomb_is_refused_by_the_cli_with_bounded_memory(tmp_path, migrated_sqlite, case):
    source, expected = bomb(tmp_path, case)
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    shutil.copy(migrated_sqlite, data_dir / "rvuedge.sqlite3")
    peak = tmp_path / "peak_kb"
    env = dict(os.environ, RVUEDGE_DATA_DIR=str(data_dir))
    env.pop("DATABASE_URL", None)
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS_WRAPPER, str(peak), "data", "load", str(source)],
                          capture_output=True, text=True, env=env, cwd=PROJECT, timeout=600)
    assert proc.returncode != 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert source.name in proc.stderr and expected in proc.stderr, proc.stderr
    peak_kb = int(peak.read_text())
    assert 20 * 1024 < peak_kb < RSS_CEILING_KB, f"peak RSS {peak_kb / 1024:.0f} MiB"
    with sqlite3.connect(data_dir / "rvuedge.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM fees_release").fetchone() == (0,)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc for VmHWM")
def test_the_peak_rss_probe_sees_a_bomb_inflated_the_old_way(tmp_path):
    """Control: the probe measures the child, and the honest bomb read whole (what the loader did) is far
    over the ceiling."""
    source, _expected = bomb(tmp_path, "honest huge declared size", gib=1)
    peak = tmp_path / "peak_kb"
    probe = PEAK_RSS_WRAPPER.replace(
        "from rvuedge.cli import main\nmain()",
        "import zipfile\nzipfile.ZipFile(sys.argv[-1]).read('PPRRVU25_APR.csv')",
    )
    subprocess.run([sys.executable, "-c", probe, str(peak), str(source)], check=True, timeout=600)
    assert int(peak.read_text()) > 2 * RSS_CEILING_KB


# --------------------------------------------------------------------------- each limit, in-process

def test_high_compression_ratio_is_refused_before_reading(tmp_path):
    member = deflated(b"0," * (2 * 1024 * 1024))  # 4 MiB that deflate to a few kB
    member.name = "PPRRVU25_APR.csv"
    path = tmp_path / "RVU25B.zip"
    path.write_bytes(raw_zip([member]))
    before = snapshot()
    with pytest.raises(CommandError, match=r"RVU25B\.zip: PPRRVU25_APR\.csv would inflate [\d,]+ times .*"
                                           r"the limit is 100 times \(MAX_RATIO"):
        load(path)
    assert snapshot() == before


@pytest.mark.parametrize("case", ["lying header, small", "bzip2 member", "huge file on disk"])
def test_bomb_is_refused_in_process(tmp_path, case):
    source, expected = bomb(tmp_path, case, gib=1)
    before = snapshot()
    with pytest.raises(CommandError) as exc:
        load(source)
    assert source.name in str(exc.value) and expected in str(exc.value)
    assert snapshot() == before


def test_members_declaring_too_much_in_all_are_refused(tmp_path):
    names = ["PPRRVU25_APR.csv", "GPCI2025.csv", "25LOCCO.csv", "OPPSCAP_APR.csv"]
    size = 30 * 1024 * 1024  # each within the per-file and ratio limits; never read
    members = [RawMember(n, b"\0" * (size // 90), 0, size) for n in names]
    path = tmp_path / "RVU25B.zip"
    path.write_bytes(raw_zip(members))
    with pytest.raises(CommandError, match=r"RVU25B\.zip: the files to read declare 120\.0 MiB .* at "
                                           r"OPPSCAP_APR\.csv\); the limit is 96\.0 MiB .*MAX_TOTAL_BYTES"):
        load(path)


def test_too_many_entries_refused_from_the_end_record(tmp_path):
    member = deflated(pprrvu_csv())
    member.name = "PPRRVU25_APR.csv"
    path = tmp_path / "RVU25B.zip"
    path.write_bytes(raw_zip([member], entries=65_000))  # the end record claims 65,000 entries
    with pytest.raises(CommandError, match=r"RVU25B\.zip: the zip lists 65,000 entries; the limit is 1,000"):
        load(path)
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(1001):
            zf.writestr(f"x{i}.txt", b"")
    with pytest.raises(CommandError, match=r"many\.zip: the zip lists 1,001 entries; the limit is 1,000"):
        load(many)


def test_oversized_zip_refused_before_opening(tmp_path):
    path = tmp_path / "RVU25B.zip"
    with path.open("wb") as fh:
        fh.write(release_zip({"PPRRVU25_APR.csv": pprrvu_csv()}))
        fh.truncate(archives.MAX_ARCHIVE_BYTES + 1)
    with pytest.raises(CommandError, match=r"RVU25B\.zip: the zip is 64\.0 MiB .*; the limit is 64\.0 MiB"):
        load(path)


def test_oversized_file_in_a_folder_refused(tmp_path):
    folder = tmp_path / "rvu25b"
    folder.mkdir()
    (folder / "PPRRVU25_APR.csv").write_bytes(pprrvu_csv())
    with (folder / "OPPSCAP_APR.csv").open("wb") as fh:
        fh.truncate(archives.MAX_MEMBER_BYTES + 1)
    before = snapshot()
    with pytest.raises(CommandError, match=r"OPPSCAP_APR\.csv: the file is 32\.0 MiB .*MAX_MEMBER_BYTES"):
        load(folder)
    assert snapshot() == before


def test_hcpcs_zip_gets_the_same_checks(tmp_path):
    payload, crc, size = deflate_bomb(b" " * (1024 * 1024), 1024)
    path = tmp_path / "hcpcs.zip"
    path.write_bytes(raw_zip([RawMember("HCPC2026_JAN_ANWEB_01122026.txt", payload, crc, size)]))
    with pytest.raises(LoadError, match=r"hcpcs\.zip: HCPC2026_JAN_ANWEB_01122026\.txt declares 1,024\.0 MiB"):
        load_hcpcs(str(path))


def test_nested_zip_is_named_not_opened(tmp_path):
    inner = release_zip({"PPRRVU25_APR.csv": pprrvu_csv()})
    path = tmp_path / "RVU25B.zip"
    path.write_bytes(release_zip({"inner/RVU25B-files.zip": inner}))
    with pytest.raises(CommandError, match=r"RVU25B\.zip: no CMS files at the top level .*inner/RVU25B-files\.zip"
                                           r".*not opened; extract them"):
        load(path)


def test_zip_with_cms_files_and_a_nested_zip_loads_the_top_level(tmp_path):
    path = tmp_path / "RVU25B.zip"
    path.write_bytes(release_zip({"PPRRVU25_APR.csv": pprrvu_csv(), "GPCI2025.csv": gpci_csv(),
                                  "extra.zip": release_zip({"PPRRVU25_APR.csv": b"never read"})}))
    result = load_release(str(path))
    assert result.counts["fee_rows"] == 6 and result.counts["gpci"] == 2


class _Response:
    """A fake HTTP response: ``length`` bytes of zip-ish data, with or without a Content-Length."""

    def __init__(self, length: int, declare: bool):
        self.left = length
        self.headers = {"Content-Length": str(length)} if declare else {}
        self.served = 0

    def read(self, n=-1):
        n = min(self.left, 256 * 1024 if n < 0 else n)
        self.left -= n
        self.served += n
        return b"\0" * n

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("declare", [True, False])
def test_oversized_download_is_refused(monkeypatch, declare):
    response = _Response(10 * archives.MAX_ARCHIVE_BYTES, declare)
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: response)
    before = snapshot()
    with pytest.raises(LoadError, match=r"https://example\.org/RVU26A\.zip: the download (is 640\.0 MiB|passed "
                                        r"64\.0 MiB).*MAX_ARCHIVE_BYTES"):
        load_release("https://example.org/RVU26A.zip")
    assert response.served <= archives.MAX_ARCHIVE_BYTES + 256 * 1024
    assert snapshot() == before

