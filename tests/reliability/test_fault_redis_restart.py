"""Fault: Redis (channel layer and cache) is killed with SIGKILL in the middle of steady traffic
and started again on the same port with nothing in it (no persistence: every group membership is
gone). Nothing stored may be lost, and every client that was connected must end up holding every
stored message exactly once, in seq order, by resuming."""

from __future__ import annotations

import asyncio
import random
import statistics
import time

import pytest

from tests.reliability.conftest import MEMBERS, Stack, write_figure
from tests.reliability.wsclient import ResumingClient

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOM = "sleep-and-tiredness"
CLIENTS = MEMBERS[:6]
SENDERS = CLIENTS[:4]
RATE_PER_SENDER = 0.8  # messages/s: under the default limit of 10 per 10 s
BEFORE_KILL = 4.0
REDIS_DOWN = 2.0
AFTER_RESTART = 5.0


async def test_redis_restart_mid_traffic_loses_nothing_and_clients_resume_without_gaps(
    stack: Stack,
) -> None:
    deadline = time.monotonic() + 120
    url = f"{stack.ws_base}/ws/rooms/{ROOM}/"
    clients = [ResumingClient(name, url, stack.origin, stack.cookie(name)) for name in CLIENTS]
    runners = [asyncio.create_task(c.run(deadline)) for c in clients]
    await asyncio.wait_for(asyncio.gather(*(c.joined.wait() for c in clients)), 20)

    submitted: dict[str, str] = {}
    timeline: list[tuple[float, str]] = []
    t0 = time.monotonic()

    async def traffic(client: ResumingClient, until: float) -> None:
        n = 0
        while time.monotonic() < until:
            n += 1
            cid = client.submit(f"steady {client.name} #{n}: still awake, still here")
            submitted[cid] = client.name
            await asyncio.sleep(random.uniform(0.8, 1.2) / RATE_PER_SENDER)

    end_of_traffic = t0 + BEFORE_KILL + REDIS_DOWN + AFTER_RESTART
    senders = [
        asyncio.create_task(traffic(c, end_of_traffic)) for c in clients if c.name in SENDERS
    ]

    await asyncio.sleep(BEFORE_KILL)
    joins_before = {c.name: len(c.joined_at) for c in clients}
    stack.redis.kill9()
    killed_at = time.monotonic()
    timeline.append((killed_at - t0, "redis SIGKILL"))
    await asyncio.sleep(REDIS_DOWN)
    await asyncio.to_thread(stack.redis.start)
    restarted_at = time.monotonic()
    timeline.append((restarted_at - t0, "redis started (empty)"))
    await asyncio.gather(*senders)

    drained = await asyncio.gather(*(c.drain_outbox(40) for c in clients))
    stored = await asyncio.to_thread(stack.stored, ROOM)
    stored_seqs = [s for s, _, _ in stored]
    last = stored_seqs[-1] if stored_seqs else 0
    caught_up = await asyncio.gather(*(c.catch_up(last, 30) for c in clients))
    # A client that never noticed anything (no drop) would only catch up through the ack-path
    # resume; record how long after the restart each one was serving pushes again.
    for c in clients:
        await c.stop()
    await asyncio.gather(*runners, return_exceptions=True)

    stored_cids = [cid for _, cid, _ in stored]
    submitted_stored = [cid for cid in submitted if cid in set(stored_cids)]
    rejoin_after_restart = {
        c.name: round(
            min(
                (t for t in c.joined_at[joins_before[c.name] :] if t >= killed_at),
                default=float("nan"),
            )
            - restarted_at,
            3,
        )
        for c in clients
    }
    per_client = {c.name: c.figure(stored_seqs) for c in clients}
    figure = {
        "room": ROOM,
        "clients": len(clients),
        "senders": len(SENDERS),
        "timeline_s": timeline,
        "sent": len(submitted),
        "acked": sum(len(c.acked) for c in clients),
        "stored_in_room": len(stored),
        "stored_of_sent": len(submitted_stored),
        "lost": len(submitted) - len(submitted_stored),
        "stored_duplicates_by_client_id": len(stored_cids) - len(set(stored_cids)),
        "stored_seq_gaps": [s for s in range(1, last + 1) if s not in set(stored_seqs)],
        "rejoined_seconds_after_redis_restart": rejoin_after_restart,
        "rejoin_median_s": statistics.median(
            [v for v in rejoin_after_restart.values() if v == v] or [float("nan")]
        ),
        "per_client": per_client,
    }
    write_figure("redis-restart", figure)

    assert all(drained), f"unacked messages left: { {c.name: list(c.outbox) for c in clients} }"
    assert figure["lost"] == 0, figure
    assert figure["stored_duplicates_by_client_id"] == 0
    assert figure["stored_seq_gaps"] == []
    assert all(caught_up), figure
    for name, fig in per_client.items():
        assert fig["gaps"] == 0, (name, fig)
        assert fig["duplicates_in_timeline"] == 0 and fig["in_seq_order"], (name, fig)
        assert fig["received"] == len(stored_seqs), (name, fig)
    # Every seq each client holds is the message the database holds under that seq.
    by_seq = {s: cid for s, cid, _ in stored}
    for c in clients:
        assert {s: m["client_id"] for s, m in c.received.items()} == by_seq, c.name
