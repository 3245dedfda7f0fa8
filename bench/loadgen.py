"""The load generator: a separate process that opens WebSockets over loopback and drives them.

Protocol with the harness (one JSON object per line):
  stdin  line 1: the spec (see `run`); later: `go <t0> <arg> [<rate> <duration>]` (wall-clock start;
         in fan-out mode `arg` is the step number, and a rate and duration define or redefine that
         step, so the harness can choose each rate from the last step's result; in idle mode `arg`
         is how long to hold, and a third value overrides the ping interval), or `stop`.
  stdout: {"event": "ready", ...} once every socket has joined, then {"event": "result", ...}.

A step defined in the spec may carry a `profile`, [[rate, seconds], ...]: its segments run back
to back in one step (a burst, then the load after it). With spec["record_times"] each step's result
also lists every delivery as [scheduled send, latency ms] (`lat_at`), so the harness can follow
latency through the step.

Every loop is bounded: the whole process gives up after spec["max_seconds"].
Message bodies end with a tag, `#b` and then `<step>:<sender>:<idx>:<scheduled send time>` written
in twelve plant emoji (`tag` and `read_tag`), so any receiving process can compute delivery latency
on the shared clock (same machine). Written in digits, the tag looked to the safety model like
times and dates (plans): it lifted the risk score of benign text and flagged 21-27 of 400 tagged
benign messages, and sent nearly every message through the model's second, context encode, so the
moderation scenarios measured a room where a twentieth of ordinary messages were flagged. The
tokenizer reads the emoji as one unknown word whatever they spell: the same 400 were flagged 0
times, with as many above the context floor as untagged. Latency runs from when the message
was *scheduled* to be sent, not from when this process got round to sending it, so a load
generator that falls behind shows as latency instead of quietly lowering the offered load
(coordinated omission); how late the sends were and how late the event loop ran are reported per
step (`send_lag_ms`, `loop_lag_ms`) so the harness can tell when the generator was the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter, defaultdict
from typing import Any

from websockets.asyncio.client import connect
from websockets.protocol import State

from bench.util import (
    BENCH_TEXTS,
    emit,
    from_tag_digits,
    percentile_summary,
    raise_nofile,
    read_command,
    to_tag_digits,
)


def tag(step: int, sender: int, idx: int, scheduled: float) -> str:
    """The tag a bench message body ends with (after a space)."""
    return "#b" + to_tag_digits(f"{step}:{sender}:{idx}:{scheduled:.6f}")


def read_tag(body: str) -> tuple[int, int, int, float] | None:
    """(step, sender, idx, scheduled send) from a body that ends with a tag, else None."""
    i = body.rfind("#b")
    if i < 0:
        return None
    try:
        step, sender, idx, ts = from_tag_digits(body[i + 2 :]).split(":")
        return int(step), int(sender), int(idx), float(ts)
    except ValueError:
        return None


class Sock:
    __slots__ = ("ws", "room", "send", "last_seq", "joined", "kind", "sid", "base")

    def __init__(self, room: str, send: bool, kind: str = "room") -> None:
        self.ws = None
        self.room = room
        self.send = send
        self.kind = kind
        self.last_seq = 0
        self.joined = asyncio.get_running_loop().create_future()
        self.sid = -1
        self.base = ""


class Run:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.steps: dict[int, dict[str, float]] = dict(enumerate(spec.get("steps", [])))
        self.recv: Counter[int] = Counter()
        self.lat: defaultdict[int, list[float]] = defaultdict(list)
        # With spec["record_times"]: [scheduled send, latency ms] of every delivery, per step.
        self.lat_at: defaultdict[int, list[list[float]]] = defaultdict(list)
        self.sent: Counter[int] = Counter()
        self.acked: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.out_of_order = 0
        self.gaps = 0
        self.frames = 0
        self.pongs = 0
        self.acks: dict[str, list] = {}  # client_id -> [room, seq, t_send]
        self.t_send: dict[str, float] = {}
        self.send_lag: defaultdict[int, list[float]] = defaultdict(list)
        self.text_sent: dict[str, str] = {}
        self.flags: list[list] = []  # [room, seq, t_seen, kind]
        self.closed = 0

    # --- receiving ----------------------------------------------------------------------------
    async def reader(self, s: Sock) -> None:
        try:
            async for raw in s.ws:
                self.frames += 1
                if raw.startswith('{"type": "presence') or raw.startswith('{"type": "typing"'):
                    continue
                now = time.time()
                f = json.loads(raw)
                t = f.get("type")
                if t == "message.new":
                    m = f["message"]
                    seq = m.get("seq", 0)
                    # A room socket's sequence starts at room.joined's last_seq (0 for an empty
                    # room), so a gap before the first message counts too.
                    if s.kind == "room":
                        if seq <= s.last_seq:
                            self.out_of_order += 1
                        elif seq > s.last_seq + 1:
                            self.gaps += seq - s.last_seq - 1
                    s.last_seq = max(s.last_seq, seq)
                    tagged = read_tag(m.get("body") or "")
                    if tagged is not None:
                        k, ts = tagged[0], tagged[3]
                        self.recv[k] += 1
                        lat = round((now - ts) * 1000, 2)
                        self.lat[k].append(lat)
                        if self.spec.get("record_times"):
                            self.lat_at[k].append([ts, lat])
                elif t == "message.ack":
                    cid = f.get("client_id", "")
                    parts = cid.split("-")
                    if len(parts) >= 4 and parts[0] == "bench":
                        try:
                            self.acked[int(parts[2])] += 1
                        except (ValueError, IndexError):
                            pass
                    if self.spec.get("record_acks"):
                        # [room, seq, send time, the body as sent, #b tag included]: the harness
                        # decides which messages are bait on what was actually sent.
                        self.acks[cid] = [
                            f["message"]["room"]
                            if isinstance(f["message"].get("room"), str)
                            else s.room,
                            f["message"]["seq"],
                            self.t_send.get(cid),
                            self.text_sent.get(cid),
                        ]
                elif t == "room.joined" or t == "moderation.ready":
                    s.last_seq = f.get("last_seq", 0) or 0
                    if not s.joined.done():
                        s.joined.set_result(True)
                elif t in ("flag.new", "flag.urgent", "flag.changed"):
                    msg = (f.get("flag") or {}).get("message") or {}
                    self.flags.append([msg.get("room"), msg.get("seq"), now, t])
                elif t == "pong":
                    self.pongs += 1
                elif t == "error":
                    self.errors[f.get("code", "?")] += 1
                    if not s.joined.done():
                        s.joined.set_result(False)
        except Exception as exc:  # noqa: BLE001
            self.errors[f"closed:{type(exc).__name__}"] += 1
        finally:
            self.closed += 1
            if not s.joined.done():
                s.joined.set_result(False)

    # --- connecting -------------------------------------------------------------------------
    async def open(self, s: Sock, cookie: str, sem: asyncio.Semaphore) -> bool:
        base = s.base or self.spec["base"]
        path = f"/ws/rooms/{s.room}/" if s.kind == "room" else "/ws/moderation/"
        async with sem:
            for attempt in range(3):
                try:
                    s.ws = await connect(
                        base + path,
                        origin=base.replace("ws://", "http://"),
                        additional_headers={"Cookie": f"sessionid={cookie}"},
                        compression=None,
                        ping_interval=None,
                        max_size=2**23,
                        open_timeout=60,
                        close_timeout=2,
                        max_queue=None,
                    )
                    break
                except Exception as exc:  # noqa: BLE001
                    self.errors[f"connect:{type(exc).__name__}"] += 1
                    await asyncio.sleep(0.5 * (attempt + 1))
            else:
                return False
            asyncio.get_running_loop().create_task(self.reader(s))
            try:
                return await asyncio.wait_for(s.joined, 60)
            except TimeoutError:
                self.errors["join_timeout"] += 1
                return False

    # --- sending ----------------------------------------------------------------------------
    async def sender(self, s: Sock, t0: float, k: int) -> None:
        total = self.spec["total_senders"]
        texts = self.spec.get("texts") or BENCH_TEXTS
        offsets = schedule(self.steps[k])
        # Sender j sends the step's messages numbered j, j + total, ... (so a rate below one
        # message per sender per step still sends the right number of messages).
        for i, num in enumerate(range(s.sid, len(offsets), total)):
            target = t0 + offsets[num]
            delay = target - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.time()
            self.send_lag[k].append(max(0.0, now - target))
            # The fleet's tag keeps client_ids unique across fleets: the product is idempotent on
            # (author, client_id) and refuses a client_id already used in another room.
            cid = f"bench-{s.sid}-{k}-{i}-{self.spec.get('tag', '')}"
            text = texts[(i + s.sid) % len(texts)]
            body = f"{text} {tag(k, s.sid, i, target)}"
            self.t_send[cid] = target
            if self.spec.get("record_acks"):
                self.text_sent[cid] = body
            try:
                await s.ws.send(
                    json.dumps({"type": "message.send", "client_id": cid, "body": body})
                )
                self.sent[k] += 1
            except Exception as exc:  # noqa: BLE001
                self.errors[f"send:{type(exc).__name__}"] += 1

    async def pinger(self, s: Sock, hold: float, interval: float) -> None:
        end = time.time() + hold
        nxt = time.time() + random.random() * interval
        while True:
            wait = min(nxt, end) - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if time.time() >= end:
                return
            try:
                await s.ws.send('{"type": "ping"}')
            except Exception:  # noqa: BLE001
                return
            nxt += interval


def schedule(step: dict[str, Any]) -> list[float]:
    """When each of a step's messages is due, in seconds from the step's start. The messages are
    numbered 0..n-1 across all senders and spaced evenly at the offered rate. A step with a
    `profile` ([[rate, seconds], ...]) runs its segments back to back, each at its own rate."""
    segments = step.get("profile") or [[step["rate"], step["duration"]]]
    out: list[float] = []
    start = 0.0
    for rate, seconds in segments:
        if rate > 0:
            # At least one message, as a plain step always sent (a slow step's lone message).
            n = max(1, round(rate * seconds)) if len(segments) == 1 else round(rate * seconds)
            out += [start + num / rate for num in range(n)]
        start += seconds
    return out


async def loop_lag(until: float, out: list[float], tick: float = 0.01) -> None:
    """How late the event loop wakes a `tick` sleep, until `until` (wall clock), in ms."""
    while time.time() < until:
        t = time.perf_counter()
        await asyncio.sleep(tick)
        out.append(max(0.0, (time.perf_counter() - t - tick) * 1000))


async def run(spec: dict[str, Any]) -> None:
    r = Run(spec)
    sem = asyncio.Semaphore(spec.get("connect_concurrency", 50))
    socks: list[Sock] = []
    cookies: list[str] = []
    for _i, item in enumerate(spec["sockets"]):
        s = Sock(item.get("room", ""), bool(item.get("send")), item.get("kind", "room"))
        s.base = item.get("base", "")
        socks.append(s)
        cookies.append(item["cookie"])
    senders = [s for s in socks if s.send]
    for j, s in enumerate(senders):
        s.sid = spec.get("sender_offset", 0) + j
    t_c = time.monotonic()
    tasks = [asyncio.ensure_future(r.open(s, c, sem)) for s, c in zip(socks, cookies)]
    # With a connect deadline, sockets still connecting then are given up (and closed) and the
    # harness measures what did connect; without one, every socket gets its own timeouts.
    _done, pending = await asyncio.wait(tasks, timeout=spec.get("connect_deadline"))
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    ok = [
        t.done() and not t.cancelled() and t.exception() is None and bool(t.result()) for t in tasks
    ]
    for s, good in zip(socks, ok):
        if not good and s.ws is not None:
            await s.ws.close()
            s.ws = None
    emit(
        {
            "event": "ready",
            "connected": sum(ok),
            "failed": len(ok) - sum(ok),
            "gave_up": len(pending),
            "connect_seconds": round(time.monotonic() - t_c, 2),
            "errors": dict(r.errors),
        }
    )
    while True:
        line = await read_command()
        if line.startswith("tally"):
            # Every step's deliveries and acks counted so far, late ones included: a step's
            # result counts only what arrived within its grace.
            emit(
                {
                    "event": "tally",
                    "recv": {str(k): n for k, n in r.recv.items()},
                    "acked": {str(k): n for k, n in r.acked.items()},
                    "sent": {str(k): n for k, n in r.sent.items()},
                }
            )
            continue
        if not line.startswith("go"):
            break
        parts = line.split()
        t0 = float(parts[1])
        arg = float(parts[2]) if len(parts) > 2 else 0.0
        frames_before, pongs_before = r.frames, r.pongs
        ooo_before, gaps_before = r.out_of_order, r.gaps
        errors_before = Counter(r.errors)
        delay = t0 - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        result: dict[str, Any] = {"event": "result"}
        if spec["mode"] == "idle":
            hold = arg
            interval = float(parts[3]) if len(parts) > 3 else spec.get("ping_interval")
            if interval:
                await asyncio.gather(
                    *(r.pinger(s, hold, interval) for s in socks if s.ws is not None)
                )
            else:
                await asyncio.sleep(hold)
        else:
            k = int(arg)
            if len(parts) > 4:
                r.steps[k] = {"rate": float(parts[3]), "duration": float(parts[4])}
            end = t0 + r.steps[k]["duration"] + spec.get("grace", 1.0)
            lags: list[float] = []
            ticker = asyncio.ensure_future(loop_lag(end, lags))
            await asyncio.gather(*(r.sender(s, t0, k) for s in senders if s.ws is not None))
            while time.time() < end:
                await asyncio.sleep(0.05)
            await ticker
            result.update(
                {
                    "step": k,
                    "recv": r.recv[k],
                    "lat": r.lat[k],
                    "lat_at": r.lat_at.pop(k, []),
                    "sent": r.sent[k],
                    "acked": r.acked[k],
                    "acks": r.acks,
                    "flags": r.flags,
                    "send_lag_ms": percentile_summary([x * 1000 for x in r.send_lag[k]]),
                    "loop_lag_ms": percentile_summary(lags),
                }
            )
            r.acks, r.flags = {}, []
        errs = Counter(r.errors)
        errs.subtract(errors_before)
        # Gaps and order are this step's own (seen while it ran), so a step is judged on what
        # happened in it and a later step does not inherit an earlier one's gap.
        result.update(
            {
                "errors": {k2: v for k2, v in errs.items() if v},
                "out_of_order": r.out_of_order - ooo_before,
                "gaps": r.gaps - gaps_before,
                "frames": r.frames - frames_before,
                "pongs": r.pongs - pongs_before,
                "still_open": sum(
                    1 for s in socks if s.ws is not None and s.ws.state is State.OPEN
                ),
            }
        )
        emit(result)
    await asyncio.gather(*(s.ws.close() for s in socks if s.ws is not None), return_exceptions=True)


def main() -> int:
    raise_nofile()
    spec = json.loads(sys.stdin.readline())
    try:
        asyncio.run(asyncio.wait_for(run(spec), spec.get("max_seconds", 300)))
    except TimeoutError:
        emit({"event": "timeout"})
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
