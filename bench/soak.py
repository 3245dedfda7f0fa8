"""Soak (issue 18): does `make run`'s web process stay flat under a long, mixed, modest load?

One web process with the embedded worker on SQLite (`make run`'s layout), on a fresh copy of the
run's database. Rooms whose sizes follow Zipf's law (rank-size: the k-th largest room has
largest / k^s members, s chosen so the smallest room has `smallest`; full mode: 40 rooms of 2–60),
one account and one socket per member. For `soak_seconds` (full mode: 30 minutes) a load generator
of its own (bench/soakgen.py) follows a plan drawn in advance with a fixed seed (`plan`): messages
at a fixed total rate, each announced by a typing frame and sent by a member chosen uniformly (so a
room's share of the traffic follows its size); a share of them edited by their author a little
later; reactions to recent messages of others; typing that leads to nothing; every socket closed
and reopened in turn (staggered so that about as many are away at every moment) and resuming from
its last seq as the protocol says; and every open socket pinging every `soak_ping_s` with its read
position. Meanwhile the web process's RSS, open file descriptors and threads are read from
/proc/<pid> every `soak_sample_s`.

Reported: each series' start, end and least-squares slope per 10 minutes; delivery latency (from
the scheduled send, over every `message.new` an open socket received) p50/p99/max. Judged: "flat"
(`flatness`: decided on the second half, so warm-up caches and pools do not count); every
acknowledged message is a stored row (from the database); no delivery lost (every stored seq of a
room is, at the end, held by every member of it, by the protocol's own means: live, `room.joined`'s
history, and the `resume` after a rejoin or a gap); no error frame and no close the client did not
ask for (the client only does what the protocol allows it, so every one is one it should not get).
"""

from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import subprocess
import threading
import time
from statistics import median
from typing import Any

from bench import modcap
from bench.driver import _readline, env, settle, sqlite_copy, start_kindred
from bench.scenarios import P99_LIMIT_MS, _warm_worker, row
from bench.util import PY, Proc, pct, rss_bytes

SCENARIO = "soak"
ROOM_PREFIX = "soak-"
# Slopes are printed per this many seconds (10 minutes).
SLOPE_PER_S = 600.0
SEED = 18

# The flatness rule (`flatness`), kept in each run's raw results with the figures it judged.
RULE: dict[str, float] = {
    # RSS: the least-squares line's rise over the second half, as a share of its value at the
    # half's start.
    "rss_growth_limit_pct": 5.0,
    # fds and threads: the median of the second half's last samples at most the median of its
    # first samples plus this much (the larger of the two): they are back to their level.
    "fd_tolerance": 2.0,
    "fd_tolerance_pct": 2.0,
    "thread_tolerance": 1.0,
    "thread_tolerance_pct": 2.0,
    # How many samples make an end of the half: this share of them, at least `edge_min_samples`
    # (also the fewest a half needs to be judged at all).
    "edge_share": 0.1,
    "edge_min_samples": 3,
    # A second half shorter than this decides nothing (a smoke run only checks the harness).
    "min_half_seconds": 120.0,
}


def room_slugs(cfg: dict[str, Any]) -> list[str]:
    """The soak's rooms, created with the run's accounts (bench.cli)."""
    return [f"{ROOM_PREFIX}{i:02d}" for i in range(cfg["soak_rooms"])]


def members_needed(cfg: dict[str, Any]) -> int:
    return sum(zipf_sizes(cfg["soak_rooms"], *cfg["soak_room_sizes"]))


def zipf_sizes(n: int, smallest: int, largest: int) -> list[int]:
    """Room sizes, largest first, by Zipf's rank-size law: the k-th room has largest / k^s
    members (rounded, never below `smallest`), with s chosen so that the n-th has `smallest`."""
    if n < 1 or smallest < 1 or largest < smallest:
        raise ValueError("need n ≥ 1 and 1 ≤ smallest ≤ largest")
    if n == 1:
        return [largest]
    s = math.log(largest / smallest) / math.log(n)
    return [max(smallest, round(largest / k**s)) for k in range(1, n + 1)]


# --- the plan ----------------------------------------------------------------------------------


def plan(
    sizes: list[int],
    *,
    seconds: float,
    msgs_per_s: float,
    reactions_per_s: float,
    typing_per_s: float,
    edit_share: float,
    edit_after: tuple[float, float],
    rejoin_every_s: float,
    offline_s: float,
    tail_s: float,
    typing_lead_s: float = 1.5,
    rejoin_settle_s: float = 2.0,
    seed: int = SEED,
) -> dict[str, Any]:
    """What every member does and when, drawn before the run: a list of [t, kind, socket, arg]
    (t in seconds from the start; kinds: leave (arg: seconds away), typing, send (arg: the
    message's number), edit (arg: the number of her message to edit), react). Socket i is one
    member in room `rooms[i]`.

    Leaves are staggered evenly (one every rejoin_every_s / sockets seconds, each socket in a
    shuffled turn), so about the same number are away at every moment. Nobody is planned to act
    while away, in the second before she leaves (her ack must arrive on the socket that sent
    it) or while she rejoins; nothing is planned in the last `tail_s` (deliveries settle)."""
    rng = random.Random(seed)
    rooms = [r for r, n in enumerate(sizes) for _ in range(n)]
    n = len(rooms)
    end = seconds - tail_s
    guard = min(1.0, offline_s)
    away: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    events: list[list[Any]] = []
    order = list(range(n))
    rng.shuffle(order)
    if rejoin_every_s > 0:
        step = rejoin_every_s / n
        for pos, i in enumerate(order):
            t = (pos + 0.5) * step
            while t + offline_s + rejoin_settle_s < end:
                events.append([t, "leave", i, offline_s])
                away[i].append((t - guard, t + offline_s + rejoin_settle_s))
                t += rejoin_every_s

    def present(i: int, a: float, b: float) -> bool:
        return all(b < lo or a > hi for lo, hi in away[i])

    def someone(a: float, b: float, ok: Any = None) -> int | None:
        for _ in range(50):
            i = rng.randrange(n)
            if present(i, a, b) and (ok is None or ok(i)):
                return i
        return None

    skipped = {"send": 0, "edit": 0, "react": 0, "typing": 0}
    for k in range(int(msgs_per_s * end)):
        t = (k + 0.5) / msgs_per_s
        lead = min(typing_lead_s, t)
        i = someone(t - lead, t + guard)
        if i is None:
            skipped["send"] += 1
            continue
        events += [[t - lead, "typing", i, None], [t, "send", i, k]]
        if rng.random() < edit_share:
            # A few tries for a moment she is here (she may be away for part of the window).
            tries = [t + rng.uniform(*edit_after) for _ in range(5)]
            te = next((x for x in tries if x < end and present(i, x - guard, x + guard)), None)
            if te is None:
                skipped["edit"] += 1
            else:
                events.append([te, "edit", i, k])
    for kind, rate in (("react", reactions_per_s), ("typing", typing_per_s)):
        for j in range(int(rate * end) if rate > 0 else 0):
            t = (j + 0.5) / rate
            # A reaction needs someone else's message: nobody in a room of one reacts.
            i = someone(t - guard, t + guard, lambda i: sizes[rooms[i]] > 1)
            if i is None:
                skipped[kind] += 1
            else:
                events.append([t, kind, i, None])
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    counts: dict[str, int] = {}
    for e in events:
        e[0] = round(e[0], 4)
        counts[e[1]] = counts.get(e[1], 0) + 1
    # The steady mix (about as many away at every moment) lasts until the last leave.
    steady_until = max((e[0] for e in events if e[1] == "leave"), default=seconds)
    return {
        "rooms": rooms,
        "events": events,
        "counts": counts,
        "skipped": skipped,
        "steady_until": steady_until,
    }


# --- series and the flatness rule ---------------------------------------------------------------


def least_squares(ts: list[float], ys: list[float]) -> tuple[float, float] | None:
    """(slope, intercept) of the least-squares line through the points; None for fewer than two
    distinct times."""
    if len(ts) < 2:
        return None
    mt, my = sum(ts) / len(ts), sum(ys) / len(ys)
    sxx = sum((t - mt) ** 2 for t in ts)
    if sxx == 0:
        return None
    slope = sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / sxx
    return slope, my - slope * mt


def summary(
    samples: list[list[float]], col: int, *, scale: float = 1.0, per_s: float = SLOPE_PER_S
) -> dict[str, Any]:
    """A series' first and last sample, its range, and its least-squares slope per `per_s`
    seconds, in units of `scale` (samples: [t, rss, fds, threads])."""
    ts = [x[0] for x in samples]
    ys = [x[col] / scale for x in samples]
    fit = least_squares(ts, ys)
    return {
        "start": ys[0] if ys else None,
        "end": ys[-1] if ys else None,
        "min": min(ys, default=None),
        "max": max(ys, default=None),
        "slope": None if fit is None else fit[0] * per_s,
    }


def flatness(
    samples: list[list[float]],
    *,
    seconds: float,
    until: float | None = None,
    rule: dict[str, float] = RULE,
) -> dict[str, Any]:
    """The verdict "flat", decided on the second half of the soak (samples [t, rss, fds,
    threads] with seconds / 2 ≤ t ≤ `until`), so what the first half warms up (caches, pools, the
    history cache, SQLite's page cache) does not count. `until` is where the steady load ends
    (the last planned leave): after it every socket is open again, a few more descriptors than
    while some are always away, which is no leak.

    - RSS: the least-squares line over the half rises by less than `rss_growth_limit_pct` % of
      its value at the half's first sample;
    - fds, threads: back to their level: the median of the half's last k samples is at most the
      median of its first k plus the larger of the absolute and the relative tolerance
      (k: `edge_share` of the half's samples, at least `edge_min_samples`).

    met: True when all three hold, False when one does not, None when the half spans less than
    `min_half_seconds` or has fewer than `edge_min_samples` samples (too short to decide)."""
    until = seconds if until is None else until
    half = [s for s in samples if seconds / 2 <= s[0] <= until]
    out: dict[str, Any] = {"half_samples": len(half), "until": until, "rule": dict(rule)}
    span = half[-1][0] - half[0][0] if half else 0.0
    out["half_seconds"] = round(span, 1)
    fewest = int(rule["edge_min_samples"])
    if len(half) < max(2, fewest) or span <= 0:
        out.update(met=None, why=f"fewer than {fewest} samples in the second half")
        return out
    ts = [s[0] for s in half]
    slope, icpt = least_squares(ts, [s[1] for s in half])
    at_start = slope * ts[0] + icpt
    growth = 100 * slope * span / at_start if at_start else math.inf
    out["rss"] = {
        "line_start_bytes": round(at_start),
        "rise_bytes": round(slope * span),
        "growth_pct": round(growth, 3),
        "allowed_bytes": round(at_start * rule["rss_growth_limit_pct"] / 100),
        "ok": growth < rule["rss_growth_limit_pct"],
    }
    k = min(len(half), max(fewest, round(rule["edge_share"] * len(half))))
    for name, col, tol, tol_pct in (
        ("fds", 2, rule["fd_tolerance"], rule["fd_tolerance_pct"]),
        ("threads", 3, rule["thread_tolerance"], rule["thread_tolerance_pct"]),
    ):
        ref = median([s[col] for s in half[:k]])
        end = median([s[col] for s in half[-k:]])
        allowed = max(tol, ref * tol_pct / 100)
        out[name] = {
            "reference": ref,
            "end": end,
            "edge_samples": k,
            "allowed": round(allowed, 2),
            "ok": end <= ref + allowed,
        }
    decided = span >= rule["min_half_seconds"]
    ok = out["rss"]["ok"] and out["fds"]["ok"] and out["threads"]["ok"]
    out["met"] = ok if decided else None
    if not decided:
        out["why"] = (
            f"the second half spans {span:g} s, under the {rule['min_half_seconds']:g} s the rule "
            f"needs to decide"
        )
    return out


# --- deliveries ---------------------------------------------------------------------------------


def ranges_to_set(ranges: list[list[int]]) -> set[int]:
    return {x for a, b in ranges for x in range(a, b + 1)}


def delivery_figures(
    stored: dict[str, set[int]], held: list[tuple[str, set[int]]]
) -> dict[str, int]:
    """Deliveries expected (every stored seq of a room, to every member of it) and lost (not held
    by that member at the end)."""
    expected = sum(len(stored.get(room, ())) for room, _ in held)
    lost = sum(len(stored.get(room, set()) - seqs) for room, seqs in held)
    return {
        "expected": expected,
        "lost": lost,
        "members_missing_some": sum(1 for room, seqs in held if stored.get(room, set()) - seqs),
    }


# --- running it ---------------------------------------------------------------------------------


class ProcSampler:
    """RSS, open file descriptors and threads of one process every `every` seconds, read from
    /proc/<pid>; each sample [epoch seconds, rss bytes, fds, threads]."""

    def __init__(self, pid: int, every: float) -> None:
        self.pid, self.every = pid, every
        self.samples: list[list[float]] = []
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        nxt = time.time()
        while not self._stop.is_set():
            try:
                self.samples.append(
                    [round(time.time(), 3), rss_bytes(self.pid), *proc_counts(self.pid)]
                )
            except OSError:
                self.failed += 1
            nxt += self.every
            self._stop.wait(max(0.0, nxt - time.time()))

    def stop(self) -> list[list[float]]:
        self._stop.set()
        self._thread.join(5)
        return self.samples


def proc_counts(pid: int) -> tuple[int, int]:
    """(open file descriptors, threads) of a process."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("Threads:"):
                return fds, int(line.split()[1])
    return fds, 0


def soak(ctx: dict) -> dict:
    cfg = ctx["cfg"]
    sizes = zipf_sizes(cfg["soak_rooms"], *cfg["soak_room_sizes"])
    the_plan = plan(
        sizes,
        seconds=cfg["soak_seconds"],
        msgs_per_s=cfg["soak_msgs_per_s"],
        reactions_per_s=cfg["soak_reactions_per_s"],
        typing_per_s=cfg["soak_typing_per_s"],
        edit_share=cfg["soak_edit_share"],
        edit_after=tuple(cfg["soak_edit_after"]),
        rejoin_every_s=cfg["soak_rejoin_every_s"],
        offline_s=cfg["soak_offline_s"],
        tail_s=cfg["soak_tail_s"],
    )
    raw: dict[str, Any] = {
        "seconds": cfg["soak_seconds"],
        "sizes": sizes,
        "members": len(the_plan["rooms"]),
        "load": {
            k: cfg[f"soak_{k}"]
            for k in (
                "msgs_per_s",
                "reactions_per_s",
                "typing_per_s",
                "edit_share",
                "edit_after",
                "rejoin_every_s",
                "offline_s",
                "ping_s",
                "sample_s",
                "tail_s",
            )
        },
        "planned": the_plan["counts"],
        "plan_skipped": the_plan["skipped"],
        "steady_until": the_plan["steady_until"],
        "model": (
            "rules only (smoke: no model)"
            if ctx.get("mode") == "smoke"
            else f"{ctx.get('model_name')} + safety model"
        ),
        "capacity": {"rate": _capacity(ctx), "size": cfg["modcap_size"]},
        "rule": dict(RULE),
        "slope_minutes": SLOPE_PER_S / 60,
    }
    raw.update(_drive(ctx, the_plan))
    raw["flat"] = flatness(
        raw["samples"], seconds=raw["seconds"], until=raw["steady_until"], rule=raw["rule"]
    )
    return {"rows": rows_of(raw), "raw": raw}


def _capacity(ctx: dict) -> float | None:
    """This run's moderated capacity of a room of 20 in the same layout, if it ran first."""
    runs = (((ctx.get("results") or {}).get("moderated_capacity") or {}).get("raw") or {}).get(
        "embedded"
    )
    if not runs:
        return None
    figures = [modcap.figure_of(r) for r in runs]
    vals = [v for v, b in figures if v is not None and b is None]
    return median(vals) if vals else None


def _drive(ctx: dict, the_plan: dict[str, Any]) -> dict[str, Any]:
    """The soak on a fresh server and database, then the database's view of it."""
    cfg = ctx["cfg"]
    seconds = cfg["soak_seconds"]
    slugs = room_slugs(cfg)
    members = ctx["members"][: len(the_plan["rooms"])]
    if len(members) < len(the_plan["rooms"]):
        raise RuntimeError(f"the soak needs {len(the_plan['rooms'])} accounts")
    sockets = [
        {"room": slugs[r], "cookie": m["cookie"], "user_id": m["id"]}
        for r, m in zip(the_plan["rooms"], members, strict=True)
    ]
    db = sqlite_copy(ctx["template"], "soak")
    proc, port = start_kindred(
        "soak", db_url=db, extra={"MODERATION_EMBEDDED_WORKER": "1", **modcap._model_env(ctx)}
    )
    out: dict[str, Any] = {}
    sampler = None
    gen = None
    try:
        settle([proc.pid], quiet=0.2, max_wait=120)
        _warm_worker(port, ctx["members"])
        settle([proc.pid], quiet=0.2, max_wait=60)
        sampler = ProcSampler(proc.pid, cfg["soak_sample_s"])
        spec = {
            "base": f"ws://127.0.0.1:{port}",
            "sockets": sockets,
            "events": the_plan["events"],
            "seconds": seconds,
            "ping_s": cfg["soak_ping_s"],
            "tag": os.urandom(4).hex(),
            "max_seconds": seconds + 900,
        }
        gen = Proc(
            [PY, "-m", "bench.soakgen"],
            env=env(),
            log=None,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        gen.p.stdin.write((json.dumps(spec) + "\n").encode())
        gen.p.stdin.flush()
        t = time.monotonic()
        out["connect"] = _readline(gen.p, cfg.get("join_timeout", 300) + 60)
        out["connect"]["seconds"] = round(time.monotonic() - t, 1)
        settle([proc.pid, gen.pid], quiet=0.3, max_wait=60)
        t0 = round(time.time() + 1.0, 6)
        gen.p.stdin.write(f"go {t0:.6f}\n".encode())
        gen.p.stdin.flush()
        res = _readline(gen.p, seconds + 300)
        samples = sampler.stop()
        if res.get("event") != "result":
            raise RuntimeError(f"the soak's load generator answered {res.get('event')!r}")
        out["pending_at_end"] = _count(
            db, "select count(*) from chat_message where assessment_state='pending'"
        )
        stored = _stored(db)
        read = _read_positions(db)
    finally:
        if sampler is not None:
            sampler.stop()
        if gen is not None:
            try:
                gen.p.stdin.write(b"stop\n")
                gen.p.stdin.flush()
                gen.p.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            gen.stop()
        proc.stop()
    # The series is the load's: from its start to its end.
    out["samples"] = [[round(s[0] - t0, 2), *s[1:]] for s in samples if 0 <= s[0] - t0 <= seconds]
    out["samples_before"] = sum(1 for s in samples if s[0] < t0)
    out.update(_figures(res, stored, read, sockets, seconds))
    return out


def _figures(
    res: dict[str, Any],
    stored: dict[str, dict[str, int]],
    read: dict[tuple[int, str], int],
    sockets: list[dict[str, Any]],
    seconds: float,
) -> dict[str, Any]:
    """What the load generator and the database recorded, as the rows' figures."""
    acks = res.get("acks") or {}
    stored_ids = {cid for room in stored.values() for cid in room}
    seqs = {room: set(ids.values()) for room, ids in stored.items()}
    held = [
        (s["room"], ranges_to_set(m["held"])) for s, m in zip(sockets, res["members"], strict=True)
    ]
    lat = res.get("lat_at") or []
    first = [x for t, x in lat if t < seconds / 2]
    second = [x for t, x in lat if t >= seconds / 2]
    sent_read = [
        (s["user_id"], s["room"], m["read_sent"])
        for s, m in zip(sockets, res["members"], strict=True)
        if m["read_sent"] is not None
    ]
    return {
        "counts": res.get("counts") or {},
        "errors": res.get("errors") or {},
        "error_samples": res.get("error_samples") or [],
        "closes": res.get("closes") or {},
        "acked": len(acks),
        "stored": sum(len(v) for v in stored.values()),
        "acked_not_stored": sum(1 for cid in acks if cid not in stored_ids),
        "stored_not_acked": sum(1 for cid in stored_ids if cid not in acks),
        "deliveries": {
            **delivery_figures(seqs, held),
            "live": len(lat),
            "p50_ms": pct([x for _, x in lat], 50),
            "p99_ms": pct([x for _, x in lat], 99),
            "max_ms": max((x for _, x in lat), default=None),
            "p99_first_half_ms": pct(first, 99),
            "p99_second_half_ms": pct(second, 99),
        },
        "read_positions": {
            "members": len(sent_read),
            "stored_as_sent": sum(1 for u, r, v in sent_read if read.get((u, r)) == v),
        },
        "loadgen_late_ms": res.get("late_ms"),
    }


def _count(db_url: str, query: str) -> int | None:
    try:
        with sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=10) as c:
            return c.execute(query).fetchone()[0]
    except sqlite3.Error:
        return None


def _stored(db_url: str) -> dict[str, dict[str, int]]:
    """Every stored message of the soak's rooms: room slug → {client_id: seq}."""
    out: dict[str, dict[str, int]] = {}
    q = (
        "select r.slug, m.client_id, m.seq from chat_message m join chat_room r on r.id = "
        "m.room_id where r.slug like ?"
    )
    with sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=10) as c:
        for slug, cid, seq in c.execute(q, (ROOM_PREFIX + "%",)):
            out.setdefault(slug, {})[cid] = seq
    return out


def _read_positions(db_url: str) -> dict[tuple[int, str], int]:
    q = (
        "select m.user_id, r.slug, m.last_read_seq from chat_membership m join chat_room r on "
        "r.id = m.room_id where r.slug like ?"
    )
    with sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=10) as c:
        return {(u, r): v for u, r, v in c.execute(q, (ROOM_PREFIX + "%",))}


# --- rows ---------------------------------------------------------------------------------------

_MIB = 2**20


def _num(v: float | None, fmt: str = "g") -> str:
    return "–" if v is None else format(v, fmt)


def rows_of(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Each series (reported), the verdict "flat", acknowledged vs stored, deliveries lost,
    delivery latency (reported) and error frames, every figure read from `raw`."""
    seconds = raw["seconds"]
    sizes = raw["sizes"]
    minutes = f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
    head = (
        f"{len(sizes)} rooms of {min(sizes)}–{max(sizes)} members (Zipf), {raw['members']} "
        f"sockets, {minutes}"
    )
    samples = raw.get("samples") or []
    flat = flatness(
        samples, seconds=seconds, until=raw.get("steady_until"), rule=raw.get("rule") or RULE
    )
    rows = _series_rows(raw, head, samples)
    rows.append(_flat_row(head, flat, bool(samples)))
    c = raw.get("counts") or {}
    lost = raw.get("acked_not_stored")
    rp = raw.get("read_positions") or {}
    rows.append(
        row(
            SCENARIO,
            f"{head}: messages acknowledged / stored (from the database)",
            f"{raw.get('acked')} / {raw.get('stored')}",
            None,
            None,
            "0 acknowledged not stored",
            None if lost is None else lost == 0,
            f"{lost} acknowledged messages missing from the database, {raw.get('stored_not_acked')} "
            f"stored without an acknowledgement reaching the client; moderation backlog at the end: "
            f"{raw.get('pending_at_end')}; read positions: {rp.get('stored_as_sent')} of "
            f"{rp.get('members')} members' stored position is the last one they sent; "
            f"`make run`'s layout (embedded worker, SQLite), {raw['model']}; offered: "
            f"{_offered(raw)}; {_planned(raw)}; {_done(c)}",
        )
    )
    d = raw.get("deliveries") or {}
    rows.append(
        row(
            SCENARIO,
            f"{head}: deliveries lost (a stored message some member of its room never got)",
            d.get("lost"),
            None,
            None,
            "0",
            None if d.get("lost") is None else d["lost"] == 0,
            f"{d.get('expected')} deliveries expected (each stored message to every member of its "
            f"room, counted from the database), {d.get('members_missing_some')} members missing "
            f"some; first received live {c.get('live', 0)}, in a join's history "
            f"{c.get('from_history', 0)}, by the resume after a rejoin "
            f"{c.get('resumed_after_rejoin', 0)}, by the resume after a gap "
            f"{c.get('resumed_after_gap', 0)} ({c.get('gaps', 0)} seqs skipped on an open socket); "
            f"{c.get('resumes', 0)} resumes sent, {c.get('batches', 0)} batches back; the same "
            f"message.new twice: {c.get('duplicates_live', 0)}",
        )
    )
    late = (raw.get("loadgen_late_ms") or {}).get("p99")
    rows.append(
        row(
            SCENARIO,
            f"{head}: delivery latency p99 over the whole soak (ms)",
            d.get("p99_ms"),
            None,
            None,
            "(report)",
            None,
            f"from the scheduled send to `message.new` on each open socket, {d.get('live')} "
            f"deliveries: p50 {_num(d.get('p50_ms'))} ms, max {_num(d.get('max_ms'))} ms; p99 "
            f"first half {_num(d.get('p99_first_half_ms'))} ms, second half "
            f"{_num(d.get('p99_second_half_ms'))} ms ("
            + (
                "within"
                if d.get("p99_ms") is not None and d["p99_ms"] <= P99_LIMIT_MS
                else "not within"
            )
            + f" the {P99_LIMIT_MS:g} ms the capacity searches allow); the load generator's "
            f"planned actions ran {_num(late)} ms late at p99",
        )
    )
    rows.append(_errors_row(raw, head))
    return rows


def _offered(raw: dict[str, Any]) -> str:
    load, cap = raw["load"], raw.get("capacity") or {}
    return (
        f"{load['msgs_per_s']:g} msg/s in all"
        + (
            f" ({100 * load['msgs_per_s'] / cap['rate']:.0f} % of the rate this run's moderated "
            f"capacity search found for one room of {cap['size']} in the same layout, "
            f"{cap['rate']:.3g} msg/s)"
            if cap.get("rate")
            else ""
        )
        + f", {load['reactions_per_s']:g} reactions/s, a typing frame before each message and "
        f"{load['typing_per_s']:g}/s more, {100 * load['edit_share']:g} % of messages edited "
        f"{load['edit_after'][0]:g}–{load['edit_after'][1]:g} s later, each socket closed and "
        f"reopened every {load['rejoin_every_s']:g} s ({load['offline_s']:g} s away), a ping "
        f"with the read position every {load['ping_s']:g} s"
    )


def _planned(raw: dict[str, Any]) -> str:
    n, skipped = raw.get("planned") or {}, raw.get("plan_skipped") or {}
    return (
        f"planned: {n.get('send', 0)} messages, {n.get('edit', 0)} edits ("
        f"{skipped.get('edit', 0)} more left out: the author was away at each moment tried), "
        f"{n.get('react', 0)} reactions, {n.get('typing', 0)} typing frames, "
        f"{n.get('leave', 0)} leaves"
    )


def _done(c: dict[str, int]) -> str:
    return (
        f"done: {c.get('sent', 0)} messages sent, {c.get('edits', 0)} edits, "
        f"{c.get('reactions', 0)} reactions, {c.get('typing', 0)} typing frames, "
        f"{c.get('rejoins', 0)} rejoins ({c.get('rejoin_failed', 0)} failed), "
        f"{c.get('pings', 0)} pings ({c.get('pongs', 0)} pongs); not done: "
        f"{c.get('skipped_react', 0)} reactions (nothing of others' to react to yet), "
        f"{c.get('skipped_edit', 0)} edits (not yet acknowledged), {c.get('skipped_offline', 0)} "
        f"actions (socket not open)"
    )


def _series_rows(raw: dict[str, Any], head: str, samples: list[list[float]]) -> list[dict]:
    if not samples:
        return []
    seconds, per = raw["seconds"], raw.get("slope_minutes", SLOPE_PER_S / 60)
    every = raw["load"]["sample_s"]
    rows = []
    for name, col, scale, unit, fmt in (
        ("RSS", 1, _MIB, " MiB", ".1f"),
        ("open file descriptors", 2, 1, "", "g"),
        ("threads", 3, 1, "", "g"),
    ):
        s = summary(samples, col, scale=scale, per_s=60 * per)
        half = summary(
            [x for x in samples if x[0] >= seconds / 2], col, scale=scale, per_s=60 * per
        )
        rows.append(
            row(
                SCENARIO,
                f"{head}: web process {name}, start → end, least-squares slope per {per:g} min",
                f"{_num(s['start'], fmt)} → {_num(s['end'], fmt)}{unit}, "
                f"{_num(s['slope'], '+.2f')}{unit}/{per:g} min",
                None,
                None,
                "(report)",
                None,
                f"{len(samples)} samples every {every:g} s from /proc/<pid> over the load (min "
                f"{_num(s['min'], fmt)}, max {_num(s['max'], fmt)}); second half alone: "
                f"{_num(half['start'], fmt)} → {_num(half['end'], fmt)}{unit}, slope "
                f"{_num(half['slope'], '+.2f')}{unit}/{per:g} min",
            )
        )
    return rows


def _errors_row(raw: dict[str, Any], head: str) -> dict[str, Any]:
    errors = raw.get("errors") or {}
    closes = raw.get("closes") or {}
    measured = raw.get("counts") is not None
    bad = sum(errors.values()) + sum(closes.values())
    first = raw.get("error_samples") or []
    return row(
        SCENARIO,
        f"{head}: error frames and closes the client did not ask for",
        bad if measured else None,
        None,
        None,
        "0",
        bad == 0 if measured else None,
        "the client sends only what the protocol allows it (its own messages, edited within the "
        "window; reactions to others' visible messages, no 'me too' on a supportive-only one), so "
        "every error frame is one it should not get; "
        + (
            "error frames by code: " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items()))
            if errors
            else "no error frame"
        )
        + "; "
        + (
            "closes and failed connects by code: "
            + ", ".join(f"{k} {v}" for k, v in sorted(closes.items()))
            if closes
            else "no close the client did not ask for"
        )
        + (
            "; the first: "
            + "; ".join(
                f"{e.get('code')} after {e.get('after')} ({e.get('message')})" for e in first[:3]
            )
            if first
            else ""
        ),
    )


def _flat_row(head: str, flat: dict[str, Any], sampled: bool) -> dict[str, Any]:
    rule = flat["rule"]
    figure = f"{head}: flat (RSS, fds, threads)"
    target = (
        f"RSS rise < {rule['rss_growth_limit_pct']:g} % over the second half; fds and threads "
        f"back to their level"
    )
    if not sampled or "rss" not in flat:
        why = flat.get("why", "no samples") if sampled else "no samples"
        return row(SCENARIO, figure, None, None, None, target, None, f"undecided: {why}")
    r, f, t = flat["rss"], flat["fds"], flat["threads"]
    note = (
        f"read on the second half up to the last planned leave at {flat['until']:.1f} s "
        f"({flat['half_samples']} samples over {flat['half_seconds']:g} s), so the first half's "
        f"warm-up and the all-open end do not count: RSS line "
        f"{r['line_start_bytes'] / _MIB:.1f} MiB at the half's start, rising "
        f"{r['rise_bytes'] / _MIB:+.1f} MiB ({r['growth_pct']:+.2f} %; allowed: under "
        f"{r['allowed_bytes'] / _MIB:.1f} MiB): {'ok' if r['ok'] else 'too much'}; fds "
        f"{f['reference']:g} → {f['end']:g} (medians of the half's first and last "
        f"{f['edge_samples']} samples; allowed +{f['allowed']:g}): "
        f"{'ok' if f['ok'] else 'not back'}; threads {t['reference']:g} → {t['end']:g} (allowed "
        f"+{t['allowed']:g}): {'ok' if t['ok'] else 'not back'}"
    )
    met = flat["met"]
    if met is None:
        note = f"undecided: {flat['why']}; {note}"
    label = {True: "flat", False: "not flat", None: "–"}[met]
    return row(SCENARIO, figure, label, None, None, target, met, note)
