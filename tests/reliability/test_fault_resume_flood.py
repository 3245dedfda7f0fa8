"""Attack: a member's socket asks for the whole history again and again and never reads (issue
#17: RSS 118 → 364 MB after 450 such frames). Resume requests have a budget of their own, and a
socket whose unsent backlog passes CHAT_MAX_SOCKET_BACKLOG_BYTES is dropped and its memory freed
(handed back to the system: the process ends no bigger than before);
the web process's memory stays bounded and a well-behaved member in the room is not disturbed."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import MEMBERS, Stack, write_figure
from tests.reliability.rawsocket import RawWebSocket

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOM = "feeding"
FLOODER, OTHER = MEMBERS[13], MEMBERS[12]
SEED = """
from django.conf import settings
from accounts.models import User
from chat.actions import do_send_message
from chat.models import Room
settings.CHAT_RATE_LIMIT_COUNT = 10**6
room = Room.objects.get(slug=%r)
author = User.objects.get(username=%r)
for i in range(400):
    do_send_message(author=author, room=room, client_id=f"flood-seed-{i:05d}", body=("Night %%d. " %% i) + "x" * 1900)
print("SEEDED")
"""


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def test_a_socket_that_floods_resume_and_never_reads_is_cut_off_and_memory_stays_bounded(
    stack: Stack,
) -> None:
    assert "SEEDED" in stack.shell(SEED % (ROOM, OTHER), timeout=300)
    pid = stack.server.proc.pid
    # The embedded worker assesses the 400 seeded messages first (its model's memory is not the
    # flood's): measure from when it is done.
    deadline = time.monotonic() + 240
    while stack.query("SELECT count(*) FROM chat_message WHERE assessment_state = 'pending'")[0][0]:
        assert time.monotonic() < deadline, "the worker did not assess the seeded messages in 240 s"
        await asyncio.sleep(1)
    await asyncio.sleep(2)
    offset = stack.log_offset()
    flooder = await asyncio.to_thread(
        RawWebSocket,
        "127.0.0.1",
        stack.server.port,
        f"/ws/rooms/{ROOM}/",
        origin=stack.origin,
        cookie=stack.cookie(FLOODER),
    )
    before = _rss_mb(pid)
    frame = json.dumps({"type": "resume", "after_seq": 0}).encode()
    sent, peak, deadline = 0, before, time.monotonic() + 40
    while time.monotonic() < deadline and not flooder.closed:
        flooder.send_raw(0x1, frame)
        sent += 1
        peak = max(peak, _rss_mb(pid))
        await asyncio.sleep(0.02)
        if "dropping a socket" in stack.server_log_since(offset):
            break
    log = stack.server_log_since(offset)
    dropped = "dropping a socket" in log
    await asyncio.sleep(1)
    after = _rss_mb(pid)
    await asyncio.sleep(4)  # the requests already read are answered (into nothing), then trimmed
    settled = _rss_mb(pid)
    # The dropped client finds the connection gone (after whatever the kernel already held).
    drained = 0
    while await asyncio.to_thread(flooder.recv_frame, 3) is not None:
        drained += 1
    flooder.close()

    # Another member in the room still gets a prompt answer.
    other = await asyncio.to_thread(
        RawWebSocket,
        "127.0.0.1",
        stack.server.port,
        f"/ws/rooms/{ROOM}/",
        origin=stack.origin,
        cookie=stack.cookie(OTHER),
    )
    joined = await asyncio.to_thread(other.recv_frame, 10)
    other.send_raw(0x1, json.dumps({"type": "ping"}).encode())
    started = time.monotonic()
    pong = None
    while pong is None or pong.get("type") != "pong":
        pong = await asyncio.to_thread(other.recv_frame, 10)
        assert pong is not None, "no pong for the other member"
    pong_ms = 1000 * (time.monotonic() - started)
    other.close()

    write_figure(
        "resume_flood",
        {
            "resume_frames_sent": sent,
            "dropped": dropped,
            "frames_read_after": drained,
            "rss_before_mb": round(before, 1),
            "rss_peak_mb": round(peak, 1),
            "rss_after_mb": round(after, 1),
            "rss_5s_after_mb": round(settled, 1),
            "other_member_pong_ms": round(pong_ms, 1),
        },
    )
    assert joined and joined["type"] == "room.joined"
    assert dropped, f"the flooding socket was never dropped after {sent} resume frames"
    assert peak - before < 120, f"RSS grew {peak - before:.0f} MB under one flooding socket"
    assert pong_ms < 2000
    # ... and the dropped socket's memory went back to the system (it stayed at the peak before
    # config.wire.release_freed_memory).
    assert settled - before < 16, (
        f"RSS still {settled - before:.0f} MB above where it was, 5 s after the drop"
    )
