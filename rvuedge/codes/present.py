"""HTML of the code page, built from the page dict of :func:`rvuedge.codes.queries.code_page`.

Why Python and not a Django template: the site has ~16,600 code pages, each a few hundred values, and the
test suite renders every one of them (plus gunicorn serves them at hundreds per second). The Django
template engine spent most of each request on variable lookups here; plain string building is several
times faster. ``codes/code.html`` still provides the site chrome (it extends ``base.html``), and every
other page of the app uses ordinary templates.

Rules: every value goes through :func:`e` (HTML-escaped) unless it is markup we built; nothing here computes
a figure — numbers and words come from the page dict as they are.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape as _escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from .chart import history_svg


def e(value: Any) -> str:
    """Escaped text ('—' for empty). The stdlib function: Django's adds a lazy-string check per call."""
    return "—" if value is None or value == "" else _escape(str(value), quote=True)


def n(value: str | None) -> str:
    """A figure we formatted ourselves ("19.60", "090", a code): digits, letters, '.', '-' only, no escaping."""
    return "—" if value is None or value == "" else value


def section(ident: str, title: str, body: str, extra: str = "") -> str:
    return f'<section id="{ident}"><h2>{title}{extra}</h2>{body}</section>'


# --------------------------------------------------------------------------- header


def header(p: dict[str, Any], json_url: str) -> str:
    code = e(p["code"])
    badges = f'<span class="badge cat">{e(p["category"])}</span>'
    if p["status"]:
        badges += f' <span class="badge st-{e(p["status"])}">Status {e(p["status"])} · {e(p["status_label"])}</span>'
    if not p["in_release"]:
        badges += f' <span class="badge warn">Not in {e(p["release"]["name"])}</span>'
    aka = (e(", ".join(p["also_known_as"])) if p["also_known_as"]
           else '<span class="muted">no other names recorded yet</span>')
    keyfigs = ""
    if p["rvus"]:
        g = p["rvus"][0]
        keyfigs = (
            '<dl class="keyfigs">'
            f'<div><dt>Work RVU</dt><dd>{e(g["work_rvu"])}</dd></div>'
            f'<div><dt>Total RVU <small>non-facility</small></dt><dd>{e(g["nonfac_total"])}</dd></div>'
            f'<div><dt>Total RVU <small>facility</small></dt><dd>{e(g["fac_total"])}</dd></div>'
            f'<div><dt>Medicare <small>non-facility</small></dt><dd>{keyfig_pay(p)}</dd></div></dl>')
    pay_link = ' <a class="button secondary" href="#payment">Payment by locality</a>' if p["payment"] else ""
    return (
        '<header class="code-head" id="overview">'
        f'<p class="code-line"><span class="code-num">{code}</span> <span class="descriptor" '
        f'title="CMS short descriptor ({e(p["descriptor_source"])})">{e(p["descriptor"])}</span></p>'
        f'<h1>{e(p["title"])}</h1><p class="badges">{badges}</p>'
        f'<p class="aka"><strong>Also known as:</strong> {aka}</p>{keyfigs}'
        f'<p class="actions"><a class="button" href="{e(p["track_url"])}">Track this code</a>{pay_link} '
        f'<a class="json-link" href="{e(json_url)}">JSON</a></p></header>')


def keyfig_pay(p: dict[str, Any], oob: bool = False) -> str:
    pay = p["payment"]
    swap = ' hx-swap-oob="true"' if oob else ""
    if not pay or not pay["rows"]:
        return f'<span id="kf-pay"{swap}>—</span>'
    cell = pay["rows"][0]["non_facility"]
    if pay["locality"] == "national":
        text, where = cell["national"]["text"], "national"
    else:
        text, where = cell["locality"]["text"], pay["locality_label"]
    return f'<span id="kf-pay"{swap}>{e(text)} <small>{e(where)}</small></span>'


def crumbs(p: dict[str, Any]) -> str:
    pl = p["placement"]
    out = '<nav class="crumbs" aria-label="Breadcrumb"><a href="/codes/">CPT Codes</a>'
    if pl["section"]:
        out += f' › <a href="/codes/browse/{e(pl["section_slug"])}/">{e(pl["section"])}</a>'
        if pl["group_slug"]:
            out += f' › <a href="/codes/browse/{e(pl["section_slug"])}/{e(pl["group_slug"])}/">{e(pl["subsection"])}</a>'
    return out + "</nav>"


# --------------------------------------------------------------------------- text sections


def description(p: dict[str, Any]) -> str:
    body = f"<p>{e(p['long_description'])}</p>"
    h = p["hcpcs"]
    if h:
        if p["long_description_source"] == "hcpcs":
            body += f'<p class="source">Long description from the CMS HCPCS Level II file {e(h["release"])}.</p>'
        else:
            body += (f'<p class="hcpcs-long"><strong>HCPCS Level II long description</strong> ({e(h["release"])}): '
                     f'{e(h["long_description"])}</p>')
    return section("description", "Description", body)


def plain_language(p: dict[str, Any]) -> str:
    if p["plain_language_html"]:  # sanitised Markdown (nh3)
        body = f'<div class="prose">{p["plain_language_html"]}</div>'
    else:
        body = (f"<p>{e(p['plain_language_generated'] or 'No plain-language explanation has been written yet.')}</p>"
                f'<p class="muted small">Generated from the CMS data; our editors have not written this section for '
                f'{e(p["code"])} yet.</p>')
    return section("plain-language", "In plain language", body)


def clinical_context(p: dict[str, Any]) -> str:
    if p["clinical_context_html"]:  # sanitised Markdown (nh3)
        body = f'<div class="prose">{p["clinical_context_html"]}</div>'
    else:
        pl = p["placement"]
        text = ""
        if pl["section"]:
            text = f"{p['code']} belongs to {pl['section']}"
            if pl["subsection"]:
                text += f" › {pl['subsection']}"
            text += f" ({pl['range']}). "
        text += "Typical specialties: " + (", ".join(p["specialties"]) or "—") + "."
        body = f"<p>{e(text)}</p>"
    return section("clinical-context", "Clinical context", body)


# --------------------------------------------------------------------------- RVUs


RVU_LINES = [
    ("work", "work_rvu", "Work", None, ""),
    ("nfpe", "nonfac_pe_rvu", "PE, non-facility", "nonfac_na", ""),
    ("fpe", "fac_pe_rvu", "PE, facility", "fac_na", ""),
    ("mp", "mp_rvu", "Malpractice", None, ""),
    ("nftotal", "nonfac_total", "Total, non-facility", None, "total"),
    ("ftotal", "fac_total", "Total, facility", None, "total"),
]
SHORT = {None: "Global", "26": "-26", "TC": "-TC", "53": "-53"}
LEGEND = {"26": "professional component (the interpretation)", "TC": "technical component (equipment and staff)",
          "53": "discontinued procedure"}
NA = ' <abbr class="na" title="Not applicable in this setting">NA</abbr>'


def rvu_table(p: dict[str, Any]) -> str:
    rows = p["rvus"]
    head = "".join(f'<th scope="col" class="num" title="{e(r["label"])}">{e(SHORT.get(r["modifier"], r["label"]))}'
                   "</th>" for r in rows)
    body = []
    for key, field, label, na_field, cls in RVU_LINES:
        cells = "".join(
            f'<td class="num" data-row="{n(r["row"])}" data-k="{key}">{n(r[field])}'
            f'{NA if na_field and r[na_field] else ""}</td>' for r in rows)
        tr = f'<tr class="{cls}">' if cls else "<tr>"
        body.append(f'{tr}<th scope="row">{label}</th>{cells}</tr>')
    return (f'<table class="data rvu-table"><thead><tr><th scope="col">RVUs</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def indicators(p: dict[str, Any]) -> str:
    g = p["rvus"][0]
    shares = (f" Shares: pre-op {g['pre_op']}, intra-op {g['intra_op']}, post-op {g['post_op']}."
              if (g["pre_op"], g["intra_op"], g["post_op"]) != ("0.00", "0.00", "0.00") else "")
    items = [
        ("Status", g["status"], f"{g['status_label']}: {g['status_meaning']}.", ""),
        ("Global days", g["global_days"], g["global_meaning"] + "." + shares, ""),
        ("PC/TC", g["pctc"], g["pctc_meaning"] + ".", ""),
        ("Multiple procedures", g["mult_proc"], g["mult_proc_meaning"] + ".",
         f' Endoscopic base: <a href="/codes/{e(g["endo_base"])}/">{e(g["endo_base"])}</a>.' if g["endo_base"] else ""),
        ("Bilateral", g["bilat_surg"], g["bilat_meaning"] + ".", ""),
        ("Assistant at surgery", g["asst_surg"], g["asst_meaning"] + ".", ""),
        ("Co-surgeons", g["co_surg"], g["co_surg_meaning"] + ".", ""),
        ("Team surgery", g["team_surg"], g["team_meaning"] + ".", ""),
    ]
    if g["supervision_meaning"]:
        items.append(("Supervision", g["phys_supervision"], g["supervision_meaning"] + ".", ""))
    dl = "".join(f"<div><dt>{label}</dt><dd><strong>{e(code)}</strong> — {e(text)}{extra}</dd></div>"
                 for label, code, text, extra in items)
    return f'<dl class="indicators">{dl}</dl>'


def rvu_information(p: dict[str, Any]) -> str:
    rel = e(p["release"]["name"])
    body = ""
    if p["no_rvu_reason"]:
        body += f'<p class="callout">{e(p["no_rvu_reason"])}</p>'
    if not p["in_release"]:
        where = (f" It appears in {e(', '.join(p['in_other_releases']))}; see the history below or choose another "
                 "release." if p["in_other_releases"] else
                 " It is not on the Physician Fee Schedule in any loaded release.")
        body += f'<p class="callout">{e(p["code"])} is not in {rel}.{where}</p>'
    if p["rvus"]:
        table = f'<div class="table-scroll">{rvu_table(p)}</div>'
        if not p["has_rvus"]:
            table = f'<details class="zero-rvus"><summary>Show the CMS file row (all RVUs are zero)</summary>{table}</details>'
        mods = [r for r in p["rvus"] if r["modifier"]]
        legend = "".join(f" {e(SHORT.get(r['modifier'], r['modifier']))}: {LEGEND.get(r['modifier'], e(r['label']))}."
                         for r in mods)
        body += (table + '<p class="muted small">Total = work + practice expense (PE) + malpractice. NA: CMS does not '
                 f"expect the service in that setting.{legend}</p>" + indicators(p))
    return section("rvu-information", "RVU information", body, f" <small>{rel}</small>")


# --------------------------------------------------------------------------- payment


def _pay_cell(cell: dict[str, Any], local: bool, row: str, setting: str) -> str:
    main = cell["locality"] if local else cell["national"]
    html = (f'<td class="num" data-row="{e(row)}" data-setting="{setting}">'
            f'<span class="amt" data-k="pay">{e(main["text"])}</span>')
    qp = cell.get("locality_qp" if local else "national_qp")
    if qp:
        html += f"<br><small>QP {e(qp['text'])}</small>"
    if local:
        html += f"<br><small>national {e(cell['national']['text'])}</small>"
    return html + "</td>"


def payment_table(p: dict[str, Any]) -> str:
    pay = p["payment"]
    if not pay["rows"]:
        return ""
    local = pay["locality"] != "national"
    where = e(pay["locality_label"]) if local else "National"
    rows = "".join(
        f'<tr><th scope="row">{e(r["row"])}<br><small>{e(r["label"])}</small></th>'
        f'{_pay_cell(r["non_facility"], local, r["row"], "non_facility")}'
        f'{_pay_cell(r["facility"], local, r["row"], "facility")}</tr>'
        for r in pay["rows"])
    return (f'<table class="data pay-table"><thead><tr><th scope="col">{where}</th>'
            '<th scope="col" class="num">Non-facility <small>office</small></th>'
            f'<th scope="col" class="num">Facility <small>hospital, ASC</small></th></tr></thead><tbody>{rows}</tbody>'
            "</table>")


def payment_source(p: dict[str, Any]) -> str:
    pay = p["payment"]
    text = f"{pay['release']} · conversion factor ${pay['conversion_factor']}"
    if pay["conversion_factor_qp"]:
        text += f" (QP ${pay['conversion_factor_qp']})"
    if pay["anesthesia_cf"] and p["status"] == "J":
        text += f" · anaesthesia CF ${pay['anesthesia_cf']}"
    text += f" · {pay['locality_label']}"
    if pay["gpci"]:
        gp = pay["gpci"]
        text += f" · GPCI work {gp['work']}, PE {gp['pe']}, MP {gp['mp']}"
        if pay["gpci_release"] and pay["gpci_release"] != pay["release"]:
            text += f" (from {pay['gpci_release']})"
    text += (". Allowed amount for one unit, before the patient's share; priced by the RVU Edge engine from the "
             "CMS files.")
    out = f'<p class="source">{e(text)}</p>'
    if pay["gpci"] and pay["gpci_release"] and pay["gpci_release"] != pay["release"]:
        out += (f'<p class="callout" role="note"><strong>{e(pay["release"])} has no GPCI file of its own:</strong> '
                f'the locality adjustment uses the GPCIs of {e(pay["gpci_release"])}, the newest loaded release '
                "that has one. Load the release's full zip when CMS publishes it to use its own indices.</p>")
    return out


def payment_section(p: dict[str, Any], locality_options: str, oob: bool = False) -> SafeString:
    """The payment box (also the htmx partial; ``oob`` adds the key figure of the header)."""
    pay = p["payment"]
    code = e(p["code"])
    notes = "".join(f'<p class="muted small">{e(n)}</p>' for n in pay["notes"])
    headline = f'<p class="callout">{e(pay["headline"])}</p>' if pay["headline"] else ""
    html = (
        '<section id="payment" class="card payment" aria-live="polite">'
        f'<h2>Medicare payment <small>{e(pay["release"])}</small></h2>'
        f'<form class="loc-form" method="get" action="/codes/{code}/#payment" hx-get="/codes/{code}/payment/" '
        'hx-trigger="change" hx-target="#payment" hx-swap="outerHTML">'
        f'<input type="hidden" name="release" value="{e(p["release"]["name"])}">'
        f'<label for="locality">Locality</label><select id="locality" name="locality">{locality_options}</select>'
        '<button type="submit" class="secondary small js-hide">Update</button></form>'
        f"{headline}{payment_table(p)}{notes}{payment_source(p)}</section>")
    if oob:
        html += keyfig_pay(p, oob=True) + data_source(p, oob=True)
    return mark_safe(html)


# --------------------------------------------------------------------------- history, compare


def _history_cell(c: dict[str, Any]) -> str:
    numeric = c["key"] not in ("status", "global_days")
    cls = ("num" if numeric else "") + (f" chg {c['dir']}" if c["changed"] else "")
    value = c["value"]
    text = (f"${Decimal(value):,.2f}" if value else "—") if c["key"].startswith("payment") else n(value)
    arrow = {"up": '<span class="arrow" aria-label="up"> ▲</span>',
             "down": '<span class="arrow" aria-label="down"> ▼</span>'}.get(c["dir"], "")
    title = f' title="was {n(c["was"])}"' if c["changed"] else ""
    return f'<td class="{cls.strip()}"{title}>{text}{arrow}</td>'


def history_table(p: dict[str, Any]) -> str:
    code = e(p["code"])
    rows = []
    for en in p["history"]["entries"]:
        sel = " selected" if en["selected"] else ""
        rel = e(en["release"])
        if en["deleted"]:
            rows.append(f'<tr class="deleted{sel}"><th scope="row">{rel}</th><td colspan="10">'
                        f'<span class="badge err">deleted</span> {code} is not in this release.</td></tr>')
            continue
        badges = (' <span class="badge ok">new</span>' if en["new"] else "") + (
            ' <span class="badge warn">changed</span>' if en["changed"] else "")
        cells = "".join(_history_cell(c) for c in en["cells"])
        rows.append(f'<tr class="{sel.strip()}"><th scope="row"><a href="?release={rel}">{rel}</a>{badges}</th>'
                    f"{cells}</tr>")
    return ('<table class="data history-table"><thead><tr><th scope="col">Release</th><th>Status</th>'
            '<th class="num">Work</th><th class="num">PE<br>non-fac.</th><th class="num">PE<br>facility</th>'
            '<th class="num">MP</th><th class="num">Total<br>non-fac.</th><th class="num">Total<br>facility</th>'
            '<th>Global</th><th class="num">National $<br>non-fac.</th><th class="num">National $<br>facility</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def history(p: dict[str, Any]) -> str:
    h = p["history"]
    if not h["entries"]:
        return section("history", "History across releases",
                       f"<p>{e(p['code'])} is not in any loaded Physician Fee Schedule release.</p>")
    svg = history_svg(h["chart"], code=p["code"])  # escapes its own text
    chart = f'<figure class="chart-box" id="history-chart">{svg}</figure>' if svg else ""
    body = (f'{chart}<div class="table-scroll">{history_table(p)}</div><p class="muted small">Global row of each '
            "loaded release; payments are national, at each release's own conversion factor. Changed values are "
            "highlighted (▲ up, ▼ down; hover for the old value).</p>")
    return section("history", "History across releases", body)


def compare(p: dict[str, Any]) -> str:
    groups = p["compare"]["groups"]
    out = []
    if not groups:
        out.append("<p>This code is outside the sections we map.</p>")
    for i, g in enumerate(groups):
        where = f"<em>{e(g['label'])}</em>" + (f" ({e(g['range'])})" if g["range"] else "")
        if g["percentile"] is not None:
            out.append(
                f'<div class="pct"><p>Work RVU <strong>{e(p["rvus"][0]["work_rvu"])}</strong> is higher than '
                f'<strong>{g["percentile"]}%</strong> of the {g["valued_codes"]} valued codes in {where}. '
                f'Median {e(g["median"])}, highest {e(g["max"])}.</p>'
                f'<div class="pct-bar" aria-hidden="true"><span style="left:{g["percentile"]}%"></span></div></div>')
        elif i == 0:
            extra = (f" with the {g['valued_codes']} valued codes in {where} (median {e(g['median'])})"
                     if g["valued_codes"] else "")
            out.append(f"<p>{e(p['code'])} has no work RVU to compare{extra}.</p>")
    related = p["compare"]["related"]
    if related:
        items = "".join(
            f'<li><a href="{e(r["url"])}"><span class="code-num sm">{e(r["code"])}</span> {e(r["descriptor"])}</a>'
            + (f" <small>{e(r['work_rvu'])} wRVU</small>" if r["work_rvu"] else "") + "</li>" for r in related)
        out.append(f'<h3>Related codes in {e(p["compare"]["related_group"])}</h3><ul class="related">{items}</ul>')
    return section("compare", "How this code compares", "".join(out))


# --------------------------------------------------------------------------- billing, specialties, FAQ, CTA


def billing(p: dict[str, Any]) -> str:
    if not p["billing"]:
        body = f"<p>No Physician Fee Schedule indicators for this code in {e(p['release']['name'])}.</p>"
    else:
        body = '<ul class="notes">' + "".join(
            f"<li><strong>{e(n['title'])}.</strong> {e(n['text'])}</li>" for n in p["billing"]) + "</ul>"
    return section("billing", "Billing &amp; documentation", body)


def specialties(p: dict[str, Any]) -> str:
    measured = p.get("specialty_shares")
    if measured:  # national shares of the code's services, from a benchmark source (Medicare claims)
        rows = "".join(f'<tr><th scope="row">{e(s["specialty"])}</th><td class="num">{e(s["percent"])}</td></tr>'
                       for s in measured["items"])
        where = "Medicare fee-for-service claims" if measured["medicare_only"] else "claims"
        body = (f'<table class="data shares"><thead><tr><th scope="col">Specialty</th>'
                f'<th scope="col" class="num">Share of services</th></tr></thead><tbody>{rows}</tbody></table>'
                f'<p class="source">Measured: share of {e(p["code"])}\'s {e(measured["total_services"])} national '
                f"services by the billing clinician's specialty, {e(where)}, {e(measured['year'])} "
                f"(source: {e(measured['source'])}" + (f", priced with {e(measured['release'])}"
                                                      if measured["release"] else "") + ").</p>")
        return section("specialties", "Specialties", body)
    chips = "".join(f'<span class="chip">{e(v)}</span>' for v in p["specialties"]) or \
        '<span class="muted">Not mapped.</span>'
    return section("specialties", "Specialties", f'<p class="chips">{chips}</p>')


def faq(p: dict[str, Any]) -> str:
    items = "".join(
        f'<details class="faq"{" open" if i == 0 else ""}><summary>{e(f["q"])}</summary><p>{e(f["a"])}</p></details>'
        for i, f in enumerate(p["faq"]))
    return section("faq", "Frequently asked questions", items)


def data_source(p: dict[str, Any], oob: bool = False) -> str:
    swap = ' hx-swap-oob="true"' if oob else ""
    return f'<p class="source" id="data-source"{swap}>{e(p["source"])}</p>'


def cta_and_source(p: dict[str, Any], release_names: list[str]) -> str:
    code = e(p["code"])
    links = ", ".join(f'<a href="/codes/{code}/?release={e(n)}">{e(n)}</a>' for n in release_names)
    return (
        '<section class="cta" id="track"><h2>Track this code in RVU Edge</h2><p>Log procedures, calculate wRVUs, '
        'and benchmark against national data — all in one app.</p>'
        f'<p><a class="button" href="{e(p["track_url"])}">Log {code}</a></p></section>'
        f'<footer class="code-source">{data_source(p)}<p class="source">CPT® is a registered '
        "trademark of the American Medical Association. Descriptions, synonyms, plain-language text and clinical "
        f"context are original content by RVU Edge. Loaded releases: {links}.</p></footer>")


# --------------------------------------------------------------------------- the page


def code_body(p: dict[str, Any], *, json_url: str, locality_options: str, release_names: list[str]) -> SafeString:
    """The code page's sections in seed order (``codes/code.html`` puts the breadcrumbs and search box above)."""
    parts = [
        header(p, json_url), description(p), plain_language(p), clinical_context(p), rvu_information(p),
        payment_section(p, locality_options) if p["payment"] else "",
        history(p), compare(p), billing(p), specialties(p), faq(p), cta_and_source(p, release_names),
    ]
    return mark_safe("".join(parts))
