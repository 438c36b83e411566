"""The code reference: our own editorial content per code, the search index, and contact messages.

CMS data (descriptors, RVUs, indicators) lives in :mod:`rvuedge.fees`; nothing here copies it except the
search index, which is derived data rebuilt from the loaded files (see :mod:`rvuedge.codes.search`).
"""

from __future__ import annotations

from django.db import models


class CodeContent(models.Model):
    """Original RVU Edge writing about one code, loaded from ``rvuedge/content/codes/<CODE>.md``.

    ``rvuedge content load`` never overwrites a row edited in the admin (``edited_in_admin``) unless
    ``--force`` is given; CMS data loads never touch this table.
    """

    code = models.CharField(max_length=5, unique=True)
    title = models.CharField(max_length=200, blank=True, help_text="Plain title in our own words")
    synonyms = models.JSONField(default=list, blank=True, help_text="'Also known as' terms (searchable)")
    specialties = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True, help_text="Long description, in our own words")
    plain_language = models.TextField(blank=True, help_text="Markdown")
    clinical_context = models.TextField(blank=True, help_text="Markdown")
    faq = models.JSONField(default=list, blank=True, help_text='[{"q": "...", "a": "..."}]')
    source_file = models.CharField(max_length=300, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    edited_in_admin = models.BooleanField(
        default=False, help_text="Set when saved in the admin; `content load` then leaves the row alone"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "code content"
        verbose_name_plural = "code content"

    def __str__(self) -> str:
        return f"{self.code} {self.title}".strip()


class SearchEntry(models.Model):
    """One searchable code: derived from the loaded releases, the HCPCS file and the content.

    On SQLite a FTS5 table (``codes_search_fts``, rowid = id) mirrors the text columns; on PostgreSQL an
    unmanaged ``document`` tsvector column with a GIN index does. Both are created by migration 0002.
    """

    code = models.CharField(max_length=5, unique=True)
    kind = models.CharField(max_length=8)
    descriptor = models.CharField(max_length=100, blank=True)
    long_description = models.TextField(blank=True)
    title = models.CharField(max_length=200, blank=True)
    synonyms = models.TextField(blank=True)
    section = models.CharField(max_length=80, blank=True)
    subsection = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=1, blank=True)
    work_rvu = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    release = models.CharField(max_length=16, blank=True, help_text="Newest release carrying the code")
    weight = models.SmallIntegerField(default=0, help_text="Ranking boost: current codes above deleted ones")
    prior = models.FloatField(default=0, help_text="Ranking prior per code (status, kind, editorial page, add-on)")
    marks = models.CharField(max_length=200, blank=True,
                             help_text="Descriptor notations spelt out in words for search (vocabulary index_marks)")

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "search entries"

    def __str__(self) -> str:
        return self.code


class SearchTerm(models.Model):
    """The vocabulary of the search index (for typo correction; pg_trgm-indexed on PostgreSQL)."""

    term = models.CharField(max_length=60, unique=True)
    freq = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.term


class SearchState(models.Model):
    """A single row: what the search index was built from (``signature``) and when."""

    signature = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=0)
    entries = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField()
    seconds = models.DecimalField(max_digits=8, decimal_places=3, default=0)

    def __str__(self) -> str:
        return f"search index v{self.version} ({self.entries} entries)"


class ContactMessage(models.Model):
    """A message sent through /support/. Listed in the admin."""

    name = models.CharField(max_length=100)
    email = models.EmailField()
    topic = models.CharField(max_length=40, blank=True)
    message = models.TextField(max_length=5000)
    page = models.CharField(max_length=200, blank=True, help_text="Where the sender came from")
    created_at = models.DateTimeField(auto_now_add=True)
    handled = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> {self.created_at:%Y-%m-%d}"
