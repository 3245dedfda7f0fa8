"""The soak's load generator: one process, one WebSocket per member, following a plan drawn in
advance (bench.soak.plan) and the protocol (docs/protocol.md) as a client would.

Protocol with the harness (one JSON object per line):
  stdin  line 1: the spec: base, sockets [{room, cookie, user_id}], events [[t, kind, socket, arg]],
         seconds, ping_s, tag, max_seconds; later `go <t0>` (wall clock), then `stop`.
  stdout: {"event": "ready", ...} once every socket has joined, then {"event": "result", ...}
         when `seconds` have passed since t0.

A member keeps the seqs she holds and `contig`, the highest with none missing below it. On every
(re)connection she takes `room.joined`'s history and sends `resume` from `contig`, again while a
batch says `more`; a `message.new` past `contig + 1` with no resume pending is a gap on an open
socket (counted) and she resumes. She pings every `ping_s` with `read_seq = contig`. She reacts only
to others' visible messages (no "me too" on a supportive-only one) and edits only her own messages,
well within the edit window: every error frame is one a correct client should not get.

Latency runs from each message's scheduled send (its body carries `#s<number>:<time>`, written in bench.util.TAG_DIGITS), so a
generator that falls behind shows as latency; how late the planned actions ran is reported.
Every loop is bounded: the whole process gives up after spec["max_seconds"].
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter, OrderedDict
from typing import Any

from websockets.asyncio.client import connect

from bench.util import (
    ORDINARY_TEXTS,
    emit,
    from_tag_digits,
    percentile_summary,
    raise_nofile,
    read_command,
    to_tag_digits,
)

# Ordinary messages that neither the rules nor the safety model act on, with the load generator's
# tag, as sent and as edited (checked under 40 tags each): one escalated as risk takes no "me too",
# and a reaction racing its escalation would be refused rightly, not because of the server.
TEXTS = ORDINARY_TEXTS
KINDS = ("me_too", "hug", "thanks")
RECENT = 30  # messages a member remembers to react to
ERROR_SAMPLES = 20


class Member:
    def __init__(self, i: int, room: str, cookie: str) -> None:
        self.i, self.room, self.cookie = i, room, cookie
        self.user_id: int | None = None
        self.ws: Any = None
        self.open = False  # room.joined received on the current connection
        self.closing = False  # we are closing it ourselves
        self.joined: asyncio.Future | None = None
        self.held: set[int] = set()
        self.contig = 0
        self.resume_pending: str | None = None  # "rejoin" or "gap"
        self.recent: OrderedDict[int, tuple[int | None, str, bool]] = OrderedDict()
        self.read_sent: int | None = None
        self.last_sent = "connect"


class Soak:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.members = [Member(i, s["room"], s["cookie"]) for i, s in enumerate(spec["sockets"])]
        self.c: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.closes: Counter[str] = Counter()
        self.error_samples: list[dict[str, Any]] = []
        self.acks: dict[str, list] = {}
        self.mine: dict[int, int] = {}  # message number -> seq, once acknowledged
        self.bodies: dict[int, str] = {}
        self.lat_at: list[list[float]] = []
        self.late: list[float] = []
        self.t0 = 0.0
        self.rng = random.Random(spec.get("seed", 18))
        self.tasks: set[asyncio.Task] = set()

    # --- receiving ----------------------------------------------------------------------------
    def _hold(self, m: Member, seq: int, how: str) -> None:
        if seq in m.held:
            # Live: the same message.new twice. Otherwise a join's history or a resume overlapping
            # what she already had, as it does after every rejoin.
            self.c["duplicates_live" if how == "live" else "already_held"] += 1
            return
        m.held.add(seq)
        self.c[how] += 1
        while m.contig + 1 in m.held:
            m.contig += 1

    def _remember(self, m: Member, msg: dict[str, Any]) -> None:
        author = (msg.get("author") or {}).get("id")
        m.recent[msg["seq"]] = (author, msg.get("state", ""), bool(msg.get("supportive_only")))
        m.recent.move_to_end(msg["seq"])
        while len(m.recent) > RECENT:
            m.recent.popitem(last=False)

    async def _resume(self, m: Member, after: int, why: str) -> None:
        m.resume_pending = why
        self.c["resumes"] += 1
        await self._send(m, {"type": "resume", "after_seq": after})

    async def reader(self, m: Member, ws: Any) -> None:
        try:
            async for raw in ws:
                if raw.startswith('{"type": "presence'):
                    continue
                if raw.startswith('{"type": "typing"'):
                    self.c["typing_received"] += 1
                    continue
                now = time.time()
                f = json.loads(raw)
                t = f.get("type")
                if t == "message.new":
                    msg = f["message"]
                    seq = msg["seq"]
                    self._remember(m, msg)
                    if m.resume_pending is None and seq > m.contig + 1:
                        missing = sum(1 for s in range(m.contig + 1, seq) if s not in m.held)
                        if missing:
                            self.c["gaps"] += missing
                            await self._resume(m, m.contig, "gap")
                    fresh = seq not in m.held
                    self._hold(m, seq, "live")
                    body = msg.get("body") or ""
                    j = body.rfind("#s")
                    if fresh and j >= 0:
                        try:
                            ts = float(from_tag_digits(body[j + 2 :]).split(":")[1])
                            self.lat_at.append(
                                [round(ts - self.t0, 3), round((now - ts) * 1000, 2)]
                            )
                        except (ValueError, IndexError):
                            pass
                elif t == "message.updated":
                    self.c["updates_received"] += 1
                    if f["message"]["seq"] in m.recent:
                        self._remember(m, f["message"])
                elif t == "messages.batch":
                    why = m.resume_pending or "gap"
                    self.c["batches"] += 1
                    for msg in f["messages"]:
                        self._remember(m, msg)
                        self._hold(m, msg["seq"], f"resumed_after_{why}")
                    if f.get("more") and f["messages"]:
                        await self._resume(m, f["messages"][-1]["seq"], why)
                    else:
                        m.resume_pending = None
                elif t == "message.ack":
                    cid = f.get("client_id", "")
                    seq = f["message"]["seq"]
                    self.acks[cid] = [m.room, seq]
                    try:
                        self.mine[int(cid.rsplit("-", 1)[1])] = seq
                    except (ValueError, IndexError):
                        pass
                elif t == "room.joined":
                    m.user_id = (f.get("you") or {}).get("id")
                    for msg in f.get("messages") or []:
                        self._remember(m, msg)
                        self._hold(m, msg["seq"], "from_history")
                    m.open = True
                    if m.joined is not None and not m.joined.done():
                        m.joined.set_result(True)
                    await self._resume(m, m.contig, "rejoin")
                elif t == "pong":
                    self.c["pongs"] += 1
                elif t == "notice":
                    self.c[f"notice:{f.get('kind')}"] += 1
                elif t == "error":
                    code = f.get("code", "?")
                    self.errors[code] += 1
                    if len(self.error_samples) < ERROR_SAMPLES:
                        self.error_samples.append(
                            {
                                "socket": m.i,
                                "t": round(now - self.t0, 2) if self.t0 else None,
                                "code": code,
                                "message": f.get("message"),
                                "after": m.last_sent,
                            }
                        )
                    if m.joined is not None and not m.joined.done():
                        m.joined.set_result(False)
        except Exception as exc:  # noqa: BLE001
            self.closes[f"reader:{type(exc).__name__}"] += 1
        finally:
            # A connection replaced by a newer one (she left and came back) changes nothing.
            if m.ws is ws:
                m.open = False
                if not m.closing:
                    self.closes[str(ws.close_code)] += 1
                    # As a client would: come back and resume (the close is counted).
                    self._spawn(self.reopen(m, 1.0))
                if m.joined is not None and not m.joined.done():
                    m.joined.set_result(False)

    # --- connecting ---------------------------------------------------------------------------
    async def open(self, m: Member, sem: asyncio.Semaphore) -> bool:
        base = self.spec["base"]
        async with sem:
            for attempt in range(3):
                try:
                    ws = await connect(
                        f"{base}/ws/rooms/{m.room}/",
                        origin=base.replace("ws://", "http://"),
                        additional_headers={"Cookie": f"sessionid={m.cookie}"},
                        compression=None,
                        ping_interval=None,
                        max_size=2**23,
                        open_timeout=60,
                        close_timeout=2,
                        max_queue=None,
                    )
                except Exception as exc:  # noqa: BLE001
                    self.closes[f"connect:{type(exc).__name__}"] += 1
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                m.ws, m.closing = ws, False
                m.joined = asyncio.get_running_loop().create_future()
                self._spawn(self.reader(m, ws))
                try:
                    return await asyncio.wait_for(m.joined, 60)
                except TimeoutError:
                    self.closes["join_timeout"] += 1
                    return False
            return False

    async def reopen(self, m: Member, away: float) -> None:
        await asyncio.sleep(away)
        if await self.open(m, asyncio.Semaphore(1)):
            self.c["rejoins"] += 1
        else:
            self.c["rejoin_failed"] += 1

    async def leave(self, m: Member, away: float) -> None:
        if m.ws is None:
            return
        m.closing, m.open = True, False
        ws = m.ws
        try:
            await ws.close()
        except Exception:  # noqa: BLE001
            pass
        await self.reopen(m, away)

    # --- sending ------------------------------------------------------------------------------
    async def _send(self, m: Member, frame: dict[str, Any]) -> None:
        m.last_sent = frame["type"]
        try:
            await m.ws.send(json.dumps(frame))
        except Exception as exc:  # noqa: BLE001
            self.closes[f"send:{type(exc).__name__}"] += 1

    async def act(self, kind: str, m: Member, arg: Any, t_sched: float) -> None:
        if kind == "leave":
            self.c["leaves"] += 1
            self._spawn(self.leave(m, float(arg)))
            return
        if not m.open:
            self.c["skipped_offline"] += 1
            return
        if kind == "typing":
            self.c["typing"] += 1
            await self._send(m, {"type": "typing"})
        elif kind == "send":
            k = int(arg)
            cid = f"soak-{self.spec['tag']}-{k}"
            text = TEXTS[k % len(TEXTS)]
            self.bodies[k] = f"{text} #s{to_tag_digits(f'{k}:{t_sched:.6f}')}"
            self.c["sent"] += 1
            await self._send(m, {"type": "message.send", "client_id": cid, "body": self.bodies[k]})
        elif kind == "edit":
            seq = self.mine.get(int(arg))
            if seq is None:
                self.c["skipped_edit"] += 1
                return
            self.c["edits"] += 1
            body = self.bodies[int(arg)].replace(" #s", " (edited) #s", 1)
            await self._send(m, {"type": "message.edit", "seq": seq, "body": body})
        elif kind == "react":
            choices = [
                (seq, so)
                for seq, (author, state, so) in m.recent.items()
                if author is not None and author != m.user_id and state == "visible"
            ][-10:]
            if not choices:
                self.c["skipped_react"] += 1
                return
            seq, supportive_only = self.rng.choice(choices)
            kinds = KINDS[1:] if supportive_only else KINDS
            self.c["reactions"] += 1
            await self._send(
                m, {"type": "reaction.toggle", "seq": seq, "kind": self.rng.choice(kinds)}
            )

    async def pinger(self, m: Member, end: float) -> None:
        every = self.spec["ping_s"]
        nxt = self.t0 + self.rng.random() * every
        while nxt < end:
            await asyncio.sleep(max(0.0, nxt - time.time()))
            if m.open:
                m.read_sent = m.contig
                self.c["pings"] += 1
                await self._send(m, {"type": "ping", "read_seq": m.contig})
            nxt += every

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # --- the run ------------------------------------------------------------------------------
    async def run(self, t0: float) -> dict[str, Any]:
        self.t0 = t0
        end = t0 + self.spec["seconds"]
        pingers = [asyncio.ensure_future(self.pinger(m, end)) for m in self.members]
        await asyncio.sleep(max(0.0, t0 - time.time()))
        for t, kind, i, arg in self.spec["events"]:
            due = t0 + t
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.late.append(max(0.0, (time.time() - due) * 1000))
            await self.act(kind, self.members[i], arg, due)
        await asyncio.sleep(max(0.0, end - time.time()))
        await asyncio.gather(*pingers)
        return {
            "event": "result",
            "counts": dict(self.c),
            "errors": dict(self.errors),
            "error_samples": self.error_samples,
            "closes": dict(self.closes),
            "acks": self.acks,
            "lat_at": self.lat_at,
            "late_ms": percentile_summary(self.late),
            "members": [
                {"held": ranges(m.held), "read_sent": m.read_sent, "open": m.open}
                for m in self.members
            ],
        }


def ranges(seqs: set[int]) -> list[list[int]]:
    """Sorted seqs as [first, last] runs."""
    out: list[list[int]] = []
    for s in sorted(seqs):
        if out and s == out[-1][1] + 1:
            out[-1][1] = s
        else:
            out.append([s, s])
    return out


async def main_async(spec: dict[str, Any]) -> None:
    s = Soak(spec)
    sem = asyncio.Semaphore(32)
    t = time.monotonic()
    ok = await asyncio.gather(*(s.open(m, sem) for m in s.members))
    emit(
        {
            "event": "ready",
            "connected": sum(ok),
            "failed": len(ok) - sum(ok),
            "connect_seconds": round(time.monotonic() - t, 2),
            "closes": dict(s.closes),
            "errors": dict(s.errors),
        }
    )
    line = await read_command()
    if line.startswith("go"):
        emit(await s.run(float(line.split()[1])))
        await read_command()  # "stop"
    for m in s.members:
        m.closing = True
    await asyncio.gather(
        *(m.ws.close() for m in s.members if m.ws is not None), return_exceptions=True
    )


def main() -> int:
    raise_nofile()
    spec = json.loads(sys.stdin.readline())
    try:
        asyncio.run(asyncio.wait_for(main_async(spec), spec.get("max_seconds", 3600)))
    except TimeoutError:
        emit({"event": "timeout"})
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
