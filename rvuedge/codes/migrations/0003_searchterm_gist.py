"""PostgreSQL: a GiST trigram index on the vocabulary, for nearest-word (KNN ``<->``) typo correction.

The GIN index of 0002 answers ``term % word`` but the planner scans the table for it; GiST orders by
trigram distance straight from the index. SQLite needs nothing here.
"""

from django.db import migrations

FORWARD = [
    "DROP INDEX IF EXISTS codes_searchterm_trgm",
    "CREATE INDEX IF NOT EXISTS codes_searchterm_trgm_gist ON codes_searchterm USING gist (term gist_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS codes_searchterm_trgm_gist",
    "CREATE INDEX IF NOT EXISTS codes_searchterm_trgm ON codes_searchterm USING gin (term gin_trgm_ops)",
]


def _run(statements):
    def run(apps, schema_editor):  # noqa: ARG001
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("codes", "0002_search_backends")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
