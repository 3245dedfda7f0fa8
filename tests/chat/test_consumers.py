"""The room socket, as a phone would use it: through the real ASGI stack (origin check, session
auth, routing) with WebsocketCommunicator."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from accounts.models import User
from chat.models import Message
from tests.conftest import drain, open_socket, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def join(user: User, slug: str = "newborn"):  # noqa: ANN201
    comm = await open_socket(user, f"/ws/rooms/{slug}/")
    connected, _ = await comm.connect()
    assert connected
    joined = await receive_until(comm, "room.joined")
    return comm, joined


async def send(comm, body: str, client_id: str) -> dict:  # noqa: ANN001
    await comm.send_json_to({"type": "message.send", "client_id": client_id, "body": body})
    return await receive_until(comm, "message.ack")


async def test_anonymous_socket_is_refused_with_4401():
    comm = await open_socket(None, "/ws/rooms/newborn/")
    connected, _ = await comm.connect()
    assert connected
    error = await comm.receive_json_from()
    assert error == {
        "type": "error",
        "code": "not_authenticated",
        "message": "Please log in first.",
    }
    assert (await comm.receive_output())["code"] == 4401
    await comm.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example.com",
        b"null",
        b"http://127.0.0.1.evil.com",
        b"http://localhost.attacker.net",
        None,
    ],
)
async def test_foreign_or_missing_origin_is_refused(member, origin):
    comm = await open_socket(member, "/ws/rooms/newborn/", origin=origin)
    connected, _ = await comm.connect()
    assert not connected
    await comm.disconnect()


async def test_member_cannot_join_another_stage_room(member):
    comm = await open_socket(member, "/ws/rooms/pregnancy/")
    await comm.connect()
    error = await comm.receive_json_from()
    assert error["code"] == "forbidden"
    assert (await comm.receive_output())["code"] == 4403
    await comm.disconnect()


async def test_unknown_room_closes_with_4404(member):
    comm = await open_socket(member, "/ws/rooms/no-such-room/")
    await comm.connect()
    assert (await comm.receive_json_from())["code"] == "not_found"
    assert (await comm.receive_output())["code"] == 4404
    await comm.disconnect()


async def test_member_may_join_topic_rooms_and_moderator_every_room(member, moderator):
    comm, joined = await join(member, "feeding")
    assert joined["room"]["slug"] == "feeding"
    await comm.disconnect()
    comm, joined = await join(moderator, "pregnancy")
    assert joined["you"]["role"] == "moderator"
    await comm.disconnect()


async def test_two_members_exchange_messages_in_real_time(member, other_member):
    a, _ = await join(member)
    b, joined_b = await join(other_member)
    assert {u["display_name"] for u in joined_b["present"]} == {"Amara", "Bea"}

    ack = await send(a, "Anyone else up with a newborn?", "amara-0001")
    assert ack["created"] is True
    seq = ack["message"]["seq"]

    new = await receive_until(b, "message.new")
    assert new["message"]["body"] == "Anyone else up with a newborn?"
    assert new["message"]["author"]["display_name"] == "Amara"
    assert new["message"]["seq"] == seq

    await b.send_json_to(
        {"type": "message.send", "client_id": "bea-00000001", "body": "Me! 3am club"}
    )
    reply = await receive_until(a, "message.new")
    while reply["message"]["author"]["display_name"] != "Bea":
        reply = await receive_until(a, "message.new")
    assert reply["message"]["seq"] == seq + 1
    await a.disconnect()
    await b.disconnect()


async def test_message_is_stored_before_it_is_broadcast(member, other_member):
    a, _ = await join(member)
    b, _ = await join(other_member)
    await send(a, "stored first", "stored-0001")
    new = await receive_until(b, "message.new")
    stored = await database_sync_to_async(Message.objects.get)(pk=new["message"]["id"])
    assert stored.body == "stored first"
    assert stored.seq == new["message"]["seq"]
    await a.disconnect()
    await b.disconnect()


async def test_history_on_join_is_the_last_50_in_order(member, other_member, settings):
    settings.CHAT_RATE_LIMIT_COUNT = 100
    a, _ = await join(member)
    for i in range(55):
        await send(a, f"message {i}", f"hist-{i:04d}")
    await a.disconnect()
    b, joined = await join(other_member)
    bodies = [m["body"] for m in joined["messages"]]
    assert bodies == [f"message {i}" for i in range(5, 55)]
    assert joined["last_seq"] == joined["messages"][-1]["seq"]
    await b.disconnect()


async def test_resume_returns_exactly_the_missed_messages(member, other_member, settings):
    settings.CHAT_RATE_LIMIT_COUNT = 100
    a, _ = await join(member)
    b, _ = await join(other_member)
    first = await send(a, "before the tunnel", "resume-0000")
    seen = first["message"]["seq"]
    await b.disconnect()  # Bea's train goes into a tunnel
    for i in range(1, 8):
        await send(a, f"while you were away {i}", f"resume-{i:04d}")
    b, _ = await join(other_member)
    await b.send_json_to({"type": "resume", "after_seq": seen})
    batch = await receive_until(b, "messages.batch")
    assert [m["seq"] for m in batch["messages"]] == list(range(seen + 1, seen + 8))
    assert [m["body"] for m in batch["messages"]] == [
        f"while you were away {i}" for i in range(1, 8)
    ]
    assert batch["more"] is False
    await a.disconnect()
    await b.disconnect()


async def test_resending_the_same_client_id_never_creates_a_second_message(member):
    a, _ = await join(member)
    first = await send(a, "only once please", "dup-00000001")
    again = await send(a, "only once please", "dup-00000001")
    assert again["created"] is False
    assert again["message"]["seq"] == first["message"]["seq"]
    count = await database_sync_to_async(Message.objects.filter(client_id="dup-00000001").count)()
    assert count == 1
    await a.disconnect()


async def test_rate_limit_answers_with_an_error_frame_and_keeps_the_socket(member, settings):
    settings.CHAT_RATE_LIMIT_COUNT = 3
    settings.CHAT_RATE_LIMIT_SECONDS = 30
    a, _ = await join(member)
    for i in range(3):
        await send(a, f"quick {i}", f"rate-{i:05d}")
    await a.send_json_to(
        {"type": "message.send", "client_id": "rate-00009", "body": "one too many"}
    )
    error = await receive_until(a, "error")
    assert error["code"] == "rate_limited"
    assert error["client_id"] == "rate-00009"
    assert 0 < error["retry_after"] <= 30
    await a.send_json_to({"type": "ping"})
    assert (await receive_until(a, "pong"))["type"] == "pong"
    await a.disconnect()


async def test_oversized_frame_is_refused_with_an_error(member, settings):
    a, _ = await join(member)
    await a.send_to(
        text_data=json.dumps(
            {"type": "message.send", "client_id": "big-000001", "body": "x" * 20000}
        )
    )
    error = await receive_until(a, "error")
    assert error["code"] == "frame_too_large"
    count = await database_sync_to_async(Message.objects.count)()
    assert count == 0
    await a.disconnect()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "validation"),
        ('{"type": 5}', "validation"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "message.send", "client_id": "ok-client-1"}', "validation"),
        ('{"type": "message.send", "client_id": "ok-client-1", "body": "   "}', "validation"),
        ('{"type": "message.send", "client_id": "x", "body": "hi"}', "validation"),
        ('{"type": "message.send", "client_id": "ok-client-1", "body": {"a": 1}}', "validation"),
        ('{"type": "resume", "after_seq": -1}', "validation"),
        ('{"type": "resume", "after_seq": "3"}', "validation"),
        ('{"type": "resume", "after_seq": true}', "validation"),
        ('{"type": "resume", "after_seq": 1e400}', "validation"),
    ],
)
async def test_bad_frames_get_typed_errors_and_the_socket_stays_open(member, raw, code):
    a, _ = await join(member)
    await a.send_to(text_data=raw)
    error = await receive_until(a, "error")
    assert error["code"] == code
    assert error["message"]
    await a.send_json_to({"type": "ping"})
    assert (await receive_until(a, "pong"))["type"] == "pong"
    await a.disconnect()


async def test_binary_frames_are_refused(member):
    a, _ = await join(member)
    await a.send_to(bytes_data=b"\x00\x01")
    assert (await receive_until(a, "error"))["code"] == "bad_frame"
    await a.disconnect()


async def test_too_long_message_is_refused_without_storing(member):
    a, _ = await join(member)
    await a.send_json_to({"type": "message.send", "client_id": "long-00001", "body": "a" * 2001})
    error = await receive_until(a, "error")
    assert error["code"] == "validation" and "2000" in error["message"]
    assert await database_sync_to_async(Message.objects.count)() == 0
    await a.disconnect()


async def test_typing_reaches_others_but_not_yourself(member, other_member):
    a, _ = await join(member)
    b, _ = await join(other_member)
    await a.send_json_to({"type": "typing"})
    typing = await receive_until(b, "typing")
    assert typing["user"]["display_name"] == "Amara"
    assert all(f["type"] != "typing" for f in await drain(a))
    await a.disconnect()
    await b.disconnect()


async def test_presence_updates_when_someone_leaves(member, other_member):
    a, _ = await join(member)
    b, _ = await join(other_member)
    await drain(a)
    await b.disconnect()
    left = await receive_until(a, "presence.left")
    assert left["user"]["display_name"] == "Bea"
    await a.disconnect()


async def test_presence_announces_a_newcomer_once_even_with_two_tabs(member, other_member):
    a, _ = await join(member)
    b1, _ = await join(other_member)
    joined = await receive_until(a, "presence.joined")
    while joined["user"]["display_name"] != "Bea":  # her own arrival is announced to her too
        joined = await receive_until(a, "presence.joined")
    b2, _ = await join(other_member)
    assert not [
        f
        for f in await drain(a)
        if f["type"] == "presence.joined" and f["user"]["display_name"] == "Bea"
    ]
    await b1.disconnect()
    assert all(f["type"] != "presence.left" for f in await drain(a))  # her other tab is still open
    await b2.disconnect()
    assert (await receive_until(a, "presence.left"))["user"]["display_name"] == "Bea"
    await a.disconnect()


async def test_user_text_is_stored_raw_and_rendered_escaped(member, other_member):
    a, _ = await join(member)
    b, _ = await join(other_member)
    await send(a, "<script>alert(1)</script> see https://www.nhs.uk", "xss-000001")
    new = await receive_until(b, "message.new")
    assert new["message"]["body"] == "<script>alert(1)</script> see https://www.nhs.uk"
    assert "<script>" not in new["message"]["html"]
    assert "&lt;script&gt;" in new["message"]["html"]
    assert 'rel="nofollow noopener ugc"' in new["message"]["html"]
    await a.disconnect()
    await b.disconnect()


async def test_logging_out_closes_that_sessions_sockets_within_seconds(member):
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.conf import settings as dj_settings
    from django.test import Client

    from config.asgi import application
    from tests.conftest import ORIGIN

    client = Client()
    await sync_to_async(client.force_login)(member)
    cookie = client.cookies[dj_settings.SESSION_COOKIE_NAME].value
    comm = WebsocketCommunicator(
        application,
        "/ws/rooms/newborn/",
        headers=[
            (b"host", b"127.0.0.1:8000"),
            (b"origin", ORIGIN),
            (b"cookie", f"{dj_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        ],
    )
    assert (await comm.connect())[0]
    await receive_until(comm, "room.joined")
    other_device = await open_socket(member, "/ws/rooms/newborn/")
    await other_device.connect()
    await receive_until(other_device, "room.joined")
    await sync_to_async(client.post)("/accounts/logout/")
    error = await receive_until(comm, "error", timeout=3)
    assert error["code"] == "not_authenticated"
    assert (await comm.receive_output(timeout=3))["code"] == 4401
    # Her phone, logged in separately, stays connected.
    await other_device.send_json_to({"type": "ping"})
    assert (await receive_until(other_device, "pong"))["type"] == "pong"
    await other_device.disconnect()


@pytest.mark.parametrize("field", ["body", "edit", "reason"])
async def test_a_lone_surrogate_anywhere_in_a_frame_is_a_typed_error_and_nothing_is_stored(
    member, field
):
    """JSON can spell an unpaired UTF-16 surrogate ("\\ud800"); it decodes to a str that UTF-8 cannot
    encode, so the database would raise on every retry. It is refused at the frame, with a field."""
    a, _ = await join(member)
    ack = await send(a, "Before the bad one", "sur-00001")
    frames = {
        "body": '{"type": "message.send", "client_id": "sur-00002", "body": "a\\ud800b"}',
        "edit": '{"type": "message.edit", "seq": SEQ, "body": "fixed \\udfff here"}',
        "reason": '{"type": "message.report", "seq": SEQ, "reason": "\\ud83d alone"}',
    }
    await a.send_to(text_data=frames[field].replace("SEQ", str(ack["message"]["seq"])))
    error = await receive_until(a, "error")
    assert error["code"] == "validation" and "surrogate" in error["message"]
    assert error["field"] in {"body", "reason"}
    bodies = await database_sync_to_async(
        lambda: list(Message.objects.values_list("body", flat=True))
    )()
    assert bodies == ["Before the bad one"]
    await a.send_json_to({"type": "ping"})
    assert (await receive_until(a, "pong"))["type"] == "pong"
    await a.disconnect()


def test_check_message_body_refuses_a_lone_surrogate():
    from chat.actions import check_message_body
    from chat.errors import ChatError

    with pytest.raises(ChatError) as caught:
        check_message_body("a\ud800b")
    assert caught.value.code == "validation" and caught.value.extra["field"] == "body"
    assert check_message_body("a \U0001f600 b") == "a \U0001f600 b"  # a real pair is fine


async def test_edits_and_reactions_share_an_action_budget_of_their_own(
    member, other_member, settings
):
    """Every frame that writes or pushes to others counts: a burst of edits or reaction toggles
    is refused with rate_limited (retry_after) and nothing beyond the budget is stored; sending
    a new message has its own budget and still works."""
    from chat.models import MessageRevision, Reaction

    settings.CHAT_RATE_LIMIT_SECONDS = 30
    settings.CHAT_ACTION_RATE_LIMIT_COUNT = 4
    a, _ = await join(member)
    ack = await send(a, "First words", "act-00001")
    seq = ack["message"]["seq"]
    for i in range(6):
        await a.send_json_to({"type": "message.edit", "seq": seq, "body": f"First words, edit {i}"})
    for _ in range(3):
        await a.send_json_to({"type": "reaction.toggle", "seq": seq, "kind": "hug"})
    await a.send_json_to({"type": "ping"})
    frames = []
    while not frames or frames[-1]["type"] != "pong":
        frames.append(await a.receive_json_from(timeout=5))
    errors = [f for f in frames if f["type"] == "error"]
    assert len(errors) == 5 and all(
        e["code"] == "rate_limited" and 0 < e["retry_after"] <= 30 for e in errors
    )
    revisions = await database_sync_to_async(MessageRevision.objects.count)()
    reactions = await database_sync_to_async(Reaction.objects.count)()
    assert revisions == 4 and reactions == 0
    assert (await send(a, "Still able to talk", "act-00002"))["created"] is True
    await a.disconnect()


async def test_resume_requests_have_a_budget_of_their_own(member, settings):
    settings.CHAT_RATE_LIMIT_SECONDS = 30
    settings.CHAT_READ_RATE_LIMIT_COUNT = 2
    a, _ = await join(member)
    for _ in range(2):
        await a.send_json_to({"type": "resume", "after_seq": 0})
        assert (await receive_until(a, "messages.batch"))["after_seq"] == 0
    await a.send_json_to({"type": "resume", "after_seq": 0})
    error = await receive_until(a, "error")
    assert error["code"] == "rate_limited" and 0 < error["retry_after"] <= 30
    assert (await send(a, "Messages are still fine", "read-00001"))["created"] is True
    await a.disconnect()


async def test_her_oldest_socket_closes_when_she_opens_one_too_many(member, other_member, settings):
    settings.CHAT_MAX_SOCKETS_PER_USER = 2
    from chat.models import Presence

    oldest, _ = await join(member)
    feeding, _ = await join(member, "feeding")
    watcher, _ = await join(other_member)
    newest, _ = await join(member)
    error = await receive_until(oldest, "error")
    assert error["code"] == "too_many_sockets" and "too many other tabs" in error["message"]
    assert (await oldest.receive_output(timeout=2))["code"] == 4409
    # Her other two stay open and working; the room still shows her (two sockets are left).
    await newest.send_json_to({"type": "ping"})
    assert (await receive_until(newest, "pong"))["type"] == "pong"
    await feeding.send_json_to({"type": "ping"})
    assert (await receive_until(feeding, "pong"))["type"] == "pong"
    count = database_sync_to_async(lambda: Presence.objects.filter(user=member).count())
    assert await count() == 2
    assert all(f["type"] != "presence.left" for f in await drain(watcher))
    for comm in (oldest, feeding, newest, watcher):
        await comm.disconnect()


async def test_typing_from_all_her_tabs_reaches_the_room_once(member, other_member):
    tabs = [(await join(member))[0] for _ in range(3)]
    b, _ = await join(other_member)
    for tab in tabs:
        await tab.send_json_to({"type": "typing"})
    await receive_until(b, "typing")
    assert all(f["type"] != "typing" for f in await drain(b))
    for comm in (*tabs, b):
        await comm.disconnect()


async def test_a_typing_push_the_channel_layer_cannot_take_is_dropped_with_one_line(caplog):
    from unittest import mock

    from chat.events import send_event_now

    class Busy:
        async def group_send(self, group, event):  # noqa: ANN001, ANN202
            from redis.exceptions import MaxConnectionsError

            raise MaxConnectionsError("Too many connections")

    with mock.patch("chat.events.get_channel_layer", return_value=Busy()):
        assert await send_event_now("room-1", {"type": "chat.typing"}) is False
    [record] = [r for r in caplog.records if r.name == "chat.events"]
    assert (
        record.levelname == "WARNING"
        and record.exc_info is None
        and "chat.typing" in record.getMessage()
    )
