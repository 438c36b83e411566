"""Full-text search structures, by database vendor.

SQLite: a FTS5 table ``codes_search_fts`` whose rowid is ``codes_searchentry.id``.
PostgreSQL: the pg_trgm extension, a ``document`` tsvector column on ``codes_searchentry`` with a GIN
index, and a trigram index on the vocabulary (``codes_searchterm.term``) for typo correction.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS codes_search_fts USING fts5("
    "code, descriptor, title, synonyms, long_description, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS codes_search_fts"]

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE codes_searchentry ADD COLUMN IF NOT EXISTS document tsvector",
    "CREATE INDEX IF NOT EXISTS codes_searchentry_document ON codes_searchentry USING gin (document)",
    "CREATE INDEX IF NOT EXISTS codes_searchterm_trgm ON codes_searchterm USING gin (term gin_trgm_ops)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS codes_searchterm_trgm",
    "DROP INDEX IF EXISTS codes_searchentry_document",
    "ALTER TABLE codes_searchentry DROP COLUMN IF EXISTS document",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):  # noqa: ARG001
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("codes", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        ),
    ]
