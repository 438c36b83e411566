"""The code page: everything ``/codes/<CODE>/`` shows, as one JSON-ready dict (:func:`code_page`).

The HTML page, its JSON twin, ``/api/codes/<CODE>`` and ``rvuedge code`` all call :func:`code_page`, so every
surface shows the same figures. Every payment figure comes from :func:`rvuedge.fees.services.price_lines`;
nothing here re-implements pricing. Page dicts are cached per (data version, benchmark-sources version, code,
release, locality) in :data:`.cache.PAGES`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from rvuedge.fees.models import FeeRow, HcpcsCode, Release
from rvuedge.fees.services import LocalityChoice, NotFound, national, price_lines, release_label
from rvuedge.pricing import EncounterLine, PricingError

from . import hooks
from . import indicators as ind
from .cache import DERIVED, MARKDOWN, PAGES
from .content import (
    KINDS,
    Placement,
    code_kind,
    group_slug,
    markdown_to_text,
    render_markdown,
    section_slug,
    sections,
)
from .models import CodeContent
from .releases import (
    fmt_rvu,
    hcpcs_release,
    pick_locality,
    pick_release,
    release_dict,
    release_index,
    release_names,
    release_order,
    releases,
    warm,
)
from .search import data_version

ZERO = Decimal("0.00")
CODE_RE = re.compile(r"^[0-9A-Z]{5}$")
MOD_LABELS = {"": "Global", "26": "Professional component (-26)", "TC": "Technical component (-TC)",
              "53": "Discontinued procedure (-53)"}
RVU_FIELDS = ["release_id", "hcpcs", "modifier", "description", "status", "not_used_for_medicare", "work_rvu",
              "nonfac_pe_rvu", "nonfac_na", "fac_pe_rvu", "fac_na", "mp_rvu", "nonfac_total", "fac_total", "pctc",
              "glob_days", "pre_op", "intra_op", "post_op", "mult_proc", "bilat_surg", "asst_surg", "co_surg",
              "team_surg", "endo_base", "conv_factor", "phys_supervision", "dx_img_family"]


def normalize_code(code: str) -> str:
    c = (code or "").strip().upper()
    if not CODE_RE.match(c):
        raise NotFound(f"{code!r} is not a code: CPT and HCPCS codes have 5 characters (99214, 0331T, G2211)")
    return c


def code_page(code: str, *, release: str | None = None, locality: str | None = None) -> dict[str, Any]:
    """Everything the code page shows, as one JSON-ready dict (cached per data version)."""
    code = normalize_code(code)
    rel = pick_release(release)
    loc = pick_locality(rel, locality)
    key = ("page", data_version(), hooks.shares_version(), code, rel.pk, loc.key)
    page = PAGES.get(key)
    if page is None:
        warm(rel)
        page = PAGES.put(key, _build_code_page(code, rel, loc))
    return page


def page_key(code: str, release: str | None, locality: str | None) -> tuple[str, str, str, str]:
    """What a code page depends on: (data and volumes version, code, release, locality key). Raises NotFound."""
    rel = pick_release(release)
    return (f"{data_version()}/{hooks.shares_version()}", normalize_code(code), rel.name,
            pick_locality(rel, locality).key)


def _rvu_row(r: dict[str, Any]) -> dict[str, Any]:
    work, nfpe, fpe, mp = r["work_rvu"], r["nonfac_pe_rvu"], r["fac_pe_rvu"], r["mp_rvu"]
    nf_total, f_total = work + nfpe + mp, work + fpe + mp
    status = r["status"]
    glob = r["glob_days"]
    return {
        "modifier": r["modifier"] or None,
        "label": MOD_LABELS.get(r["modifier"], f"Modifier {r['modifier']}"),
        "row": r["hcpcs"] + (f"-{r['modifier']}" if r["modifier"] else ""),
        "descriptor": r["description"],
        "status": status,
        "status_label": ind.status_words(status)[0],
        "status_meaning": ind.status_words(status)[1],
        "not_used_for_medicare": bool(r["not_used_for_medicare"].strip()),
        "work_rvu": fmt_rvu(work),
        "nonfac_pe_rvu": fmt_rvu(nfpe),
        "nonfac_na": r["nonfac_na"],
        "fac_pe_rvu": fmt_rvu(fpe),
        "fac_na": r["fac_na"],
        "mp_rvu": fmt_rvu(mp),
        "nonfac_total": fmt_rvu(nf_total),
        "fac_total": fmt_rvu(f_total),
        "file_totals_match": nf_total == r["nonfac_total"] and f_total == r["fac_total"],
        "global_days": glob,
        "global_meaning": ind.GLOBAL.get(glob, f"Global indicator {glob}"),
        "pre_op": fmt_rvu(r["pre_op"]),
        "intra_op": fmt_rvu(r["intra_op"]),
        "post_op": fmt_rvu(r["post_op"]),
        "pctc": r["pctc"],
        "pctc_meaning": ind.PCTC.get(r["pctc"], f"Indicator {r['pctc']}"),
        "mult_proc": r["mult_proc"],
        "mult_proc_meaning": ind.describe(ind.MULT_PROC, r["mult_proc"]),
        "bilat_surg": r["bilat_surg"],
        "bilat_meaning": ind.describe(ind.BILAT, r["bilat_surg"]),
        "asst_surg": r["asst_surg"],
        "asst_meaning": ind.describe(ind.ASST, r["asst_surg"]),
        "co_surg": r["co_surg"],
        "co_surg_meaning": ind.describe(ind.CO_SURG, r["co_surg"]),
        "team_surg": r["team_surg"],
        "team_meaning": ind.describe(ind.TEAM, r["team_surg"]),
        "endo_base": r["endo_base"] or None,
        "phys_supervision": r["phys_supervision"] or None,
        "supervision_meaning": ind.SUPERVISION.get(r["phys_supervision"]) if r["phys_supervision"] else None,
        "dx_img_family": r["dx_img_family"] or None,
        "conversion_factor": str(r["conv_factor"]),
        "_raw": (work, nfpe, fpe, mp),
    }


def _has_rvus(rows: list[dict[str, Any]]) -> bool:
    return any(any(v != 0 for v in row["_raw"]) for row in rows)


def price_cell(code: str, mod: str, rel: Release, loc: LocalityChoice, setting: str,
                qp: bool = False) -> dict[str, Any]:
    line = EncounterLine(code=code, modifiers=(mod,) if mod else ())
    try:
        priced = price_lines([line], release=rel, locality=loc, setting=setting, qp=qp)
    except PricingError as exc:
        return {"amount": None, "text": "Not priced", "note": exc.reason, "flags": []}
    res = priced.result.lines[0]
    steps = res.explanation
    note = steps[0].text if steps else ""
    if res.payment is None:
        text = "Contractor priced" if res.status == "C" or "STATUS_C_CONTRACTOR_PRICED" in res.flags else "By report"
        return {"amount": None, "text": text, "note": note, "flags": list(res.flags)}
    if res.fee_schedule_amount is None and res.payment == 0:
        return {"amount": "0.00", "text": "Not paid under the PFS", "note": note, "flags": list(res.flags)}
    return {"amount": f"{res.payment:.2f}", "text": f"${res.payment:,.2f}", "note": note, "flags": list(res.flags),
            "formula": note}


FLAG_NOTES = {
    "NONFAC_NA_PRICED_AT_FACILITY": "Not usually done in an office (non-facility NA): Medicare prices it at the "
                                    "facility rate.",
    "FAC_NA_PRICED_AT_NONFACILITY": "No facility rate (facility NA): Medicare prices it at the non-facility rate.",
    "ADDON_WITHOUT_PRIMARY": "Add-on code: paid only with its primary procedure.",
    "TC_BILLED_IN_FACILITY": "The technical component is normally billed by the facility, not the physician.",
    "OPPS_CAP_FROM_OPPSCAP_FILE": "Imaging cap: the locality payment is capped at the OPPS amount CMS lists in "
                                  "this release's OPPSCAP file.",
    "OPPS_CAP_FROM_PPRRVU_COLUMNS": "Imaging cap: the locality payment is capped at the OPPS amount, computed from "
                                    "the release's PPRRVU OPPS columns (it was loaded without an OPPSCAP file).",
    "INCIDENT_TO_CODE_IN_FACILITY": "Incident-to code (PC/TC 5): Medicare does not pay it for a facility patient "
                                    "(hospital inpatient or outpatient), so the facility payment is $0.00; no "
                                    "wRVU is credited there unless your credit policy says otherwise "
                                    "(incident_to_facility_wrvu).",
}
#: a flag whose note another flag of the same cell replaces (the FSA of an incident-to code in a facility is
#: figured at the non-facility rate, but it is not paid)
_NOTE_REPLACED_BY = {"FAC_NA_PRICED_AT_NONFACILITY": "INCIDENT_TO_CODE_IN_FACILITY"}


def _payments(code: str, rows: list[dict[str, Any]], rel: Release, loc: LocalityChoice) -> dict[str, Any]:
    nat = national(rel)
    out_rows = []
    notes: list[str] = []
    # Anaesthesia (status J) is paid by base and time units, which the loaded files do not carry for CPT codes.
    for row in rows if not rows or rows[0]["status"] != "J" else []:
        mod = row["modifier"] or ""
        cells: dict[str, Any] = {}
        for setting in ("non_facility", "facility"):
            cell = {"national": price_cell(code, mod, rel, nat, setting)}
            if loc.key != "national":
                cell["locality"] = price_cell(code, mod, rel, loc, setting)
            if rel.conv_factor_qp is not None:
                cell["national_qp"] = price_cell(code, mod, rel, nat, setting, qp=True)
                if loc.key != "national":
                    cell["locality_qp"] = price_cell(code, mod, rel, loc, setting, qp=True)
            cells[setting] = cell
            for c in cell.values():
                for f in c["flags"]:
                    if _NOTE_REPLACED_BY.get(f) in c["flags"]:
                        continue
                    text = FLAG_NOTES.get(f)
                    if text and text not in notes:
                        notes.append(text)
        out_rows.append({"row": row["row"], "label": row["label"], "status": row["status"], **cells})
    status = rows[0]["status"] if rows else ""
    if status == "C":
        headline = "Contractor priced: the MAC sets the payment, so there is no national amount."
    elif status == "J":
        cf = loc.anesthesia_cf or rel.anes_national_cf
        headline = ("Anaesthesia: Medicare pays (base units + 15-minute time units) × the anaesthesia conversion "
                    f"factor{f' (${cf} here)' if cf else ''}, not RVUs.")
    elif status in ind.PAYABLE:
        headline = ""
    else:
        headline = f"Status {status} ({ind.status_words(status)[0].lower()}): not paid under the Physician Fee Schedule."
    return {
        "release": rel.name,
        "locality": loc.key,
        "locality_label": loc.label,
        "conversion_factor": str(rel.conv_factor),
        "conversion_factor_qp": None if rel.conv_factor_qp is None else str(rel.conv_factor_qp),
        "anesthesia_cf": None if (loc.anesthesia_cf or rel.anes_national_cf) is None
        else str(loc.anesthesia_cf or rel.anes_national_cf),
        "gpci": None if loc.key == "national" else {"work": str(loc.gpci.work), "pe": str(loc.gpci.pe),
                                                    "mp": str(loc.gpci.mp)},
        "gpci_release": loc.gpci_release,
        "headline": headline,
        "rows": out_rows,
        "notes": notes,
    }


HISTORY_FIELDS = [("status", "Status"), ("work_rvu", "Work"), ("nonfac_pe_rvu", "PE non-fac"),
                  ("fac_pe_rvu", "PE fac"), ("mp_rvu", "MP"), ("nonfac_total", "Total non-fac"),
                  ("fac_total", "Total fac"), ("global_days", "Global")]


_CELL_KEYS = ["status", "work_rvu", "nonfac_pe_rvu", "fac_pe_rvu", "mp_rvu", "nonfac_total", "fac_total", "global_days",
              "payment_nonfac", "payment_fac"]


def _history_cells(entry: dict[str, Any], prev: dict[str, Any] | None) -> list[dict[str, Any]]:
    cells = []
    for k in _CELL_KEYS:
        value = entry[k]
        changed = k in entry["changed"]
        direction = ""
        if changed and prev is not None and prev.get(k) is not None and value is not None:
            try:
                a, b = Decimal(prev[k]), Decimal(value)
                direction = "up" if b > a else "down" if b < a else ""
            except ArithmeticError:
                direction = ""
        cells.append({"key": k, "value": value, "changed": changed, "dir": direction,
                      "was": prev.get(k) if changed and prev is not None else None})
    return cells


def _history(code: str, by_release: dict[int, list[dict[str, Any]]], selected: Release,
             known: dict[tuple[int, str], tuple[dict[str, Any], dict[str, Any]]] | None = None) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    prev: dict[str, Any] | None = None
    seen_any = False
    for rel in releases():
        rows = by_release.get(rel.pk)
        if not rows:
            if seen_any and prev is not None and not prev.get("deleted"):
                prev = {"release": rel.name, "label": release_label(rel), "deleted": True, "new": False,
                        "changed": [], "selected": rel.pk == selected.pk}
                entries.append(prev)
            continue
        row = next((r for r in rows if not r["modifier"]), rows[0])
        vals = _rvu_row(row)
        mod = row["modifier"] or ""
        if row["status"] == "J":
            pay_nf = pay_f = {"amount": None, "text": "Anaesthesia units", "note": "", "flags": []}
        elif known and (rel.pk, mod) in known:
            pay_nf, pay_f = known[(rel.pk, mod)]
        else:
            nat = national(rel)
            pay_nf = price_cell(code, mod, rel, nat, "non_facility")
            pay_f = price_cell(code, mod, rel, nat, "facility")
        entry = {
            "release": rel.name, "label": release_label(rel), "deleted": False,
            "new": not seen_any or (prev is not None and prev.get("deleted", False)),
            "selected": rel.pk == selected.pk, "row": vals["row"],
            "status": vals["status"], "work_rvu": vals["work_rvu"], "nonfac_pe_rvu": vals["nonfac_pe_rvu"],
            "fac_pe_rvu": vals["fac_pe_rvu"], "mp_rvu": vals["mp_rvu"], "nonfac_total": vals["nonfac_total"],
            "fac_total": vals["fac_total"], "global_days": vals["global_days"],
            "conversion_factor": str(rel.conv_factor),
            "payment_nonfac": pay_nf["amount"], "payment_fac": pay_f["amount"],
            "payment_text": [pay_nf["text"], pay_f["text"]],
            "changed": [],
        }
        if prev is not None and not prev.get("deleted") and not entry["new"]:
            entry["changed"] = [f for f, _ in HISTORY_FIELDS if prev.get(f) != entry[f]]
            if prev.get("payment_nonfac") != entry["payment_nonfac"]:
                entry["changed"].append("payment_nonfac")
            if prev.get("payment_fac") != entry["payment_fac"]:
                entry["changed"].append("payment_fac")
        entry["cells"] = _history_cells(entry, prev if prev is not None and not prev.get("deleted") else None)
        entries.append(entry)
        prev = entry
        seen_any = True
    chart = {
        "labels": [e["release"] for e in entries if not e["deleted"]],
        "work_rvu": [e["work_rvu"] for e in entries if not e["deleted"]],
        "nonfac_total": [e["nonfac_total"] for e in entries if not e["deleted"]],
        "fac_total": [e["fac_total"] for e in entries if not e["deleted"]],
        "payment_nonfac": [e["payment_nonfac"] for e in entries if not e["deleted"]],
        "payment_fac": [e["payment_fac"] for e in entries if not e["deleted"]],
    }
    return {"releases": len(releases()), "entries": entries, "chart": chart,
            "fields": [{"key": k, "label": v} for k, v in HISTORY_FIELDS]}


def _compare(code: str, rel: Release, place: Placement, work: Decimal | None, status: str) -> dict[str, Any]:
    idx = release_index(rel)
    out: dict[str, Any] = {"groups": [], "related": [], "related_group": None}
    candidates = []
    if place.section is not None:
        sec = section_slug(place.section.section)
        grp = sections().group_of(code, place.section.section)
        if grp is not None:
            candidates.append((f"{sec}/{group_slug(grp)}", grp.subsection, grp.range_label))
        candidates.append((sec, place.section.section, None))
    for key, label, rng in candidates:
        values = idx.valued.get(key, [])
        item: dict[str, Any] = {"key": key, "label": label, "range": rng, "valued_codes": len(values),
                                "percentile": None, "median": None, "max": None}
        if values:
            item["median"] = fmt_rvu(values[len(values) // 2])
            item["max"] = fmt_rvu(values[-1])
        if values and work is not None and work > 0 and status in ind.PAYABLE:
            below = bisect.bisect_left(values, work)
            item["percentile"] = int(below * 100 / len(values))
        out["groups"].append(item)
    if candidates:
        key, label, _ = candidates[0]
        members = idx.by_group.get(key, [])
        i = bisect.bisect_left(members, code)
        lo = max(0, i - 4)
        near = [c for c in members[lo:i + 5] if c != code][:8]
        out["related_group"] = label
        out["related"] = [{"code": c, "descriptor": idx.info[c][0], "status": idx.info[c][1] or None,
                           "work_rvu": fmt_rvu(idx.info[c][2]), "url": f"/codes/{c}/"} for c in near]
    return out


def _billing_notes(code: str, kind: str, rows: list[dict[str, Any]], status: str) -> list[dict[str, str]]:
    notes: list[dict[str, str]] = []

    def add(title: str, text: str) -> None:
        notes.append({"title": title, "text": text})

    if kind == "cat3":
        add("Category III (temporary) code",
            "Category III codes are temporary codes for emerging technology, services and procedures. They must be "
            "reported instead of an unlisted code when one fits, and they sunset (are archived) five years after "
            "release unless CMS/AMA extend them or convert them to Category I. Coverage varies by payer: check "
            "with each insurer before billing, and document the indication.")
    elif kind == "cat2":
        add("Category II (performance measurement) code",
            "Category II codes track quality measures. They are reported alongside the service they describe, "
            "carry no RVUs and are not paid; a charge of $0.00 (or a nominal amount) is usual.")
    elif kind == "level2":
        add("HCPCS Level II code",
            "HCPCS Level II codes are maintained by CMS for services, supplies, drugs and equipment not described "
            "by CPT. Many are paid under other Medicare fee schedules; the status below says whether the "
            "Physician Fee Schedule pays it.")
    if not rows:
        return notes
    g = rows[0]
    label, meaning = ind.status_words(status)
    add(f"Status {status} — {label}", f"{code} is {meaning}.")
    if g["not_used_for_medicare"]:
        add("Not used for Medicare payment", "The CMS file flags this code as not used for Medicare payment; "
            "its RVUs are published for other payers.")
    glob = g["global_days"]
    if glob in ("000", "010", "090"):
        text = ind.GLOBAL[glob] + "."
        if g["pre_op"] != "0.00" or g["intra_op"] != "0.00" or g["post_op"] != "0.00":
            text += (f" When care is split between surgeons, pre-operative care (modifier 56) is {_pct(g['pre_op'])}, "
                     f"the procedure itself (modifier 54) {_pct(g['intra_op'])} and post-operative care "
                     f"(modifier 55) {_pct(g['post_op'])} of the payment.")
        text += (" Unrelated E/M visits in the global period need modifier 24 (or 25 on the day of a minor "
                 "procedure; 57 for the decision for major surgery); a related return to the operating room "
                 "uses 78, an unrelated procedure 79, a staged one 58.")
        add(f"Global period {glob}", text)
    elif glob == "ZZZ":
        add("Add-on code", "Report it together with its primary procedure, by the same practitioner. Add-on codes are "
            "never reduced by the multiple-procedure rule and are never reported alone.")
    elif glob == "YYY":
        add("Global period set by the contractor", ind.GLOBAL["YYY"] + ".")
    elif glob == "MMM":
        add("Maternity care", ind.GLOBAL["MMM"] + ".")
    mult = g["mult_proc"]
    if mult in ("2", "3", "4", "5", "6", "7"):
        text = ind.MULT_PROC[mult] + "."
        if mult == "3" and g["endo_base"]:
            text += f" Endoscopic base code: {g['endo_base']}."
        add(f"Multiple procedures (MULT PROC {mult})", text)
    surgical = glob in ("000", "010", "090", "YYY", "ZZZ") or mult in ("2", "3")
    bil = g["bilat_surg"]
    if bil in ind.BILAT and bil != "9" and (surgical or bil in ("1", "3")):
        words, pays = ind.BILAT[bil]
        head = f"Bilateral: modifier 50 pays {pays} (BILAT SURG {bil})" if pays else f"Bilateral (BILAT SURG {bil})"
        add(head, words + ".")
    for field_, table, name in (("asst_surg", ind.ASST, "Assistant at surgery (ASST SURG"),
                                ("co_surg", ind.CO_SURG, "Co-surgeons (CO SURG"),
                                ("team_surg", ind.TEAM, "Team surgery (TEAM SURG")):
        v = g[field_]
        if v in table and v != "9" and surgical:
            add(f"{name} {v})", table[v][0] + ".")
    pctc = g["pctc"]
    if pctc == "1":
        mods = {r["modifier"]: r for r in rows}
        pc, tc = mods.get("26"), mods.get("TC")
        text = ("Bill the global code when you own the equipment and interpret the study; modifier 26 when you "
                "only interpret (hospital setting), modifier TC for the equipment and staff only.")
        if pc and tc:
            text += (f" Professional component: {pc['work_rvu']} work RVUs; technical component: {tc['work_rvu']} "
                     "work RVUs (the TC carries no physician work).")
        add("Professional and technical components (PC/TC 1)", text)
    elif pctc in ("2", "3", "4", "5", "6", "7", "8"):
        add(f"PC/TC indicator {pctc}", ind.PCTC[pctc] + ".")
    if any(r["modifier"] == "53" for r in rows):
        add("Discontinued procedure (-53)", "The CMS file has its own -53 row for this code: a discontinued "
            "procedure is paid from that row's RVUs (shown above), not by a percentage.")
    if g["nonfac_na"] and status in ind.PAYABLE:
        add("Non-facility NA", "CMS does not expect this service in an office; billed from one it is priced at the "
            "facility rate.")
    if g["fac_na"] and status in ind.PAYABLE and pctc == "5":
        add("Facility NA", "There is no facility practice-expense value, and as an incident-to code (PC/TC 5) it "
            "is not paid for a facility patient: the facility payment is $0.00.")
    elif g["fac_na"] and status in ind.PAYABLE:
        add("Facility NA", "There is no facility practice-expense value; the non-facility rate applies.")
    if g["supervision_meaning"] and g["phys_supervision"] != "09":
        add(f"Physician supervision ({g['phys_supervision']})", g["supervision_meaning"] + ".")
    if status == "J":
        add("Anaesthesia billing", "Report the anaesthesia code with the anaesthesia modifier (AA, AD, QK, QX, QY, "
            "QZ) and the minutes of anaesthesia time. Payment is (base units + time units) × the anaesthesia "
            "conversion factor of the locality; work RVUs do not apply.")
    return notes


def _pct(value: str) -> str:
    return f"{(Decimal(value) * 100).normalize():f}%"


def _no_rvu_reason(code: str, kind: str, rows: list[dict[str, Any]], status: str, rel: Release) -> str | None:
    if not rows:
        return None
    if _has_rvus(rows) and status != "C":
        return None
    label = "CPT" if kind != "level2" else "HCPCS"
    if status == "C":
        text = (f"{label} {code} has no national RVUs for payment in {rel.name}: it is contractor priced (status C), "
                "so each Medicare Administrative Contractor sets the payment case by case.")
        if kind == "cat3":
            text += (" Category III codes for emerging technology usually receive no national RVU assignment; "
                     "reimbursement is decided by the MAC or negotiated with each payer.")
        if _has_rvus(rows):
            text += " The values in the file are shown for reference."
        return text
    if status == "J":
        return (f"{label} {code} is an anaesthesia service (status J): it has no RVUs. Medicare pays it by base "
                "units plus time units times the anaesthesia conversion factor.")
    words = ind.status_words(status)
    return (f"{label} {code} has no RVUs in {rel.name}: status {status} — {words[0].lower()} ({words[1]}).")


def _faq(code: str, kind: str, descriptor: str, content: CodeContent | None, rows: list[dict[str, Any]],
         status: str, rel: Release, payments: dict[str, Any] | None, place: Placement,
         reason: str | None) -> list[dict[str, str]]:
    label = "CPT" if kind not in ("level2", "other") else "HCPCS"
    cat = KINDS[kind][1]
    faq: list[dict[str, str]] = []
    what = f"{label} {code}" + (f" ({descriptor})" if descriptor else "") + f" is a {cat} code"
    if place.subsection is not None:
        what += f" in {place.subsection.subsection}"
    elif place.section is not None:
        what += f" in {place.section.section}"
    what += "."
    if content and content.summary:
        what += " " + content.summary
    faq.append({"q": f"What is {label} code {code}?", "a": what})
    if kind == "cat3":
        faq.append({"q": f"Is {code} a permanent CPT code?",
                    "a": f"No — {code} is a Category III temporary code for emerging technology. It may be converted "
                         "to a permanent Category I code if widely adopted; Category III codes are archived after "
                         "five years unless extended."})
    editorial = " ".join(item["q"].lower() for item in content.faq) if content else ""
    if rows:
        g = rows[0]
        if reason:
            faq.append({"q": f"How many RVUs is {code} worth?", "a": reason})
        else:
            ans = (f"In {rel.name}, {code} has {g['work_rvu']} work RVUs, {g['nonfac_total']} total RVUs in a "
                   f"non-facility setting and {g['fac_total']} in a facility (work + practice expense + "
                   "malpractice).")
            if payments and payments["rows"]:
                p = payments["rows"][0]
                nf, f = p["non_facility"]["national"], p["facility"]["national"]
                if nf["amount"] and f["amount"]:
                    ans += (f" The national Medicare payment is {nf['text']} non-facility and {f['text']} facility "
                            f"(conversion factor ${rel.conv_factor}).")
            faq.append({"q": f"How many RVUs is {code} worth?", "a": ans})
        if g["global_days"] in ind.GLOBAL and g["global_days"] != "XXX" and "global" not in editorial:
            faq.append({"q": f"What is the global period for {code}?",
                        "a": f"{g['global_days']}: {ind.GLOBAL[g['global_days']]}."})
        if g["bilat_surg"] in ("0", "1", "2", "3") and "bilateral" not in editorial:
            words, pays = ind.BILAT[g["bilat_surg"]]
            faq.append({"q": f"Can {code} be billed bilaterally?",
                        "a": f"Bilateral indicator {g['bilat_surg']}: {words[0].lower() + words[1:]}."})
    if content and content.clinical_context:
        first = markdown_to_text(content.clinical_context.split("\n\n")[0])
        faq.append({"q": f"When is {label} {code} used?", "a": first})
    if content:
        faq += [{"q": item["q"], "a": item["a"], "editorial": True} for item in content.faq]
    return faq


def _also_known_as(content: CodeContent | None, descriptor: str, others: list[str]) -> list[str]:
    names = list(content.synonyms) if content else []
    for o in others:
        if o and o.lower() != descriptor.lower() and o not in names:
            names.append(o)
    return names


_DEC_FIELDS = {"work_rvu", "nonfac_pe_rvu", "fac_pe_rvu", "mp_rvu", "nonfac_total", "fac_total", "pre_op",
               "intra_op", "post_op"}
_BOOL_FIELDS = {"nonfac_na", "fac_na"}
CENT = Decimal("0.01")


def _fee_sql() -> str:
    """The hot-path query, with RVUs read as 2-decimal text on both databases (exact, and cheap to convert)."""
    if connection.vendor == "postgresql":
        def dec(col: str, places: int) -> str:
            return f"{col}::text"
    else:
        def dec(col: str, places: int) -> str:
            return f"printf('%%.{places}f', {col})"  # %% : the DB-API paramstyle
    cols = []
    for f in RVU_FIELDS:
        col = FeeRow._meta.get_field(f).column
        cols.append(dec(col, 2) if f in _DEC_FIELDS else dec(col, 4) if f == "conv_factor" else col)
    return (f"SELECT {', '.join(cols)} FROM {FeeRow._meta.db_table} WHERE hcpcs = %s "
            "ORDER BY release_id, modifier")


_FEE_SQL: dict[str, str] = {}


def fee_rows_for(code: str) -> list[dict[str, Any]]:
    """Every row of a code in every loaded release: one indexed query, no ORM compile cost (the hot path).

    Values come back as the ORM would give them (Decimal RVUs, bool NA flags) on SQLite and PostgreSQL.
    """
    sql = _FEE_SQL.get(connection.vendor)
    if sql is None:
        sql = _FEE_SQL[connection.vendor] = _fee_sql()
    with connection.cursor() as cur:
        cur.execute(sql, [code])
        raw = cur.fetchall()
    out = []
    for values in raw:
        row = dict(zip(RVU_FIELDS, values, strict=True))
        for f in _DEC_FIELDS:
            row[f] = Decimal(row[f])
        for f in _BOOL_FIELDS:
            row[f] = bool(row[f])
        row["conv_factor"] = Decimal(row["conv_factor"])
        out.append(row)
    return out


def content_map() -> dict[str, CodeContent]:
    """All editorial content rows (a few hundred to a few thousand small rows), per data version."""
    return DERIVED.get_or_build(("content", data_version()), lambda: {c.code: c for c in CodeContent.objects.all()})


@dataclass(frozen=True)
class HcpcsInfo:
    long_description: str
    short_description: str
    added: Any
    terminated: Any
    betos: str
    coverage: str


def hcpcs_map() -> dict[str, HcpcsInfo]:
    """The newest HCPCS Level II file's codes (about 8,600), read once per data version."""

    def build() -> dict[str, HcpcsInfo]:
        hrel = hcpcs_release()
        if hrel is None:
            return {}
        return {code: HcpcsInfo(*rest) for code, *rest in HcpcsCode.objects.filter(release=hrel).values_list(
            "code", "long_description", "short_description", "added", "terminated", "betos", "coverage")}

    return DERIVED.get_or_build(("hcpcs-map", data_version()), build)


def _build_code_page(code: str, rel: Release, loc: LocalityChoice) -> dict[str, Any]:
    all_rows = fee_rows_for(code)
    by_release: dict[int, list[dict[str, Any]]] = {}
    for r in all_rows:
        by_release.setdefault(r["release_id"], []).append(r)
    hrel = hcpcs_release()
    kind = code_kind(code)
    hcpcs = hcpcs_map().get(code) if kind == "level2" else None
    content = content_map().get(code)
    if not all_rows and hcpcs is None and content is None:
        loaded = ", ".join(r.name for r in releases()) or "none"
        raise NotFound(f"{code} is not in any loaded CMS file (releases: {loaded})")
    raw_rows = by_release.get(rel.pk, [])
    raw_rows.sort(key=lambda r: (r["modifier"] != "", r["modifier"] not in ("26", "TC"), r["modifier"]))
    rows = [_rvu_row(r) for r in raw_rows]
    status = rows[0]["status"] if rows else ""
    order = release_order()
    latest_rows = by_release[max(by_release, key=lambda pk: order.get(pk, -1))] if by_release else []
    descriptor = (rows[0]["descriptor"] if rows else (latest_rows[0]["description"] if latest_rows else "")) or \
        (hcpcs.short_description if hcpcs else "")
    place = sections().place(code)
    payments = _payments(code, rows, rel, loc) if rows else None
    reason = _no_rvu_reason(code, kind, rows, status, rel)
    work = rows[0]["_raw"][0] if rows and not rows[0]["modifier"] else None
    other_names = sorted({r["description"] for r in all_rows if r["description"]})
    if hcpcs is not None:
        other_names.append(hcpcs.short_description)
    specialties = list(content.specialties) if content and content.specialties else place.specialties
    long_desc = content.summary if content and content.summary else ""
    long_source = "rvuedge" if long_desc else None
    if not long_desc and hcpcs is not None:
        long_desc, long_source = hcpcs.long_description, "hcpcs"
    if not long_desc:
        where = place.subsection.subsection if place.subsection else (place.section.section if place.section else "")
        long_desc = (f"{code} is a {KINDS[kind][0]} code" + (f" in {where}" if where else "") +
                     (f"; CMS's short descriptor is \u201c{descriptor}\u201d." if descriptor else ".") +
                     (" The full CPT descriptor is licensed by the AMA and is not part of the CMS files."
                      if kind not in ("level2", "other") else ""))
        long_source = "generated"
    generated_plain = _generated_plain(code, kind, rows, place)
    title = (content.title if content and content.title else "") or descriptor or code
    faq = _faq(code, kind, descriptor, content, rows, status, rel, payments, place, reason)
    in_release = bool(rows)
    elsewhere = [name for pk, name in release_names() if pk in by_release and pk != rel.pk]
    hrel_name = hrel.name if hrel is not None else None
    source = (f"Data sourced from CMS Physician Fee Schedule {release_label(rel)}, conversion factor "
              f"${rel.conv_factor}" + (f" (QP ${rel.conv_factor_qp})" if rel.conv_factor_qp is not None else "") +
              f"; locality: {loc.label}." + (f" HCPCS Level II descriptions from {hrel_name}." if hcpcs else ""))
    page = {
        "code": code,
        "title": title,
        "descriptor": descriptor,
        "descriptor_source": rel.name if rows else (hrel_name if hcpcs else None),
        "kind": kind,
        "category": KINDS[kind][1],
        "category_long": KINDS[kind][0],
        "hcpcs": None if hcpcs is None else {
            "release": hrel_name, "long_description": hcpcs.long_description,
            "short_description": hcpcs.short_description,
            "added": hcpcs.added.isoformat() if hcpcs.added else None,
            "terminated": hcpcs.terminated.isoformat() if hcpcs.terminated else None,
            "betos": hcpcs.betos or None, "coverage": hcpcs.coverage or None,
        },
        "also_known_as": _also_known_as(content, descriptor, other_names),
        "long_description": long_desc,
        "long_description_source": long_source,
        "plain_language_html": _markdown(content.plain_language) if content and content.plain_language else None,
        "clinical_context_html": _markdown(content.clinical_context) if content and content.clinical_context
        else None,
        "plain_language_generated": generated_plain,
        "placement": place.to_dict(),
        "specialties": specialties,
        "specialty_shares": hooks.specialty_shares(code),
        "release": release_dict(rel),
        "in_release": in_release,
        "in_other_releases": elsewhere,
        "status": status or None,
        "status_label": ind.status_words(status)[0] if status else None,
        "status_meaning": ind.status_words(status)[1] if status else None,
        "has_rvus": _has_rvus(rows) if rows else False,
        "no_rvu_reason": reason,
        "rvus": [{k: v for k, v in r.items() if k != "_raw"} for r in rows],
        "billing": _billing_notes(code, kind, rows, status),
        "payment": payments,
        "history": _history(code, by_release, rel, known={
            (rel.pk, (r["row"].split("-", 1) + [""])[1]): (r["non_facility"]["national"], r["facility"]["national"])
            for r in payments["rows"]} if payments else None),
        "compare": _compare(code, rel, place, work, status),
        "faq": faq,
        "content": None if content is None else {
            "title": content.title, "source_file": content.source_file, "edited_in_admin": content.edited_in_admin,
        },
        "track_url": f"/log/?entry={code}",
        "source": source,
        "links": {"html": f"/codes/{code}/", "json": f"/codes/{code}.json", "api": f"/api/codes/{code}"},
    }
    return page


def _markdown(text: str) -> str:
    return MARKDOWN.get_or_build(text, lambda: render_markdown(text))


def _generated_plain(code: str, kind: str, rows: list[dict[str, Any]], place: Placement) -> str:
    where = place.subsection.subsection if place.subsection else (place.section.section if place.section else "")
    parts = []
    if where:
        parts.append(f"A service from the {where.lower() if where[0].isupper() and not where[:2].isupper() else where}"
                     " group of codes.")
    if rows:
        g = rows[0]
        if g["global_days"] == "090":
            parts.append("It is a major procedure: follow-up care for about three months is included.")
        elif g["global_days"] == "010":
            parts.append("It is a minor procedure: follow-up care for ten days is included.")
        elif g["global_days"] == "000":
            parts.append("It is a procedure whose follow-up on the same day is included.")
        elif g["global_days"] == "ZZZ":
            parts.append("It is an add-on: it is always reported together with a main procedure.")
        if g["pctc"] == "1":
            parts.append("It is a test with a technical part (equipment, staff) and a professional part "
                         "(the doctor's interpretation).")
    if kind == "cat3":
        parts.append("It is a temporary code for a new technology or procedure.")
    return " ".join(parts)
