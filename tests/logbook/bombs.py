"""Hostile and odd upload files, generated on the fly (never committed): XLSX decompression bombs, lying zip
headers, huge cells, endless rows. Each writer takes a path and returns it."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
       '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         '</Relationships>')
_WB = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
       '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '</Relationships>')
SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>'.encode()
#: Row 1 of every generated sheet: 'Date of service', 'CPT' (shared strings 0 and 1; an import and a report both
#: read it).
HEADER_ROW = b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
#: Row 2: a good encounter (inline strings).
GOOD_ROW = (b'<row r="2"><c r="A2" t="inlineStr"><is><t>2025-03-04</t></is></c>'
            b'<c r="B2" t="inlineStr"><is><t>99214</t></is></c></row>')


def xlsx(path: Path, rows: Iterable[bytes] = (GOOD_ROW,), strings: Iterable[bytes] = (), *, level: int = 9,
         head: bytes = SHEET_HEAD, extra_parts: int = 0) -> Path:
    """A minimal workbook: the header row, then ``rows`` (sheet XML, streamed into the zip); ``strings`` are
    shared strings after 'Date of service' and 'CPT' (index 2 on)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}"><si><t>Date of service</t></si>'
                    '<si><t>CPT</t></si>'.encode())
            for chunk in strings:
                f.write(chunk)
            f.write(b"</sst>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(head + HEADER_ROW)
            for chunk in rows:
                f.write(chunk)
            f.write(b"</sheetData></worksheet>")
        for i in range(extra_parts):
            z.writestr(f"xl/media/part{i}.xml", "")
    return path


def shared_string_bomb(path: Path, mb: int = 400) -> Path:
    """About 410 KB on disk: one shared string of ``mb`` MB (the issue's 0.7-1.25 GB per request)."""
    block = b"A" * (1 << 20)
    return xlsx(path, [b'<row r="2"><c r="A2" t="s"><v>2</v></c></row>'],
                [b"<si><t>", *(block for _ in range(mb)), b"</t></si>"])


def blank_rows(path: Path, n: int = 3_000_000) -> Path:
    """``n`` styled empty rows below the header (what Excel writes for formatting applied to whole columns)."""
    def rows():
        for i in range(2, n + 2, 50_000):
            yield b"".join(b'<row r="%d" ht="15" customHeight="1"/>' % j for j in range(i, min(i + 50_000, n + 2)))
    return xlsx(path, rows(), level=1)


def row_gap(path: Path, row: int = 1_000_000) -> Path:
    """One value at row ``row``: every row above it is blank."""
    return xlsx(path, [GOOD_ROW, b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (row, row)])


def shared_string_amplifier(path: Path, chars: int = 100_000, rows: int = 2_000, cols: int = 10) -> Path:
    """One shared string of ``chars`` characters referenced by every cell (each row just under the row limit): a
    small file that reads as 2 GB of text."""
    cells = b"".join(b'<c t="s"><v>2</v></c>' for _ in range(cols))
    return xlsx(path, (b"<row>" + cells + b"</row>" for _ in range(rows)),
                [b"<si><t>" + b"B" * chars + b"</t></si>"])


def compressible_sheet(path: Path, mb: int = 120) -> Path:
    """An honest zip directory, but a sheet that inflates more than 100 to 1."""
    block = b'<row r="2"/>' * ((1 << 20) // 12)
    return xlsx(path, (block for _ in range(mb)))


def lying_header(path: Path, mb: int = 400, declared: int = 2048) -> Path:
    """A sheet whose zip directory (local header, central directory, zip64 field) declares ``declared`` bytes
    while it inflates to ``mb`` MB."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    block = row * ((1 << 20) // len(row))
    xlsx(path, (block for _ in range(mb)))
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    for sig, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = data.find(sig)
        while at >= 0:
            if data[at + name_at:at + name_at + len(name)] == name:
                data[at + size_at:at + size_at + 4] = declared.to_bytes(4, "little")
                extra = at + name_at + int.from_bytes(data[at + name_len_at:at + name_len_at + 2], "little")
                if data[extra:extra + 2] == b"\x01\x00":  # the zip64 field: uncompressed size first
                    data[extra + 4:extra + 12] = declared.to_bytes(8, "little")
            at = data.find(sig, at + 4)
    path.write_bytes(bytes(data))
    return path


def huge_csv_cell(path: Path, mb: int = 40) -> Path:
    """A CSV whose second row is one quoted cell of ``mb`` MB with no line break."""
    with open(path, "wb") as f:
        f.write(b'Date of service,CPT,Notes\n2025-03-04,99214,"')
        block = b"x" * (1 << 20)
        for _ in range(mb):
            f.write(block)
        f.write(b'"\n')
    return path


def comma_line(path: Path, mb: int = 40) -> Path:
    """A CSV whose second line is ``mb`` MB of commas (csv.reader would make a list of 40 million cells)."""
    with open(path, "wb") as f:
        f.write(b"Date of service,CPT\n")
        block = b"," * (1 << 20)
        for _ in range(mb):
            f.write(block)
        f.write(b"\n")
    return path
