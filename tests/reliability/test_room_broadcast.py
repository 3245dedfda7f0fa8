"""A busy room through the real server: every member gets every message, once, intact.

The fan-out hub frames a new message once and writes the same bytes straight to each ordinary
member's socket (config/daphne.py, `kindred.direct_send`), while the author and moderators still
get their own rendering through the ASGI path. Both paths write to the same sockets, so this
checks what a member would notice if they ever got in each other's way: a missing, duplicated,
garbled or reordered-beyond-seq message, or non-ASCII text mangled on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time

import pytest
from websockets.asyncio.client import connect

from tests.reliability.conftest import MEMBERS, Stack
from tests.reliability.wsclient import next_frame

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOM = "newborn"
SENDERS = MEMBERS[0:3]
READERS = MEMBERS[3:6]
MODERATOR = "relmod"
ROUNDS = 4  # per sender; under the per-member rate limit
BODIES = [
    "Night feeds again 🌙 — café au lait at 3am, naïve hope it gets easier",
    "Short one",
    '<b>not bold</b> & "quoted" <script>alert(1)</script>',
    (
        "A longer message so the frame needs a two-byte length: "
        + "we're all in it together. " * 12
    ).strip(),
]


async def test_every_member_gets_every_message_once_as_the_same_text(stack: Stack) -> None:
    url = f"{stack.ws_base}/ws/rooms/{ROOM}/"
    async with contextlib.AsyncExitStack() as sockets:
        conns = {}
        last_seq = 0
        for name in [*SENDERS, *READERS, MODERATOR]:
            ws = await sockets.enter_async_context(
                connect(
                    url,
                    origin=stack.origin,
                    additional_headers={"Cookie": stack.cookie(name)},
                    open_timeout=10,
                    ping_interval=None,
                    max_size=2**22,
                )
            )
            joined = await next_frame(ws, "room.joined")
            last_seq = max(last_seq, joined["last_seq"])
            conns[name] = ws

        raw: dict[str, dict[int, str]] = {name: {} for name in conns}

        async def read(name: str, want: int) -> None:
            ws = conns[name]
            deadline = time.monotonic() + 30
            while len(raw[name]) < want and time.monotonic() < deadline:
                text = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
                frame = json.loads(text)
                if frame["type"] == "message.new" and frame["message"]["seq"] > last_seq:
                    seq = frame["message"]["seq"]
                    assert seq not in raw[name], f"{name} got seq {seq} twice"
                    raw[name][seq] = text

        total = len(SENDERS) * ROUNDS
        sent: dict[str, tuple[str, str]] = {}  # client_id -> (author, body)
        readers = {name: asyncio.create_task(read(name, total)) for name in [*READERS, MODERATOR]}
        for i in range(ROUNDS):
            for k, name in enumerate(SENDERS):
                body = BODIES[(i + k) % len(BODIES)]
                cid = secrets.token_hex(8)
                sent[cid] = (name, body)
                await conns[name].send(
                    json.dumps({"type": "message.send", "client_id": cid, "body": body})
                )
        await asyncio.wait_for(asyncio.gather(*readers.values()), 40)

    rows = await asyncio.to_thread(
        stack.query,
        "SELECT m.seq, m.client_id, m.author_id, m.body FROM chat_message m JOIN chat_room r ON r.id = m.room_id "
        "WHERE r.slug = %s AND m.seq > %s ORDER BY m.seq",
        (ROOM, last_seq),
    )
    stored = {seq: (author_id, body) for seq, _, author_id, body in rows}
    # Everything sent was stored once, as sent.
    assert {cid: body for _, cid, _, body in rows} == {cid: body for cid, (_, body) in sent.items()}
    for name in [*READERS, MODERATOR]:
        assert sorted(raw[name]) == sorted(stored), (
            f"{name} did not get exactly the stored messages"
        )
        for seq, text in raw[name].items():
            message = json.loads(text)["message"]
            assert (message["author"]["id"], message["body"]) == stored[seq]
    # Ordinary members got byte-for-byte the same frame (framed once); the moderator's own
    # rendering went through the ASGI path and arrived intact on the same kind of socket.
    for seq in stored:
        assert len({raw[name][seq] for name in READERS}) == 1
