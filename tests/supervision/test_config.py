"""Configuration pages: each change goes through an action and lands in the audit log."""

from __future__ import annotations

import pytest

from accounts.models import Role
from moderation.actions import ModerationError, do_change_user_role
from moderation.models import AuditEntry, Helpline, ModeratorDuty, RoomPolicy


@pytest.mark.django_db
def test_supervisor_changes_thresholds_on_the_room_page(
    supervisor, newborn_room, client_for
) -> None:  # noqa: ANN001
    client = client_for(supervisor)
    values = {name: getattr(RoomPolicy(), name) for name in RoomPolicy.THRESHOLD_FIELDS}
    response = client.post(
        f"/supervisor/rooms/{newborn_room.pk}/thresholds/",
        {**values, "insult_flag": "0.55", "reason": "trial"},
    )
    assert response.status_code == 302
    assert RoomPolicy.objects.get(room=newborn_room).insult_flag == 0.55
    page = client.get(response["Location"]).content.decode()
    assert "Thresholds for" in page and 'value="0.55"' in page
    assert AuditEntry.objects.filter(
        action="room.thresholds_changed", after={"insult_flag": 0.55}
    ).exists()


@pytest.mark.django_db
def test_out_of_range_threshold_is_refused_with_a_message(
    supervisor, newborn_room, client_for
) -> None:  # noqa: ANN001
    values = {name: getattr(RoomPolicy(), name) for name in RoomPolicy.THRESHOLD_FIELDS}
    response = client_for(supervisor).post(
        f"/supervisor/rooms/{newborn_room.pk}/thresholds/", {**values, "threat_hold": "3"}
    )
    assert response.status_code == 400
    assert "less than or equal to 1.01" in response.content.decode()
    assert not RoomPolicy.objects.filter(room=newborn_room).exists()


@pytest.mark.django_db
def test_room_details_are_edited_and_audited(supervisor, newborn_room, client_for) -> None:  # noqa: ANN001
    response = client_for(supervisor).post(
        f"/supervisor/rooms/{newborn_room.pk}/",
        {
            "name": "Newborn days",
            "kind": newborn_room.kind,
            "stage": newborn_room.stage,
            "description": newborn_room.description,
            "house_rules": "Be kind <b>always</b>",
            "position": 0,
        },
    )
    assert response.status_code == 302
    newborn_room.refresh_from_db()
    assert newborn_room.name == "Newborn days"
    entry = AuditEntry.objects.get(action="room.updated")
    assert entry.before["name"] == "Newborn (0–3 months)" and entry.after["name"] == "Newborn days"
    assert (
        entry.after["house_rules"] == "Be kind <b>always</b>" and "description" not in entry.after
    )
    # Supervisor-entered text is shown escaped.
    page = client_for(supervisor).get("/supervisor/audit/").content.decode()
    assert "Be kind &lt;b&gt;always&lt;/b&gt;" in page


@pytest.mark.django_db
def test_helpline_checked_today(supervisor, client_for) -> None:  # noqa: ANN001
    helpline = Helpline.objects.first()
    client = client_for(supervisor)
    client.post(f"/supervisor/helplines/{helpline.pk}/verified/")
    helpline.refresh_from_db()
    assert helpline.last_verified is not None
    assert (
        f"Last checked {helpline.last_verified:%-d %b %Y}"
        in client.get("/supervisor/helplines/").content.decode()
    )
    assert AuditEntry.objects.filter(action="helpline.verified").exists()


@pytest.mark.django_db
def test_role_change_is_audited_and_ends_duty(supervisor, moderator, client_for) -> None:  # noqa: ANN001
    from moderation.actions import do_set_on_duty

    do_set_on_duty(moderator=moderator, on_duty=True)
    response = client_for(supervisor).post(
        f"/supervisor/people/{moderator.pk}/role/", {"role": "member", "reason": "left"}
    )
    assert response.status_code == 302
    moderator.refresh_from_db()
    assert moderator.role == Role.MEMBER
    assert not ModeratorDuty.objects.filter(moderator=moderator, ended_at__isnull=True).exists()
    entry = AuditEntry.objects.get(action="account.role_changed")
    assert (entry.before, entry.after, entry.reason, entry.actor) == (
        {"role": "moderator"},
        {"role": "member"},
        "left",
        supervisor,
    )


@pytest.mark.django_db
def test_supervisor_cannot_change_her_own_role(supervisor) -> None:  # noqa: ANN001
    with pytest.raises(ModerationError):
        do_change_user_role(supervisor, Role.MEMBER, acting_user=supervisor)


@pytest.mark.django_db
def test_moderators_cannot_use_supervisor_actions(moderator, member) -> None:  # noqa: ANN001
    with pytest.raises(ModerationError):
        do_change_user_role(member, Role.MODERATOR, acting_user=moderator)


@pytest.mark.django_db
def test_supervisor_adds_and_edits_a_helpline_with_its_kind_and_stages(
    supervisor, client_for
) -> None:  # noqa: ANN001
    client = client_for(supervisor)
    form = {
        "name": "Bristol Mums' Line",
        "kind": "service",
        "contact": "0117 000 0000",
        "when": "Talk it through",
        "hours": "Mon–Fri 9–5",
        "url": "",
        "region": "South West",
        "stages": ["newborn", "baby"],
        "show_on_support_card": "",
        "position": 5,
        "is_active": "on",
        "reason": "new local service",
    }
    response = client.post("/supervisor/helplines/new/", form)
    assert response.status_code == 302, response.content.decode()[:500]
    saved = Helpline.objects.get(name="Bristol Mums' Line")
    assert saved.kind == "service" and saved.stages == ["newborn", "baby"]
    response = client.post(
        f"/supervisor/helplines/{saved.pk}/", {**form, "stages": ["toddler"], "reason": "age range"}
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.stages == ["toddler"]
    assert AuditEntry.objects.filter(action__startswith="helpline.").count() >= 2


@pytest.mark.django_db
def test_a_member_whose_name_looks_like_a_members_is_not_made_a_moderator(
    supervisor, make_user, client_for
) -> None:  # noqa: ANN001
    make_user(display_name="Morgan")
    lookalike = make_user(display_name="Morgan.")
    response = client_for(supervisor).post(
        f"/supervisor/people/{lookalike.pk}/role/",
        {"role": "moderator", "reason": "trained"},
        follow=True,
    )
    assert "choose another display name" in response.content.decode()
    lookalike.refresh_from_db()
    assert lookalike.role == Role.MEMBER
    assert not AuditEntry.objects.filter(action="account.role_changed").exists()
