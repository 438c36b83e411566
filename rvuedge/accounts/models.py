"""A thin layer over django.contrib.auth: the clinician's profile and personal API tokens.

The profile holds what the log needs to credit an encounter the way the user's contract does:
default locality, setting and RVU release, the credit policy, FTE and wRVU goals.
"""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from rvuedge.pricing.money import round_wrvu

STUDENT, RESIDENT, ATTENDING = "student", "resident", "attending"
CAREER_STAGES = [(STUDENT, "Medical student"), (RESIDENT, "Resident / fellow"), (ATTENDING, "Attending")]

SETTINGS = [("non_facility", "Non-facility (office)"), ("facility", "Facility (hospital, ASC)")]
POLICIES = [
    ("cms_mirror", "CMS mirror: Medicare's work-RVU reductions (multiple procedure, bilateral, assists …)"),
    ("no_reductions", "No reductions: full work RVU on every line"),
    ("custom", "Custom policy (JSON below)"),
]


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    career_stage = models.CharField(max_length=10, choices=CAREER_STAGES, default=ATTENDING)
    specialty = models.CharField(max_length=80, blank=True)
    default_locality = models.CharField(
        max_length=16, blank=True, help_text="MAC-locality such as 13202-01; blank = national (GPCIs 1.000)"
    )
    default_setting = models.CharField(max_length=12, choices=SETTINGS, default="non_facility")
    default_release = models.CharField(
        max_length=16, blank=True, help_text="blank = the release in force on each date of service"
    )
    credit_policy = models.CharField(max_length=16, choices=POLICIES, default="cms_mirror")
    custom_policy = models.JSONField(null=True, blank=True)
    fte = models.DecimalField("FTE", max_digits=4, decimal_places=2, default=Decimal("1.00"))
    annual_goal = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    monthly_goal = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # The first year: where pace and projections count from (rvuedge.logbook.pace), the case minimums a
    # resident is held to, and the role a surgical case is logged with by default.
    start_date = models.DateField(
        "started on", null=True, blank=True,
        help_text="the day you started this job or programme; blank = your first logged day")
    prior_ytd_wrvu = models.DecimalField(
        "wRVUs before the start date", max_digits=10, decimal_places=2, null=True, blank=True,
        help_text="wRVUs you had this year before your start date (counted in that year's totals)")
    minimums_set = models.CharField(
        "case minimums", max_length=80, blank=True,
        help_text="the minimums set your programme holds you to (residents)")
    surgical_role = models.CharField(
        "usual surgical role", max_length=12, blank=True,
        help_text="the role a surgical case is logged with unless you pick another; blank = by career stage")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"profile of {self.user}"

    def policy_spec(self) -> str | dict[str, Any]:
        """What :func:`rvuedge.fees.services.policy_from` takes: a profile name or the custom JSON."""
        if self.credit_policy == "custom" and self.custom_policy:
            return self.custom_policy
        return self.credit_policy if self.credit_policy != "custom" else "cms_mirror"

    @property
    def effective_monthly_goal(self) -> Decimal | None:
        if self.monthly_goal is not None:
            return self.monthly_goal
        if self.annual_goal is not None:
            return round_wrvu(self.annual_goal / 12)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "career_stage": self.career_stage,
            "specialty": self.specialty,
            "default_locality": self.default_locality,
            "default_setting": self.default_setting,
            "default_release": self.default_release,
            "credit_policy": self.credit_policy,
            "custom_policy": self.custom_policy,
            "fte": str(self.fte),
            "annual_goal": None if self.annual_goal is None else str(self.annual_goal),
            "monthly_goal": None if self.monthly_goal is None else str(self.monthly_goal),
            "start_date": None if self.start_date is None else self.start_date.isoformat(),
            "prior_ytd_wrvu": None if self.prior_ytd_wrvu is None else str(self.prior_ytd_wrvu),
            "minimums_set": self.minimums_set,
            "surgical_role": self.surgical_role,
        }


TOKEN_PREFIX = "rvu_"


def token_digest(token: str) -> str:
    # Tokens carry 240 random bits, so a fast unsalted hash is enough: nobody can brute-force the preimage.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token itself is shown once, at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=60)
    prefix = models.CharField(max_length=12, help_text="the first characters, to recognise the token")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(30)
