"""Contracts (private, per user) and national benchmarks (shared reference data with provenance)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from .contracts import ContractTerms, load_contract

PCT = {"max_digits": 14, "decimal_places": 2, "null": True, "blank": True}


class BenchmarkSource(models.Model):
    """Where a set of percentiles comes from: a survey, an approximate public table, or computed here."""

    SURVEY, COMPUTED, APPROXIMATE = "survey", "computed", "approximate"
    KINDS = [(SURVEY, "Survey"), (COMPUTED, "Computed from open data"), (APPROXIMATE, "Approximate (public table)")]
    SETTINGS = [("all", "All practice settings"), ("academic", "Academic"), ("private", "Private practice"),
                ("mixed", "Mixed"), ("unknown", "Not stated")]

    name = models.CharField(max_length=120, unique=True)
    year = models.PositiveSmallIntegerField(help_text="the year the figures describe")
    kind = models.CharField(max_length=12, choices=KINDS)
    setting = models.CharField(max_length=10, choices=SETTINGS, default="all")
    fte_basis = models.CharField(max_length=200, help_text="e.g. '1.0 clinical FTE' or 'not FTE-adjusted'")
    licence = models.CharField(max_length=300, help_text="what the figures may be used for")
    citation = models.CharField(max_length=500, blank=True, help_text="publisher, title, URL")
    notes = models.TextField(blank=True)
    medicare_only = models.BooleanField(default=False, help_text="wRVUs from Medicare fee-for-service claims only")
    release = models.CharField(max_length=16, blank=True, help_text="CMS RVU release used (computed sources)")
    input_file = models.CharField(max_length=300, blank=True)
    input_sha256 = models.CharField(max_length=64, blank=True)
    rows_read = models.BigIntegerField(null=True, blank=True)
    clinicians = models.PositiveIntegerField(null=True, blank=True)
    build_seconds = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def wrvu_label(self) -> str:
        return "Medicare-only wRVUs" if self.medicare_only else "Annual wRVUs"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "name": self.name,
            "year": self.year,
            "kind": self.kind,
            "setting": self.setting,
            "fte_basis": self.fte_basis,
            "licence": self.licence,
            "citation": self.citation,
            "notes": self.notes,
            "medicare_only": self.medicare_only,
            "wrvu_label": self.wrvu_label,
            "release": self.release or None,
            "clinicians": self.clinicians,
            "rows_read": self.rows_read,
            "updated_at": self.updated_at.isoformat(),
        }


class BenchmarkStat(models.Model):
    """Percentiles of one metric for one specialty in one source."""

    WRVU, COMP, COMP_PER_WRVU = "wrvu", "comp", "comp_per_wrvu"
    METRICS = [(WRVU, "Annual wRVUs"), (COMP, "Total compensation ($)"), (COMP_PER_WRVU, "Compensation per wRVU ($)")]

    source = models.ForeignKey(BenchmarkSource, on_delete=models.CASCADE, related_name="stats")
    specialty = models.CharField(max_length=80)
    specialty_key = models.CharField(max_length=80, db_index=True)
    metric = models.CharField(max_length=14, choices=METRICS, default=WRVU)
    p25 = models.DecimalField(**PCT)
    p50 = models.DecimalField(**PCT)
    p75 = models.DecimalField(**PCT)
    p90 = models.DecimalField(**PCT)
    n = models.PositiveIntegerField(null=True, blank=True, help_text="clinicians behind the figures, if known")

    class Meta:
        ordering = ["specialty", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["source", "specialty_key", "metric"], name="benchstat_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.specialty} {self.metric}"

    def percentiles(self) -> list[tuple[int, Any]]:
        return [(p, getattr(self, f"p{p}")) for p in (25, 50, 75, 90) if getattr(self, f"p{p}") is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "specialty": self.specialty,
            "metric": self.metric,
            **{f"p{p}": None if getattr(self, f"p{p}") is None else str(getattr(self, f"p{p}"))
               for p in (25, 50, 75, 90)},
            "n": self.n,
        }


class CodeVolume(models.Model):
    """National volume of one HCPCS code in a computed source, and which specialties bill it."""

    source = models.ForeignKey(BenchmarkSource, on_delete=models.CASCADE, related_name="code_volumes")
    hcpcs = models.CharField(max_length=5)
    total_services = models.DecimalField(max_digits=16, decimal_places=2)
    clinicians = models.PositiveIntegerField()
    work_rvu = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    top_specialties = models.JSONField(default=list, help_text="[{specialty, services, share}] largest first")

    class Meta:
        ordering = ["hcpcs"]
        constraints = [models.UniqueConstraint(fields=["source", "hcpcs"], name="codevolume_unique")]
        indexes = [models.Index(fields=["hcpcs"], name="codevolume_hcpcs_idx")]

    def __str__(self) -> str:
        return f"{self.hcpcs} in {self.source}"


class Contract(models.Model):
    """A user's employment contract (or an offer), in force from ``start`` to ``end`` (inclusive).

    ``terms`` is the contract JSON documented in :mod:`rvuedge.benchmarks.contracts`, validated on save
    by the forms and the API; the pay maths lives there, not here.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contracts")
    name = models.CharField(max_length=120)
    start = models.DateField(help_text="first day in force")
    end = models.DateField(null=True, blank=True, help_text="last day in force; blank = open-ended")
    is_offer = models.BooleanField(default=False, help_text="an offer to compare, not a contract in force")
    terms = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start", "-id"]
        indexes = [models.Index(fields=["user", "start"], name="contract_user_start")]

    def __str__(self) -> str:
        return self.name

    def get_terms(self) -> ContractTerms:
        return load_contract({**self.terms, "name": self.name})

    def in_force(self, day: dt.date) -> bool:
        return not self.is_offer and self.start <= day and (self.end is None or day <= self.end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "name": self.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "is_offer": self.is_offer,
            "terms": self.terms,
        }
