"""Figures that editorial pages quote, taken from the CMS data loaded here (never typed into the text).

Markdown pages under ``rvuedge/content/pages/`` write ``{{ conversion_factor_nonqp }}`` and the like; the page
view fills them from :func:`editorial_figures`. A figure the loaded files do not hold says so instead of
falling back to a number someone typed.
"""

from __future__ import annotations

from decimal import Decimal

from .models import Release
from .services import newest_release

NOT_LOADED = "(no release loaded)"


def _money(value: Decimal) -> str:
    return f"${value}"


def editorial_figures(release: Release | None = None) -> dict[str, str]:
    """Placeholder values for editorial pages, from ``release`` (default: the newest loaded).

    ``release``, ``release_year``, ``conversion_factor`` (non-QP, with the QP one in brackets when loaded),
    ``conversion_factor_nonqp``, ``conversion_factor_qp``, ``anesthesia_cf`` (national)."""
    rel = release or newest_release()
    if rel is None:
        return {key: NOT_LOADED for key in ("release", "release_year", "conversion_factor",
                                            "conversion_factor_nonqp", "conversion_factor_qp", "anesthesia_cf")}
    nonqp = _money(rel.conv_factor)
    if rel.conv_factor_qp is not None:
        qp = _money(rel.conv_factor_qp)
    elif rel.year < 2026:
        qp = nonqp  # one conversion factor for everyone before 2026
    else:
        qp = f"not loaded (CMS publishes it in {rel.name}'s QPP file)"
    cf = nonqp if rel.conv_factor_qp is None else f"{nonqp} (QP {qp})"
    anes = _money(rel.anes_national_cf) if rel.anes_national_cf is not None else \
        f"not in the files loaded for {rel.name}"
    return {
        "release": rel.name,
        "release_year": str(rel.year),
        "conversion_factor": cf,
        "conversion_factor_nonqp": nonqp,
        "conversion_factor_qp": qp,
        "anesthesia_cf": anes,
    }
