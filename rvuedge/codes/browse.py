"""Browse by section and group, and the home page's figures."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from rvuedge.fees.queries import release_summary
from rvuedge.fees.services import NotFound, national

from .codepage import price_cell
from .content import group_slug, section_slug, sections
from .models import CodeContent
from .releases import fmt_rvu, hcpcs_release, pick_release, release_dict, release_index, releases

PAGE_SIZE = 100


def browse(section: str | None = None, group: str | None = None, *, release: str | None = None,
           page: int = 1) -> dict[str, Any]:
    rel = pick_release(release)
    idx = release_index(rel)
    secs = sections()
    out: dict[str, Any] = {"release": release_dict(rel), "section": None, "group": None, "sections": [],
                           "groups": [], "codes": [], "page": 1, "pages": 1, "total": 0}
    if section is None:
        out["sections"] = [
            {"name": name, "slug": section_slug(name), "codes": len(idx.by_group.get(section_slug(name), [])),
             "url": f"/codes/browse/{section_slug(name)}/"}
            for name in secs.section_names() if idx.by_group.get(section_slug(name))
        ]
        if idx.by_group.get("other"):
            out["sections"].append({"name": "Other codes", "slug": "other", "codes": len(idx.by_group["other"]),
                                    "url": "/codes/browse/other/"})
        return out
    names = {section_slug(n): n for n in secs.section_names()}
    if section == "other":
        name = "Other codes"
    elif section in names:
        name = names[section]
    else:
        raise NotFound(f"No section {section!r} (sections: {', '.join(names)})")
    out["section"] = {"name": name, "slug": section, "url": f"/codes/browse/{section}/"}
    groups = secs.groups(name) if section != "other" else []
    out["groups"] = [
        {"name": g.subsection, "family": g.family, "slug": group_slug(g), "range": g.range_label,
         "codes": len(idx.by_group.get(f"{section}/{group_slug(g)}", [])),
         "url": f"/codes/browse/{section}/{group_slug(g)}/"}
        for g in groups
    ]
    key = section
    if group is not None:
        match = next((g for g in groups if group_slug(g) == group), None)
        if match is None:
            raise NotFound(f"No group {group!r} in {name}")
        out["group"] = {"name": match.subsection, "slug": group, "range": match.range_label,
                        "specialties": list(match.specialties), "url": f"/codes/browse/{section}/{group}/"}
        key = f"{section}/{group}"
    members = idx.by_group.get(key, [])
    pages = max(1, (len(members) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(1, page), pages)
    out.update(page=page, pages=pages, total=len(members))
    out["codes"] = [
        {"code": c, "descriptor": idx.info[c][0], "status": idx.info[c][1] or None,
         "work_rvu": fmt_rvu(idx.info[c][2]), "url": f"/codes/{c}/"}
        for c in members[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    ]
    return out


# --------------------------------------------------------------------------- site


def home_data() -> dict[str, Any]:
    rels = releases()
    hrel = hcpcs_release()
    return {
        "releases": [release_summary(r) for r in reversed(rels)],
        "hcpcs": None if hrel is None else {"name": hrel.name, "codes": hrel.counts.get("codes")},
        "content_codes": CodeContent.objects.aggregate(n=Count("id"))["n"],
        "sections": browse()["sections"] if rels else [],
    }


def example_payment(code: str = "99214") -> dict[str, str]:
    """Placeholders of the 'how wRVUs work' page, filled from the newest release and a real priced example."""
    try:
        rel = pick_release(None)
    except NotFound:
        return {"release": "(no release loaded)", "conversion_factor": "(no release loaded)",
                "example_code": code, "example_payment": "(no release loaded)"}
    cell = price_cell(code, "", rel, national(rel), "non_facility")
    cf = f"${rel.conv_factor}"
    if rel.conv_factor_qp is not None:
        cf += f" (QP ${rel.conv_factor_qp})"
    return {"release": rel.name, "conversion_factor": cf, "example_code": code,
            "example_payment": cell["text"] if cell["amount"] else cell["text"].lower()}
