"""The starter practice scenarios (moderation/practice/starter.py), written for Kindred. Only
missing slugs are added, so supervisors' edits are never overwritten."""

from django.db import migrations


def add_starter_scenarios(apps, schema_editor):
    from moderation.practice.starter import SCENARIOS

    Scenario = apps.get_model("practice", "Scenario")
    existing = set(Scenario.objects.values_list("slug", flat=True))
    Scenario.objects.bulk_create(
        [
            Scenario(position=(n + 1) * 10, **fields)
            for n, fields in enumerate(SCENARIOS)
            if fields["slug"] not in existing
        ]
    )


class Migration(migrations.Migration):
    dependencies = [("practice", "0001_initial")]

    operations = [migrations.RunPython(add_starter_scenarios, migrations.RunPython.noop)]
