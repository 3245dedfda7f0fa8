"""A Python client speaking docs/protocol.md the way the browser client does.

- Reconnects by itself with the documented back-off, min(cap, 0.5 s × 2^attempt) × U[0.5, 1.5].
- Keeps `last_seq`, the highest seq it holds with no gap below it; after every `room.joined` it
  sends `resume` from there, and again whenever a `message.new` shows a gap or a batch says `more`.
- Holds its own messages in an outbox keyed by `client_id` until acked, resending after a
  reconnect, a `server_error`, a `rate_limited` wait or an ack timeout (the server is idempotent on
  `client_id`, so a resend never stores twice).

Every loop is bounded by the caller's deadline.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus


def backoff(attempt: int, cap: float = 30.0) -> float:
    return min(cap, 0.5 * 2**attempt) * (0.5 + random.random())


@dataclass
class Outgoing:
    client_id: str
    body: str
    submitted: float
    next_try: float = 0.0
    tries: int = 0


@dataclass
class ResumingClient:
    name: str
    url: str
    origin: str
    cookie: str
    backoff_cap: float = 4.0
    ack_timeout: float = 4.0
    # state
    received: dict[int, dict[str, Any]] = field(default_factory=dict)
    last_seq: int = 0
    applied: list[int] = field(default_factory=list)  # seqs in the order they became gap-free
    wire: Counter = field(default_factory=Counter)  # seq → times it arrived on the wire
    outbox: dict[str, Outgoing] = field(default_factory=dict)
    acked: dict[str, int] = field(default_factory=dict)  # client_id → seq
    first_seen: dict[str, float] = field(
        default_factory=dict
    )  # client_id → monotonic time first received
    errors: Counter = field(default_factory=Counter)
    connects: int = 0
    drops: int = 0
    resumes_sent: int = 0
    joined_at: list[float] = field(default_factory=list)
    fatal: str | None = None

    def __post_init__(self) -> None:
        self.ws = None
        self.joined = asyncio.Event()
        self._stop = False
        self._resume_inflight = False

    # --- public --------------------------------------------------------------------------------

    def submit(self, body: str) -> str:
        client_id = f"{self.name}-{secrets.token_hex(6)}"
        self.outbox[client_id] = Outgoing(client_id, body, time.monotonic())
        return client_id

    async def run(self, deadline: float) -> None:
        pump = asyncio.create_task(self._pump(deadline))
        attempt = 0
        try:
            while not self._stop and self.fatal is None and time.monotonic() < deadline:
                try:
                    async with connect(
                        self.url,
                        origin=self.origin,
                        additional_headers={"Cookie": self.cookie},
                        open_timeout=5,
                        close_timeout=1,
                        ping_interval=None,
                        max_size=2**22,
                    ) as ws:
                        self.ws = ws
                        self.connects += 1
                        await self._read(ws, deadline)
                except (OSError, InvalidHandshake, InvalidStatus, ConnectionClosed, TimeoutError):
                    pass
                was_joined = self.joined.is_set()
                self.ws = None
                self.joined.clear()
                self._resume_inflight = False
                if self._stop or self.fatal:
                    break
                self.drops += 1
                if was_joined:
                    attempt = 0
                delay = backoff(attempt, self.backoff_cap)
                attempt += 1
                await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        finally:
            pump.cancel()
            self.ws = None

    async def stop(self) -> None:
        self._stop = True
        if self.ws is not None:
            await self.ws.close()

    async def catch_up(self, target_seq: int, timeout: float) -> bool:
        """Resume until every seq up to target_seq is held (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.last_seq >= target_seq:
                return True
            if self.joined.is_set() and not self._resume_inflight:
                await self._send_resume()
            await asyncio.sleep(0.1)
        return self.last_seq >= target_seq

    async def drain_outbox(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.outbox and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return not self.outbox

    def figure(self, stored_seqs: list[int]) -> dict[str, Any]:
        got = set(self.received)
        missing = [s for s in stored_seqs if s not in got]
        return {
            "received": len(got),
            "gaps": len(missing),
            "missing_seqs": missing[:50],
            "duplicates_in_timeline": len(self.applied) - len(set(self.applied)),
            "in_seq_order": self.applied == sorted(self.applied),
            "redelivered_on_wire_deduped_by_seq": sum(c - 1 for c in self.wire.values() if c > 1),
            "connects": self.connects,
            "resumes_sent": self.resumes_sent,
            "errors": dict(self.errors),
        }

    # --- internals -----------------------------------------------------------------------------

    async def _send(self, frame: dict[str, Any]) -> None:
        ws = self.ws
        if ws is None:
            return
        try:
            await ws.send(json.dumps(frame))
        except ConnectionClosed:
            pass

    async def _send_resume(self) -> None:
        self._resume_inflight = True
        self.resumes_sent += 1
        await self._send({"type": "resume", "after_seq": self.last_seq})

    def _apply(self, messages: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        for m in messages:
            seq = m["seq"]
            self.wire[seq] += 1
            if m.get("client_id"):
                self.first_seen.setdefault(m["client_id"], now)
            if seq not in self.received:
                self.received[seq] = m
        while self.last_seq + 1 in self.received:
            self.last_seq += 1
            self.applied.append(self.last_seq)

    def _has_gap(self) -> bool:
        return bool(self.received) and max(self.received) > self.last_seq

    async def _read(self, ws, deadline: float) -> None:  # noqa: ANN001
        while not self._stop:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=min(remaining, 30))
            except TimeoutError:
                continue
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "room.joined":
                self._apply(frame["messages"])
                self.joined.set()
                self.joined_at.append(time.monotonic())
                await self._send_resume()
                for out in self.outbox.values():
                    out.next_try = 0.0  # resend everything unacked now
            elif kind == "message.new":
                self._apply([frame["message"]])
                if self._has_gap() and not self._resume_inflight:
                    await self._send_resume()
            elif kind == "messages.batch":
                self._resume_inflight = False
                self._apply(frame["messages"])
                if frame.get("more") or self._has_gap():
                    await self._send_resume()
            elif kind == "message.ack":
                message = frame["message"]
                self.outbox.pop(frame["client_id"], None)
                self.acked[frame["client_id"]] = message["seq"]
            elif kind == "error":
                code = frame.get("code")
                self.errors[code] += 1
                cid = frame.get("client_id")
                out = self.outbox.get(cid) if cid else None
                if (
                    code in ("not_authenticated", "forbidden", "not_found", "suspended")
                    and not self.joined.is_set()
                ):
                    self.fatal = code
                    return
                if out is not None:
                    if code == "rate_limited":
                        out.next_try = time.monotonic() + float(frame.get("retry_after") or 1.0)
                    elif code == "server_error":
                        out.next_try = time.monotonic() + 0.5
                    else:
                        self.outbox.pop(cid, None)  # refused for good: not a reliability question
                elif code == "server_error" and self._resume_inflight:
                    self._resume_inflight = False  # the resume failed; the pump retries it

    async def _pump(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            if not self.joined.is_set() or self.ws is None:
                continue
            now = time.monotonic()
            for out in list(self.outbox.values()):
                if out.next_try <= now:
                    out.tries += 1
                    out.next_try = now + self.ack_timeout
                    await self._send(
                        {"type": "message.send", "client_id": out.client_id, "body": out.body}
                    )
            if self._has_gap() and not self._resume_inflight:
                await self._send_resume()


async def handshake_status(url: str, origin: str | None, cookie: str | None) -> int:
    """HTTP status of a WebSocket handshake (101 if it was accepted)."""
    headers = {"Cookie": cookie} if cookie else {}
    try:
        async with connect(url, origin=origin, additional_headers=headers, open_timeout=5) as ws:
            await ws.close()
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


async def next_frame(ws, kind: str, timeout: float = 10) -> dict:  # noqa: ANN001
    """The next frame of type `kind` on a plain websockets connection, skipping others."""
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        if frame["type"] == kind:
            return frame


__all__ = ["ResumingClient", "backoff", "handshake_status", "next_frame", "websockets"]
