"""A trainee never sees or acts on a real member's message over the WebSocket, and no
scenario's words ever reach a member: not in a room, a notice, a mute, a page or a socket."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from accounts.models import Role
from chat.models import Message
from moderation import actions as moderation_actions
from moderation.models import AuditEntry, Flag, ModeratorNote, Mute, Notice
from moderation.practice import actions
from moderation.practice.models import Scenario
from tests.conftest import drain, open_socket, receive_until
from tests.practice.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_trainee_is_refused_the_live_queue_socket(trainee) -> None:
    socket = await open_socket(trainee, "/ws/moderation/")
    await socket.connect()
    frame = await socket.receive_json_from(timeout=3)
    assert frame == {"type": "error", "code": "forbidden", "message": "Moderators only."}
    closed = await socket.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4403}
    await socket.disconnect()


async def test_a_moderator_made_trainee_loses_the_live_queue_at_once(
    moderator, supervisor, real_flag
) -> None:
    socket = await open_socket(moderator, "/ws/moderation/")
    await socket.connect()
    await receive_until(socket, "moderation.ready")
    await database_sync_to_async(moderation_actions.do_change_user_role)(
        moderator, Role.TRAINEE, acting_user=supervisor
    )
    frame = await receive_until(socket, "error")
    assert frame["code"] == "forbidden"
    closed = await socket.receive_output(timeout=3)
    assert closed["type"] == "websocket.close" and closed["code"] == 4403
    await socket.disconnect()


def _practise_everything(trainee) -> list[Scenario]:  # noqa: ANN001
    """Every console action, including the ones that would reach a member on duty."""
    items = actions.do_fill_practice_queue(trainee)
    seen = []
    for item, steps in zip(
        items,
        [
            [("warn", {"text": "Please be kind"})],
            [("mute", {"minutes": 60})],
            [("escalate", {"note": "worried about her"}), ("note", {"text": "a practice note"})],
            [("suspend", {})],
            [("hide", {})],
            [("dismiss", {})],
        ],
        strict=False,
    ):
        actions.do_practice_action(trainee, item.pk, "claim")
        for action, data in steps:
            item.refresh_from_db()
            if item.state == "decided":
                break
            actions.do_practice_action(trainee, item.pk, action, data=actions.ActionInput(**data))
        seen.append(item.scenario)
    return seen


async def test_scenario_text_never_reaches_a_member_or_the_live_queue(
    trainee, member, moderator, small_pass_mark
) -> None:
    await database_sync_to_async(moderation_actions.do_set_on_duty)(
        moderator=moderator, on_duty=True
    )
    room = await open_socket(member, "/ws/rooms/newborn/")
    assert (await room.connect())[0]
    await receive_until(room, "room.joined")
    feed = await open_socket(moderator, "/ws/moderation/")
    await feed.connect()
    await receive_until(feed, "moderation.ready")
    await drain(room)
    await drain(feed)

    counts = database_sync_to_async(
        lambda: (
            Message.objects.count(),
            Flag.objects.count(),
            Notice.objects.count(),
            Mute.objects.count(),
            ModeratorNote.objects.count(),
            AuditEntry.objects.filter(target_user=member).count(),
        )
    )
    before = await counts()
    scenarios = await database_sync_to_async(_practise_everything)(trainee)
    assert len(scenarios) == 6
    member_frames = await drain(room, timeout=0.5)
    feed_frames = await drain(feed, timeout=0.5)
    assert await counts() == before  # no message, flag, notice, mute or note was made

    # Nothing she did reached a member's socket or the real moderators' feed.
    heard = json.dumps(member_frames + feed_frames)
    for scenario in scenarios:
        assert scenario.body not in heard
        assert scenario.author_name not in heard
        for line in scenario.before + scenario.after:
            assert line["text"] not in heard
    await room.disconnect()
    await feed.disconnect()

    # Nor is it on any page or API a member can open.
    def member_pages() -> str:
        client = client_for(member)
        pages = [
            client.get(p)
            for p in (
                "/rooms/",
                "/rooms/newborn/",
                "/api/rooms/newborn/messages",
                "/api/rooms/unread",
            )
        ]
        pages += [client.get(p) for p in ("/practice/", "/api/practice/queue")]
        assert [p.status_code for p in pages[-2:]] == [403, 403]
        return "".join(p.content.decode() for p in pages)

    text = await database_sync_to_async(member_pages)()
    for scenario in scenarios:
        assert scenario.body not in text
