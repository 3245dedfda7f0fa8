# Content notes fold by default for every member (issue 21). Existing members who never chose
# their topics in Settings (no account.collapse_topics_changed audit row) get every topic folded;
# a member who did choose keeps her choice, including "none".

from django.db import migrations, models

import accounts.models

TOPICS = [
    "birth_trauma",
    "baby_loss",
    "self_harm",
    "suicidal_thoughts",
    "medical",
    "abuse",
]


def fold_for_members_who_never_chose(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    AuditEntry = apps.get_model("moderation", "AuditEntry")
    chose = AuditEntry.objects.filter(action="account.collapse_topics_changed").values(
        "target_user_id"
    )
    User.objects.exclude(pk__in=chose).filter(collapse_topics=[]).update(collapse_topics=TOPICS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_collapse_topics"),
        ("moderation", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="collapse_topics",
            field=models.JSONField(blank=True, default=accounts.models.default_collapse_topics),
        ),
        migrations.RunPython(fold_for_members_who_never_chose, migrations.RunPython.noop),
    ]
