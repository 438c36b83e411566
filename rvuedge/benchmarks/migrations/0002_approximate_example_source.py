"""Load the example source: approximate public wRVU medians (labelled approximate, with their source)."""

from pathlib import Path

from django.db import migrations

CSV = Path(__file__).resolve().parents[1] / "data" / "approximate_wrvu_medians.csv"


def load(apps, schema_editor):
    from rvuedge.accounts import specialties
    from rvuedge.benchmarks.importer import check_meta, parse_csv

    Source = apps.get_model("benchmarks", "BenchmarkSource")
    Stat = apps.get_model("benchmarks", "BenchmarkStat")
    parsed = parse_csv(CSV.read_bytes(), CSV.name)
    fields = check_meta(parsed.meta, CSV.name)
    if Source.objects.filter(name=parsed.meta["name"]).exists():
        return
    source = Source.objects.create(name=parsed.meta["name"], input_file=CSV.name, input_sha256=parsed.sha256,
                                   rows_read=len(parsed.rows), **fields)
    Stat.objects.bulk_create([
        Stat(source=source, specialty=r.specialty, specialty_key=specialties.key(r.specialty), metric=r.metric,
             n=r.n, **r.values)
        for r in parsed.rows
    ])


def unload(apps, schema_editor):
    Source = apps.get_model("benchmarks", "BenchmarkSource")
    Source.objects.filter(name="Approximate wRVU medians (public RVU Edge table)").delete()


class Migration(migrations.Migration):
    dependencies = [("benchmarks", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
