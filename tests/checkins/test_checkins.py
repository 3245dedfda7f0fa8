"""Private check-ins: a moderator and a member write to each other, privately, in real time."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chat.errors import ChatError
from moderation.checkins import actions, selectors
from moderation.checkins.models import CheckIn, CheckInMessage
from moderation.models import AuditEntry
from tests.conftest import open_socket, receive_until


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action))


@pytest.mark.django_db
def test_opening_a_checkin_stores_the_first_line_audits_it_and_tells_her(
    member, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        checkin, created = actions.do_open_checkin(
            member=member, acting_user=moderator, text="Hi Amara, how are you doing?"
        )
    assert created and checkin.is_open
    line = CheckInMessage.objects.get(checkin=checkin)
    assert (line.seq, line.author, line.body) == (1, moderator, "Hi Amara, how are you doing?")
    opened = _audit("checkin.opened")
    assert [(a.actor, a.target_user, a.after["checkin"]) for a in opened] == [
        (moderator, member, checkin.pk)
    ]
    sent = _audit("checkin.message_sent")
    assert len(sent) == 1 and "how are you" not in str(sent[0].after)  # no words in the audit
    assert len(callbacks) == 2  # the line to the conversation, the banner to her pages


@pytest.mark.django_db
def test_a_second_moderator_joins_the_open_checkin_instead_of_opening_another(
    member, moderator, make_user
):
    other = make_user(role="moderator", display_name="Rowan")
    first, created = actions.do_open_checkin(member=member, acting_user=moderator)
    again, created_again = actions.do_open_checkin(member=member, acting_user=other)
    assert created and not created_again and first.pk == again.pk
    assert CheckIn.objects.filter(member=member).count() == 1


@pytest.mark.django_db
def test_members_cannot_open_checkins_nor_read_someone_elses(member, other_member, moderator):
    with pytest.raises(ChatError) as refused:
        actions.do_open_checkin(member=other_member, acting_user=member)
    assert refused.value.code == "forbidden"
    checkin, _ = actions.do_open_checkin(member=member, acting_user=moderator)
    with pytest.raises(ChatError) as hidden:
        selectors.access_checkin(other_member, checkin.pk)
    assert hidden.value.code == "not_found"
    assert selectors.access_checkin(member, checkin.pk) == checkin


@pytest.mark.django_db
def test_a_closed_checkin_takes_no_more_lines_and_a_resend_is_not_doubled(member, moderator):
    checkin, _ = actions.do_open_checkin(member=member, acting_user=moderator)
    line, created = actions.check_send_checkin_message(
        checkin=checkin, author=member, client_id="reply-0001", body="I'm ok, thank you"
    )
    again, created_again = actions.check_send_checkin_message(
        checkin=checkin, author=member, client_id="reply-0001", body="I'm ok, thank you"
    )
    assert created and not created_again and line["seq"] == again["seq"] == 1
    actions.do_close_checkin(checkin=checkin, acting_user=member)
    closed = _audit("checkin.closed")
    assert [(a.actor, a.after["closed_by"]) for a in closed] == [(member, "member")]
    with pytest.raises(ChatError) as refused:
        actions.check_send_checkin_message(
            checkin=checkin, author=moderator, client_id="late-00001", body="Still there?"
        )
    assert refused.value.code == "closed"


@pytest.mark.django_db
def test_the_console_api_opens_from_a_queue_item_and_refuses_members(member, moderator):
    staff = Client()
    staff.force_login(moderator, backend="accounts.backends.KindredBackend")
    response = staff.post(
        "/api/moderation/checkins",
        {"member_id": member.pk, "text": "Checking in"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["checkin"]["url"] == f"/checkins/{response.json()['checkin']['id']}/"
    bad = staff.post(
        "/api/moderation/checkins", {"member_id": "x"}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation"
    her = Client()
    her.force_login(member, backend="accounts.backends.KindredBackend")
    refused = her.post(
        "/api/moderation/checkins", {"member_id": member.pk}, content_type="application/json"
    )
    assert refused.status_code == 403
    page = her.get(response.json()["checkin"]["url"])
    assert page.status_code == 200 and b"Only you and Kindred" in page.content


@pytest.mark.django_db
def test_supervisors_see_every_checkin_and_members_cannot_list_them(member, moderator, supervisor):
    actions.do_open_checkin(member=member, acting_user=moderator, text="Hello")
    sup = Client()
    sup.force_login(supervisor, backend="accounts.backends.KindredBackend")
    listing = sup.get("/moderation/checkins/")
    assert listing.status_code == 200 and b"Amara" in listing.content
    her = Client()
    her.force_login(member, backend="accounts.backends.KindredBackend")
    assert her.get("/moderation/checkins/").status_code == 403


@pytest.mark.django_db
def test_export_and_erasure_cover_her_checkins(member, moderator, supervisor):
    from accounts.actions import do_erase_account, do_export_member_data

    checkin, _ = actions.do_open_checkin(member=member, acting_user=moderator, text="Hi Amara")
    actions.check_send_checkin_message(
        checkin=checkin, author=member, client_id="reply-0002", body="I feel so alone tonight"
    )
    data = do_export_member_data(member, acting_user=member)
    [conversation] = data["private_checkins"]
    assert [m["text"] for m in conversation["messages"]] == ["Hi Amara", "I feel so alone tonight"]
    do_erase_account(member, acting_user=supervisor)
    assert set(CheckInMessage.objects.values_list("body", flat=True)) == {""}


@pytest.mark.django_db(transaction=True)
async def test_both_sides_talk_live_and_a_reconnect_resumes_by_sequence(member, moderator):
    checkin, _ = await sync_to_async(actions.do_open_checkin)(
        member=member, acting_user=moderator, text="Hi, checking in"
    )
    path = f"/ws/checkins/{checkin.pk}/"
    her = await open_socket(member, path)
    staff = await open_socket(moderator, path)
    try:
        assert (await her.connect())[0] and (await staff.connect())[0]
        joined = await receive_until(her, "checkin.joined")
        assert [m["body"] for m in joined["messages"]] == ["Hi, checking in"]
        assert joined["you"]["is_member"] is True
        await receive_until(staff, "checkin.joined")
        await her.send_json_to({"type": "checkin.send", "client_id": "her-00001", "body": "Hi"})
        ack = await receive_until(her, "checkin.ack")
        assert ack["message"]["seq"] == 2 and ack["message"]["from_member"] is True
        live = await receive_until(staff, "checkin.message")
        assert live["message"]["body"] == "Hi"
        await her.send_json_to({"type": "checkin.send", "client_id": "x", "body": "Hi"})
        error = await receive_until(her, "error")
        assert error["code"] == "validation" and error["client_id"] == "x"
        await her.send_to(text_data="not json")
        assert (await receive_until(her, "error"))["code"] == "bad_json"
        await her.send_json_to({"type": "resume", "after_seq": 1})
        batch = await receive_until(her, "checkin.batch")
        assert [m["seq"] for m in batch["messages"]] == [2]
        await staff.send_json_to({"type": "checkin.close"})
        closed = await receive_until(her, "checkin.closed")
        assert closed["by_member"] is False
    finally:
        await her.disconnect()
        await staff.disconnect()
    again = await open_socket(member, f"{path}?after_seq=1")
    try:
        assert (await again.connect())[0]
        joined = await receive_until(again, "checkin.joined")
        assert [m["seq"] for m in joined["messages"]] == [2]
        assert joined["checkin"]["closed_at"] is not None
    finally:
        await again.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_another_member_is_refused_the_socket(member, other_member, moderator):
    checkin, _ = await sync_to_async(actions.do_open_checkin)(member=member, acting_user=moderator)
    intruder = await open_socket(other_member, f"/ws/checkins/{checkin.pk}/")
    try:
        await intruder.connect()
        frame = await receive_until(intruder, "error")
        assert frame["code"] == "not_found"
        assert (await intruder.receive_output(timeout=2))["code"] == 4404
    finally:
        await intruder.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_her_room_socket_announces_the_open_checkin(member, moderator):
    checkin, _ = await sync_to_async(actions.do_open_checkin)(member=member, acting_user=moderator)
    room = await open_socket(member, "/ws/rooms/newborn/")
    try:
        await room.connect()
        frame = await receive_until(room, "checkin.opened")
        assert frame["checkin"]["id"] == checkin.pk
    finally:
        await room.disconnect()


@pytest.mark.django_db
def test_her_room_list_shows_the_open_checkin_until_it_is_closed(member, moderator):
    her = Client()
    her.force_login(member, backend="accounts.backends.KindredBackend")
    assert b"checkin-banner" not in her.get("/rooms/").content
    checkin, _ = actions.do_open_checkin(member=member, acting_user=moderator, text="Hi")
    page = her.get("/rooms/").content.decode()
    assert "A moderator has messaged you privately" in page and f"/checkins/{checkin.pk}/" in page
    actions.do_close_checkin(checkin=checkin, acting_user=moderator)
    assert b"checkin-banner" not in her.get("/rooms/").content


@pytest.mark.django_db(transaction=True)
async def test_the_moderator_who_opened_it_hears_of_her_reply_on_the_console(member, moderator):
    checkin, _ = await sync_to_async(actions.do_open_checkin)(member=member, acting_user=moderator)
    console = await open_socket(moderator, "/ws/moderation/")
    try:
        await console.connect()
        await receive_until(console, "moderation.ready")
        await sync_to_async(actions.check_send_checkin_message)(
            checkin=checkin, author=member, client_id="reply-0003", body="I'm here"
        )
        frame = await receive_until(console, "checkin.reply")
        assert frame["checkin_id"] == checkin.pk and frame["member"] == "Amara"
        assert "I'm here" not in str(frame)  # the console line never carries her words
    finally:
        await console.disconnect()
