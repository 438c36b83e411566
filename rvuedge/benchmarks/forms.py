"""The contract form: plain fields for the common shapes, or the contract JSON for anything else."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms

from .contracts import MONTH_NAMES, ContractError, load_contract

TIER_ROWS = 4
STIPEND_ROWS = 2
PERIOD_CHOICES = [("year", "Year"), ("quarter", "Quarter"), ("month", "Month")]


def _money(label: str, required: bool = False, **kw: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=required, min_value=0, max_digits=12, decimal_places=2, **kw)


class ContractForm(forms.Form):
    name = forms.CharField(max_length=120, initial="My contract")
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="first day in force")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                          help_text="last day in force; blank = open-ended")
    is_offer = forms.BooleanField(required=False, label="This is an offer to compare (not in force)")
    base_salary = _money("Base salary ($ per year at 1.0 FTE)", initial=Decimal(0))
    fte = forms.DecimalField(label="FTE", min_value=Decimal("0.01"), max_value=Decimal("1.5"), max_digits=4,
                             decimal_places=2, initial=Decimal("1.00"))
    threshold = forms.DecimalField(label="wRVU threshold (per year at 1.0 FTE)", required=False, min_value=0,
                                   max_digits=10, decimal_places=2, initial=Decimal(0))
    tier_mode = forms.ChoiceField(choices=[("accrual", "Accrual by tier"), ("highest", "All at highest tier")],
                                  initial="accrual", help_text="accrual: each band at its own rate")
    tier_reset = forms.ChoiceField(label="Tiers reset each", choices=PERIOD_CHOICES, initial="year")
    payout_share = forms.DecimalField(label="Payout share (%)", min_value=0, max_value=100, max_digits=6,
                                      decimal_places=2, initial=Decimal(100))
    draw_amount = _money("Draw ($ per year at 1.0 FTE)", help_text="blank = no draw")
    draw_true_up = forms.ChoiceField(label="True-up every", choices=PERIOD_CHOICES, initial="quarter")
    draw_clawback = forms.BooleanField(label="Deficits are clawed back", required=False, initial=True)
    draw_carry_forward = forms.BooleanField(label="Deficits carry forward within the year", required=False)
    credit_policy = forms.ChoiceField(choices=[("cms_mirror", "CMS mirror"), ("no_reductions", "No reductions")],
                                      help_text="CMS mirror: Medicare's work-RVU reductions; no reductions: full "
                                                "work RVU on every line")
    rvu_mode = forms.ChoiceField(label="Which RVUs it credits",
                                 choices=[("current", "Current release"), ("frozen", "Frozen release"),
                                          ("blend", "Blend of releases")],
                                 help_text="current: the release in force on each date of service")
    frozen_release = forms.ChoiceField(required=False, choices=[])
    blend = forms.CharField(required=False, max_length=200, help_text="e.g. RVU24A:0.5, RVU25A:0.5")
    year_start_month = forms.TypedChoiceField(label="Contract year starts", coerce=int, initial=1,
                                              choices=[(i + 1, m) for i, m in enumerate(MONTH_NAMES)])
    terms_json = forms.CharField(label="Or paste the contract JSON (overrides the fields above)", required=False,
                                 widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}))

    def __init__(self, *args: Any, releases: list[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.releases = list(releases or [])
        self.fields["frozen_release"].choices = [("", "—")] + [(r, r) for r in self.releases]
        for i in range(1, TIER_ROWS + 1):
            self.fields[f"tier{i}_up_to"] = forms.DecimalField(
                label=f"Tier {i} up to (wRVU/yr)", required=False, min_value=0, max_digits=10, decimal_places=2)
            self.fields[f"tier{i}_rate"] = forms.DecimalField(
                label=f"Tier {i} $/wRVU", required=False, min_value=0, max_digits=8, decimal_places=2)
            for name in (f"tier{i}_up_to", f"tier{i}_rate"):  # rendered in a table without a <label>: name them
                self.fields[name].widget.attrs["aria-label"] = self.fields[name].label
        for i in range(1, STIPEND_ROWS + 1):
            self.fields[f"stipend{i}_name"] = forms.CharField(label=f"Stipend {i}", required=False, max_length=80)
            self.fields[f"stipend{i}_amount"] = _money(f"Stipend {i} ($/yr)")
        self.terms: dict[str, Any] | None = None

    @staticmethod
    def initial_from(contract) -> dict[str, Any]:
        t = contract.terms or {}
        init: dict[str, Any] = {
            "name": contract.name, "start": contract.start, "end": contract.end, "is_offer": contract.is_offer,
            "base_salary": t.get("base_salary"), "fte": t.get("fte"), "threshold": t.get("threshold"),
            "tier_mode": t.get("tier_mode"), "tier_reset": t.get("tier_reset"),
            "payout_share": Decimal(str(t.get("payout_share", "1"))) * 100,
            "credit_policy": t.get("credit_policy") if isinstance(t.get("credit_policy"), str) else "cms_mirror",
            "year_start_month": t.get("year_start_month", 1),
        }
        for i, tier in enumerate(t.get("tiers", [])[:TIER_ROWS], start=1):
            init[f"tier{i}_up_to"] = tier.get("up_to")
            init[f"tier{i}_rate"] = tier.get("rate")
        for i, s in enumerate(t.get("stipends", [])[:STIPEND_ROWS], start=1):
            init[f"stipend{i}_name"] = s.get("name")
            init[f"stipend{i}_amount"] = s.get("amount")
        draw = t.get("draw")
        if draw:
            init.update(draw_amount=draw.get("amount"), draw_true_up=draw.get("true_up"),
                        draw_clawback=draw.get("clawback"), draw_carry_forward=draw.get("carry_forward"))
        else:
            init["draw_clawback"] = True
        rel = t.get("rvu_release") or {"mode": "current"}
        init["rvu_mode"] = rel.get("mode", "current")
        if rel.get("mode") == "frozen":
            init["frozen_release"] = rel.get("release")
        if rel.get("mode") == "blend":
            init["blend"] = ", ".join(f"{r['release']}:{r['weight']}" for r in rel.get("releases", []))
        needs_json = (not isinstance(t.get("credit_policy", "cms_mirror"), str)
                      or len(t.get("tiers", [])) > TIER_ROWS or len(t.get("stipends", [])) > STIPEND_ROWS)
        if needs_json:
            init["terms_json"] = json.dumps(t, indent=2)
        return init

    def _terms_from_fields(self, d: dict[str, Any]) -> dict[str, Any]:
        terms: dict[str, Any] = {
            "base_salary": str(d.get("base_salary") or 0), "fte": str(d.get("fte") or 1),
            "threshold": str(d.get("threshold") or 0), "tier_mode": d["tier_mode"], "tier_reset": d["tier_reset"],
            "payout_share": str((d["payout_share"] if d.get("payout_share") is not None else Decimal(100)) / 100),
            "credit_policy": d["credit_policy"], "year_start_month": d["year_start_month"],
        }
        tiers = []
        for i in range(1, TIER_ROWS + 1):
            up_to, rate = d.get(f"tier{i}_up_to"), d.get(f"tier{i}_rate")
            if rate is None and up_to is None:
                continue
            if rate is None:
                self.add_error(f"tier{i}_rate", "Give the $/wRVU for this tier.")
                continue
            tiers.append({"rate": str(rate)} if up_to is None else {"up_to": str(up_to), "rate": str(rate)})
        if tiers and "up_to" in tiers[-1]:
            tiers.append({"rate": tiers[-1]["rate"]})  # above the last bound: the last rate continues
        terms["tiers"] = tiers
        stipends = []
        for i in range(1, STIPEND_ROWS + 1):
            amount = d.get(f"stipend{i}_amount")
            if amount:
                stipends.append({"name": d.get(f"stipend{i}_name") or f"Stipend {i}", "amount": str(amount)})
        terms["stipends"] = stipends
        if d.get("draw_amount"):
            terms["draw"] = {"amount": str(d["draw_amount"]), "true_up": d["draw_true_up"],
                             "clawback": bool(d.get("draw_clawback")),
                             "carry_forward": bool(d.get("draw_carry_forward"))}
        mode = d.get("rvu_mode") or "current"
        if mode == "frozen":
            if not d.get("frozen_release"):
                self.add_error("frozen_release", "Pick the release the contract is frozen at.")
            terms["rvu_release"] = {"mode": "frozen", "release": d.get("frozen_release") or ""}
        elif mode == "blend":
            parts = []
            for chunk in (d.get("blend") or "").split(","):
                if not chunk.strip():
                    continue
                rel, _, weight = chunk.partition(":")
                parts.append({"release": rel.strip().upper(), "weight": weight.strip() or "0"})
            missing = [p["release"] for p in parts if p["release"] not in self.releases]
            if missing:
                self.add_error("blend", f"{missing[0]} is not loaded (loaded: {', '.join(self.releases) or 'none'})")
            terms["rvu_release"] = {"mode": "blend", "releases": parts}
        else:
            terms["rvu_release"] = {"mode": "current"}
        return terms

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if self.errors:
            return d
        text = (d.get("terms_json") or "").strip()
        if text:
            try:
                terms = json.loads(text)
            except json.JSONDecodeError as exc:
                self.add_error("terms_json", f"Not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
                return d
            if not isinstance(terms, dict):
                self.add_error("terms_json", "Expected a JSON object.")
                return d
            terms.pop("name", None)
        else:
            terms = self._terms_from_fields(d)
        if self.errors:
            return d
        try:
            load_contract({**terms, "name": d.get("name") or "Contract"})
        except ContractError as exc:
            self.add_error(self._field_for(exc.field, bool(text)), exc.message if not text else str(exc))
            return d
        self.terms = terms
        return d

    def _field_for(self, path: str, from_json: bool) -> str | None:
        if from_json:
            return "terms_json"
        if path.startswith("tiers["):
            i = int(path[6:path.index("]")]) + 1
            return f"tier{min(i, TIER_ROWS)}_{'up_to' if 'up_to' in path else 'rate'}"
        if path.startswith("stipends["):
            return f"stipend{int(path[9:path.index(']')]) + 1}_amount"
        if path.startswith("draw"):
            return "draw_amount"
        if path.startswith("rvu_release"):
            return "blend" if self.cleaned_data.get("rvu_mode") == "blend" else "frozen_release"
        if path in self.fields:
            return path
        return None
