"""Room messages leave a web process in sequence order even when their pushes crossed.

Two messages committed a moment apart (two threads, or two web processes sharing Redis) are
pushed after their own commits and can reach the channel layer in the opposite order. Without
ordering, every member of the room would see a gap, ask to resume and get the message twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from django.test import override_settings

from chat.events import GROUP_KEY
from chat.fanout import Hub, RoomOrder

ROOM = "room-7"


def _msg(seq: int, group: str = ROOM) -> dict[str, Any]:
    message = {"seq": seq, "author": {"id": 99}, "body": f"message {seq}"}
    return {
        "type": "chat.message",
        "message": message,
        "public_frame": f'{{"seq": {seq}}}',
        GROUP_KEY: group,
    }


class Member:
    """A plain viewer socket as the hub sees it (no direct send: the ASGI path)."""

    channel_name = "socket.test"
    direct_send = None

    def __init__(self) -> None:
        self.frames: list[str] = []

    async def deliver(self, event: dict[str, Any]) -> None:
        self.frames.append(event.get("public_frame") or event["type"])

    async def base_send(self, message: dict[str, Any]) -> None:
        self.frames.append(message["text"])

    def plain_viewer_other_than(self, author_id: int | None) -> bool:
        return True

    def presence_channel(self) -> str | None:
        return None


def _seqs(member: Member) -> list[int]:
    return [int(f.split(": ")[1].rstrip("}")) for f in member.frames if f.startswith('{"seq"')]


def test_in_order_messages_go_straight_out() -> None:
    order = RoomOrder()
    assert [e["message"]["seq"] for s in (5, 6, 7) for e in order.arrive(ROOM, _msg(s))] == [
        5,
        6,
        7,
    ]
    assert not order.waiting(ROOM)


def test_a_message_ahead_of_a_missing_one_waits_for_it_then_both_go_in_order() -> None:
    order = RoomOrder()
    order.arrive(ROOM, _msg(5))
    assert order.arrive(ROOM, _msg(7)) == [] and order.waiting(ROOM)
    assert [e["message"]["seq"] for e in order.arrive(ROOM, _msg(6))] == [6, 7]
    assert not order.waiting(ROOM)


def test_giving_up_sends_what_waited_in_order_and_a_late_arrival_still_goes_out() -> None:
    order = RoomOrder()
    order.arrive(ROOM, _msg(1))
    order.arrive(ROOM, _msg(4))
    order.arrive(ROOM, _msg(3))
    assert [e["message"]["seq"] for e in order.give_up(ROOM)] == [3, 4]
    assert [e["message"]["seq"] for e in order.arrive(ROOM, _msg(2))] == [
        2
    ]  # late: clients place it
    assert [e["message"]["seq"] for e in order.arrive(ROOM, _msg(5))] == [5]


def test_rooms_are_ordered_independently() -> None:
    order = RoomOrder()
    order.arrive("room-1", _msg(10, "room-1"))
    order.arrive("room-2", _msg(3, "room-2"))
    assert order.arrive("room-1", _msg(12, "room-1")) == []
    assert [e["message"]["seq"] for e in order.arrive("room-2", _msg(4, "room-2"))] == [4]


@pytest.mark.asyncio
@override_settings(CHAT_ORDER_WAIT_SECONDS=0.2)
async def test_members_see_crossed_pushes_in_order_and_a_lost_push_delays_the_next_only_briefly() -> (
    None
):
    hub = Hub(InMemoryChannelLayer())
    member = Member()
    hub.subscribers[ROOM] = {member}
    try:
        for seq in (1, 3, 2, 4):  # 2 and 3 crossed
            await hub.dispatch(_msg(seq))
        assert _seqs(member) == [1, 2, 3, 4]
        await hub.dispatch(_msg(6))  # 5's push was lost (Redis restarting)
        assert _seqs(member) == [1, 2, 3, 4]
        await asyncio.sleep(0.35)
        assert _seqs(member) == [1, 2, 3, 4, 6]  # sent after the wait; the client resumes 5
        await hub.dispatch(_msg(7))
        assert _seqs(member) == [1, 2, 3, 4, 6, 7]
        # Events that carry no room seq are never held back.
        await hub.dispatch({"type": "chat.typing", "user": {"id": 1}, GROUP_KEY: ROOM})
        assert member.frames[-1] == "chat.typing"
    finally:
        hub.close()
