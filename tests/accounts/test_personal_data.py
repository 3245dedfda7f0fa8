"""The personal-data registry (accounts/personal_data.py): every model that could hold a member's
words has an app that says how they are exported and erased, the apps' handlers run in order in
one transaction, and accounts reaches the apps above it only through the registry and its
signals."""

# Fixtures borrowed from the supervision tests are parameters of the same name.
# ruff: noqa: F811

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import models
from django.test.utils import isolate_apps

from accounts import personal_data
from accounts.actions import AccountError, do_erase_account, do_export_member_data
from accounts.models import User
from tests.supervision.conftest import make_flag, make_message  # noqa: F401 (fixtures)

ACCOUNTS = Path(__file__).resolve().parents[2] / "accounts"


def test_every_model_that_may_hold_member_text_is_registered() -> None:
    """Fails when an app adds a model with her words (a text or JSON column and a foreign key to
    the user or to her messages) without registering its export and erasure."""
    findings = personal_data.check_personal_data_registered()
    assert [f"{f.obj._meta.label}: {f.msg}" for f in findings] == []


@isolate_apps("accounts")  # the foreign keys name the real User class, as it is not isolated
def test_the_check_names_an_unregistered_model_with_her_words() -> None:
    class DiaryEntry(models.Model):
        author = models.ForeignKey(User, on_delete=models.CASCADE)
        text = models.TextField()

        class Meta:
            app_label = "accounts"

    class DiaryComment(models.Model):  # about her entry, not linked to her directly
        entry = models.ForeignKey(DiaryEntry, on_delete=models.CASCADE)
        note = models.JSONField(default=dict)

        class Meta:
            app_label = "accounts"

    class Mood(models.Model):  # a fixed choice is not free text
        author = models.ForeignKey(User, on_delete=models.CASCADE)
        kind = models.CharField(max_length=8, choices=[("low", "Low"), ("ok", "OK")])

        class Meta:
            app_label = "accounts"

    findings = personal_data.check_personal_data_registered(
        all_models=[User, DiaryEntry, DiaryComment, Mood]
    )
    labels = sorted(f.obj._meta.label for f in findings)
    assert labels == ["accounts.DiaryComment", "accounts.DiaryEntry"]
    assert all(f.id == "accounts.W010" for f in findings)
    assert "export" in findings[0].hint and "docs/architecture.md" in findings[0].hint

    personal_data.declare_without_member_text(
        "accounts.DiaryComment", why="test: a comment by staff"
    )
    try:
        findings = personal_data.check_personal_data_registered(
            all_models=[User, DiaryEntry, DiaryComment, Mood]
        )
        assert [f.obj._meta.label for f in findings] == ["accounts.DiaryEntry"]
    finally:
        personal_data._registry.without_member_text.pop("accounts.DiaryComment")


def test_handlers_run_in_order_accounts_chat_moderation_facilitation() -> None:
    names = [h.name for h in personal_data.handlers()]
    assert names.index("accounts") < names.index("chat") < names.index("moderation")
    assert names.index("moderation") < names.index("moderation.facilitation")


def test_registering_needs_a_handler_and_a_reason() -> None:
    with pytest.raises(ValueError):
        personal_data.register("nothing", models=["x.Y"])
    with pytest.raises(ValueError):
        personal_data.declare_without_member_text("x.Y", why=" ")


def test_erase_handlers_refuse_to_run_outside_a_transaction() -> None:
    erasure = personal_data.Erasure(
        user=None, acting_user=None, old_display_name="a", new_display_name="b"
    )
    with pytest.raises(RuntimeError):
        personal_data.erase_member_data(erasure)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["actions.py", "views.py", "personal_data.py", "signals.py"])
def test_accounts_data_rights_do_not_import_chat(module: str) -> None:
    """accounts is the base: its data-rights code reaches chat and moderation only through the
    registry and accounts.signals. (record_audit is the one remaining import of moderation:
    the audit model lives there; docs/architecture.md.)"""
    imported = _imported_modules(ACCOUNTS / module)
    upward = sorted(
        m
        for m in imported
        if m.split(".")[0] in {"chat", "moderation", "frontend"}
        and m not in {"moderation.audit", "chat.content_notes"}
    )
    assert upward == []


@pytest.mark.django_db
def test_a_failing_handler_rolls_back_the_whole_erasure(member, make_message, newborn_room) -> None:  # noqa: ANN001
    from chat.models import Message

    message = make_message(newborn_room, member, "zebra-51 a hard night")

    def broken(erasure: personal_data.Erasure) -> None:
        raise RuntimeError("disk full")

    personal_data.register("zz-broken", models=[], erase=broken, order=999)
    try:
        with pytest.raises(RuntimeError, match="disk full"):
            do_erase_account(member, acting_user=member)
    finally:
        personal_data._registry.handlers.pop("zz-broken")
    member.refresh_from_db()
    message.refresh_from_db()
    # The earlier handlers' work (chat emptied her messages) is rolled back with it.
    assert member.is_active and member.display_name == "Amara"
    assert message.body == "zebra-51 a hard night" and message.state != "deleted"
    assert Message.objects.filter(author=member).count() == 1


@pytest.mark.django_db
def test_export_has_each_apps_sections_and_erasure_closes_her_sockets(
    member,
    make_message,
    make_flag,
    newborn_room,
    django_capture_on_commit_callbacks,
) -> None:  # noqa: ANN001
    flagged = make_message(newborn_room, member, "zebra-52 you are all useless")
    make_flag(flagged, span="useless")
    data = do_export_member_data(member, acting_user=member)
    assert list(data)[:3] == ["format", "generated_at", "account"]
    for section in ("rooms", "messages", "reactions", "muted_or_blocked"):  # chat's
        assert section in data
    for section in ("reports_made", "notices", "posting_pauses", "moderator_notes"):
        assert section in data  # moderation's
    (message,) = data["messages"]
    assert message["text"] == "zebra-52 you are all useless"
    assert message["moderation"]["category"] == "toxic"

    from unittest import mock

    with (
        mock.patch("chat.events._send_now") as pushed,
        django_capture_on_commit_callbacks(execute=True),
    ):
        do_erase_account(member, acting_user=member)
    (group, event), _ = pushed.call_args
    assert group == f"user-{member.pk}" and event["code"] == "erased"
    with pytest.raises(AccountError, match="already been erased"):
        do_erase_account(member, acting_user=member)


@pytest.mark.django_db
def test_an_erase_handler_cannot_put_words_into_the_audit_row(member) -> None:  # noqa: ANN001
    from moderation.models import AuditEntry

    def chatty(erasure: personal_data.Erasure) -> dict:
        return {"last_words": "zebra-53 goodbye"}

    personal_data.register("zz-chatty", models=[], erase=chatty, order=999)
    try:
        with pytest.raises(TypeError, match="counts"):
            do_erase_account(member, acting_user=member)
    finally:
        personal_data._registry.handlers.pop("zz-chatty")
    assert not AuditEntry.objects.filter(action="account.erased").exists()
    member.refresh_from_db()
    assert member.is_active
