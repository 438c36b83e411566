"""JSON API for benchmarks and contracts, mounted at /api/benchmarks (OpenAPI at /api/openapi.json).

Sources, percentiles and code volumes are public. Contracts are private: a personal token or the session;
anonymous requests get 401 and another user's contract is a 404. ``POST /pay`` computes pay for a contract
given in the body (no account needed), exactly like ``rvuedge contract pay``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from ninja import Router

from rvuedge.accounts.auth import api_auth
from rvuedge.errors import ErrorOut
from rvuedge.params import BodyIn, Date, Id, JsonObject, ParamError, Text

from . import queries, services
from .contracts import ContractError, compute_pay, split_values
from .models import BenchmarkSource

router = Router(tags=["benchmarks"])


class PayIn(BodyIn):
    contract: JsonObject
    wrvus: Text | list[Text]


class ContractIn(BodyIn):
    name: Text
    start: Date
    end: Date | None = None
    is_offer: bool = False
    terms: JsonObject


def _contract_error(exc: ContractError) -> ParamError:
    """422 naming the contract field (``tiers[1].rate``, ``wrvus``) in the API's error shape."""
    return ParamError(exc.field, str(exc), status=422)


@router.get("/sources")
def list_sources(request):
    return {"sources": [s.to_dict() for s in BenchmarkSource.objects.all()]}


@router.get("/sources/{source_id}")
def get_source(request, source_id: Id):
    src = BenchmarkSource.objects.filter(pk=source_id).first()
    if src is None:
        raise Http404("No such benchmark source")
    return {**src.to_dict(), "stats": [s.to_dict() for s in src.stats.all()]}


@router.get("/codes/{hcpcs}/specialties")
def code_specialties(request, hcpcs: str):
    vol = queries.code_volume(hcpcs)
    if vol is None:
        return {"hcpcs": hcpcs.upper(), "specialties": [], "source": None}
    return {**vol, "total_services": str(vol["total_services"]),
            "work_rvu": None if vol["work_rvu"] is None else str(vol["work_rvu"]),
            "specialties": [{**s, "services": str(s["services"]), "share": str(s["share"]),
                             "total_services": str(s["total_services"])} for s in vol["specialties"]]}


@router.post("/pay", response={200: dict[str, Any], 422: ErrorOut})
def pay(request, body: PayIn):
    try:
        return compute_pay(body.contract, body.wrvus).to_dict()
    except ContractError as exc:
        raise _contract_error(exc) from None


@router.get("/me", auth=api_auth)
def my_standing(request, source: Id | None = None, specialty: str | None = None):
    src = BenchmarkSource.objects.filter(pk=source).first() if source else None
    data = services.standing(request.user, source=src, specialty=specialty)
    placement = data.get("placement") or {}
    return {
        "specialty": data["specialty"], "fte": str(data["fte"]),
        "ytd_wrvu": None if data.get("ytd") is None else str(data["ytd"]),
        "pace": None if data.get("pace") is None else str(data["pace"]),
        "source": data["source"].to_dict() if data["source"] else None,
        "percentiles": data["stat"].to_dict() if data["stat"] else None,
        "tracking": placement.get("text"), "estimate_percentile": placement.get("estimate"),
        "to_next": {k: str(v) for k, v in data["to_next"].items()} if data.get("to_next") else None,
        "career_stage": data["stage"], "stage_note": data["stage_note"],
        "basis": data["basis"].to_dict() if data.get("basis") else None,
    }


def _status_dict(status: dict[str, Any]) -> dict[str, Any]:
    nxt = status["next_tier"]
    return {
        "contract": status["contract"].to_dict(),
        "year_start": status["year_start"].isoformat(), "year_end": status["year_end"].isoformat(),
        "ytd_wrvu": str(status["ytd_wrvu"]),
        "projected_wrvu": None if status["projected_wrvu"] is None else str(status["projected_wrvu"]),
        "earned": status["earned"].to_dict(),
        "projected": status["projected"].to_dict() if status["projected"] is not None else None,
        "basis": status["basis"].to_dict(),
        "next_tier": {k: (v.isoformat() if isinstance(v, dt.date) else str(v) if v is not None else None)
                      for k, v in nxt.items()} if nxt else None,
        "true_up": {k: (str(v) if v is not None and not isinstance(v, dict) else v)
                    for k, v in status["true_up"].items()} if status["true_up"] else None,
        "notes": status["notes"],
    }


@router.get("/contracts", auth=api_auth)
def list_contracts(request):
    return {"contracts": [c.to_dict() for c in services.contracts_for_user(request.user)]}


@router.post("/contracts", auth=api_auth, response={200: dict[str, Any], 409: ErrorOut, 422: ErrorOut})
def create_contract(request, body: ContractIn):
    try:
        c = services.do_save_contract(request.user, name=body.name, start=body.start, end=body.end,
                                      terms=body.terms, is_offer=body.is_offer)
    except ContractError as exc:
        raise _contract_error(exc) from None
    except services.ContractConflict as exc:
        raise ParamError(exc.field, exc.message, status=409) from None
    return c.to_dict()


@router.get("/contracts/{contract_id}", auth=api_auth)
def get_contract(request, contract_id: Id):
    contract = services.get_contract_for_user(request.user, contract_id)
    return _status_dict(services.contract_status(request.user, contract))


@router.delete("/contracts/{contract_id}", auth=api_auth)
def delete_contract(request, contract_id: Id):
    services.do_delete_contract(request.user, contract_id)
    return {"deleted": contract_id}


@router.get("/contracts/{contract_id}/pay", auth=api_auth, response={200: dict[str, Any], 422: ErrorOut})
def contract_pay(request, contract_id: Id, wrvus: str):
    contract = services.get_contract_for_user(request.user, contract_id)
    values = split_values(wrvus)
    try:
        return compute_pay(contract.get_terms(), values[0] if len(values) == 1 else values).to_dict()
    except ContractError as exc:
        raise _contract_error(exc) from None
