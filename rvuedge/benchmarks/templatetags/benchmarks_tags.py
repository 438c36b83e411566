"""`{% benchmarks_panel %}`: the contract and benchmark panel for the log dashboard (self-contained)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import timezone

from rvuedge.benchmarks import services
from rvuedge.benchmarks.contracts import fmt_money, fmt_wrvu
from rvuedge.pricing.money import round_places

register = template.Library()


@register.inclusion_tag("benchmarks/_panel_body.html", takes_context=True)
def benchmarks_panel(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"anonymous": True}
    contract = services.contract_in_force(user, timezone.localdate())
    return {
        "status": services.contract_status(user, contract) if contract else None,
        "data": services.standing(user),
        "panel": True,
    }


@register.inclusion_tag("benchmarks/_missed_pay_body.html", takes_context=True)
def missed_pay(context, reconciliation):
    """The contract value of what an employer's report did not credit (a stat card on the reconcile page)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"v": services.value_of_missed(user, reconciliation.missed_by_date())}


@register.filter
def money(value):
    if value is None or value == "":
        return "—"
    return fmt_money(Decimal(str(value)))


@register.filter
def wrvu(value):
    if value is None or value == "":
        return "—"
    return fmt_wrvu(Decimal(str(value)))


@register.filter
def wrvu_whole(value):
    """Benchmark tables: whole wRVUs, so columns line up (4,500 and 1,734, never 1,733.32 beside 294)."""
    if value is None or value == "":
        return "—"
    return f"{int(round_places(Decimal(str(value)), 0)):,}"
