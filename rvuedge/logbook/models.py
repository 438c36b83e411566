"""The private procedure log: encounters, their credited lines, favourites, resident case minimums, imports.

Every encounter stores the credit it was given: per line the wRVU (display and exact), the payment and the
engine's explanation; per encounter the totals, the CMS release, the credit policy and the locality. Editing a
profile later never silently changes what was logged. Writes go through :mod:`rvuedge.logbook.actions`.
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from .roles import ASSISTED, CO_SURGEON, FIRST_ASSIST, OBSERVED, PERFORMED, PRIMARY, SUPERVISED

WRVU = {"max_digits": 12, "decimal_places": 2}
EXACT = {"max_digits": 16, "decimal_places": 6}
MONEY = {"max_digits": 14, "decimal_places": 2}

ROLES = [
    (PERFORMED, "Performed"),
    (PRIMARY, "Primary surgeon"),
    (FIRST_ASSIST, "First assist"),
    (ASSISTED, "Assisted"),
    (CO_SURGEON, "Co-surgeon"),
    (OBSERVED, "Observed"),
    (SUPERVISED, "Supervised / teaching"),
]
ROLE_LABELS = dict(ROLES)
#: Roles offered by career stage (the default is by code kind: rvuedge.logbook.roles.default_role).
ROLES_BY_STAGE = {
    "student": [OBSERVED, ASSISTED, PERFORMED],
    "resident": [PRIMARY, FIRST_ASSIST, ASSISTED, CO_SURGEON, SUPERVISED, OBSERVED, PERFORMED],
    "attending": [PERFORMED, PRIMARY, FIRST_ASSIST, ASSISTED, CO_SURGEON, SUPERVISED],
}
#: Roles a profile may make the default for surgical codes (E/M and other services: "performed").
SURGICAL_ROLES = [PRIMARY, FIRST_ASSIST, ASSISTED, CO_SURGEON, SUPERVISED, PERFORMED]
SETTINGS = [("non_facility", "Non-facility"), ("facility", "Facility")]
TRASH_DAYS = 30


class JSONText(models.TextField):
    """JSON kept as text. Credit explanations are written and read whole and never queried inside, so this spares
    PostgreSQL parsing every one into jsonb (a third of a 100,000-row import's database time)."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(value)

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value):
        return None if value is None else json.dumps(value, cls=DjangoJSONEncoder)

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))


class Encounter(models.Model):
    # db_index=False: the (user, date) index below serves every per-user query.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="encounters",
                             db_index=False)
    uid = models.UUIDField(default=uuid.uuid4, editable=False, help_text="stable identity for backup/restore")
    date = models.DateField("date of service")
    entry = models.CharField(max_length=500, help_text="the lines as rapid-entry text: 99214 20610-RT")
    setting = models.CharField(max_length=12, choices=SETTINGS, default="non_facility")
    pos = models.CharField("place of service", max_length=2, blank=True)
    site = models.CharField("site", max_length=80, blank=True)
    role = models.CharField(max_length=12, choices=ROLES, default=PERFORMED)
    attending = models.CharField("attending", max_length=80, blank=True)
    category = models.CharField("case category", max_length=80, blank=True)
    notes = models.TextField(max_length=1000, blank=True)
    # The credit, as priced when logged (or last edited).
    total_wrvu = models.DecimalField(**WRVU)
    total_wrvu_exact = models.DecimalField(**EXACT)
    total_payment = models.DecimalField(**MONEY, null=True, blank=True)
    release = models.CharField(max_length=16)
    policy_name = models.CharField(max_length=60)
    policy = JSONText(default=dict)
    locality = models.CharField(max_length=16, default="national")
    source = JSONText(default=dict, help_text="release, locality, conversion factor, policy")
    flags = JSONText(default=list, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 - NULL = no key; NULLs never collide
    # sha256 of the request that carried the key (rvuedge.logbook.actions.request_hash): a retry must send the same
    # request. Blank for rows stored before it was kept, and for imports (whose key is itself a row hash).
    idempotency_hash = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="in the trash since")

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            # The (user, date) index of the live log (trash excluded). It also carries every column the dashboard
            # aggregates, so those read the index and never the wide rows; a plain (user, date) index beside it
            # only tempted SQLite's planner into reading rows.
            # (deleted_at is listed last only so that SQLite treats the index as covering.)
            models.Index(fields=["user", "date", "category", "role", "release", "policy_name", "locality",
                                 "total_wrvu", "total_payment", "deleted_at"],
                         name="enc_user_date", condition=models.Q(deleted_at__isnull=True)),
            # Category / role / provenance breakdowns group in this order without sorting.
            models.Index(fields=["user", "category", "role", "release", "policy_name", "locality", "date",
                                 "total_wrvu", "deleted_at"],
                         name="enc_user_mix", condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["user", "deleted_at"], name="enc_trash",
                         condition=models.Q(deleted_at__isnull=False)),
            # What changed since a moment: the days a contract's kept re-credit must redo (credit.recredited_days).
            models.Index(fields=["user", "updated_at"], name="enc_user_updated"),
        ]
        constraints = [
            # NULL keys never collide, so only requests that carried a key are deduplicated.
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="enc_user_idem_unique"),
            models.UniqueConstraint(fields=["user", "uid"], name="enc_user_uid_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.entry}"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class EncounterLine(models.Model):
    """One credited line. ``user`` and ``date`` repeat the encounter's so that code totals aggregate on an index."""

    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="lines")
    # A copy of encounter.user (kept in step by the do_* functions); no database constraint of its own, which
    # spares PostgreSQL one foreign-key check per line in bulk imports.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False,
                             db_constraint=False)
    date = models.DateField()
    position = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(max_length=5)
    modifiers = models.CharField(max_length=14, blank=True, help_text="dash-separated: RT or 80-51")
    units = models.PositiveIntegerField(default=1)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    description = models.CharField(max_length=100, blank=True)
    wrvu = models.DecimalField(**WRVU)
    wrvu_exact = models.DecimalField(**EXACT)
    payment = models.DecimalField(**MONEY, null=True, blank=True)
    explanation = JSONText(default=dict, help_text="{wrvu_steps, payment_steps, flags, ...} from the engine")

    class Meta:
        ordering = ["encounter", "position"]
        indexes = [
            models.Index(fields=["user", "date"], name="line_user_date"),
            # Top codes group in this order, reading the index only.
            models.Index(fields=["user", "code", "date", "wrvu", "payment", "units"], name="line_user_code"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def modifier_list(self) -> list[str]:
        return [m for m in self.modifiers.split("-") if m]

    @property
    def text(self) -> str:
        from .credit import line_text  # credit reads the fee tables: not loaded while the models load

        return line_text(self.code, self.modifier_list, self.units, self.minutes)


class Favourite(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourite_codes")
    code = models.CharField(max_length=20, help_text="a rapid-entry token: 20610-RT")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["user", "code"], name="fav_user_code_unique")]

    def __str__(self) -> str:
        return self.code


class CaseMinimum(models.Model):
    """A residency program's minimum case count for one category. ``specialty`` names the minimums set (a
    resident picks one on the profile); ``codes`` are the set's code rules for the category."""

    specialty = models.CharField(max_length=80)
    category = models.CharField(max_length=80)
    minimum = models.PositiveIntegerField()
    roles = models.CharField(max_length=120, blank=True,
                             help_text="comma-separated roles that count (blank = every role but observed)")
    source = models.CharField(max_length=200, blank=True, help_text="where the numbers come from")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                              related_name="+", help_text="blank = a shared set (loaded by an administrator); "
                                                          "else a set one resident loaded for themself")
    codes = models.CharField(max_length=500, blank=True,
                             help_text="code rules: CPT codes and ranges that belong here, e.g. 27447 or 49505-49525")
    is_example = models.BooleanField(default=False, help_text="illustrative numbers, not a real requirement")

    class Meta:
        ordering = ["specialty", "category"]
        constraints = [
            models.UniqueConstraint(fields=["specialty", "category"], name="casemin_unique",
                                    condition=models.Q(owner__isnull=True)),
            models.UniqueConstraint(fields=["owner", "specialty", "category"], name="casemin_owner_unique",
                                    condition=models.Q(owner__isnull=False)),
        ]
        verbose_name = "case minimum"

    def __str__(self) -> str:
        return f"{self.specialty}: {self.category} >= {self.minimum}"

    @property
    def role_list(self) -> list[str]:
        return [r.strip() for r in self.roles.split(",") if r.strip()]


class ImportBatch(models.Model):
    """An uploaded CSV/XLSX waiting for its column mapping and confirmation; nothing is logged before that."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    kind = models.CharField(max_length=4)  # csv | xlsx
    data = models.BinaryField()
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    report = models.JSONField(default=dict)
    status = models.CharField(max_length=10, default="uploaded")  # uploaded | previewed | done
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"


class EmployerReport(models.Model):
    """An employer's RVU report, kept to reconcile the log against it (rvuedge.logbook.reconcile).

    Only what reconciling needs is kept: per row the file line, date of service, code, modifiers, units and the
    credited wRVU. Every other column is dropped on upload, and a file with a patient-identifier column is
    refused before anything is stored.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="employer_reports")
    label = models.CharField(max_length=120, blank=True, help_text="e.g. 'Q1 2026 from the billing office'")
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    columns = models.JSONField(default=dict, help_text="field -> the report's column header")
    lines = JSONText(default=list, help_text="[line, date, code, [modifiers], units, wrvu or null] per row")
    line_count = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="blank or subtotal rows")
    start = models.DateField()
    end = models.DateField()
    has_wrvu = models.BooleanField(default=False)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "sha256"], name="empreport_user_file_unique")]

    def __str__(self) -> str:
        return self.label or self.filename
