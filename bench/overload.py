"""Overload (issue 18): what a room of 20 does above its capacity, and how it comes back.

The capacity is the room's moderated capacity in `make run`'s layout (bench.modcap: embedded
worker, SQLite): this run's figure when that scenario ran first (the median of its searches), else
one such search here. On a fresh server and database of the same layout the room is then driven
at 1.5× that rate for `overload_burst_seconds` (30 s in full mode), straight on at half the
capacity for `overload_after_seconds`, and, once the moderation backlog has drained, the same at
2×. Every delivery's latency is timed from the message's scheduled send (no coordinated
omission).

Reported, not judged: delivery latency p50/p99/p99.9/max of each burst's messages, deliveries
that never arrived, when the last of a burst's messages had reached every member and when it had
been assessed (each counted from the burst's end), and how long after the burst delivery p99 was
back within the limit (the first one-second window of the load after it from which every later
window's p99 is within P99_LIMIT_MS, a delivery that never arrived counting as +∞), likewise send →
assessed p95 within modcap.TTF_P95_LIMIT_S. Judged: nothing acknowledged lost, i.e. every
client_id the server acknowledged is a stored row of the room, read from the database after the
run, whatever any pass rule said."""

from __future__ import annotations

import math
import sqlite3
import time
from typing import Any

from bench import modcap
from bench.driver import Fleet, merge_step, settle, sqlite_copy, start_kindred
from bench.scenarios import (
    _PREFIX_OF,
    P99_LIMIT_MS,
    _pending,
    _room_sockets,
    _warm_worker,
    median_bound,
    row,
)
from bench.util import cpu_seconds, pct

ROOM = "overload"
FACTORS = (1.5, 2.0)
# The load after a burst, as a share of the capacity: the room's ordinary traffic resuming.
AFTER_SHARE = 0.5
WINDOW_S = 1.0
# Scheduled send times come back rounded to the microsecond (the load generator's #b tag), so a
# message due exactly at a boundary (the first one after the burst) is placed with this much slack.
EDGE_S = 5e-4


def capacity(ctx: dict) -> dict[str, Any]:
    """The room's capacity in msg/s with its bound, and where it comes from."""
    runs = (((ctx.get("results") or {}).get("moderated_capacity") or {}).get("raw") or {}).get(
        "embedded"
    )
    source = "this run's moderated capacity, embedded layout"
    if not runs:
        runs = [modcap._search_once(ctx, "embedded", "overload-capacity")]
        source = "searched here as moderated capacity searches, embedded layout"
    rate, bound = median_bound([modcap.figure_of(r) for r in runs])
    return {"rate": rate, "bound": bound, "source": source, "searches": len(runs)}


def overload(ctx: dict) -> dict:
    cfg = ctx["cfg"]
    raw: dict[str, Any] = {
        "size": cfg["modcap_size"],
        "factors": list(FACTORS),
        "after_share": AFTER_SHARE,
        "burst_s": cfg["overload_burst_seconds"],
        "after_s": cfg["overload_after_seconds"],
        "grace_s": cfg["overload_grace_seconds"],
        "capacity": capacity(ctx),
    }
    if raw["capacity"]["rate"]:
        raw.update(_drive(ctx, raw))
    return {"rows": rows_of(raw), "raw": raw}


def _drive(ctx: dict, raw: dict[str, Any]) -> dict[str, Any]:
    """Both bursts on one fresh server, then the database's view of every acknowledged message."""
    cfg = ctx["cfg"]
    size, cap = raw["size"], raw["capacity"]["rate"]
    burst_s, after_s, grace = raw["burst_s"], raw["after_s"], raw["grace_s"]
    drain = cfg.get("overload_drain_seconds", 120)
    sockets = _room_sockets(ctx["members"], ROOM, size, min(size, 10))
    steps = [{"rate": min(cap, 2.0 * min(size, 10)), "duration": 1.0}]  # warm-up, not reported
    for f in FACTORS:
        steps.append(
            {
                "rate": f * cap,
                "duration": burst_s + after_s,
                "profile": [[f * cap, burst_s], [AFTER_SHARE * cap, after_s]],
            }
        )
    db = sqlite_copy(ctx["template"], "overload")
    proc, port = start_kindred(
        "overload", db_url=db, extra={"MODERATION_EMBEDDED_WORKER": "1", **modcap._model_env(ctx)}
    )
    out: dict[str, Any] = {"bursts": []}
    acks: dict[str, list] = {}
    try:
        settle([proc.pid], quiet=0.2, max_wait=120)
        _warm_worker(port, ctx["members"])
        settle([proc.pid], quiet=0.2, max_wait=60)
        fleet = Fleet(
            port=port,
            sockets=sockets,
            n_procs=1,
            steps=steps,
            grace=grace,
            record_acks=True,
            record_times=True,
            max_seconds=600 + len(FACTORS) * (burst_s + after_s + grace + drain),
            name="overload",
        )
        try:
            fleet.ready(timeout=cfg.get("join_timeout", 300))
            settle([proc.pid, *fleet.pids], quiet=0.3, max_wait=60)
            for r in fleet.go(0):
                acks.update(r.get("acks") or {})
            out["warm_drain_s"] = _wait_drained(db, drain)
            for k, factor in enumerate(FACTORS, 1):
                t0 = round(time.time() + 0.5, 6)  # as the load generator reads it
                c0, t = cpu_seconds(proc.pid), time.monotonic()
                res = fleet.go(k, t0=t0, timeout=burst_s + after_s + grace + 120)
                cpu_pct = round(100 * (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t), 1)
                for r in res:
                    acks.update(r.get("acks") or {})
                m = merge_step(res, members=size, duration=burst_s + after_s)
                out["bursts"].append(
                    {
                        "factor": factor,
                        "rate": round(factor * cap, 3),
                        "after_rate": round(AFTER_SHARE * cap, 3),
                        "t0": t0,
                        "lat_at": [x for r in res for x in r.get("lat_at") or []],
                        "sent": m["sent"],
                        "server_cpu_pct": cpu_pct,
                        "send_lag_p99_ms": m["send_lag_p99_ms"],
                        "errors": m["errors"],
                        # The moderation backlog left when the step's grace ended, and how long it
                        # then took to drain (the next burst starts from an empty one).
                        "pending_after": _pending(db),
                        "drain_s": _wait_drained(db, drain),
                    }
                )
        finally:
            fleet.stop()
        stored = stored_client_ids(db, ROOM, list(acks))
        assessed = modcap.assessed_at(db, ROOM, [a[1] for a in acks.values() if a[1] is not None])
    finally:
        proc.stop()
    for k, b in enumerate(out["bursts"], 1):
        mine = [a for cid, a in acks.items() if _step_of(cid) == k]
        b["acked"] = len(mine)
        b["figures"] = burst_figures(
            t0=b["t0"],
            burst_s=burst_s,
            after_s=after_s,
            members=size,
            sent_at=[a[2] for a in mine if a[2] is not None],
            lat_at=b.pop("lat_at"),
            assessed=[(a[2], assessed.get(a[1])) for a in mine if a[2] is not None],
        )
    out["acked"] = len(acks)
    out["acked_not_stored"] = sum(1 for cid in acks if cid not in stored)
    return out


def _step_of(client_id: str) -> int | None:
    """The step of a load-generator client_id, "bench-<sender>-<step>-<i>-<tag>"."""
    try:
        return int(client_id.split("-")[2])
    except (IndexError, ValueError):
        return None


def _wait_drained(db_url: str, timeout: float) -> float | None:
    """Seconds until nothing waits for assessment; None if something still did after `timeout`."""
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if _pending(db_url) == 0:
            return round(time.monotonic() - t, 1)
        time.sleep(0.1)
    return None


def stored_client_ids(db_url: str, room: str, client_ids: list[str]) -> set[str]:
    """Which of these client_ids are stored messages of `room` (SQLite, as the scenario runs)."""
    found: set[str] = set()
    q = (
        "select m.client_id from chat_message m join chat_room r on r.id = m.room_id "
        "where r.slug = ? and m.client_id in ({})"
    )
    with sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=10) as c:
        for i in range(0, len(client_ids), 500):
            chunk = client_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(x for (x,) in c.execute(q.format(marks), (room, *chunk)))
    return found


def burst_figures(
    *,
    t0: float,
    burst_s: float,
    after_s: float,
    members: int,
    sent_at: list[float],
    lat_at: list[list[float]],
    assessed: list[tuple[float, float | None]],
    window: float = WINDOW_S,
) -> dict[str, Any]:
    """One burst's figures from what the load generator and the database recorded.

    `sent_at`: the scheduled send time of every acknowledged message of the step (burst and the
    load after it); `lat_at`: [scheduled send, latency ms] of every delivery received;
    `assessed`: (scheduled send, when its assessment was stored or None) per acknowledged message.
    Times are epoch seconds; the burst runs from `t0` for `burst_s`, the load after it for
    `after_s`. A delivery expected (acknowledged × members) and not received counts as +∞ in a
    window's p99, and as missing for the burst."""
    burst_end = t0 + burst_s
    cut = burst_end - EDGE_S  # a message due before this was sent in the burst
    burst = [(ts, lat) for ts, lat in lat_at if ts < cut]
    expected = sum(1 for ts in sent_at if ts < cut) * members
    missing = max(0, expected - len(burst))
    lats = [lat for _ts, lat in burst]
    last = max((ts + lat / 1000 for ts, lat in burst), default=None)
    burst_assessed = [at for ts, at in assessed if ts < cut]
    windows = []
    for w in range(math.ceil(after_s / window - 1e-9)):
        lo = cut + w * window
        hi = min(lo + window, cut + after_s)  # the last window ends with the step
        got = [lat for ts, lat in lat_at if lo <= ts < hi]
        gone = max(0, sum(1 for ts in sent_at if lo <= ts < hi) * members - len(got))
        ttf = [math.inf if at is None else at - ts for ts, at in assessed if lo <= ts < hi]
        windows.append(
            {
                "from_s": round(w * window, 3),
                "deliveries": len(got),
                "missing": gone,
                "p99_ms": pct(got + [math.inf] * gone, 99),
                "ttf_p95_s": None if not ttf else _round(pct(ttf, 95), 3),
            }
        )
    return {
        "deliveries": len(lats),
        "expected": expected,
        "missing": missing,
        "p50_ms": pct(lats, 50),
        "p99_ms": pct(lats, 99),
        "p999_ms": pct(lats, 99.9),
        "max_ms": max(lats, default=None),
        # The last of the burst's messages reached every member / was assessed, counted from
        # the burst's end (0: nothing was left when it ended; None: some never did).
        "delivered_all_s": (
            None if missing or last is None else round(max(0.0, last - burst_end), 2)
        ),
        "assessed_all_s": (
            None
            if not burst_assessed or any(at is None for at in burst_assessed)
            else round(max(0.0, max(burst_assessed) - burst_end), 2)
        ),
        "delivery_recovered_s": recovered(
            windows, lambda x: x["p99_ms"] is None or x["p99_ms"] <= P99_LIMIT_MS
        ),
        "moderation_recovered_s": recovered(
            windows,
            lambda x: x["ttf_p95_s"] is None or x["ttf_p95_s"] <= modcap.TTF_P95_LIMIT_S,
        ),
        "windows": windows,
    }


def recovered(windows: list[dict[str, Any]], ok: Any) -> float | None:
    """When the windows were back to `ok` for good: the start of the first window from which
    every later one is ok (0 when all were); None when the last one still was not."""
    bad = [i for i, w in enumerate(windows) if not ok(w)]
    if not windows or (bad and bad[-1] == len(windows) - 1):
        return None
    return windows[bad[-1] + 1]["from_s"] if bad else windows[0]["from_s"]


def _round(v: float | None, n: int) -> float | None:
    return v if v is None or math.isinf(v) else round(v, n)


def _ms(v: float | None) -> str:
    return "–" if v is None else "∞" if math.isinf(v) else f"{v:g}"


def _by(v: float | None, otherwise: str) -> str:
    return f"after {v:g} s" if v is not None else f"never ({otherwise})"


def _after(v: float | None, after_s: float) -> str:
    return f"not within the {after_s:g} s watched" if v is None else f"{v:g} s"


def rows_of(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The scenario's rows: per burst its latency and its recovery (reported), then whether
    anything acknowledged was lost (judged)."""
    size, cap = raw["size"], raw["capacity"]
    after_s = raw["after_s"]
    cap_text = (
        f"capacity {_PREFIX_OF.get(cap['bound'], '')}{cap['rate']:.3g} msg/s ({cap['source']}"
        f"{', median of ' + str(cap['searches']) + ' searches' if cap['searches'] > 1 else ''})"
        if cap["rate"]
        else "no capacity figure"
    )
    if cap["bound"] == "lower":
        cap_text += ": only a lower bound, so these rates may not be above the true capacity"
    elif cap["bound"]:
        cap_text += ": a bound, not a measured capacity"
    if not raw.get("bursts"):
        return [
            row(
                "overload",
                f"room of {size} above its capacity",
                None,
                None,
                None,
                "(report)",
                None,
                f"not measured: {cap_text}",
            )
        ]
    rows = []
    for b in raw["bursts"]:
        f = b["figures"]
        head = f"room of {size} at {b['factor']:g}× capacity ({b['rate']:.3g} msg/s) for {raw['burst_s']:g} s"
        rows.append(
            row(
                "overload",
                f"{head}: delivery latency from the scheduled send, p50 / p99 / p99.9 / max (ms)",
                " / ".join(_ms(f[k]) for k in ("p50_ms", "p99_ms", "p999_ms", "max_ms")),
                None,
                None,
                "(report)",
                None,
                f"{cap_text}; `make run`'s layout with the embedded worker; {b['acked']} of "
                f"{b['sent']} messages acknowledged over the burst and the load after it; "
                f"{f['missing']} of the burst's {f['expected']} deliveries never arrived (within "
                f"the load after it and {raw['grace_s']:g} s of grace); counted from the burst's end, "
                f"all of the burst's messages had reached every member "
                + _by(f["delivered_all_s"], "some deliveries never arrived")
                + " and had been assessed "
                + _by(f["assessed_all_s"], "some were not, even after the drain wait")
                + f"; server CPU "
                f"{b['server_cpu_pct']}% of a core, load generator's sends {b['send_lag_p99_ms']} ms "
                f"late at p99",
            )
        )
        rec = f["delivery_recovered_s"]
        rows.append(
            row(
                "overload",
                f"{head}, then {raw['after_share']:g}× capacity: seconds until delivery p99 ≤ "
                f"{P99_LIMIT_MS:g} ms again",
                f"≥ {after_s:g}" if rec is None else rec,
                None,
                None,
                "(report)",
                None,
                "one-second windows of scheduled sends after the burst, a delivery that never "
                "arrived counted as +∞; "
                + (
                    f"p99 was still above the limit in the last window watched ({after_s:g} s); "
                    if rec is None
                    else ""
                )
                + f"send → assessed p95 ≤ {modcap.TTF_P95_LIMIT_S:g} s again: "
                f"{_after(f['moderation_recovered_s'], after_s)}; moderation backlog when the "
                f"step ended: {b['pending_after']}, drained "
                + ("only after the wait gave up" if b["drain_s"] is None else f"{b['drain_s']:g} s")
                + " later",
            )
        )
    lost = raw.get("acked_not_stored")
    undelivered = "; ".join(
        f"{b['factor']:g}×: {b['figures']['missing']} of {b['figures']['expected']}"
        for b in raw["bursts"]
    )
    rows.append(
        row(
            "overload",
            f"room of {size}, both bursts and the load after them: nothing acknowledged lost "
            "(acknowledged messages missing from the database)",
            lost,
            None,
            None,
            "0",
            None if lost is None else lost == 0,
            f"{raw.get('acked')} client_ids acknowledged (warm-up included), each looked up in the "
            f"room's stored messages after the run, independently of any pass rule; deliveries of "
            f"the bursts' messages that never reached a member (reported, not judged): {undelivered}",
        )
    )
    return rows
