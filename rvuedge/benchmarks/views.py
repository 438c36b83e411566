"""Pages: /benchmarks/ (where you stand), sources, and the private contract pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from rvuedge.params import MAX_ID, ParamError, parse_int, query_decimal, query_int

from . import services
from .contracts import ContractError, compute_pay, split_values
from .forms import STIPEND_ROWS, TIER_ROWS, ContractForm
from .models import BenchmarkSource

#: A typed year-to-date figure: no one credits a million wRVUs in a year.
MAX_TYPED_WRVU = 1_000_000


def _source_from(request) -> BenchmarkSource | None:
    return services.source_by_id(query_int(request, "source", default=0, lo=0, hi=MAX_ID))


def home(request):
    """Where the user's annualised pace stands among their specialty's percentiles (or any typed figure)."""
    user = request.user if request.user.is_authenticated else None
    specialty = request.GET.get("specialty")
    try:
        typed = query_decimal(request, "ytd", lo=0, hi=MAX_TYPED_WRVU, label="wRVUs this year so far")
        error = None
    except ParamError as exc:
        typed, error = None, exc.message
    data = services.standing(user, source=_source_from(request), specialty=specialty, ytd_override=typed)
    src = data["source"]
    stats = services.wrvu_stats(src)
    return render(request, "benchmarks/home.html", {
        "data": data, "sources": services.sources(), "source": src, "stats": stats,
        "specialty_names": sorted({s.specialty for s in stats}),
        "typed": request.GET.get("ytd", ""), "typed_error": error,
        "status": services.current_status(request.user),
    }, status=400 if error else 200)


def source_detail(request, source_id: int):
    return render(request, "benchmarks/source.html", services.source_page(source_id))


# --------------------------------------------------------------------------- contracts (private)


@login_required
def contract_list(request):
    contracts = services.contracts_for_user(request.user)
    today = timezone.localdate()
    current = services.contract_in_force(request.user, today)
    return render(request, "benchmarks/contracts.html", {
        "contracts": contracts, "current": current, "today": today,
        "status": services.contract_status(request.user, current) if current else None,
    })


def _form_context(form: ContractForm, **extra):
    tiers = [(form[f"tier{i}_up_to"], form[f"tier{i}_rate"]) for i in range(1, TIER_ROWS + 1)]
    stipends = [(form[f"stipend{i}_name"], form[f"stipend{i}_amount"]) for i in range(1, STIPEND_ROWS + 1)]
    return {"form": form, "tiers": tiers, "stipends": stipends, **extra}


@login_required
def contract_new(request):
    return _contract_edit(request, None)


@login_required
def contract_edit(request, contract_id: int):
    return _contract_edit(request, services.get_contract_for_user(request.user, contract_id))


def _contract_edit(request, contract):
    releases = services.release_choices()
    if request.method == "POST":
        form = ContractForm(request.POST, releases=releases)
        if form.is_valid():
            d = form.cleaned_data
            try:
                saved = services.do_save_contract(request.user, name=d["name"], start=d["start"], end=d.get("end"),
                                                  terms=form.terms or {}, is_offer=d["is_offer"], contract=contract)
            except services.ContractConflict as exc:
                form.add_error(exc.field, exc.message)
            except ContractError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Saved “{saved.name}”.")
                return redirect("benchmarks:contract", contract_id=saved.pk)
    else:
        initial = ContractForm.initial_from(contract) if contract else {"start": timezone.localdate().replace(
            month=1, day=1)}
        form = ContractForm(initial=initial, releases=releases)
    return render(request, "benchmarks/contract_form.html", _form_context(form, contract=contract))


@login_required
def contract_detail(request, contract_id: int):
    contract = services.get_contract_for_user(request.user, contract_id)
    status = services.contract_status(request.user, contract)
    what_if = None
    typed = request.GET.get("wrvus", "").strip()
    error = None
    if typed:
        try:
            values = split_values(typed)
            what_if = compute_pay(contract.get_terms(), values[0] if len(values) == 1 else values)
        except ContractError as exc:
            error = exc.message
    return render(request, "benchmarks/contract.html", {"contract": contract, "status": status,
                                                        "what_if": what_if, "typed": typed, "error": error})


@login_required
@require_POST
def contract_delete(request, contract_id: int):
    contract = services.get_contract_for_user(request.user, contract_id)
    name = contract.name
    services.do_delete_contract(request.user, contract.pk)
    messages.success(request, f"Deleted “{name}”.")
    return redirect("benchmarks:contracts")


@login_required
def contract_compare(request):
    ids = [parse_int(i, "ids", default=0, lo=1, hi=MAX_ID) for i in request.GET.getlist("ids") if i.strip()]
    all_contracts = services.contracts_for_user(request.user)
    chosen = [services.get_contract_for_user(request.user, i) for i in dict.fromkeys(ids)]
    if not chosen:
        chosen = all_contracts[:3]
    comparison = services.compare(request.user, chosen) if chosen else None
    return render(request, "benchmarks/compare.html", {"comparison": comparison, "contracts": all_contracts,
                                                       "chosen": {c.pk for c in chosen}})

