"""Typed rows produced by the CMS file parsers.

Pure Python: no Django imports anywhere under ``rvuedge.fees.parsers``.
All RVUs, GPCIs, conversion factors and prices are ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


class ParseError(Exception):
    """One bad input: names the file, the 1-based line and the column/field."""

    def __init__(self, file: str, line: int | None, column: str | None, message: str):
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        where = file
        if line is not None:
            where += f", line {line}"
        if column:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class FeeRow:
    """One PPRRVU row (HCPCS + modifier). Every column of the file is kept."""

    hcpcs: str
    modifier: str  # "" for the global row, else "26", "TC", "53", ...
    description: str
    status: str  # one letter, A..X
    not_used_for_medicare: str  # "" or the file's flag (e.g. "+")
    work_rvu: Decimal
    nonfac_pe_rvu: Decimal
    nonfac_na: bool  # NON-FAC NA INDICATOR == "NA"
    fac_pe_rvu: Decimal
    fac_na: bool
    mp_rvu: Decimal
    nonfac_total: Decimal
    fac_total: Decimal
    pctc: str  # "0".."9"
    glob_days: str  # "000", "010", "090", "MMM", "XXX", "YYY", "ZZZ"
    pre_op: Decimal
    intra_op: Decimal
    post_op: Decimal
    mult_proc: str
    bilat_surg: str
    asst_surg: str
    co_surg: str
    team_surg: str
    pric_ind: str  # "" before 2026 (column absent)
    endo_base: str
    conv_factor: Decimal
    phys_supervision: str
    calc_flag: str
    dx_img_family: str
    opps_nonfac_pe: Decimal
    opps_fac_pe: Decimal
    opps_mp: Decimal
    line: int = 0  # 1-based source line, for error messages


@dataclass(slots=True)
class PprrvuFile:
    file: str
    title: str  # e.g. "2025 National Physician Fee Schedule Relative Value File January Release"
    released: dt.date | None  # from the "RELEASED mm/dd/yyyy" preamble line
    layout: str  # "31" (2022-2025) or "32" (2026, with PRIC IND)
    conv_factor: Decimal | None  # the CF column (same on every row; None if the file has no rows)
    rows: list[FeeRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class GpciRow:
    mac: str  # zero-padded to 5 digits ("02102")
    state: str  # two letters
    locality: str  # zero-padded to 2 digits ("01")
    name: str  # "ALASKA" (trailing '*' footnote marks stripped)
    work_gpci: Decimal  # with the 1.0 floor where the file has that column
    work_gpci_no_floor: Decimal | None  # None when the file has only one work column
    pe_gpci: Decimal
    mp_gpci: Decimal
    line: int = 0


@dataclass(frozen=True, slots=True)
class LocalityRow:
    mac: str  # zero-padded to 5 digits
    locality: str  # zero-padded to 2 digits
    state: str  # full state name as in the file, stripped ("ALABAMA")
    area: str  # fee schedule area ("STATEWIDE", "MANHATTAN")
    counties: str  # county list as in the file, stripped
    line: int = 0


@dataclass(frozen=True, slots=True)
class AnesRow:
    mac: str  # zero-padded to 5 digits
    locality: str  # zero-padded to 2 digits
    name: str
    conv_factor: Decimal
    line: int = 0


@dataclass(slots=True)
class AnesFile:
    file: str
    national_cf: Decimal | None  # from a header like "National Anes CF of 20.3178", else None
    rows: list[AnesRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OppsCapRow:
    hcpcs: str
    modifier: str
    procstat: str
    mac: str  # CARRIER, zero-padded to 5
    locality: str  # zero-padded to 2
    fac_price: Decimal
    nonfac_price: Decimal
    line: int = 0


@dataclass(frozen=True, slots=True)
class HcpcsCode:
    code: str
    long_description: str  # continuation lines joined with single spaces
    short_description: str
    pricing_indicators: tuple[str, ...]
    multiple_pricing: str
    coverage: str
    asc_group: str
    betos: str
    type_of_service: tuple[str, ...]
    anes_base_units: int | None
    added: dt.date | None
    action_effective: dt.date | None
    terminated: dt.date | None
    action_code: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class HcpcsModifier:
    modifier: str  # two characters
    long_description: str
    short_description: str
    added: dt.date | None
    action_effective: dt.date | None
    terminated: dt.date | None
    action_code: str
    line: int = 0


@dataclass(slots=True)
class HcpcsFile:
    file: str
    codes: list[HcpcsCode] = field(default_factory=list)
    modifiers: list[HcpcsModifier] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # "FILE, line N: why it was skipped"
