"""Seed the helplines from moderation/data/helplines-uk.json (the starting data shared with the
charity). After this, the database is the source of truth and supervisors edit it there;
`last_verified` stays empty until an operator has checked each number."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "helplines-uk.json"


def load(apps, schema_editor):
    Helpline = apps.get_model("moderation", "Helpline")
    if Helpline.objects.exists():
        return
    entries = json.loads(DATA.read_text(encoding="utf-8"))["entries"]
    for position, entry in enumerate(entries):
        Helpline.objects.create(
            name=entry["name"],
            contact=entry["contact"],
            when=entry.get("when", ""),
            hours=entry.get("hours", ""),
            url=entry.get("url", ""),
            position=position * 10,
        )


class Migration(migrations.Migration):
    dependencies = [("moderation", "0003_helpline_workerheartbeat_assessment_flag_and_more")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
