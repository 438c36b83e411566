"""Ship the example minimums set loaded, so a resident can pick it on the profile without any command."""

from django.db import migrations


def load(apps, schema_editor):
    from rvuedge.logbook.minimums import EXAMPLE_FILE, parse_minimums

    CaseMinimum = apps.get_model("logbook", "CaseMinimum")
    rows = parse_minimums(EXAMPLE_FILE)
    for name in {r["specialty"] for r in rows}:
        if CaseMinimum.objects.filter(specialty__iexact=name).exists():
            return  # already loaded (by the command): keep what is there
    CaseMinimum.objects.bulk_create([CaseMinimum(**r) for r in rows])


def unload(apps, schema_editor):
    from rvuedge.logbook.minimums import EXAMPLE_FILE, parse_minimums

    CaseMinimum = apps.get_model("logbook", "CaseMinimum")
    names = {r["specialty"] for r in parse_minimums(EXAMPLE_FILE)}
    CaseMinimum.objects.filter(specialty__in=names, is_example=True).delete()


class Migration(migrations.Migration):
    dependencies = [("logbook", "0004_case_minimum_code_rules")]
    operations = [migrations.RunPython(load, unload)]
