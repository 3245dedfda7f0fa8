"""The fan-out baseline: a minimal chat server on the `websockets` library's broadcast().

Same URL shape and frames as Kindred (room.joined, message.ack, message.new with a per-room seq),
no database, no authentication, no moderation: the floor a Python WebSocket server can reach on
this machine. Usage: python -m bench.baseline_ws --port N
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import defaultdict
from datetime import UTC, datetime

from websockets.asyncio.server import broadcast, serve

from bench.util import raise_nofile

ROOMS: dict[str, set] = defaultdict(set)
SEQ: dict[str, int] = defaultdict(int)


def joined_frame(slug: str, last_seq: int) -> str:
    """The join reply the load generator waits for (the shape of Kindred's ``room.joined``)."""
    return json.dumps(
        {"type": "room.joined", "room": {"slug": slug}, "messages": [], "last_seq": last_seq}
    )


async def handler(ws) -> None:  # noqa: ANN001
    path = ws.request.path
    slug = path.strip("/").split("/")[-1]
    members = ROOMS[slug]
    members.add(ws)
    try:
        await ws.send(joined_frame(slug, SEQ[slug]))
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "ping":
                await ws.send('{"type": "pong"}')
                continue
            if frame.get("type") != "message.send":
                continue
            SEQ[slug] += 1
            message = {
                "id": SEQ[slug],
                "seq": SEQ[slug],
                "room": slug,
                "client_id": frame["client_id"],
                "author": {"id": id(ws) % 100000, "display_name": "bench", "role": "member"},
                "body": frame["body"],
                "html": frame["body"],
                "created_at": datetime.now(UTC).isoformat(),
                "state": "visible",
            }
            await ws.send(
                json.dumps(
                    {
                        "type": "message.ack",
                        "client_id": frame["client_id"],
                        "created": True,
                        "message": message,
                    }
                )
            )
            broadcast(members, json.dumps({"type": "message.new", "message": message}))
    finally:
        members.discard(ws)


async def main(port: int) -> None:
    async with serve(
        handler, "127.0.0.1", port, compression=None, max_size=2**20, ping_interval=None
    ):
        await asyncio.Future()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    raise_nofile()
    asyncio.run(main(p.parse_args().port))
