"""Keep-alive pings through the real server. After the room socket has handled a ping, Kindred's
Daphne answers an identical repeat itself (config/daphne.py); what a member notices must not
change: every ping gets its pong, a moved read position is still recorded, a bad ping still gets
its typed error, and every other frame still reaches the room."""

from __future__ import annotations

import asyncio
import json
import secrets

import pytest
from websockets.asyncio.client import connect

from tests.reliability.conftest import MEMBERS, Stack
from tests.reliability.wsclient import next_frame

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOM = "newborn"
NAME = MEMBERS[8]


def _read_seq(stack: Stack) -> int:
    return stack.query(
        "SELECT ms.last_read_seq FROM chat_membership ms JOIN chat_room r ON r.id = ms.room_id "
        "JOIN accounts_user u ON u.id = ms.user_id WHERE r.slug = %s AND u.username = %s",
        (ROOM, NAME),
    )[0][0]


async def test_repeated_pings_get_pongs_and_a_moved_read_position_is_still_recorded(
    stack: Stack,
) -> None:
    async with connect(
        f"{stack.ws_base}/ws/rooms/{ROOM}/",
        origin=stack.origin,
        additional_headers={"Cookie": stack.cookie(NAME)},
        open_timeout=10,
        ping_interval=None,
    ) as ws:
        await next_frame(ws, "room.joined")
        seqs = []
        for _ in range(2):
            await ws.send(
                json.dumps(
                    {"type": "message.send", "client_id": secrets.token_hex(8), "body": "up again"}
                )
            )
            seqs.append((await next_frame(ws, "message.ack"))["message"]["seq"])

        first = json.dumps({"type": "ping", "read_seq": seqs[0]})
        for _ in range(4):  # the first reaches the room socket, the repeats are answered below it
            await ws.send(first)
            assert (await next_frame(ws, "pong", timeout=5)) == {"type": "pong"}
        assert await asyncio.to_thread(_read_seq, stack) == seqs[0]

        # A ping whose read position moved is not a repeat: it is recorded.
        moved = json.dumps({"type": "ping", "read_seq": seqs[1]})
        await ws.send(moved)
        await next_frame(ws, "pong", timeout=5)
        assert await asyncio.to_thread(_read_seq, stack) == seqs[1]

        # A malformed ping still gets its typed error, and the socket stays usable.
        await ws.send(json.dumps({"type": "ping", "read_seq": "soon"}))
        error = await next_frame(ws, "error", timeout=5)
        assert error["code"] == "validation"
        await ws.send(moved)
        await next_frame(ws, "pong", timeout=5)

        # Other frames still reach the room between repeats.
        await ws.send(
            json.dumps(
                {"type": "message.send", "client_id": secrets.token_hex(8), "body": "still here"}
            )
        )
        ack = await next_frame(ws, "message.ack")
        assert ack["message"]["seq"] > seqs[1]
        await ws.send(moved)
        await next_frame(ws, "pong", timeout=5)
