"""chat's extension points (docs/architecture.md): the message gate, `message_sent`, frame
types and join frames on the room socket, and what other apps add to the room list. chat works
with nothing plugged in; moderation and check-ins plug in from their AppConfig.ready."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from chat import consumers, gate, page_context, room_frames
from chat.actions import check_edit_message, check_send_message
from chat.errors import ChatError
from chat.models import Message, MessageState
from chat.signals import message_sent
from tests.conftest import open_socket, receive_until

THREAT = "I will kill you if you post that again"


@pytest.fixture
def no_gates():
    """No app has a say over what is stored: chat alone."""
    saved = gate.registered()
    for name in saved:
        gate.unregister(name)
    yield
    for name, registered in saved.items():
        gate.register(name, registered)


@dataclass
class Verdict:
    state: str


class HoldingGate:
    """Holds every message with "hold me" in it and refuses anyone called Refused; remembers what
    it was asked and whether it was asked inside the message's transaction."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def check_may_post(self, *, author, room) -> None:  # noqa: ANN001
        self.calls.append(("check_may_post", author.display_name))
        if author.display_name == "Refused":
            raise ChatError("paused", "Not now.")

    def assess(self, *, author, room, body, may_post_checked):  # noqa: ANN001, ANN201
        in_transaction = transaction.get_connection().in_atomic_block
        self.calls.append(("assess", body, may_post_checked, in_transaction))
        return Verdict(MessageState.HELD if "hold me" in body else MessageState.VISIBLE)

    def after_stored(self, message, verdict) -> None:  # noqa: ANN001
        in_transaction = transaction.get_connection().in_atomic_block
        self.calls.append(
            ("after_stored", message.pk, message.state, verdict.state, in_transaction)
        )


@pytest.fixture
def holding_gate():
    test_gate = HoldingGate()
    gate.register("test.holding", test_gate)
    yield test_gate
    gate.unregister("test.holding")


# --- the gate ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_moderation_plugs_its_rules_into_the_gate(member, newborn_room):
    from moderation.models import Flag

    assert "moderation" in gate.registered()
    message, _ = check_send_message(
        author=member, room=newborn_room, client_id="gate-0001", body=THREAT
    )
    assert message.state == MessageState.HELD
    assert Flag.objects.filter(message=message).exists()


@pytest.mark.django_db
def test_with_no_gate_every_message_is_stored_visible_and_nobody_is_refused(
    member, newborn_room, moderator, no_gates
):
    from moderation.models import Flag, Mute

    Mute.objects.create(
        user=member,
        room=newborn_room,
        until=timezone.now() + timedelta(hours=1),
        created_by=moderator,
    )
    message, created = check_send_message(
        author=member, room=newborn_room, client_id="gate-0002", body=THREAT
    )
    assert created and Message.objects.get(pk=message.pk).state == MessageState.VISIBLE
    assert not Flag.objects.exists()
    edited = check_edit_message(user=member, room=newborn_room, seq=message.seq, body=THREAT + "!")
    assert edited.state == MessageState.VISIBLE


@pytest.mark.django_db
def test_a_gate_can_refuse_or_hold_a_message_and_records_its_verdict_in_the_same_transaction(
    member, make_user, newborn_room, holding_gate
):
    refused = make_user(display_name="Refused")
    with pytest.raises(ChatError) as exc:
        check_send_message(author=refused, room=newborn_room, client_id="gate-0003", body="hi")
    assert exc.value.code == "paused" and not Message.objects.filter(author=refused).exists()

    holding_gate.calls.clear()
    held, _ = check_send_message(
        author=member, room=newborn_room, client_id="gate-0004", body="please hold me back"
    )
    assert Message.objects.get(pk=held.pk).state == MessageState.HELD
    assert holding_gate.calls == [
        ("check_may_post", "Amara"),
        ("assess", "please hold me back", True, True),
        ("after_stored", held.pk, MessageState.HELD, MessageState.HELD, True),
    ]
    # Moderation's gate still runs beside it: a message it holds is held whatever this one says.
    threat, _ = check_send_message(
        author=member, room=newborn_room, client_id="gate-0005", body=THREAT
    )
    assert threat.state == MessageState.HELD

    fine, _ = check_send_message(author=member, room=newborn_room, client_id="gate-0006", body="ok")
    holding_gate.calls.clear()
    check_edit_message(user=member, room=newborn_room, seq=fine.seq, body="hold me now")
    assert Message.objects.get(pk=fine.pk).state == MessageState.HELD
    assert [c[0] for c in holding_gate.calls] == ["assess", "after_stored"]
    assert holding_gate.calls[0][2] is False  # an edit did not run check_may_post first


# --- message_sent ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_message_sent_once_per_new_message_and_a_failing_receiver_never_fails_her_send(
    member, newborn_room
):
    heard = []

    def listener(sender, *, message, **kwargs):  # noqa: ANN001, ANN202
        heard.append(message.pk)

    def broken(sender, **kwargs):  # noqa: ANN001, ANN202
        raise RuntimeError("a receiver's bug")

    message_sent.connect(listener, dispatch_uid="test.listener")
    message_sent.connect(broken, dispatch_uid="test.broken")
    try:
        first, created = check_send_message(
            author=member, room=newborn_room, client_id="sent-0001", body="morning all"
        )
        again, created_again = check_send_message(
            author=member, room=newborn_room, client_id="sent-0001", body="morning all"
        )
    finally:
        message_sent.disconnect(dispatch_uid="test.listener")
        message_sent.disconnect(dispatch_uid="test.broken")
    assert created and not created_again and again.pk == first.pk
    assert heard == [first.pk]


# --- the room socket -------------------------------------------------------------------------


def test_chat_keeps_its_own_frame_types_and_one_handler_per_type(monkeypatch):
    monkeypatch.setattr(room_frames, "_handlers", dict(room_frames._handlers))
    assert consumers.MEMBER_FRAMES <= room_frames.CHAT_FRAME_TYPES
    for own in room_frames.CHAT_FRAME_TYPES:
        with pytest.raises(ValueError):
            room_frames.register_frame(own, lambda user, room, frame: None)
    with pytest.raises(ValueError):
        room_frames.register_frame("message.report", lambda user, room, frame: None)
    assert set(room_frames._handlers) >= {"message.report", "notice.read", "resource.share"}


@pytest.mark.django_db(transaction=True)
async def test_a_registered_frame_type_is_answered_and_join_frames_follow_room_joined(
    member, monkeypatch
):
    monkeypatch.setattr(room_frames, "_handlers", dict(room_frames._handlers))
    monkeypatch.setattr(room_frames, "_join_providers", dict(room_frames._join_providers))

    def echo(user, room, frame):  # noqa: ANN001, ANN202
        if frame.get("n") == 0:
            raise ChatError("validation", "n must not be 0.", field="n")
        return {
            "type": "test.echoed",
            "n": frame.get("n"),
            "who": user.display_name,
            "room": room.slug,
        }

    room_frames.register_frame("test.echo", echo)
    room_frames.register_join_frames("test.hello", lambda user, room: [{"type": "test.hello"}])

    comm = await open_socket(member, "/ws/rooms/newborn/")
    assert (await comm.connect())[0]
    await receive_until(comm, "room.joined")
    assert (await comm.receive_json_from(timeout=3))["type"] == "test.hello"
    await comm.send_json_to({"type": "test.echo", "n": 7})
    assert await receive_until(comm, "test.echoed") == {
        "type": "test.echoed",
        "n": 7,
        "who": "Amara",
        "room": "newborn",
    }
    await comm.send_json_to({"type": "test.echo", "n": 0})
    error = await receive_until(comm, "error")
    assert (error["code"], error["field"]) == ("validation", "n")
    await comm.send_json_to({"type": "test.unheard"})
    assert (await receive_until(comm, "error"))["code"] == "unknown_type"
    await comm.disconnect()


# --- the room list ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_room_list_works_with_nothing_added_and_shows_what_an_app_adds(
    member, moderator, monkeypatch
):
    from moderation.actions import do_set_on_duty

    do_set_on_duty(moderator=moderator, on_duty=True)
    client = Client()
    client.force_login(member, backend="accounts.backends.KindredBackend")
    assert "A moderator is on duty now" in client.get("/rooms/").content.decode()

    monkeypatch.setattr(page_context, "_providers", {})
    page = client.get("/rooms/")
    assert page.status_code == 200 and "No moderator is on duty right now" in page.content.decode()
    assert 'href="/rooms/newborn/"' in page.content.decode()

    page_context.register(
        page_context.ROOM_LIST, "test", lambda request: {"moderator_on_duty": True}
    )
    assert "A moderator is on duty now" in client.get("/rooms/").content.decode()


@pytest.mark.django_db
def test_a_slot_renders_nothing_when_empty_and_escapes_what_an_app_puts_there(member, monkeypatch):
    from django.utils.html import format_html

    monkeypatch.setattr(page_context, "_slots", {})
    client = Client()
    client.force_login(member, backend="accounts.backends.KindredBackend")
    assert client.get("/rooms/newborn/").status_code == 200

    page_context.register_slot(
        page_context.ROOM_SESSIONS, "plain", lambda request, room: f"<i>{room.slug}</i> plain"
    )
    page_context.register_slot(
        page_context.ROOM_SESSIONS,
        "markup",
        lambda request, room: format_html("<p class='slot-test'>{}</p>", room.name),
    )
    page = client.get("/rooms/newborn/").content.decode()
    assert "&lt;i&gt;newborn&lt;/i&gt; plain" in page
    assert "<p class='slot-test'>" in page


def test_a_system_check_warns_when_no_gate_is_registered(monkeypatch):
    from chat.checks import check_a_message_gate_is_registered

    assert check_a_message_gate_is_registered() == []  # moderation's gate is in
    monkeypatch.setattr(gate, "_named", {})
    monkeypatch.setattr(gate, "_gates", ())
    assert [w.id for w in check_a_message_gate_is_registered()] == ["chat.W001"]
