"""chat no longer points at moderation's Helpline table: a message carries a generic card (a
content type and an id) that the app which attached it renders. Cards already shared keep
pointing at the same helpline."""

import django.db.models.deletion
from django.db import migrations, models


def resource_to_card(apps, schema_editor):  # noqa: ANN001, ARG001
    Message = apps.get_model("chat", "Message")
    ContentType = apps.get_model("contenttypes", "ContentType")
    shared = Message.objects.filter(resource__isnull=False)
    if not shared.exists():
        return
    helpline, _ = ContentType.objects.get_or_create(app_label="moderation", model="helpline")
    for pk, resource_id in shared.values_list("pk", "resource_id").iterator():
        Message.objects.filter(pk=pk).update(card_type=helpline, card_id=resource_id)


def card_to_resource(apps, schema_editor):  # noqa: ANN001, ARG001
    Message = apps.get_model("chat", "Message")
    ContentType = apps.get_model("contenttypes", "ContentType")
    helpline = ContentType.objects.filter(app_label="moderation", model="helpline").first()
    if helpline is None:
        return
    for pk, card_id in (
        Message.objects.filter(card_type=helpline).values_list("pk", "card_id").iterator()
    ):
        Message.objects.filter(pk=pk).update(resource_id=card_id)


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0007_merge_shows_risk_and_read_only"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="card_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="card_type",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="contenttypes.contenttype",
            ),
        ),
        migrations.RunPython(resource_to_card, card_to_resource),
        migrations.RemoveField(
            model_name="message",
            name="resource",
        ),
    ]
