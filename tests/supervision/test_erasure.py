"""A member downloads her data and erases her account: afterwards none of her words, and not
her pseudonym, are anywhere in the database; audit rows still record that things happened."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone

from chat.models import MemberFilter, MessageRevision, Reaction
from moderation.actions import (
    do_add_moderator_note,
    do_claim_flag,
    do_report_message,
    do_warn_member,
)
from moderation.models import AuditEntry, Flag

HER_WORDS = [
    "zebra-41 my health visitor never listens",
    "zebra-42 first draft about the night feeds",
    "zebra-43 edited: night feeds are endless",
    "zebra-44 you are all useless cows",
    "zebra-45 this reply is cruel, please look",
]


def _text_columns(model: type[models.Model]) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, (models.CharField, models.TextField, models.JSONField))
    ]


def _everything_stored() -> list[tuple[str, str, str]]:
    """Every text and JSON value of every row of every model."""
    out = []
    for model in apps.get_models():
        columns = _text_columns(model)
        if not columns:
            continue
        manager = model._base_manager
        for row in manager.values_list("pk", *columns):
            for column, value in zip(columns, row[1:], strict=True):
                if value not in (None, "", [], {}):
                    out.append(
                        (
                            model._meta.label,
                            column,
                            value
                            if isinstance(value, str)
                            else json.dumps(value, ensure_ascii=False),
                        )
                    )
    return out


@pytest.fixture
def her_history(member, other_member, moderator, newborn_room, make_message, make_flag, supervisor):  # noqa: ANN001, ANN201
    from chat.actions import check_edit_message, check_send_message

    first, _ = check_send_message(
        author=member, room=newborn_room, client_id="client-0001", body=HER_WORDS[0]
    )
    second, _ = check_send_message(
        author=member, room=newborn_room, client_id="client-0002", body=HER_WORDS[1]
    )
    check_edit_message(user=member, room=newborn_room, seq=second.seq, body=HER_WORDS[2])
    abusive = make_message(newborn_room, member, HER_WORDS[3])
    flag = make_flag(abusive, span="useless cows")
    do_report_message(reporter=other_member, message=abusive, reason=f"she wrote '{HER_WORDS[3]}'")
    theirs = make_message(newborn_room, other_member, "Bea says hello")
    do_report_message(reporter=member, message=theirs, reason=HER_WORDS[4])
    Reaction.objects.create(message=theirs, user=member, kind="hug")
    MemberFilter.objects.create(owner=member, other=other_member, kind="mute")
    do_claim_flag(flag_id=flag.pk, acting_user=moderator)
    do_warn_member(
        flag_id=flag.pk,
        acting_user=moderator,
        text=f"{member.display_name}, please be kind to the others.",
    )
    do_add_moderator_note(
        member=member, acting_user=moderator, text=f"{member.display_name} seems to be struggling"
    )
    make_message(
        newborn_room,
        other_member,
        "A reply to her",
        created_at=timezone.now() + timedelta(seconds=1),
    )
    _facilitation_prompt(member, newborn_room, supervisor)
    return {"flag": flag, "revisions": MessageRevision.objects.filter(message=second).count()}


def _facilitation_prompt(member, room, supervisor) -> None:  # noqa: ANN001
    try:
        from moderation.facilitation.models import FacilitatedSession, PromptRecord
    except ImportError:
        return
    now = timezone.now()
    session = FacilitatedSession.objects.create(
        room=room,
        title="Nights",
        focus="Sleep",
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        created_by=supervisor,
    )
    PromptRecord.objects.create(
        session=session,
        occurrence_start=now,
        t=1.0,
        signal="check_in",
        text=f"{member.display_name}, how are you doing tonight?",
        reason="quiet",
        target=member.display_name,
        target_user=member,
        shown_at=now,
    )


@pytest.mark.django_db
def test_download_then_erase_leaves_none_of_her_text(member, her_history, client_for) -> None:  # noqa: ANN001
    name, username = member.display_name, member.username
    stored = _everything_stored()
    # The scan sees her words before erasure (so it would see them after).
    for words in HER_WORDS:
        assert any(words in value for _, _, value in stored), words
    assert her_history["revisions"] == 1

    client = client_for(member)
    download = client.post("/accounts/my-data/download/")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    data = json.loads(download.content)
    texts = [m["text"] for m in data["messages"]]
    assert HER_WORDS[0] in texts and HER_WORDS[2] in texts and HER_WORDS[3] in texts
    edited = next(m for m in data["messages"] if m["text"] == HER_WORDS[2])
    assert edited["earlier_versions"][0]["text"] == HER_WORDS[1]
    assert data["reports_made"][0]["reason"] == HER_WORDS[4]
    assert AuditEntry.objects.filter(action="account.data_exported", target_user=member).exists()

    refused = client.post("/accounts/my-data/erase/", {"password": "wrong", "confirm": "ERASE"})
    assert refused.status_code == 400 and "password is not right" in refused.content.decode()

    erased = client.post(
        "/accounts/my-data/erase/", {"password": "a-long-test-password-1", "confirm": "erase"}
    )
    assert erased.status_code == 200 and "Your account is erased" in erased.content.decode()

    leftovers = [
        (label, column)
        for label, column, value in _everything_stored()
        for needle in [*HER_WORDS, "useless cows", name, username]
        if needle in value
    ]
    assert leftovers == []

    member.refresh_from_db()
    assert member.display_name == f"Former member {member.pk}" and not member.is_active
    assert not member.has_usable_password()
    # Audit rows keep the fact of what happened, about the (renamed) account.
    for action in (
        "account.created",
        "member.warned",
        "member.note_added",
        "account.data_exported",
        "account.erased",
    ):
        assert AuditEntry.objects.filter(action=action, target_user=member).exists(), action
    # Her queue item stays counted, its words gone.
    flag = Flag.objects.get(pk=her_history["flag"].pk)
    assert flag.category == "toxic" and flag.message.body == ""
    # Logged out and cannot log in again.
    assert client.get("/accounts/my-data/").status_code == 302


@pytest.mark.django_db
def test_no_member_text_is_ever_written_to_audit_rows(member, her_history) -> None:  # noqa: ANN001
    """The design that makes erasure possible with an append-only log: audit rows never hold
    what a member wrote, nor notes that name or quote her."""
    audit_text = " ".join(
        json.dumps([e.before, e.after, e.reason], ensure_ascii=False)
        for e in AuditEntry.objects.all()
    )
    for needle in [*HER_WORDS, member.display_name]:
        assert needle not in audit_text


@pytest.mark.django_db
def test_supervisor_can_erase_on_request_but_not_staff(
    supervisor, moderator, member, client_for
) -> None:  # noqa: ANN001
    client = client_for(supervisor)
    client.post(
        f"/supervisor/people/{moderator.pk}/erase/", {"confirm": "ERASE", "reason": "email"}
    )
    moderator.refresh_from_db()
    assert moderator.is_active
    client.post(
        f"/supervisor/people/{member.pk}/erase/", {"confirm": "ERASE", "reason": "letter of 3 May"}
    )
    member.refresh_from_db()
    assert not member.is_active
    entry = AuditEntry.objects.get(action="account.erased")
    assert entry.actor == supervisor and entry.reason == "letter of 3 May"
