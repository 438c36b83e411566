"""Hand-built zip archives for the loader's bomb tests: any declared size, method and payload.

:mod:`zipfile` can only write honest archives; a bomb needs a directory that says one thing and data
that does another, and a 2 GB member that costs 2 MB to build. Everything here is synthetic.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")


@dataclass
class RawMember:
    name: str
    payload: bytes  # the member's data as stored in the zip (already compressed for method 8)
    crc: int
    declared_size: int  # the uncompressed size the headers claim
    method: int = 8


def raw_zip(members: list[RawMember], entries: int | None = None) -> bytes:
    """A zip with exactly these headers (``entries`` overrides the end record's entry count)."""
    out = bytearray()
    central = bytearray()
    for m in members:
        name = m.name.encode()
        offset = len(out)
        out += _LOCAL.pack(b"PK\x03\x04", 20, 0, m.method, 0, 0x21, m.crc, len(m.payload), m.declared_size,
                           len(name), 0)
        out += name + m.payload
        central += _CENTRAL.pack(b"PK\x01\x02", 20, 20, 0, m.method, 0, 0x21, m.crc, len(m.payload),
                                 m.declared_size, len(name), 0, 0, 0, 0, 0, offset)
        central += name
    cd_offset = len(out)
    out += central
    count = len(members) if entries is None else entries
    out += _END.pack(b"PK\x05\x06", 0, 0, count, count, len(central), cd_offset, 0)
    return bytes(out)


def deflate_bomb(chunk: bytes, repeats: int) -> tuple[bytes, int, int]:
    """(raw deflate data, crc32, size) of ``chunk`` repeated ``repeats`` times, built in O(len(chunk)).

    After a full flush a deflate stream starts afresh, so one compressed block can be repeated.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    return block * repeats + end, crc, len(chunk) * repeats


def deflated(data: bytes) -> RawMember:
    """An honest deflate member holding ``data`` (name filled in by the caller)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return RawMember("", c.compress(data) + c.flush(), zlib.crc32(data), len(data))
