"""Read CMS zips, downloads and files with bounded memory: a decompression bomb is refused, not inflated.

Every limit below is checked *before* anything is decompressed, from the archive's own directory, and
again while reading (a member whose header lies about its size cannot get past its declared size):

* the archive itself (file or download) is at most ``MAX_ARCHIVE_BYTES`` and its central directory at
  most ``MAX_DIRECTORY_BYTES`` / ``MAX_MEMBERS`` entries (read from the end record before
  :mod:`zipfile` builds one object per entry);
* each member we read, and each file read from disk, declares at most ``MAX_MEMBER_BYTES``
  uncompressed, inflates at most ``MAX_RATIO`` times its compressed size, and uses a compression
  method whose output :mod:`zipfile` reads in bounded steps (stored or deflate; bzip2 and LZMA members
  are inflated in one call, so a lying header could not stop them);
* all members read from one archive (or files from one folder) total at most ``MAX_TOTAL_BYTES``.

Members are read through :meth:`zipfile.ZipFile.open` in ``CHUNK_BYTES`` steps, never with one unbounded
``read()``; the parsers then get each member's bytes (at most ``MAX_MEMBER_BYTES``) because they decide
the text encoding (UTF-8, else Windows-1252) over the whole file and report exact line positions.

The limits leave a wide margin over every real release (measured on RVU22A-RVU25A and the January 2026
HCPCS zip; see ``tests/fees/test_archive_limits.py``): the largest member we read is the HCPCS
alpha-numeric TXT (5,350,232 bytes; the largest PPRRVU member is 3,263,963 bytes), the highest
ratio 12.3 (that TXT; PPRRVU CSVs 6.9), the largest zip 4,055,697 bytes with 16 members, and one release
zip's members we read total 6.5 MB.

Zips nested inside a zip are not opened (no real CMS release nests them): their names are reported so
that the user can extract them.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MiB = 1024 * 1024
MAX_ARCHIVE_BYTES = 64 * MiB  # a release zip or download (largest real: 4,055,697 bytes)
MAX_DIRECTORY_BYTES = 1 * MiB  # the zip's central directory (real: under 2 KB)
MAX_MEMBERS = 1000  # entries in one zip (real: 16)
MAX_MEMBER_BYTES = 32 * MiB  # one file we parse, uncompressed (largest real: 5,350,232 bytes)
MAX_TOTAL_BYTES = 96 * MiB  # all files read for one load (largest real: about 6.5 MB)
MAX_RATIO = 100  # uncompressed / compressed size of a member (highest real: 12.3)
RATIO_FLOOR_BYTES = 1 * MiB  # the ratio is only checked above this size (tiny members compress oddly)
CHUNK_BYTES = 1 * MiB
SAFE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "deflate64"}


class ArchiveError(Exception):
    """An archive or file refused before (or while) reading it; the message names it and the limit."""


@dataclass
class SourceFile:
    name: str
    data: bytes
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            self.sha256 = hashlib.sha256(self.data).hexdigest()


def _mb(n: int) -> str:
    return f"{n:,} bytes" if n < MiB else f"{n / MiB:,.1f} MiB ({n:,} bytes)"


# --------------------------------------------------------------------------- the zip's end record

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record (22 bytes + comment)
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes, just before the end record
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # 56 bytes


def _directory_size(fp: BinaryIO, size: int) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the end record, or None if there is none."""
    tail_len = min(size, _EOCD.size + 65535)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < _EOCD.size:
        return None
    _sig, _disk, _cd_disk, _n_disk, entries, cd_size, _cd_offset, _comment = _EOCD.unpack_from(tail, pos)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # ZIP64: the real figures are in the ZIP64 record,
        loc = pos - _ZIP64_LOCATOR.size  # which zipfile reads just before the ZIP64 locator
        rec_at = loc - _ZIP64_EOCD.size
        if rec_at < 0 or tail[loc:loc + 4] != b"PK\x06\x07" or tail[rec_at:rec_at + 4] != b"PK\x06\x06":
            return entries, cd_size
        fields = _ZIP64_EOCD.unpack_from(tail, rec_at)
        entries, cd_size = fields[7], fields[8]
    return entries, cd_size


# --------------------------------------------------------------------------- reading

def read_zip(source: Path | bytes, label: str, wanted: Callable[[str], bool]) -> list[SourceFile]:
    """The members of a zip for which ``wanted(name)`` is true, read within the limits above.

    Raises ArchiveError naming the archive, the member and the limit; zipfile.BadZipFile (and OSError)
    for an unreadable archive, which callers report as such.
    """
    if isinstance(source, bytes):
        size = len(source)
        handle: BinaryIO = io.BytesIO(source)
    else:
        size = source.stat().st_size
        handle = source.open("rb")
    with handle:
        if size > MAX_ARCHIVE_BYTES:
            raise ArchiveError(f"{label}: the zip is {_mb(size)}; the limit is {_mb(MAX_ARCHIVE_BYTES)} "
                               "(MAX_ARCHIVE_BYTES; a CMS release zip is about 4 MB)")
        directory = _directory_size(handle, size)
        if directory is not None:
            entries, cd_size = directory
            if entries > MAX_MEMBERS:
                raise ArchiveError(f"{label}: the zip lists {entries:,} entries; the limit is {MAX_MEMBERS:,} "
                                   "(MAX_MEMBERS; a CMS release zip has about 16)")
            if cd_size > MAX_DIRECTORY_BYTES:
                raise ArchiveError(f"{label}: the zip's directory is {_mb(cd_size)}; the limit is "
                                   f"{_mb(MAX_DIRECTORY_BYTES)} (MAX_DIRECTORY_BYTES)")
        handle.seek(0)
        with zipfile.ZipFile(handle) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ArchiveError(f"{label}: the zip lists {len(infos):,} entries; the limit is {MAX_MEMBERS:,} "
                                   "(MAX_MEMBERS)")
            picked = [i for i in infos if not i.is_dir() and wanted(i.filename)]
            nested = [i.filename for i in infos if not i.is_dir() and i.filename.lower().endswith(".zip")]
            total = 0
            for info in picked:  # every check before anything is inflated
                check_member(info, label)
                total += info.file_size
                if total > MAX_TOTAL_BYTES:
                    raise ArchiveError(
                        f"{label}: the files to read declare {_mb(total)} uncompressed in all (reached at "
                        f"{info.filename}); the limit is {_mb(MAX_TOTAL_BYTES)} (MAX_TOTAL_BYTES)")
            if not picked and nested:
                raise ArchiveError(
                    f"{label}: no CMS files at the top level of the zip, only other zip archives "
                    f"({', '.join(nested[:5])}), which are not opened; extract them and load the folder")
            return [SourceFile(i.filename.replace("\\", "/").rsplit("/", 1)[-1], read_member(zf, i, label))
                    for i in picked]


def check_member(info: zipfile.ZipInfo, label: str) -> None:
    """Refuse a member by its directory entry: method, declared size and compression ratio."""
    where = f"{label}: {info.filename}"
    if info.compress_type not in SAFE_METHODS:
        method = METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise ArchiveError(f"{where} is compressed with {method}; only stored and deflate members are read "
                           "(CMS zips use deflate)")
    if info.file_size > MAX_MEMBER_BYTES:
        raise ArchiveError(f"{where} declares {_mb(info.file_size)} uncompressed; the limit is "
                           f"{_mb(MAX_MEMBER_BYTES)} per file (MAX_MEMBER_BYTES; the largest CMS file is about 5 MB)")
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        ratio = info.file_size / max(info.compress_size, 1)
        raise ArchiveError(f"{where} would inflate {ratio:,.0f} times ({_mb(info.compress_size)} to "
                           f"{_mb(info.file_size)}); the limit is {MAX_RATIO} times (MAX_RATIO; CMS files "
                           "inflate at most about 12 times)")


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    """Inflate one member in CHUNK_BYTES steps, stopping at its declared size."""
    where = f"{label}: {info.filename}"
    declared = info.file_size
    buf = bytearray()
    try:
        with zf.open(info) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                buf += chunk
                if len(buf) > declared:
                    raise ArchiveError(f"{where} inflates past its declared size of {_mb(declared)}; "
                                       "reading stopped there (a damaged or malicious zip)")
    except zipfile.BadZipFile as exc:
        # zipfile stops a member at its declared size; a member whose data goes on (a lying header)
        # then fails its CRC check, as does a damaged one.
        raise ArchiveError(f"{where}: its data does not match the zip's directory ({exc}): a damaged "
                           f"zip, or a member that inflates past its declared size of {_mb(declared)}; "
                           "reading stopped there") from None
    return bytes(buf)


def read_file(path: Path, budget: list[int] | None = None) -> SourceFile:
    """Read one file from disk, refusing one over MAX_MEMBER_BYTES (checked again while reading).

    ``budget`` (a one-item list) is the bytes left of MAX_TOTAL_BYTES for a folder load.
    """
    size = path.stat().st_size
    if size > MAX_MEMBER_BYTES:
        raise ArchiveError(f"{path}: the file is {_mb(size)}; the limit is {_mb(MAX_MEMBER_BYTES)} per file "
                           "(MAX_MEMBER_BYTES; the largest CMS file is about 5 MB)")
    with path.open("rb") as fh:
        data = fh.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:  # it grew after stat()
        raise ArchiveError(f"{path}: the file is over {_mb(MAX_MEMBER_BYTES)} per file (MAX_MEMBER_BYTES)")
    if budget is not None:
        budget[0] -= len(data)
        if budget[0] < 0:
            raise ArchiveError(f"{path}: the files to read total over {_mb(MAX_TOTAL_BYTES)} (MAX_TOTAL_BYTES)")
    return SourceFile(path.name, data)


def read_stream(response: BinaryIO, label: str, declared: int | None,
                progress: Callable[[int], None] | None = None) -> bytes:
    """Read a download of at most MAX_ARCHIVE_BYTES (refused up front by Content-Length, or once past it)."""
    if declared is not None and declared > MAX_ARCHIVE_BYTES:
        raise ArchiveError(f"{label}: the download is {_mb(declared)}; the limit is {_mb(MAX_ARCHIVE_BYTES)} "
                           "(MAX_ARCHIVE_BYTES; a CMS release zip is about 4 MB)")
    buf = bytearray()
    while chunk := response.read(256 * 1024):
        buf += chunk
        if progress is not None:
            progress(len(chunk))
        if len(buf) > MAX_ARCHIVE_BYTES:
            raise ArchiveError(f"{label}: the download passed {_mb(MAX_ARCHIVE_BYTES)}, the limit "
                               "(MAX_ARCHIVE_BYTES); stopped")
    return bytes(buf)
