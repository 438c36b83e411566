"""The PPRRVU status codes and payment-policy indicators in words (paraphrased from the CMS file layout).

Pure data and small functions; no Django. Used for the RVU table, the billing notes and the FAQ.
"""

from __future__ import annotations

STATUS: dict[str, tuple[str, str]] = {
    "A": ("Active", "separately paid under the Physician Fee Schedule when covered"),
    "B": ("Bundled", "always bundled into another service; never paid separately, even where RVUs are shown"),
    "C": ("Contractor priced", "priced by the Medicare Administrative Contractor (MAC) case by case; "
          "CMS publishes no national payment"),
    "D": ("Deleted", "deleted at the start of the year"),
    "E": ("Excluded", "excluded from the Physician Fee Schedule by regulation; paid elsewhere if at all"),
    "F": ("Deleted, no grace period", "deleted or discontinued, with no grace period"),
    "G": ("Not valid for Medicare (grace period)", "not valid for Medicare; another code is used, with a grace period"),
    "H": ("Deleted modifier", "the 26/TC row of this code was deleted"),
    "I": ("Not valid for Medicare", "not valid for Medicare purposes; Medicare uses another code for this service"),
    "J": ("Anaesthesia service", "an anaesthesia service, paid by base and time units instead of RVUs"),
    "M": ("Measurement code", "a quality-measurement code, reported for tracking only; no payment"),
    "N": ("Non-covered", "not covered by Medicare"),
    "P": ("Bundled or excluded", "a bundled or excluded supply or service with no separate PFS payment"),
    "R": ("Restricted coverage", "covered only in special circumstances; when covered, priced from the RVUs shown "
          "or by the contractor"),
    "T": ("Paid only if alone", "paid only when no other Physician Fee Schedule service is paid to the same "
          "provider on the same day"),
    "X": ("Statutory exclusion", "not a physician service under the law (for example ambulance or clinical "
          "laboratory); not paid under the Physician Fee Schedule"),
}
PAYABLE = frozenset("ART")

PCTC: dict[str, str] = {
    "0": "Physician service: modifiers 26 and TC do not apply",
    "1": "Diagnostic test with professional (-26) and technical (-TC) components, each billable on its own row",
    "2": "Professional-component-only code (a separate code covers the technical part)",
    "3": "Technical-component-only code (a separate code covers the interpretation)",
    "4": "Global-test-only code: it equals a professional-only code plus a technical-only code",
    "5": "'Incident to' code: not payable by the Part B contractor for hospital inpatients or outpatients",
    "6": "Laboratory physician interpretation code: the technical component is not allowed",
    "7": "Physical/occupational therapy service not payable when an independent therapist treats hospital patients",
    "8": "Physician interpretation of an abnormal smear for a hospital inpatient",
    "9": "PC/TC concept does not apply",
}

GLOBAL: dict[str, str] = {
    "000": "0-day global: pre- and post-operative care on the day of the procedure are included",
    "010": "10-day global: day-of-procedure care and 10 post-operative days are included",
    "090": "90-day global (major surgery): the day before, the day of surgery and 90 post-operative days are included",
    "MMM": "Maternity package: the global maternity-care rules apply",
    "XXX": "The global-surgery concept does not apply",
    "YYY": "The contractor sets the global period",
    "ZZZ": "Add-on code: it falls inside the global period of the primary procedure",
}

MULT_PROC: dict[str, str] = {
    "0": "No multiple-procedure reduction",
    "1": "Pre-1995 multiple-procedure rule (deleted codes only)",
    "2": "Standard multiple-surgery rule: with other surgery the same day, the highest-valued procedure is paid at "
         "100% and the others at 50% (modifier 51)",
    "3": "Endoscopy family rule: related endoscopies share a base code; the highest is paid in full and each other "
         "adds its value minus the base",
    "4": "Diagnostic imaging rule: in one session the technical component of each further study is cut 50% and the "
         "professional component 5%",
    "5": "Therapy rule: the practice-expense part of each further unit is cut 50%",
    "6": "Diagnostic cardiovascular rule: the technical component of each further service is cut 25%",
    "7": "Diagnostic ophthalmology rule: the technical component of each further service is cut 20%",
    "9": "Multiple-procedure concept does not apply",
}

BILAT: dict[str, tuple[str, str | None]] = {
    # indicator: (words, what modifier 50 pays)
    "0": ("No bilateral adjustment: a bilateral procedure is paid at most 100% of one side", "100%"),
    "1": ("Bilateral adjustment applies: modifier 50 (or RT and LT) pays 150% of one side", "150%"),
    "2": ("The RVUs already cover both sides: modifier 50 still pays 100%", "100%"),
    "3": ("Each side is paid in full: modifier 50 pays 200% (100% per side)", "200%"),
    "9": ("Bilateral concept does not apply", None),
}

ASST: dict[str, tuple[str, bool | None]] = {
    "0": ("Assistant at surgery is paid only with documentation of medical necessity", None),
    "1": ("Assistant at surgery is not paid (modifiers 80, 81, 82 and AS are denied)", False),
    "2": ("Assistant at surgery is paid: 16% of the fee schedule amount (modifiers 80/81/82), 13.6% for a PA, NP "
          "or CNS (modifier AS)", True),
    "9": ("Assistant-at-surgery concept does not apply", None),
}

CO_SURG: dict[str, tuple[str, bool | None]] = {
    "0": ("Co-surgeons are not permitted", False),
    "1": ("Co-surgeons are paid only with documentation of medical necessity (modifier 62: 62.5% each)", None),
    "2": ("Co-surgeons are permitted: modifier 62 pays each surgeon 62.5% of the fee schedule amount", True),
    "9": ("Co-surgeon concept does not apply", None),
}

TEAM: dict[str, tuple[str, bool | None]] = {
    "0": ("Team surgery is not permitted", False),
    "1": ("Team surgery is paid only with documentation of medical necessity (modifier 66, priced by report)", None),
    "2": ("Team surgery is permitted: modifier 66, priced by the contractor by report", True),
    "9": ("Team-surgery concept does not apply", None),
}

SUPERVISION: dict[str, str] = {
    "01": "General supervision by a physician",
    "02": "Direct supervision by a physician",
    "03": "Personal supervision by a physician",
    "04": "General supervision, unless performed personally by a qualified psychologist",
    "05": "General supervision, unless performed personally by a qualified audiologist",
    "06": "Performed personally by a certified physical therapist, or under direct physician supervision",
    "21": "General supervision of a certified technician; otherwise direct supervision",
    "22": "May be performed by a technician in real-time contact with the physician",
    "66": "Performed personally by a physician or a certified physical therapist",
    "6A": "Performed personally by a physician or a certified physical therapist (certified therapist may supervise)",
    "77": "Performed by a certified physical therapist, or under direct supervision of a physician or one",
    "7A": "Performed by a certified physical therapist, or under direct supervision (certified therapist bills)",
    "09": "The supervision concept does not apply",
}


def status_words(status: str) -> tuple[str, str]:
    return STATUS.get(status, (f"Status {status}", "see the CMS file documentation"))


def describe(table: dict[str, object], code: str) -> str:
    value = table.get(code)
    if value is None:
        return f"Indicator {code or 'blank'}"
    return value[0] if isinstance(value, tuple) else str(value)
