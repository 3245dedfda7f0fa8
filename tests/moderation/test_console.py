"""The moderator console: role checks, the claim race, and each action's effect on what
members and moderators see, with its audit record."""

from __future__ import annotations

import threading

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import Client

from chat.actions import do_send_message
from chat.models import MessageState, Room
from moderation import actions
from moderation.models import AuditEntry, Flag, FlagState, ModeratorNote, Mute, Notice
from moderation.policy import Decision
from tests.conftest import drain, open_socket, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def on_duty(moderator):  # noqa: ANN001, ANN201
    actions.do_set_on_duty(moderator=moderator, on_duty=True)
    return moderator


@pytest.fixture
def flagged(member, on_duty):  # noqa: ANN001, ANN201
    room = Room.objects.get(slug="newborn")
    message = do_send_message(
        author=member, room=room, client_id="flagged-01", body="Stop moaning, nobody cares"
    )
    flag = Flag.objects.filter(message=message).first() or actions.do_record_decision(
        message, Decision("flag", "toxic", "high", [{"rule": "test"}]), source="rule"
    )
    return Flag.objects.select_related("message__room", "message__author").get(pk=flag.pk)


def api(user, method: str, path: str, data=None):  # noqa: ANN001, ANN201
    client = Client()
    if user is not None:
        client.force_login(user)
    if method == "get":
        return client.get(path)
    return client.post(path, data or {}, content_type="application/json")


ENDPOINTS = [
    ("get", "/api/moderation/queue"),
    ("get", "/api/moderation/flags/{flag}"),
    ("post", "/api/moderation/flags/{flag}/claim"),
    ("post", "/api/moderation/flags/{flag}/hide"),
    ("post", "/api/moderation/flags/{flag}/dismiss"),
    ("post", "/api/moderation/flags/{flag}/mute"),
    ("post", "/api/moderation/flags/{flag}/suspend"),
    ("post", "/api/moderation/members/{member}/suspend"),
    ("post", "/api/moderation/members/{member}/note"),
    ("post", "/api/moderation/duty"),
    ("get", "/moderation/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_members_and_anonymous_are_refused_everywhere(flagged, other_member, method, path):
    url = path.format(flag=flagged.pk, member=flagged.message.author_id)
    anon = api(None, method, url)
    assert anon.status_code in (302, 401)
    refused = api(other_member, method, url)
    assert refused.status_code == 403
    flagged.refresh_from_db()
    assert flagged.state == FlagState.OPEN
    assert not AuditEntry.objects.filter(actor=other_member).exists()


def test_acting_needs_a_claim_and_two_moderators_cannot_both_claim(flagged, moderator, make_user):
    other_mod = make_user(role="moderator")
    refused = api(moderator, "post", f"/api/moderation/flags/{flagged.pk}/hide")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_claimed"
    results: list[int] = []

    def claim(user):  # noqa: ANN001
        try:
            results.append(
                api(user, "post", f"/api/moderation/flags/{flagged.pk}/claim").status_code
            )
        finally:
            connection.close()

    threads = [
        threading.Thread(target=claim, args=(u,))
        for u in (moderator, other_mod, moderator, other_mod)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flagged.refresh_from_db()
    winner = flagged.claimed_by
    assert winner in (moderator, other_mod)
    loser = other_mod if winner == moderator else moderator
    assert api(loser, "post", f"/api/moderation/flags/{flagged.pk}/hide").status_code == 409
    assert api(winner, "post", f"/api/moderation/flags/{flagged.pk}/hide").status_code == 200
    assert results.count(409) >= 1


def test_abandoned_claim_is_released_after_the_timeout(flagged, moderator):
    from datetime import timedelta

    from django.utils import timezone

    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    Flag.objects.filter(pk=flagged.pk).update(claimed_at=timezone.now() - timedelta(minutes=11))
    assert actions.do_release_abandoned_claims() == 1
    assert Flag.objects.get(pk=flagged.pk).state == FlagState.OPEN


async def test_hide_removes_the_message_from_every_open_client_and_restore_undoes_it(
    flagged, moderator, other_member
):
    comm = await open_socket(other_member, "/ws/rooms/newborn/")
    await comm.connect()
    joined = await receive_until(comm, "room.joined")
    assert joined["messages"][-1]["body"] == "Stop moaning, nobody cares"
    await database_sync_to_async(actions.do_claim_flag)(flag_id=flagged.pk, acting_user=moderator)
    await database_sync_to_async(actions.do_hide_message)(
        flag_id=flagged.pk, acting_user=moderator, reason="unkind"
    )
    update = await receive_until(comm, "message.updated")
    assert update["message"]["state"] == "hidden" and update["message"]["body"] == ""
    audit = await database_sync_to_async(
        lambda: AuditEntry.objects.filter(action="message.hidden").get()
    )()
    assert (
        audit.actor_id == moderator.pk
        and audit.before == {"state": "visible"}
        and audit.reason == "unkind"
    )
    await database_sync_to_async(actions.do_restore_message)(
        message_id=flagged.message_id, acting_user=moderator
    )
    restored = await receive_until(comm, "message.updated")
    assert (
        restored["message"]["state"] == "visible"
        and restored["message"]["body"] == "Stop moaning, nobody cares"
    )
    await comm.disconnect()


async def test_the_reporter_hears_the_outcome(flagged, moderator, other_member):
    await database_sync_to_async(actions.do_report_message)(
        reporter=other_member, message=flagged.message, reason="mean"
    )
    comm = await open_socket(other_member, "/ws/rooms/newborn/")
    await comm.connect()
    await receive_until(comm, "room.joined")
    await database_sync_to_async(actions.do_claim_flag)(flag_id=flagged.pk, acting_user=moderator)
    await database_sync_to_async(actions.do_hide_message)(flag_id=flagged.pk, acting_user=moderator)
    notice = await receive_until(comm, "notice")
    assert notice["kind"] == "report.outcome" and "took action" in notice["text"]
    await comm.disconnect()


def test_several_reports_merge_into_one_flag_with_a_count(member, make_user):
    room = Room.objects.get(slug="newborn")
    message = do_send_message(
        author=member, room=room, client_id="report-001", body="Bottle feeding is lazy parenting"
    )
    reporters = [make_user() for _ in range(3)]
    for r in reporters:
        actions.do_report_message(reporter=r, message=message, reason="judgemental")
    actions.do_report_message(reporter=reporters[0], message=message, reason="again")
    flag = Flag.objects.get(message=message)
    assert flag.report_count == 3 and "report" in flag.sources


async def test_mute_gives_a_clear_error_but_she_can_still_read(
    flagged, moderator, member, other_member
):
    comm = await open_socket(member, "/ws/rooms/newborn/")
    await comm.connect()
    await receive_until(comm, "room.joined")
    await database_sync_to_async(actions.do_claim_flag)(flag_id=flagged.pk, acting_user=moderator)
    response = await database_sync_to_async(api)(
        moderator, "post", f"/api/moderation/flags/{flagged.pk}/mute", {"minutes": 60}
    )
    assert response.status_code == 200
    notice = await receive_until(comm, "notice")
    assert notice["kind"] == "moderation.muted"
    await comm.send_json_to({"type": "message.send", "client_id": "muted-0001", "body": "hello?"})
    error = await receive_until(comm, "error")
    assert error["code"] == "muted" and error["until"]
    await database_sync_to_async(do_send_message)(
        author=other_member,
        room=flagged.message.room,
        client_id="still-read",
        body="can you see this",
    )
    seen = await receive_until(comm, "message.new")
    assert seen["message"]["body"] == "can you see this"
    mute = await database_sync_to_async(Mute.objects.get)()
    await database_sync_to_async(actions.do_unmute_member)(mute_id=mute.pk, acting_user=moderator)
    await comm.send_json_to(
        {"type": "message.send", "client_id": "muted-0002", "body": "back again"}
    )
    assert (await receive_until(comm, "message.ack"))["created"] is True
    await comm.disconnect()


async def test_suspension_closes_every_open_socket_and_blocks_login(flagged, moderator, member):
    rooms = []
    for slug in ("newborn", "feeding"):
        comm = await open_socket(member, f"/ws/rooms/{slug}/")
        await comm.connect()
        await receive_until(comm, "room.joined")
        rooms.append(comm)
    await database_sync_to_async(actions.do_suspend_member)(
        member=member, acting_user=moderator, reason="threats"
    )
    for comm in rooms:
        error = await receive_until(comm, "error")
        assert error["code"] == "suspended"
        assert (await comm.receive_output(timeout=3))["code"] == 4410
    client = Client()
    await database_sync_to_async(member.set_password)("a-long-test-password-1")
    login = await database_sync_to_async(client.post)(
        "/accounts/login/", {"username": member.username, "password": "a-long-test-password-1"}
    )
    assert login.status_code == 400
    assert await database_sync_to_async(
        AuditEntry.objects.filter(action="member.suspended", target_user=member).exists
    )()


def test_warning_is_private_kind_and_editable(flagged, moderator, member):
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    response = api(
        moderator,
        "post",
        f"/api/moderation/flags/{flagged.pk}/warn",
        {"text": "Please be gentle, Amara."},
    )
    assert response.status_code == 200
    notice = Notice.objects.get(user=member, kind="moderation.warning")
    assert notice.text == "Please be gentle, Amara."
    assert ModeratorNote.objects.filter(member=member, kind="warning").exists()
    assert AuditEntry.objects.filter(action="member.warned", target_user=member).exists()


def test_dismiss_feeds_quality_stats_and_releases_a_held_message(flagged, moderator):
    from chat.models import Message

    Message.objects.filter(pk=flagged.message_id).update(state=MessageState.HELD)
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    assert (
        api(
            moderator, "post", f"/api/moderation/flags/{flagged.pk}/dismiss", {"reason": "banter"}
        ).status_code
        == 200
    )
    flag = Flag.objects.get(pk=flagged.pk)
    assert (flag.state, flag.resolution, flag.resolution_note) == (
        "resolved",
        "dismissed",
        "banter",
    )
    assert Message.objects.get(pk=flagged.message_id).state == MessageState.VISIBLE
    assert flag.first_action_at is not None


def test_flag_detail_has_context(flagged, moderator, member, other_member):
    room = flagged.message.room
    do_send_message(author=other_member, room=room, client_id="after-0001", body="that was unkind")
    do_send_message(
        author=member,
        room=Room.objects.get(slug="feeding"),
        client_id="else-00001",
        body="elsewhere",
    )
    actions.do_add_moderator_note(
        member=member, acting_user=moderator, text="Second time this week"
    )
    data = api(moderator, "get", f"/api/moderation/flags/{flagged.pk}").json()
    ctx = data["context"]
    assert ctx["message"]["body"] == "Stop moaning, nobody cares"
    assert [m["body"] for m in ctx["after"]] == ["that was unkind"]
    assert [m["body"] for m in ctx["author_elsewhere"]] == ["elsewhere"]
    assert ctx["notes"][0]["text"] == "Second time this week"
    assert data["flag"]["reasons"]


@pytest.mark.parametrize(
    ("path", "data", "code"),
    [
        ("/api/moderation/flags/{flag}/mute", {"minutes": 7}, "validation"),
        ("/api/moderation/flags/{flag}/mute", {"minutes": "lots"}, "validation"),
        ("/api/moderation/flags/{flag}/escalate", {"note": ""}, "validation"),
        ("/api/moderation/flags/999999/claim", {}, "not_found"),
        ("/api/moderation/flags/{flag}/explode", {}, "not_found"),
    ],
)
def test_bad_requests_get_typed_errors(flagged, moderator, path, data, code):
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    response = api(moderator, "post", path.format(flag=flagged.pk), data)
    assert response.status_code in (400, 404)
    assert response.json()["error"]["code"] == code


def test_malformed_json_body_is_a_validation_error(flagged, moderator):
    client = Client()
    client.force_login(moderator)
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    response = client.post(
        f"/api/moderation/flags/{flagged.pk}/dismiss", "{nope", content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"reason": "%s"}' % ("x" * 4000), "application/json"),
        ("reason=" + "x" * 4000, "application/x-www-form-urlencoded"),
    ],
)
def test_an_oversized_body_is_a_typed_413_and_changes_nothing(
    flagged, moderator, settings, body, content_type
):
    """Beyond DATA_UPLOAD_MAX_MEMORY_SIZE Django refuses to read the body; the console still gets
    the API's JSON error, not Django's HTML error page. With CSRF checked as in production (the
    form-encoded body is read first by the CSRF middleware, before the view)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    client.get("/moderation/")
    token = client.cookies["csrftoken"].value
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    response = client.post(
        f"/api/moderation/flags/{flagged.pk}/dismiss",
        body,
        content_type=content_type,
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "too_large"
    assert "1024 bytes" in response.json()["error"]["message"]
    flagged.refresh_from_db()
    assert flagged.resolution == "" and flagged.state != "resolved"


def test_a_form_with_too_many_fields_is_a_typed_validation_error(flagged, moderator, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    client.get("/moderation/")
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    body = "&".join(f"f{i}=x" for i in range(10))
    response = client.post(
        f"/api/moderation/flags/{flagged.pk}/dismiss",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation"


def test_a_lone_surrogate_in_a_reason_is_a_validation_error_and_changes_nothing(flagged, moderator):
    client = Client()
    client.force_login(moderator)
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    response = client.post(
        f"/api/moderation/flags/{flagged.pk}/dismiss",
        '{"reason": "fine \\ud800 really"}',
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation"
    assert "surrogate" in response.json()["error"]["message"]
    flagged.refresh_from_db()
    assert flagged.resolution == "" and flagged.state != "resolved"


def test_duty_counter_suggests_a_break(moderator):
    response = api(moderator, "post", "/api/moderation/duty", {"on_duty": True})
    assert response.json()["on_duty"] is True and response.json()["suggest_break"] is False
    from moderation.models import ModeratorPreference

    ModeratorPreference.objects.filter(moderator=moderator).update(break_after_minutes=0)
    assert api(moderator, "get", "/api/moderation/duty").json()["suggest_break"] is True


def test_the_moderator_who_hid_a_message_can_also_warn_its_author(
    flagged, moderator, member, make_user
):
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    actions.do_hide_message(flag_id=flagged.pk, acting_user=moderator)
    assert api(moderator, "post", f"/api/moderation/flags/{flagged.pk}/warn", {}).status_code == 200
    assert Notice.objects.filter(user=member, kind="moderation.warning").exists()
    assert Flag.objects.get(pk=flagged.pk).resolution == "hidden"
    other_mod = make_user(role="moderator")
    assert api(other_mod, "post", f"/api/moderation/flags/{flagged.pk}/warn", {}).status_code == 409


async def test_notices_stay_until_she_dismisses_them(flagged, moderator, member):
    await database_sync_to_async(actions.do_claim_flag)(flag_id=flagged.pk, acting_user=moderator)
    await database_sync_to_async(actions.do_warn_member)(
        flag_id=flagged.pk, acting_user=moderator, text="Be gentle please"
    )
    for _ in range(2):  # a reload before dismissing shows it again
        comm = await open_socket(member, "/ws/rooms/newborn/")
        await comm.connect()
        await receive_until(comm, "room.joined")
        notice = await receive_until(comm, "notice")
        assert notice["text"] == "Be gentle please"
        await comm.disconnect()
    comm = await open_socket(member, "/ws/rooms/newborn/")
    await comm.connect()
    await receive_until(comm, "room.joined")
    notice = await receive_until(comm, "notice")
    await comm.send_json_to({"type": "notice.read", "id": notice["id"]})
    await comm.send_json_to({"type": "ping"})
    await receive_until(comm, "pong")
    await comm.disconnect()
    comm = await open_socket(member, "/ws/rooms/newborn/")
    await comm.connect()
    await receive_until(comm, "room.joined")
    assert all(f["type"] != "notice" for f in await drain(comm, timeout=0.5))
    await comm.disconnect()
