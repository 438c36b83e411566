"""A synthetic "Medicare Physician & Other Practitioners — by Provider and Service" file.

Exactly the CMS column names and value types, realistic in shape, and never real: NPIs start with 9
(real NPIs start with 1 or 2), names and streets are placeholders ("SYNTH-LAST-0001234"), and the
numbers are drawn at random. About 9 rows per clinician (1.1 million clinicians for 10 million rows);
the provider-type mix and each type's code families follow the broad shape of the public file; services
are heavily skewed (log-normal). Deterministic for a given seed. Codes and descriptors come from the
PPRRVU file the caller supplies (the user's own CMS download), so this module ships no CPT text.
"""

from __future__ import annotations

import bisect
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from rvuedge.fees.parsers import parse_pprrvu

from .medicare import CMS_COLUMNS

# (provider type, share of clinicians, mean rows per clinician, credentials, entity code, code families)
# Families are weighted; see FAMILIES for the code ranges behind each name.
SPECIALTY_MIX: tuple[tuple[str, float, float, str, str, dict[str, float]], ...] = (
    ("Nurse Practitioner", 18.0, 7, "NP", "I", {"em_office": 6, "em_hosp": 1.5, "em_nursing": 1, "admin": 1.5, "preventive": 1}),
    ("Physician Assistant", 10.0, 7, "PA-C", "I", {"em_office": 5, "em_ed": 2, "admin": 1, "ortho": 0.7, "derm": 0.7}),
    ("Internal Medicine", 8.5, 13, "MD", "I", {"em_office": 6, "em_hosp": 3, "preventive": 1, "admin": 2, "cardio_dx": 0.6}),
    ("Family Practice", 7.5, 13, "MD", "I", {"em_office": 7, "preventive": 2, "admin": 2, "em_nursing": 0.6, "derm": 0.4}),
    ("Physical Therapist in Private Practice", 5.0, 8, "PT", "I", {"pt": 10}),
    ("Certified Registered Nurse Anesthetist (CRNA)", 4.0, 9, "CRNA", "I", {"anesthesia": 8, "blocks": 1}),
    ("Emergency Medicine", 4.0, 11, "MD", "I", {"em_ed": 8, "crit": 1, "ed_proc": 1.5, "xr": 0.3}),
    ("Diagnostic Radiology", 3.5, 28, "MD", "I", {"xr": 5, "ctmr": 5, "us": 2, "mammo": 1.5}),
    ("Anesthesiology", 3.0, 10, "MD", "I", {"anesthesia": 8, "blocks": 2, "lines": 1}),
    ("Cardiology", 2.2, 22, "MD", "I", {"em_office": 3, "em_hosp": 1.5, "cardio_dx": 4, "cardio_proc": 1.5}),
    ("Hospitalist", 2.0, 8, "MD", "I", {"em_hosp": 8, "crit": 1}),
    ("Orthopedic Surgery", 1.8, 16, "MD", "I", {"em_office": 4, "ortho": 5, "xr": 1}),
    ("Psychiatry", 1.6, 8, "MD", "I", {"psych": 6, "em_office": 3, "em_hosp": 1}),
    ("Clinical Psychologist", 1.0, 5, "PHD", "I", {"psych": 10}),
    ("General Surgery", 1.3, 12, "MD", "I", {"em_office": 3, "gensurg": 5, "em_hosp": 1, "gi": 1}),
    ("Obstetrics & Gynecology", 1.3, 9, "MD", "I", {"em_office": 4, "obgyn": 4, "preventive": 1, "us": 0.5}),
    ("Ophthalmology", 1.3, 14, "MD", "I", {"eye": 8, "em_office": 1}),
    ("Dermatology", 0.9, 16, "MD", "I", {"derm": 8, "em_office": 3}),
    ("Gastroenterology", 0.9, 14, "MD", "I", {"gi": 6, "em_office": 3, "em_hosp": 1}),
    ("Neurology", 0.9, 12, "MD", "I", {"em_office": 4, "neuro": 4, "em_hosp": 1}),
    ("Urology", 0.7, 15, "MD", "I", {"em_office": 4, "uro": 5, "us": 0.5}),
    ("Pulmonary Disease", 0.7, 13, "MD", "I", {"em_office": 3, "pulm": 4, "crit": 2, "em_hosp": 2}),
    ("Nephrology", 0.6, 12, "MD", "I", {"dialysis": 5, "em_hosp": 3, "em_office": 2}),
    ("Hematology-Oncology", 0.8, 12, "MD", "I", {"em_office": 5, "onc": 3, "admin": 1}),
    ("Otolaryngology", 0.5, 14, "MD", "I", {"em_office": 4, "ent": 5}),
    ("Neurosurgery", 0.3, 10, "MD", "I", {"em_office": 3, "neurosurg": 5, "em_hosp": 1}),
    ("Podiatry", 1.0, 11, "DPM", "I", {"podiatry": 6, "em_office": 2}),
    ("Chiropractic", 2.0, 4, "DC", "I", {"chiro": 10}),
    ("Physical Medicine and Rehabilitation", 0.6, 12, "MD", "I", {"em_office": 3, "neuro": 2, "blocks": 3}),
    ("Ambulance Service Provider", 0.6, 6, "", "O", {"ambulance": 10}),
    ("Clinical Laboratory", 0.5, 40, "", "O", {"lab": 10}),
    ("Independent Diagnostic Testing Facility (IDTF)", 0.3, 25, "", "O", {"xr": 3, "ctmr": 3, "us": 3, "cardio_dx": 2}),
    ("Pathology", 0.7, 15, "MD", "I", {"path": 8, "lab": 2}),
    ("Radiation Oncology", 0.4, 16, "MD", "I", {"radonc": 8, "em_office": 1}),
    ("Infectious Disease", 0.5, 10, "MD", "I", {"em_hosp": 6, "em_office": 3, "admin": 1}),
    ("Endocrinology", 0.5, 10, "MD", "I", {"em_office": 8, "admin": 1, "us": 0.5}),
    ("Rheumatology", 0.4, 12, "MD", "I", {"em_office": 5, "admin": 2, "ortho": 1, "drugs": 1}),
    ("Optometry", 1.4, 10, "OD", "I", {"eye": 6}),
    ("Pediatric Medicine", 0.3, 6, "MD", "I", {"em_office": 6, "preventive": 2, "admin": 1}),
)

# Family -> (code ranges, "hot" codes that carry most of the family's volume).
FAMILIES: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "em_office": ((("99202", "99215"),), ("99214", "99213", "99204", "99215", "99203", "99212")),
    "em_hosp": ((("99221", "99239"),), ("99232", "99233", "99223", "99231", "99238", "99239")),
    "em_ed": ((("99281", "99285"),), ("99285", "99284", "99283")),
    "em_nursing": ((("99304", "99316"),), ("99309", "99308", "99310")),
    "crit": ((("99291", "99292"),), ("99291",)),
    "preventive": ((("99381", "99397"), ("G0438", "G0439"), ("G0402", "G0402")), ("G0439", "G0438", "99397")),
    "admin": ((("96372", "96374"), ("36415", "36415"), ("90471", "90474"), ("G0008", "G0009"), ("93000", "93010")),
              ("36415", "96372", "G0008", "93000")),
    "psych": ((("90785", "90853"),), ("90837", "90834", "90833", "90792", "90791")),
    "pt": ((("97010", "97799"),), ("97110", "97140", "97530", "97112", "97161", "97162")),
    "anesthesia": ((("00100", "01999"),), ("00810", "00812", "00142", "01402", "00731")),
    "blocks": ((("64400", "64530"), ("64479", "64495"), ("20552", "20553")), ("64483", "64493", "20553")),
    "lines": ((("36555", "36620"), ("31500", "31500")), ("36556", "36620")),
    "xr": ((("70030", "70360"), ("71045", "71048"), ("72020", "72120"), ("73000", "73140"), ("73501", "73660"),
            ("74018", "74022")), ("71046", "71045", "73562", "72100", "73030", "73610")),
    "ctmr": ((("70450", "70553"), ("71250", "71275"), ("72125", "72158"), ("73200", "73723"), ("74150", "74183")),
             ("70450", "71250", "74177", "71260", "72148", "70553", "73721")),
    "us": ((("76536", "76999"), ("93880", "93990")), ("76700", "76705", "93880", "93970", "76536")),
    "mammo": ((("77061", "77067"),), ("77067", "77063", "77066")),
    "cardio_dx": ((("93000", "93356"),), ("93306", "93010", "93000", "93015", "93350", "93296")),
    "cardio_proc": ((("92920", "92944"), ("93451", "93462"), ("33206", "33249")), ("93458", "92928", "33208")),
    "ed_proc": ((("12001", "12018"), ("10060", "10061"), ("31500", "31500"), ("51702", "51702")), ("12001", "12002")),
    "ortho": ((("20600", "20611"), ("27130", "27130"), ("27447", "27447"), ("29805", "29999"), ("23000", "27899")),
              ("20610", "20611", "27447", "27130", "29881", "29827", "20605")),
    "gensurg": ((("19000", "19499"), ("10000", "17999"), ("43000", "49999")), ("47562", "49505", "19301", "11042")),
    "gi": ((("43235", "43259"), ("45330", "45398")), ("45380", "45385", "43239", "45378", "43235")),
    "obgyn": ((("56405", "59899"), ("57000", "58999")), ("57454", "58558", "58661")),
    "eye": ((("92002", "92499"), ("65000", "68999")), ("92014", "92012", "66984", "67028", "92134", "92083")),
    "derm": ((("11000", "11646"), ("17000", "17999")), ("17000", "17003", "11102", "17110", "11104", "17311")),
    "neuro": ((("95700", "96020"), ("95885", "95913"), ("64612", "64617")), ("95886", "95910", "64615")),
    "uro": ((("50000", "55999"),), ("52000", "55700", "51798", "52332")),
    "pulm": ((("94010", "94799"), ("31622", "31654")), ("94010", "94060", "94729", "31624")),
    "dialysis": ((("90935", "90999"),), ("90960", "90935", "90970")),
    "onc": ((("96401", "96549"),), ("96413", "96415", "96375", "96417")),
    "radonc": ((("77261", "77799"),), ("77427", "77412", "77386", "77300")),
    "ent": ((("30000", "32999"), ("69000", "69979"), ("31231", "31231")), ("31231", "69210", "30520", "69436")),
    "neurosurg": ((("61000", "64999"), ("22500", "22899")), ("63030", "22551", "63047", "22840")),
    "podiatry": ((("11055", "11057"), ("11719", "11765"), ("28000", "28899")), ("11721", "11720", "11055", "11730")),
    "chiro": ((("98940", "98943"),), ("98941", "98940", "98942")),
    "ambulance": ((("A0425", "A0434"),), ("A0425", "A0428", "A0427")),
    "lab": ((("80047", "87999"),), ("85025", "80053", "80061", "83036", "84443", "82306")),
    "path": ((("88300", "88399"),), ("88305", "88312", "88342")),
    "drugs": ((("J0000", "J9999"),), ("J1745", "J0897", "J3420", "J1100")),
}

STATES: tuple[tuple[str, str, float], ...] = (
    ("CA", "06", 39.0), ("TX", "48", 30.0), ("FL", "12", 22.0), ("NY", "36", 19.7), ("PA", "42", 13.0),
    ("IL", "17", 12.6), ("OH", "39", 11.8), ("GA", "13", 11.0), ("NC", "37", 10.7), ("MI", "26", 10.0),
    ("NJ", "34", 9.3), ("VA", "51", 8.7), ("WA", "53", 7.8), ("AZ", "04", 7.4), ("TN", "47", 7.1),
    ("MA", "25", 7.0), ("IN", "18", 6.8), ("MO", "29", 6.2), ("MD", "24", 6.2), ("WI", "55", 5.9),
    ("CO", "08", 5.9), ("MN", "27", 5.7), ("SC", "45", 5.3), ("AL", "01", 5.1), ("LA", "22", 4.6),
    ("KY", "21", 4.5), ("OR", "41", 4.2), ("OK", "40", 4.0), ("CT", "09", 3.6), ("UT", "49", 3.4),
    ("IA", "19", 3.2), ("NV", "32", 3.2), ("AR", "05", 3.0), ("MS", "28", 2.9), ("KS", "20", 2.9),
    ("NM", "35", 2.1), ("NE", "31", 2.0), ("ID", "16", 1.9), ("WV", "54", 1.8), ("HI", "15", 1.4),
    ("NH", "33", 1.4), ("ME", "23", 1.4), ("MT", "30", 1.1), ("RI", "44", 1.1), ("DE", "10", 1.0),
    ("SD", "46", 0.9), ("ND", "38", 0.8), ("AK", "02", 0.7), ("DC", "11", 0.7), ("VT", "50", 0.6),
    ("WY", "56", 0.6),
)
RUCA: tuple[tuple[str, str, float], ...] = (
    ("1", "Metropolitan area core: primary flow within an urbanized area of 50,000 and greater", 78.0),
    ("2", "Metropolitan area high commuting: primary flow 30% or more to a urbanized area", 5.0),
    ("4", "Micropolitan area core: primary flow within an urban cluster of 10,000 to 49,999", 8.0),
    ("5", "Micropolitan high commuting: primary flow 30% or more to a large urban cluster", 1.0),
    ("7", "Small town core: primary flow within an urban cluster of 2,500 to 9,999", 4.0),
    ("10", "Rural areas: primary flow to a tract outside a urbanized area or urban cluster", 2.0),
    ("1.1", "Metropolitan area core: primary flow within an urbanized area of 50,000 and greater", 2.0),
)


@dataclass(frozen=True)
class SynthCode:
    code: str
    description: str
    total_nonfac: Decimal
    total_fac: Decimal
    drug: bool


def load_codes(path: str | Path) -> tuple[dict[str, SynthCode], Decimal]:
    """Global rows (modifier '') of a PPRRVU CSV, or of the PPRRVU CSV inside a release zip."""

    p = Path(path)
    data = p.read_bytes()
    name = p.name
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as zf:
            members = [n for n in zf.namelist() if "PPRRVU" in n.upper() and n.lower().endswith(".csv")]
            if not members:
                raise ValueError(f"{path}: no PPRRVU*.csv inside the zip")
            name = members[0]
            data = zf.read(name)
    parsed = parse_pprrvu(data, name)
    codes: dict[str, SynthCode] = {}
    cf = Decimal("32.3465")
    for row in parsed.rows:
        if row.modifier:
            continue
        if row.conv_factor:
            cf = row.conv_factor
        codes[row.hcpcs] = SynthCode(row.hcpcs, row.description, row.nonfac_total, row.fac_total,
                                     row.hcpcs.startswith("J"))
    return codes, cf


def _csv_cell(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


class _Picker:
    """Weighted sampling from one specialty's code pool (hot codes dominate, the long tail is Zipf-like)."""

    def __init__(self, codes: list[str], weights: list[float]):
        self.codes = codes
        self.cum = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.total = total

    def pick(self, rnd: random.Random) -> str:
        return self.codes[bisect.bisect(self.cum, rnd.random() * self.total)]


def _pool(families: dict[str, float], codes: dict[str, SynthCode], rnd: random.Random) -> _Picker:
    sorted_codes = sorted(codes)
    weights: dict[str, float] = {}
    for fam, fam_w in families.items():
        ranges, hot = FAMILIES[fam]
        members: list[str] = []
        for lo, hi in ranges:
            members.extend(sorted_codes[bisect.bisect_left(sorted_codes, lo):bisect.bisect_right(sorted_codes, hi)])
        members = sorted(set(members))
        if not members:
            continue
        hot_in = [c for c in hot if c in codes]
        tail = [c for c in members if c not in hot_in]
        rnd.shuffle(tail)
        fam_weights: dict[str, float] = {}
        for rank, c in enumerate(hot_in):
            fam_weights[c] = 0.7 / (rank + 1)
        for rank, c in enumerate(tail):
            fam_weights[c] = 0.3 / ((rank + 1) ** 1.1) / 3
        scale = fam_w / sum(fam_weights.values())
        for c, w in fam_weights.items():
            weights[c] = weights.get(c, 0.0) + w * scale
    if not weights:
        raise ValueError("the release file has none of the codes this specialty draws from")
    items = sorted(weights.items())
    return _Picker([c for c, _ in items], [w for _, w in items])


@dataclass(frozen=True)
class _Shape:
    """What every clinician is drawn from: the specialty mix and its code pickers, states, RUCA codes, and each
    code's CSV cells and base allowed amount (non-facility "O", facility "F")."""

    mix: list[tuple[str, float, float, str, str, dict[str, float]]]
    pickers: dict[str, _Picker]
    scale: float  # mean rows per clinician, scaled to the target
    spec_cum: list[float]
    state_cum: list[float]
    ruca_cum: list[float]
    code_cells: dict[str, str]
    base_amount: dict[tuple[str, str], float]


#: Specialties billed in a facility ("F") every time; the others there 30% of the time.
_FACILITY_ONLY = ("Hospitalist", "Emergency Medicine", "Anesthesiology", "Certified Registered Nurse Anesthetist (CRNA)")


def generate(
    out,
    rows: int,
    release_file: str | Path,
    *,
    seed: int = 2023,
    report: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write ``rows`` data rows (plus the header) to the text stream ``out``; return counts."""
    codes, cf = load_codes(release_file)
    rnd = random.Random(seed)
    shape = _shape(codes, cf, seed)
    out.write(",".join(CMS_COLUMNS) + "\n")
    written = 0
    clinicians = 0
    buf: list[str] = []
    while written < rows:
        clinicians += 1
        written += _clinician_rows(buf, rnd, shape, codes, clinicians, rows - written)
        if len(buf) >= 20000:
            out.write("".join(buf))
            buf.clear()
            if report and written % 1_000_000 < 20000:
                report(f"{written:,} rows, {clinicians:,} clinicians")
    out.write("".join(buf))
    return {"rows": written, "clinicians": clinicians}


def _cumulative(weights: list[float]) -> list[float]:
    """Running totals of ``weights`` (for a weighted draw with bisect)."""
    cum: list[float] = []
    acc = 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    return cum


def _shape(codes: dict[str, SynthCode], cf: Decimal, seed: int) -> _Shape:
    """The tables every clinician is drawn from (each specialty's picker seeded from ``seed`` and its name)."""
    mix = list(SPECIALTY_MIX)
    pickers = {m[0]: _pool(m[5], codes, random.Random(f"{seed}-{m[0]}")) for m in mix}
    target_mean = 9.8  # duplicates (same code and place) are redrawn or dropped: ~9.1 rows result
    raw_mean = sum(m[1] * m[2] for m in mix) / sum(m[1] for m in mix)
    code_cells: dict[str, str] = {}
    for c, sc in codes.items():
        code_cells[c] = f"{c},{_csv_cell(sc.description)},{'Y' if sc.drug else 'N'}"
    base_amount: dict[tuple[str, str], float] = {}
    cf_f = float(cf)
    for c, sc in codes.items():
        base_amount[(c, "O")] = float(sc.total_nonfac) * cf_f
        base_amount[(c, "F")] = float(sc.total_fac) * cf_f
    return _Shape(mix, pickers, target_mean / raw_mean, _cumulative([m[1] for m in mix]),
                  _cumulative([s[2] for s in STATES]), _cumulative([r[2] for r in RUCA]), code_cells, base_amount)


def _clinician_rows(buf: list[str], rnd: random.Random, shape: _Shape, codes: dict[str, SynthCode], clinicians: int,
                    left: int) -> int:
    """Draw the next clinician and append their rows (at most ``left``) to ``buf``; return how many."""
    rand = rnd.random
    m = shape.mix[bisect.bisect(shape.spec_cum, rand() * shape.spec_cum[-1])]
    spec, _share, mean_rows, _cred, _ent, _fam = m
    prefix = _prefix(rnd, m, clinicians, shape)
    mean = max(1.0, mean_rows * shape.scale)
    n = 1 + int(rnd.expovariate(1.0 / max(mean - 1, 0.01))) if mean > 1 else 1
    n = min(n, left, 400)
    picker = shape.pickers[spec]
    seen: set[tuple[str, str]] = set()
    volume = rnd.lognormvariate(0.0, 0.8)  # this clinician's overall activity level
    tries = 0
    while len(seen) < n and tries < n * 4:
        tries += 1
        code = picker.pick(rnd)
        pos = "F" if (spec in _FACILITY_ONLY or rand() < 0.3) else "O"
        if (code, pos) in seen:
            continue
        seen.add((code, pos))
        buf.append(_row(rnd, prefix, code, pos, volume, codes[code].drug, shape))
    return len(seen)


def _prefix(rnd: random.Random, m: tuple[str, float, float, str, str, dict[str, float]], clinicians: int,
            shape: _Shape) -> str:
    """The clinician's identity and address cells (NPI to participation flag), with their state and RUCA drawn."""
    rand = rnd.random
    spec, _share, _mean_rows, cred, ent, _fam = m
    npi = 9000000000 + clinicians
    st_abbr, st_fips, _w = STATES[bisect.bisect(shape.state_cum, rand() * shape.state_cum[-1])]
    ruca_code, ruca_desc, _w = RUCA[bisect.bisect(shape.ruca_cum, rand() * shape.ruca_cum[-1])]
    zip5 = f"{rnd.randint(10000, 99999)}"
    if ent == "O":
        names = f"SYNTHETIC ORGANIZATION {clinicians:07d},,,"
    else:
        names = f"SYNTH-LAST-{clinicians:07d},SYNTH-FIRST,X,{cred}"
    return (f"{npi},{names},{ent},{100 + clinicians % 9900} SYNTHETIC WAY,,SYNTHVILLE,{st_abbr},{st_fips},"
            f"{zip5},{ruca_code},{_csv_cell(ruca_desc)},US,{spec},Y,")


def _row(rnd: random.Random, prefix: str, code: str, pos: str, volume: float, drug: bool, shape: _Shape) -> str:
    """One CSV line: the clinician's cells, then the code's, with beneficiaries, services and amounts drawn."""
    lognorm = rnd.lognormvariate
    rand = rnd.random
    benes = 11 + int(lognorm(2.3, 1.1) * volume)
    per_bene = 1.0 + lognorm(-0.7, 1.0)
    srv_f = benes * per_bene
    if drug:
        srv = f"{srv_f * 10:.1f}"
        day_srv = benes + int((srv_f - benes) * 0.8)
    else:
        srv_i = max(benes, int(srv_f))
        srv = str(srv_i)
        day_srv = benes + int((srv_i - benes) * rand())
    allowed = shape.base_amount[(code, pos)] * (0.92 + 0.25 * rand())
    if allowed <= 0:
        allowed = 4.0 + 400.0 * rand() ** 3
    return (f"{prefix}{shape.code_cells[code]},{pos},{benes},{srv},{day_srv},"
            f"{allowed * (1.6 + 2.5 * rand()):.8f},{allowed:.8f},{allowed * (0.77 + 0.03 * rand()):.8f},"
            f"{allowed * (0.9 + 0.15 * rand()):.8f}\n")


def generate_file(path: str | Path, rows: int, release_file: str | Path, *, seed: int = 2023,
                  report: Callable[[str], None] | None = None) -> dict[str, int]:
    p = Path(path)
    tmp = p.with_name(p.name + ".partial")
    with tmp.open("w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
        counts = generate(fh, rows, release_file, seed=seed, report=report)
    tmp.replace(p)
    return counts


def sample_text(rows: int, release_file: str | Path, seed: int = 7) -> str:
    buf = io.StringIO()
    generate(buf, rows, release_file, seed=seed)
    return buf.getvalue()


__all__ = ["FAMILIES", "SPECIALTY_MIX", "generate", "generate_file", "load_codes", "sample_text"]
