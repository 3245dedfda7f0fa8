"""Issue #17's abuse limits on the real server (Daphne, PostgreSQL and Redis in CI): one member
opening socket after socket, typing from all of them, and editing and reacting as fast as she can.
What the others in the room notice must stay bounded; what she sees is a documented answer."""

from __future__ import annotations

import asyncio
import json
import secrets
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.reliability.conftest import MEMBERS, Stack, write_figure
from tests.reliability.wsclient import next_frame

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOM = "newborn"
OPENER, WATCHER = MEMBERS[15], MEMBERS[10]
SOCKETS = 12
BURST = 100


async def _join(stack: Stack, name: str):  # noqa: ANN202
    ws = await connect(
        f"{stack.ws_base}/ws/rooms/{ROOM}/",
        origin=stack.origin,
        additional_headers={"Cookie": stack.cookie(name)},
        open_timeout=10,
        ping_interval=None,
    )
    await next_frame(ws, "room.joined", timeout=10)
    return ws


async def _close_code(ws, seconds: float) -> tuple[int | None, list[dict]]:  # noqa: ANN001
    frames = []
    try:
        async with asyncio.timeout(seconds):
            async for raw in ws:
                frames.append(json.loads(raw))
    except TimeoutError:
        return None, frames
    except ConnectionClosed:
        pass
    return ws.close_code, frames


async def test_sockets_typing_edits_and_reactions_from_one_member_are_bounded(stack: Stack) -> None:
    offset = stack.log_offset()
    watcher = await _join(stack, WATCHER)
    sockets = [await _join(stack, OPENER) for _ in range(SOCKETS)]
    await asyncio.sleep(1)  # the let-go pushes arrive after each join's commit
    outcomes = await asyncio.gather(*(_close_code(ws, 2) for ws in sockets))
    closed = [(code, frames) for code, frames in outcomes if code is not None]
    open_ = [ws for ws, (code, _) in zip(sockets, outcomes, strict=True) if code is None]
    presence = stack.query(
        "SELECT count(*) FROM chat_presence p JOIN accounts_user u ON u.id = p.user_id WHERE u.username = %s",
        (OPENER,),
    )[0][0]

    # Typing from every open socket, ten times a second for 3 s: the room hears "typing" from her
    # at most once per 3 s interval.
    async def type_fast(ws) -> None:  # noqa: ANN001
        for _ in range(30):
            await ws.send(json.dumps({"type": "typing"}))
            await asyncio.sleep(0.1)

    typing_seen: list[dict] = []

    async def watch(seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                async for raw in watcher:
                    frame = json.loads(raw)
                    if frame["type"] == "typing":
                        typing_seen.append(frame)
        except TimeoutError:
            pass

    started = time.monotonic()
    await asyncio.gather(watch(3.5), *(type_fast(ws) for ws in open_))
    typing_window = time.monotonic() - started

    # Edits and reactions: one budget of 30 per 10 s window, then typed `rate_limited` answers. The
    # windows are fixed, so a burst that straddles a boundary may get two windows' worth (60).
    ws = open_[-1]
    await ws.send(
        json.dumps(
            {"type": "message.send", "client_id": secrets.token_hex(8), "body": "one to edit"}
        )
    )
    seq = (await next_frame(ws, "message.ack", timeout=10))["message"]["seq"]
    # Nobody reacts to her own message, so she reacts to the watcher's.
    await watcher.send(
        json.dumps(
            {"type": "message.send", "client_id": secrets.token_hex(8), "body": "one to react to"}
        )
    )
    theirs = (await next_frame(watcher, "message.ack", timeout=10))["message"]["seq"]
    answers = {"ok": 0, "rate_limited": 0, "other": 0}
    for n in range(BURST):
        frame = (
            {"type": "message.edit", "seq": seq, "body": f"edit {n} " + "x" * 1400}
            if n % 2
            else {"type": "reaction.toggle", "seq": theirs, "kind": "hug"}
        )
        await ws.send(json.dumps(frame))
    deadline = time.monotonic() + 10
    while sum(answers.values()) < BURST and time.monotonic() < deadline:
        got = json.loads(await asyncio.wait_for(ws.recv(), timeout=deadline - time.monotonic()))
        if got["type"] == "error":
            answers["rate_limited" if got["code"] == "rate_limited" else "other"] += 1
        elif got["type"] == "message.updated":
            answers["ok"] += 1
    revisions = stack.query(
        "SELECT count(*) FROM chat_messagerevision r JOIN chat_message m ON m.id = r.message_id "
        "JOIN chat_room room ON room.id = m.room_id WHERE room.slug = %s AND m.seq = %s",
        (ROOM, seq),
    )[0][0]
    log = stack.server_log_since(offset)
    for s in (*open_, watcher):
        await s.close()

    write_figure(
        "abuse_limits",
        {
            "sockets_opened": SOCKETS,
            "closed_4409": sum(1 for code, _ in closed if code == 4409),
            "other_closes": [code for code, _ in closed if code != 4409],
            "presence_rows": presence,
            "typing_frames_seen_by_other": len(typing_seen),
            "typing_window_s": round(typing_window, 1),
            "edit_and_reaction_frames": BURST,
            "answers": answers,
            "revisions_stored": revisions,
            "tracebacks_in_log": log.count("Traceback"),
        },
    )
    assert len(open_) == 5 and presence == 5
    assert [code for code, _ in closed] == [4409] * (SOCKETS - 5)
    assert all(any(f.get("code") == "too_many_sockets" for f in frames) for _, frames in closed)
    assert 1 <= len(typing_seen) <= 2, (
        f"{len(typing_seen)} typing frames from one member in {typing_window:.1f} s"
    )
    assert (
        answers["ok"] <= 60 and answers["rate_limited"] >= BURST - 60 and answers["other"] == 0
    ), answers
    assert sum(answers.values()) == BURST
    assert revisions <= 30
    assert "Traceback" not in log
