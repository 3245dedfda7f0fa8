"""The audit log is append-only: the model layer refuses every update and delete, and on
PostgreSQL the database itself refuses them even from raw SQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from moderation.actions import do_save_helpline, do_set_room_thresholds
from moderation.audit import record_audit
from moderation.models import AuditEntry


@pytest.fixture
def entry(supervisor) -> AuditEntry:  # noqa: ANN001
    with transaction.atomic():
        return record_audit(
            action="test.entry", acting_user=supervisor, after={"x": 1}, reason="because"
        )


@pytest.mark.django_db
def test_saving_a_changed_entry_is_refused(entry) -> None:  # noqa: ANN001
    entry.reason = "rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).reason == "because"


@pytest.mark.django_db
def test_deleting_an_entry_is_refused(entry) -> None:  # noqa: ANN001
    with pytest.raises(PermissionError):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_queryset_update_and_delete_are_refused(entry) -> None:  # noqa: ANN001
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == "because"


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the append-only trigger exists only on PostgreSQL (CI runs this; SQLite relies on the model layer)",
)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE moderation_auditentry SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM moderation_auditentry WHERE id = %s",
    ],
)
def test_postgresql_refuses_raw_update_and_delete(entry, sql) -> None:  # noqa: ANN001
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM moderation_auditentry WHERE id = %s", [entry.pk])
        assert cursor.fetchone() == ("because",)


@pytest.mark.django_db
def test_configuration_changes_are_audited_with_before_and_after(supervisor, newborn_room) -> None:  # noqa: ANN001
    do_set_room_thresholds(
        room=newborn_room, values={"toxicity_flag": 0.9}, acting_user=supervisor, reason="too noisy"
    )
    entry = AuditEntry.objects.get(action="room.thresholds_changed")
    assert entry.actor == supervisor and entry.room == newborn_room
    assert entry.before == {"toxicity_flag": 0.8} and entry.after == {"toxicity_flag": 0.9}
    assert entry.reason == "too noisy"

    helpline = do_save_helpline(
        helpline_id=None,
        fields={"name": "PANDAS", "contact": "0808 1961 776", "when": "Any time"},
        acting_user=supervisor,
    )
    do_save_helpline(
        helpline_id=helpline.pk, fields={"contact": "0808 1961 777"}, acting_user=supervisor
    )
    changed = AuditEntry.objects.get(action="helpline.updated")
    assert changed.before == {"contact": "0808 1961 776"} and changed.after == {
        "id": helpline.pk,
        "contact": "0808 1961 777",
    }
