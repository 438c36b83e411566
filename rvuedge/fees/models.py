"""CMS Physician Fee Schedule reference data, keyed by release.

Every row keeps the release it came from so any figure can name its source.
Rows are written only by :mod:`rvuedge.fees.importer` (atomic, idempotent).
"""

from __future__ import annotations

from django.db import models

RVU = {"max_digits": 9, "decimal_places": 2}
INDEX = {"max_digits": 7, "decimal_places": 3}
CF = {"max_digits": 9, "decimal_places": 4}
MONEY = {"max_digits": 12, "decimal_places": 2}


class Release(models.Model):
    """One CMS RVU release (RVU25A, RVU26C, ...), with its provenance."""

    name = models.CharField(max_length=16, unique=True, help_text="e.g. RVU25A")
    year = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True)
    released = models.DateField(null=True, blank=True, help_text="CMS 'RELEASED' date from the preamble")
    layout = models.CharField(max_length=4, help_text="PPRRVU CSV layout: 31 (2022-2025) or 32 (2026+)")
    conv_factor = models.DecimalField(**CF, help_text="PFS conversion factor (non-QP)")
    conv_factor_qp = models.DecimalField(**CF, null=True, blank=True, help_text="QP conversion factor")
    anes_national_cf = models.DecimalField(**CF, null=True, blank=True)
    source = models.CharField(max_length=500, help_text="What was loaded: zip, folder, file or URL")
    fingerprint = models.CharField(max_length=64, help_text="sha256 over the loaded files' hashes")
    files = models.JSONField(default=list, help_text="[{name, kind, sha256, rows}]")
    counts = models.JSONField(default=dict)
    loaded_at = models.DateTimeField()
    load_seconds = models.DecimalField(max_digits=8, decimal_places=3, default=0)

    class Meta:
        ordering = ["-year", "-name"]

    def __str__(self) -> str:
        return self.name

    @property
    def quarter(self) -> str:
        return self.name[5:6] if len(self.name) >= 6 else ""


class FeeRow(models.Model):
    """One PPRRVU row: HCPCS + modifier, every column of the file."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="fee_rows",
                                db_index=False)  # leads the unique constraint
    hcpcs = models.CharField(max_length=5)
    modifier = models.CharField(max_length=2, blank=True)
    description = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=1)
    not_used_for_medicare = models.CharField(max_length=2, blank=True)
    work_rvu = models.DecimalField(**RVU)
    nonfac_pe_rvu = models.DecimalField(**RVU)
    nonfac_na = models.BooleanField(default=False)
    fac_pe_rvu = models.DecimalField(**RVU)
    fac_na = models.BooleanField(default=False)
    mp_rvu = models.DecimalField(**RVU)
    nonfac_total = models.DecimalField(**RVU)
    fac_total = models.DecimalField(**RVU)
    pctc = models.CharField(max_length=1, blank=True)
    glob_days = models.CharField(max_length=3, blank=True)
    pre_op = models.DecimalField(**RVU)
    intra_op = models.DecimalField(**RVU)
    post_op = models.DecimalField(**RVU)
    mult_proc = models.CharField(max_length=1, blank=True)
    bilat_surg = models.CharField(max_length=1, blank=True)
    asst_surg = models.CharField(max_length=1, blank=True)
    co_surg = models.CharField(max_length=1, blank=True)
    team_surg = models.CharField(max_length=1, blank=True)
    pric_ind = models.CharField(max_length=1, blank=True)
    endo_base = models.CharField(max_length=5, blank=True)
    conv_factor = models.DecimalField(**CF)
    phys_supervision = models.CharField(max_length=2, blank=True)
    calc_flag = models.CharField(max_length=1, blank=True)
    dx_img_family = models.CharField(max_length=2, blank=True)
    opps_nonfac_pe = models.DecimalField(**RVU)
    opps_fac_pe = models.DecimalField(**RVU)
    opps_mp = models.DecimalField(**RVU)

    class Meta:
        ordering = ["hcpcs", "modifier"]
        constraints = [
            models.UniqueConstraint(fields=["release", "hcpcs", "modifier"], name="feerow_unique_code"),
        ]
        indexes = [models.Index(fields=["hcpcs", "release"], name="feerow_code_idx")]

    def __str__(self) -> str:
        return f"{self.hcpcs}{'-' + self.modifier if self.modifier else ''} ({self.release_id})"


class Locality(models.Model):
    """A Medicare payment locality (from the LOCCO file) in one release."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="localities",
                                db_index=False)  # leads the unique constraint
    mac = models.CharField(max_length=5)
    locality = models.CharField(max_length=2)
    state = models.CharField(max_length=40)
    area = models.CharField(max_length=120)
    counties = models.TextField(blank=True)

    class Meta:
        ordering = ["mac", "locality"]
        constraints = [
            models.UniqueConstraint(fields=["release", "mac", "locality"], name="locality_unique"),
        ]
        verbose_name_plural = "localities"

    def __str__(self) -> str:
        return f"{self.mac}-{self.locality} {self.area}"


class Gpci(models.Model):
    """Geographic practice cost indices for one locality in one release."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="gpcis",
                                db_index=False)  # leads the unique constraint
    mac = models.CharField(max_length=5)
    locality = models.CharField(max_length=2)
    state = models.CharField(max_length=2)
    name = models.CharField(max_length=120)
    work_gpci = models.DecimalField(**INDEX, help_text="with the 1.0 floor where the file has it")
    work_gpci_no_floor = models.DecimalField(**INDEX, null=True, blank=True)
    pe_gpci = models.DecimalField(**INDEX)
    mp_gpci = models.DecimalField(**INDEX)

    class Meta:
        ordering = ["mac", "locality"]
        constraints = [models.UniqueConstraint(fields=["release", "mac", "locality"], name="gpci_unique")]
        verbose_name = "GPCI"

    def __str__(self) -> str:
        return f"{self.mac}-{self.locality} {self.name}"


class AnesthesiaCF(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="anes_cfs",
                                db_index=False)  # leads the unique constraint
    mac = models.CharField(max_length=5)
    locality = models.CharField(max_length=2)
    name = models.CharField(max_length=120)
    conv_factor = models.DecimalField(**CF)

    class Meta:
        ordering = ["mac", "locality"]
        constraints = [models.UniqueConstraint(fields=["release", "mac", "locality"], name="anes_unique")]
        verbose_name = "anesthesia conversion factor"

    def __str__(self) -> str:
        return f"{self.mac}-{self.locality} {self.conv_factor}"


class OppsCap(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="opps_caps",
                                db_index=False)  # leads the unique constraint
    hcpcs = models.CharField(max_length=5)
    modifier = models.CharField(max_length=2, blank=True)
    procstat = models.CharField(max_length=1, blank=True)
    mac = models.CharField(max_length=5)
    locality = models.CharField(max_length=2)
    fac_price = models.DecimalField(**MONEY)
    nonfac_price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["hcpcs", "modifier", "mac", "locality"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "hcpcs", "modifier", "mac", "locality"], name="oppscap_unique"
            )
        ]
        verbose_name = "OPPS cap"

    def __str__(self) -> str:
        return f"{self.hcpcs}-{self.modifier} {self.mac}-{self.locality}"


class HcpcsRelease(models.Model):
    """One load of the HCPCS Level II alpha-numeric file."""

    name = models.CharField(max_length=40, unique=True, help_text="e.g. HCPC2026_JAN")
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=500)
    counts = models.JSONField(default=dict)
    warnings = models.JSONField(default=list)
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-name"]
        verbose_name = "HCPCS Level II release"

    def __str__(self) -> str:
        return self.name


class HcpcsCode(models.Model):
    release = models.ForeignKey(HcpcsRelease, on_delete=models.CASCADE, related_name="codes",
                                db_index=False)
    code = models.CharField(max_length=5)
    long_description = models.TextField()
    short_description = models.CharField(max_length=40)
    pricing_indicators = models.CharField(max_length=20, blank=True)
    multiple_pricing = models.CharField(max_length=1, blank=True)
    coverage = models.CharField(max_length=1, blank=True)
    asc_group = models.CharField(max_length=2, blank=True)
    betos = models.CharField(max_length=3, blank=True)
    type_of_service = models.CharField(max_length=10, blank=True)
    anes_base_units = models.PositiveSmallIntegerField(null=True, blank=True)
    added = models.DateField(null=True, blank=True)
    action_effective = models.DateField(null=True, blank=True)
    terminated = models.DateField(null=True, blank=True)
    action_code = models.CharField(max_length=1, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["release", "code"], name="hcpcscode_unique")]
        indexes = [models.Index(fields=["code"], name="hcpcscode_code_idx")]
        verbose_name = "HCPCS Level II code"

    def __str__(self) -> str:
        return self.code


class HcpcsModifier(models.Model):
    release = models.ForeignKey(HcpcsRelease, on_delete=models.CASCADE, related_name="modifiers",
                                db_index=False)
    modifier = models.CharField(max_length=2)
    long_description = models.TextField()
    short_description = models.CharField(max_length=40)
    added = models.DateField(null=True, blank=True)
    action_effective = models.DateField(null=True, blank=True)
    terminated = models.DateField(null=True, blank=True)
    action_code = models.CharField(max_length=1, blank=True)

    class Meta:
        ordering = ["modifier"]
        constraints = [models.UniqueConstraint(fields=["release", "modifier"], name="hcpcsmod_unique")]
        verbose_name = "HCPCS modifier"

    def __str__(self) -> str:
        return self.modifier
