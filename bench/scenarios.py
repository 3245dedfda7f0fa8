"""The seven scenarios. Each returns {"rows": [...table rows...], "raw": {...}}.

A row: scenario, figure, kindred, baseline, ratio, target, met (True/False/None), note.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
import subprocess
import time
import urllib.request
from html.parser import HTMLParser
from typing import Any, Literal

from bench import driver
from bench.driver import (
    Fleet,
    merge_step,
    settle,
    sqlite_copy,
    start_baseline,
    start_kindred,
    start_samework,
    start_worker,
)
from bench.util import BENCH_TEXTS, PY, RUN, VAR, cpu_seconds, median, pct, ratio, rss_bytes

P99_LIMIT_MS = 100.0


Bound = Literal["lower", "upper"] | None
"""Where a figure sits at the edge of what was probed: "lower" = the true figure is at least the
recorded one (the search's ceiling or a ladder's top passed; printed "≥ x"), "upper" = at most
it (even the lowest rate probed failed; printed "≤ x"). A bounded figure never decides a target."""


def row(
    scenario: str,
    figure: str,
    kindred: Any = None,
    baseline: Any = None,
    ratio_: Any = None,
    target: str = "",
    met: bool | None = None,
    note: str = "",
    *,
    kindred_bound: Bound = None,
    baseline_bound: Bound = None,
    ratio_bound: Bound | Literal["unknown"] = None,
) -> dict[str, Any]:
    """One table row. A bound on any of its figures makes the row undecided whatever the caller
    computed: a figure read off the search's edge was not measured, so it cannot meet or miss."""
    if ratio_ is not None and ratio_bound is None:
        ratio_bound = ratio_bound_of(kindred_bound, baseline_bound)
    if ratio_bound == "unknown":
        ratio_ = None
    bounded = [
        n
        for n, b in (
            ("Kindred", kindred_bound),
            ("baseline", baseline_bound),
            ("ratio", ratio_bound),
        )
        if b
    ]
    if bounded:
        met = None
        note = (
            f"undecided: {', '.join(bounded)} at a bound of the search (≥/≤), so the target is neither met "
            f"nor missed; " + note
        )
    return {
        "scenario": scenario,
        "figure": figure,
        "kindred": kindred,
        "baseline": baseline,
        "ratio": ratio_,
        "target": target,
        "met": met,
        "note": note,
        "kindred_bound": kindred_bound,
        "baseline_bound": baseline_bound,
        "ratio_bound": ratio_bound,
    }


def ratio_bound_of(kindred: Bound, baseline: Bound) -> Bound | Literal["unknown"]:
    """The bound on Kindred ÷ baseline given the bounds on each ("unknown": both sides open the same
    way, e.g. both at the ceiling, and the ratio says nothing)."""
    if kindred and baseline:
        return "unknown" if kindred == baseline else kindred
    if kindred:
        return kindred
    if baseline:
        return "upper" if baseline == "lower" else "lower"
    return None


def median_bound(
    figures: list[tuple[float | None, Bound]],
) -> tuple[float | None, Bound | Literal["unknown"]]:
    """The median of repeated figures, some of which may be bounds. The median is monotone in each
    value, so the median of the recorded values bounds the true median in the same direction as
    long as every bounded value opens the same way; bounds both ways leave it unknown."""
    vals = [v for v, _ in figures if v is not None]
    if not vals:
        return None, None
    kinds = {b for v, b in figures if b and v is not None}
    m = median(vals)
    if len(kinds) > 1:
        return m, "unknown"
    return m, (kinds.pop() if kinds else None)


MIN_STEP_MESSAGES = 10
# The load generator shares the machine's cores with the server. A step in which it used this much
# of a core, or sent its messages this late against their schedule (p99), may have failed because
# of the generator rather than the server: such a failure does not bound the figure from above.
LOADGEN_CPU_LIMIT_PCT = 90.0
LOADGEN_SEND_LAG_LIMIT_MS = 25.0


def step_duration(rate: float, duration: float) -> float:
    return round(max(duration, min(12.0, MIN_STEP_MESSAGES / rate)), 2) if rate > 0 else duration


def lowest_fail(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The failing step with the lowest rate (the quick mode's search does not probe in order)."""
    return min(
        (s for s in steps if not s["passed"]), key=lambda s: s["rate_msgs_per_s"], default=None
    )


def _passes(m: dict[str, Any]) -> bool:
    """A step passes when every member received every acknowledged message, without a gap and in
    order (the step's own counts, not the run's so far), and p99 delivery latency is within the
    limit."""
    return (
        m["acked"] > 0
        and m["lost"] == 0
        and m["gaps"] == 0
        and m["out_of_order"] == 0
        and m["p99_ms"] is not None
        and m["p99_ms"] <= P99_LIMIT_MS
    )


class Ascend:
    """A fixed ladder: every rate in turn, stopping at the first failing step. Its figure is the
    last passing rate; if every rung passed it is only a lower bound (≥ the top), and if the first
    failed only an upper bound (≤ the first rung)."""

    def __init__(self, ladder: list[float], stop_on_fail: bool = True) -> None:
        self.ladder, self.stop_on_fail, self.i = ladder, stop_on_fail, 0
        self.passes: list[float] = []
        self.fails: list[float] = []

    def first(self) -> float:
        return self.ladder[0]

    def next(self, rate: float, passed: bool, kept_up: float | None = None) -> float | None:
        (self.passes if passed else self.fails).append(rate)
        if not passed and self.stop_on_fail:
            return None
        self.i += 1
        return self.ladder[self.i] if self.i < len(self.ladder) else None

    def result(self) -> tuple[float | None, Bound]:
        fail = min(self.fails, default=None)
        best = max((r for r in self.passes if fail is None or r < fail), default=None)
        if best is None:
            return fail, "upper"
        return best, ("lower" if fail is None else None)


class Search:
    """The search for the highest passing rate: bracket, then bisect.

    Bracket: from `start`, multiply by `factor` while steps pass (the last probe clamped to `hi`),
    or divide while they fail (the last probe clamped to `lo`; when a failed step's server kept up
    with less than that, jump to just below what it kept up with, its acknowledgements per second,
    so an overloaded server is not probed again and again far above its capacity). Bisect: once a
    passing rate and a failing rate above it are known, probe their geometric middle until the
    failing rate is within `resolution` of the passing one (1.05: 5 %, finer than the ±10 % and
    ±20 % targets it decides). A step passes or fails on its own measurement; the search never
    probes outside [lo, hi].

    The figure is the highest passing rate below the lowest failing one (a pass above a failure
    is noise and is not believed; `inconsistent` records it). If `hi` passed, the figure is a lower
    bound (≥ hi); if `lo` failed, an upper bound (≤ lo): `result()` says which."""

    def __init__(
        self,
        start: float,
        *,
        factor: float = 2.0,
        resolution: float = 1.05,
        lo: float = 0.0,
        hi: float = float("inf"),
    ) -> None:
        if resolution <= 1.0 or factor <= 1.0:
            raise ValueError("factor and resolution must be above 1")
        self.start, self.factor, self.resolution, self.lo, self.hi = (
            start,
            factor,
            resolution,
            lo,
            hi,
        )
        self.passes: list[float] = []
        self.fails: list[float] = []

    @property
    def fail(self) -> float | None:
        return min(self.fails, default=None)

    @property
    def best(self) -> float | None:
        fail = self.fail
        return max((r for r in self.passes if fail is None or r < fail), default=None)

    @property
    def inconsistent(self) -> bool:
        fail = self.fail
        return fail is not None and any(r > fail for r in self.passes)

    def first(self) -> float:
        return min(max(self.start, self.lo), self.hi)

    def next(self, rate: float, passed: bool, kept_up: float | None = None) -> float | None:
        (self.passes if passed else self.fails).append(rate)
        best, fail = self.best, self.fail
        if best is None:  # nothing has passed below the lowest failure: descend from it
            if fail <= self.lo * 1.0001:
                return None
            r = fail / self.factor
            if kept_up and not passed:
                r = min(r, 0.9 * kept_up)
            return max(r, self.lo)
        if fail is None:  # nothing has failed: climb
            if best >= self.hi / 1.0001:
                return None
            return min(best * self.factor, self.hi)
        if fail / best <= self.resolution * 1.0001:
            return None
        return min((best * fail) ** 0.5, best * self.factor)

    def result(self) -> tuple[float | None, Bound]:
        """(figure, bound): the highest believed passing rate, or with nothing passing the lowest
        failing rate as an upper bound."""
        best, fail = self.best, self.fail
        if best is None:
            return fail, "upper"
        return best, ("lower" if fail is None else None)


def ladder_run(
    port: int,
    pids: list[int],
    sockets: list[dict],
    *,
    members: int,
    ladder: list[float] | None = None,
    duration: float,
    n_procs: int,
    name: str,
    stop_on_fail: bool = True,
    search: Search | None = None,
    grace: float = 1.0,
    join_timeout: float = 300,
    drain_after_fail: float = 90,
    record_acks: bool = False,
    monitor: Any = None,
    tally_after: float | None = None,
) -> dict[str, Any]:
    """Connect, settle, then run steps at the rates `search` (default: `ladder`, ascending until a
    step fails) chooses from each step's result. Rates in messages/s. With `record_acks`, the
    client_ids of every acknowledged message (warm-up included) are kept in `acked_client_ids`, so
    a caller can check them against the database independently of the delivery counts.

    `monitor` (e.g. bench.modcap.Monitor) adds to the pass rule: `monitor.before(k)` before a
    step is timed (e.g. to wait for a backlog the warm-up left), `monitor.begin(k, step, t0)`
    before its first send, `monitor.end(k, step, m, res)` after it, returning fields for the
    step; the step passes only if delivery passes and that dict's `moderation_passed` is true.

    With `tally_after`, once the steps are over and the server has drained (at most that many
    seconds), every step gets what eventually arrived: `never_received` (deliveries of
    acknowledged messages that no member ever got), `late` (arrived after the step's grace) and
    `never_acked` (sends the server never acknowledged; the product's client would send them
    again, the load generator does not)."""
    policy = search or Ascend(ladder or [], stop_on_fail)
    first = policy.first()
    # Step 0 is a warm-up (first messages import and compile lazily); it is not reported.
    warm = min(first, 2.0 * sum(1 for s in sockets if s.get("send")))
    # A slow step lasts long enough for at least MIN_STEP_MESSAGES messages (at most 12 s), so a
    # large room's first steps (well under one message per second) still send something.
    fleet = Fleet(
        port=port,
        sockets=sockets,
        n_procs=n_procs,
        steps=[{"rate": warm, "duration": 1.0}],
        grace=grace,
        name=name,
        record_acks=record_acks,
    )
    out: dict[str, Any] = {"steps": [], "policy": type(policy).__name__}
    acked: set[str] = set()
    try:
        t_join = time.monotonic()
        try:
            out["connect"] = fleet.ready(timeout=join_timeout)
        except TimeoutError:
            out["connect"] = {"connected": None, "failed": None, "timeout": True}
            out["join_error"] = (
                f"{len(sockets)} members had not all joined after {join_timeout:g} s "
                f"(server CPU-bound on the join/presence storm)"
            )
            out["best_deliveries_per_s"] = 0.0
            out["bound"] = None
            out["out_of_order"] = out["gaps"] = 0
            return out
        out["join_seconds"] = round(time.monotonic() - t_join, 1)
        # Two quiet checks in a row: one quiet half-second can fall inside a join storm's tail.
        out["settle_seconds"] = round(
            settle(pids + fleet.pids, quiet=0.3, max_wait=join_timeout)
            + settle(pids + fleet.pids, quiet=0.3, max_wait=join_timeout),
            1,
        )
        for res0 in fleet.go(0):
            acked.update(res0.get("acks") or {})
        settle(pids, quiet=0.3, max_wait=10)
        rate: float | None = first
        k = 0
        while rate is not None and k < 40:
            k += 1
            step = {"rate": rate, "duration": step_duration(rate, duration)}
            if monitor is not None:
                monitor.before(k)
            c0 = {p: cpu_seconds(p) for p in pids}
            g0 = _cpu_or_none(fleet.pids)
            t = time.monotonic()
            t0 = time.time() + 0.3
            if monitor is not None:
                monitor.begin(k, step, t0)
            res = fleet.go(k, t0=t0, step=step)
            elapsed = time.monotonic() - t
            g1 = _cpu_or_none(fleet.pids)
            for r1 in res:
                acked.update(r1.get("acks") or {})
            m = merge_step(res, members=members, duration=step["duration"])
            m["rate_msgs_per_s"] = rate
            cpu_s = sum(cpu_seconds(p) - c0[p] for p in pids)
            m["server_cpu_pct"] = round(100 * cpu_s / elapsed, 1)
            # Per delivery: the CPU and the deliveries of one and the same interval (the step's
            # round trip: its messages, its grace, the load generators' replies), not CPU over the
            # round trip ÷ deliveries per second of the nominal window.
            m["server_cpu_s"] = round(cpu_s, 4)
            m["cpu_interval_s"] = round(elapsed, 3)
            m["cpu_us_per_delivery"] = (
                round(1e6 * cpu_s / m["received"], 1) if m["received"] else None
            )
            m["loadgen_cpu_pct_max"] = (
                round(max(100 * (g1[p] - g0[p]) / elapsed for p in g0 if p in g1), 1)
                if g0 and g1
                else None
            )
            m["loadgen_saturated"] = loadgen_saturated(m)
            m["passed"] = _passes(m)
            if monitor is not None:
                m.update(monitor.end(k, step, m, res))
                m["delivery_passed"] = m["passed"]
                m["passed"] = m["passed"] and bool(m.get("moderation_passed"))
            out["steps"].append(m)
            # What the server kept up with: messages acknowledged (stored) per second of the step
            # and its grace; under overload that is its capacity.
            m["acked_per_s"] = round(m["acked"] / (step["duration"] + grace), 1)
            rate = policy.next(rate, m["passed"], m["acked_per_s"])
            if rate is not None:
                # An overloaded step leaves a backlog the server works through after it ends (the
                # messages are stored; nothing is dropped): the next step starts once it is done.
                m["drain_seconds"] = round(
                    settle(pids, quiet=0.3, max_wait=10 if m["passed"] else drain_after_fail), 1
                )
        if tally_after is not None and out["steps"]:
            settle(pids, quiet=0.3, max_wait=tally_after)
            time.sleep(min(2.0, tally_after))  # deliveries already on the wire
            eventually(out["steps"], fleet.tally(), members=members)
    finally:
        fleet.stop()
    if record_acks:
        out["acked_client_ids"] = sorted(acked)
    _figure(out, policy, members)
    out["out_of_order"] = sum(s["out_of_order"] for s in out["steps"])
    out["gaps"] = sum(s["gaps"] for s in out["steps"])
    return out


def eventually(
    steps: list[dict[str, Any]], tally: dict[str, dict[int, int]], *, members: int
) -> None:
    """Add to each step (step k is `steps[k - 1]`; 0 is the warm-up) what the load generator had
    received once the run drained, against what was acknowledged then."""
    for k, m in enumerate(steps, start=1):
        recv = tally["recv"].get(k, 0)
        acked = tally["acked"].get(k, 0)
        m["received_eventually"] = recv
        m["never_received"] = max(0, acked * members - recv)
        m["late"] = max(0, recv - m["received"])
        m["never_acked"] = max(0, tally["sent"].get(k, 0) - acked)


def _cpu_or_none(pids: list[int]) -> dict[int, float]:
    out = {}
    for p in pids:
        try:
            out[p] = cpu_seconds(p)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def loadgen_saturated(m: dict[str, Any]) -> bool:
    """Whether the load generator may have been the bottleneck of this step."""
    cpu, lag = m.get("loadgen_cpu_pct_max"), m.get("send_lag_p99_ms")
    return bool(
        (cpu is not None and cpu >= LOADGEN_CPU_LIMIT_PCT)
        or (lag is not None and lag > LOADGEN_SEND_LAG_LIMIT_MS)
    )


def _figure(out: dict[str, Any], policy: Search | Ascend, members: int) -> None:
    """The run's figure from the policy's verdict: the measured deliveries/s of the step at the
    believed best rate, or (nothing passed) the lowest failing rate's offered deliveries/s as an
    upper bound; `bound` says whether the figure sits at an edge of what was probed. A failure
    in a step where the load generator was saturated bounds nothing: the figure above it is then
    only a lower bound (and with nothing passing, nothing is known: "unknown")."""
    rate, bound = policy.result() if out["steps"] else (None, None)
    nothing_passed = bound == "upper"
    fails = [s for s in out["steps"] if not s["passed"]]
    lowest = min(fails, key=lambda s: s["rate_msgs_per_s"], default=None)
    out["failure_loadgen_saturated"] = bool(lowest and lowest.get("loadgen_saturated"))
    if out["failure_loadgen_saturated"]:
        bound = "unknown" if nothing_passed else "lower"
    out["best_rate"] = None if nothing_passed else rate
    out["bound"] = bound
    out["inconsistent"] = bool(getattr(policy, "inconsistent", False))
    if rate is None:
        out["best_deliveries_per_s"] = None
    elif nothing_passed:
        out["best_deliveries_per_s"] = round(rate * members, 1)
    else:
        out["best_deliveries_per_s"] = max(
            s["deliveries_per_s"]
            for s in out["steps"]
            if s["passed"] and s["rate_msgs_per_s"] == rate
        )


def _room_sockets(members: list[dict], room: str, n: int, senders: int) -> list[dict]:
    return [
        {"room": room, "cookie": m["cookie"], "send": i < senders}
        for i, m in enumerate(members[:n])
    ]


# --- 1. fan-out ---------------------------------------------------------------------------------


def fanout(ctx: dict) -> dict:
    # One server of each kind for all room sizes (each size has its own room and members; a
    # size's sockets have all left before the next size joins).
    servers: dict[str, tuple] = {}
    try:
        return _fanout(ctx, servers)
    finally:
        for proc, _ in servers.values():
            proc.stop()


def _fanout(ctx: dict, servers: dict[str, tuple]) -> dict:
    cfg = ctx["cfg"]
    rows, raw = [], {}
    for size in cfg["fanout_sizes"]:
        ladder = [d / size for d in cfg.get("fanout_ladder", [])]
        sockets = _room_sockets(ctx["members"], f"fan-{size}", size, min(size, 10))
        per: dict[str, list[dict]] = {"kindred": [], "baseline": [], "samework": []}
        for rep in range(cfg["reps"]):
            order = list(FANOUT_SERVERS) if rep % 2 == 0 else list(FANOUT_SERVERS)[::-1]
            for which in order:
                if which not in servers:
                    servers[which] = _start_fanout_server(which, ctx)
                per[which].append(
                    _fanout_run(
                        servers[which], which, per, cfg, sockets, size, f"fanout-{size}", ladder
                    )
                )
        k, kb = _median_figure(per["kindred"])
        b, bb = _median_figure(per["baseline"])
        rr = ratio(k, b)
        ooo = sum(r["out_of_order"] for r in per["kindred"])
        gaps = sum(r.get("gaps", 0) for r in per["kindred"])
        kin = per["kindred"][-1].get("steps", [])
        fail = lowest_fail(kin)
        sat = {
            w: sum(1 for r in runs for st in r.get("steps", []) if st.get("loadgen_saturated"))
            for w, runs in per.items()
        }
        note = (
            f"bare broadcast baseline (no database: the floor); {cfg['reps']} run(s), "
            f"median{_spread({w: per[w] for w in ('kindred', 'baseline')})}; a step passes with p99 ≤ {P99_LIMIT_MS:g} ms (from the "
            f"scheduled send), nothing lost, no gap and nothing out of order; over all of Kindred's steps: {gaps} "
            f"gaps, {ooo} out of order; steps with the load generator saturated (≥ {LOADGEN_CPU_LIMIT_PCT:g}% of a "
            f"core or sends > {LOADGEN_SEND_LAG_LIMIT_MS:g} ms late at p99): Kindred {sat['kindred']}, baseline "
            f"{sat['baseline']}"
        )
        if per["kindred"][-1].get("join_error"):
            note += "; " + per["kindred"][-1]["join_error"]
        elif per["kindred"][-1].get("join_seconds") is not None:
            note += f"; {size} members joined in {per['kindred'][-1]['join_seconds']} s"
        if fail:
            note += (
                f"; Kindred's first failing step {fail['rate_msgs_per_s'] * size:g} deliveries/s "
                f"({fail['rate_msgs_per_s']:.3g} msg/s): p50 {fail['p50_ms']} ms, p99 {fail['p99_ms']} ms, "
                f"p99.9 {fail.get('p999_ms')} ms, max {fail.get('max_ms')} ms, lost {fail['lost']}, server CPU "
                f"{fail['server_cpu_pct']}% of a core, load generator {fail.get('loadgen_cpu_pct_max')}%"
            )
        bfail = lowest_fail(per["baseline"][-1].get("steps", []))
        if bfail:
            note += (
                f"; baseline's first failing step {bfail['rate_msgs_per_s'] * size:g} deliveries/s: "
                f"p99 {bfail['p99_ms']} ms, lost {bfail['lost']}, CPU {bfail['server_cpu_pct']}%, load generator "
                f"{bfail.get('loadgen_cpu_pct_max')}%"
            )
        elif per["baseline"][-1].get("steps"):
            note += "; baseline passed every step it ran"
        met = None if rr is None else rr >= 0.33
        if met is not None and within_resolution(rr, 0.33, cfg):
            met, note = (
                None,
                f"undecided: {rr:.3f} is within the searches' resolution of 0.33 ({_res_pct(cfg)}); "
                + note,
            )
        rows.append(
            row(
                "fan-out",
                f"room of {size}: deliveries/s",
                k,
                b,
                rr,
                "≥ 0.33× baseline",
                met,
                note,
                kindred_bound=kb,
                baseline_bound=bb,
            )
        )
        rows.append(samework_row(size, per, cfg))
        raw[str(size)] = per
    for size in cfg.get("samework_production_sizes") or []:
        if not ctx.get("pg"):
            rows.append(
                row(
                    "fan-out",
                    f"room of {size}, production layout: deliveries/s, Kindred vs the same-work "
                    "baseline",
                    None,
                    None,
                    None,
                    f"≥ {SAMEWORK_TARGET:g}× same-work baseline",
                    None,
                    f"skipped: {ctx.get('pg_error', 'PostgreSQL/Redis unavailable')}",
                )
            )
            continue
        per = _production_samework(ctx, size)
        rows.append(samework_row(size, per, cfg, production=True))
        raw.setdefault("production", {})[str(size)] = per
    # Where one message's time goes on the write path (in-process, same database).
    prof = _sendprof(ctx, f"fan-{cfg['fanout_sizes'][0]}")
    raw["sendprof"] = prof
    if prof.get("per-call connection"):
        pc, pp = prof["per-call connection"], prof["persistent connection"]
        rows.append(
            row(
                "fan-out",
                "one message.send on the write path, in-process, reused connection as in the "
                "product (ms, median)",
                pp["total"],
                None,
                None,
                "(report)",
                None,
                f"{pp['queries']:g} SQL statements per send, commit {pp['commit']} ms; opening and closing "
                f"a connection per call instead (CONN_MAX_AGE=0): {pc['total']} ms, of which sqlite3 close() "
                f"{pc['close']} ms; {prof['n']} sends each, interleaved",
            )
        )
    return {"rows": rows, "raw": raw}


# The fan-out servers, in the order the first repetition runs them (the next reverses it).
FANOUT_SERVERS = ("baseline", "samework", "kindred")
SAMEWORK_TARGET = 0.5


def _fanout_start(which: str, per: dict[str, list[dict]], cfg: dict) -> float:
    """Where a fan-out search starts (deliveries/s). The bare baseline's starts where it usually
    passes; Kindred's at its target against it (a third of the baseline's figure), so its first
    step decides met/missed and the rest of the search finds the figure; the same-work
    baseline's at its own earlier figure, else half the bare baseline's. The start only saves
    steps: every search brackets and bisects to the same resolution within the same bounds."""

    def prev(w: str) -> list[float]:
        return [r["best_deliveries_per_s"] for r in per[w] if r.get("best_deliveries_per_s")]

    if which == "kindred" and prev("baseline"):
        return 0.34 * median(prev("baseline"))
    if which == "kindred" and prev("samework"):
        return SAMEWORK_TARGET * median(prev("samework"))
    if which == "samework" and prev("samework"):
        return median(prev("samework"))
    if which == "samework" and prev("baseline"):
        return 0.5 * median(prev("baseline"))
    return cfg["fanout_baseline_start"]


def _start_fanout_server(which: str, ctx: dict) -> tuple:
    if which == "baseline":
        return start_baseline("fanout-baseline")
    if which == "samework":
        # A fresh SQLite file of its own, in make run's layout as Kindred's fan-out database is.
        db = RUN / "fanout-samework.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            db.with_name(db.name + suffix).unlink(missing_ok=True)
        return start_samework("fanout-samework", db_url=f"sqlite:///{db}")
    return start_kindred(
        "fanout-kindred",
        db_url=sqlite_copy(ctx["template"], "fanout"),
        extra={"MODERATION_EMBEDDED_WORKER": "0"},
    )


def _fanout_run(
    server: tuple,
    which: str,
    per: dict[str, list[dict]],
    cfg: dict,
    sockets: list[dict],
    size: int,
    name: str,
    ladder: list[float] | None = None,
) -> dict[str, Any]:
    """One fan-out figure of `which` on its running `server`: searched (from `_fanout_start`,
    within `fanout_bounds`) when the mode searches, else up `ladder`."""
    proc, port = server
    search = None
    if cfg.get("search"):
        lo, hi = cfg["fanout_bounds"]
        search = Search(
            _fanout_start(which, per, cfg) / size,
            factor=cfg["search"]["factor"],
            resolution=cfg["search"]["resolution"],
            lo=lo / size,
            hi=hi / size,
        )
    settle([proc.pid], quiet=0.2, max_wait=20)
    return ladder_run(
        port,
        [proc.pid],
        sockets,
        members=size,
        ladder=ladder,
        search=search,
        duration=cfg["step_seconds"],
        n_procs=1 if size <= 10 else 2,
        grace=cfg.get("grace", 1.0),
        name=f"{name}-{which}",
        join_timeout=cfg.get("join_timeout", 300),
    )


def _production_samework(ctx: dict, size: int) -> dict[str, list[dict]]:
    """Kindred in production's layout (one web process, PostgreSQL, Redis's channel layer)
    against the same-work baseline on PostgreSQL, each on a database of its own, searched as the
    other fan-out rows; the order of the two alternates between repetitions."""
    cfg, pg = ctx["cfg"], ctx["pg"]
    room = f"fan-{size}"
    kindred_db = pg["create"](f"fanprod{size}")
    samework_db = pg["create"](f"fanprodsw{size}")
    members = pg["setup"](kindred_db, size, (room,))["members"]
    sockets = _room_sockets(members, room, size, min(size, 10))
    per: dict[str, list[dict]] = {"kindred": [], "samework": [], "baseline": []}
    servers: dict[str, tuple] = {}
    try:
        for rep in range(cfg["reps"]):
            order = ["samework", "kindred"] if rep % 2 == 0 else ["kindred", "samework"]
            for which in order:
                if which not in servers:
                    servers[which] = (
                        start_samework(f"fanprod-samework-{size}", db_url=samework_db)
                        if which == "samework"
                        else start_kindred(
                            f"fanprod-kindred-{size}",
                            db_url=kindred_db,
                            extra={
                                "REDIS_URL": "redis://127.0.0.1:6379/0",
                                "CHANNEL_PREFIX": f"kbenchfan{int(time.time())}",
                                "MODERATION_EMBEDDED_WORKER": "0",
                            },
                        )
                    )
                per[which].append(
                    _fanout_run(servers[which], which, per, cfg, sockets, size, f"fanprod-{size}")
                )
    finally:
        for proc, _ in servers.values():
            proc.stop()
        pg["drop"](kindred_db)
        pg["drop"](samework_db)
    del per["baseline"]
    return per


def _median_figure(runs: list[dict]) -> tuple[float | None, Bound | Literal["unknown"]]:
    return median_bound([(r["best_deliveries_per_s"], r.get("bound")) for r in runs])


def samework_row(
    size: int, per: dict[str, list[dict]], cfg: dict, *, production: bool = False
) -> dict[str, Any]:
    """Kindred against the same-work baseline (bench/baseline_samework.py) in a room of `size`:
    met when Kindred's figure is at least SAMEWORK_TARGET of the baseline's, decided only when
    neither figure sits at a bound of its search and the ratio is not within the searches'
    resolution of the target."""
    k, kb = _median_figure(per["kindred"])
    s, sb = _median_figure(per["samework"])
    rr = ratio(k, s)
    runs = per["samework"]
    sat = sum(1 for r in runs for st in r.get("steps", []) if st.get("loadgen_saturated"))
    stored = (
        "in PostgreSQL (one transaction per message), against Kindred in production's layout "
        "(one web process, PostgreSQL, Redis's channel layer)"
        if production
        else "in SQLite as make run configures it (WAL, IMMEDIATE transactions)"
    )
    note = (
        f"same-work baseline: each message stored {stored}, its seq taken inside the insert's "
        f"transaction, body HTML-escaped, sender acked, message.new broadcast with "
        f"websockets.broadcast(), from one writer thread; nothing else; {cfg['reps']} run(s), median"
        f"{_spread({'kindred': per['kindred'], 'same-work': runs})}; searched and passed as the "
        f"other fan-out rows; steps with the load generator saturated (same-work): {sat}"
    )
    if runs and runs[-1].get("join_error"):
        note += "; " + runs[-1]["join_error"]
    fail = lowest_fail(runs[-1].get("steps", [])) if runs else None
    if fail:
        note += (
            f"; same-work's first failing step {fail['rate_msgs_per_s'] * size:g} deliveries/s "
            f"({fail['rate_msgs_per_s']:.3g} msg/s): p50 {fail['p50_ms']} ms, p99 {fail['p99_ms']} ms, "
            f"lost {fail['lost']}, server CPU {fail['server_cpu_pct']}% of a core, load generator "
            f"{fail.get('loadgen_cpu_pct_max')}%"
        )
    elif runs and runs[-1].get("steps"):
        note += "; same-work passed every step it ran"
    met = None if rr is None else rr >= SAMEWORK_TARGET
    if met is not None and within_resolution(rr, SAMEWORK_TARGET, cfg):
        met, note = (
            None,
            f"undecided: {rr:.3f} is within the searches' resolution of {SAMEWORK_TARGET:g} "
            f"({_res_pct(cfg)}); " + note,
        )
    return row(
        "fan-out",
        f"room of {size}{', production layout' if production else ''}: deliveries/s, Kindred vs "
        "the same-work baseline",
        k,
        s,
        rr,
        f"≥ {SAMEWORK_TARGET:g}× same-work baseline",
        met,
        note,
        kindred_bound=kb,
        baseline_bound=sb,
    )


def within_resolution(value: float, target: float, cfg: dict) -> bool:
    """Whether a ratio of two searched figures is too close to its target to decide: each figure
    is the highest passing rate, up to one resolution step below the true one, so their ratio is
    known only to within a factor of the resolution either way."""
    res = (cfg.get("search") or {}).get("resolution")
    return bool(res) and target / res < value < target * res


def _res_pct(cfg: dict) -> str:
    res = (cfg.get("search") or {}).get("resolution") or 0
    return f"{100 * (res - 1):.0f} %"


def _spread(per: dict[str, list[dict]]) -> str:
    """Every repetition's figure, so a reader sees the spread the median hides (≥ = a bound)."""
    if len(next(iter(per.values()), [])) < 2:
        return ""
    parts = []
    for which, runs in per.items():
        vals = [
            ("≥ " if r.get("bound") == "lower" else "≤ " if r.get("bound") == "upper" else "")
            + f"{r['best_deliveries_per_s']:g}"
            for r in runs
            if r.get("best_deliveries_per_s") is not None
        ]
        parts.append(f"{which} [{', '.join(vals)}]")
    # Each repetition's ratio (first ÷ second, runs paired in order), so the ratio's spread shows;
    # a bounded figure on either side leaves that repetition's ratio out.
    a, b = list(per.values())[:2] if len(per) >= 2 else ([], [])
    ratios = [
        x["best_deliveries_per_s"] / y["best_deliveries_per_s"]
        for x, y in zip(a, b)
        if x.get("best_deliveries_per_s")
        and y.get("best_deliveries_per_s")
        and not x.get("bound")
        and not y.get("bound")
    ]
    if len(ratios) >= 2:
        parts.append(
            f"ratio per run {', '.join(f'{r:.2f}' for r in ratios)} (range {min(ratios):.2f}–{max(ratios):.2f})"
        )
    return " (each run: " + "; ".join(parts) + ")"


def _sendprof(ctx: dict, room: str) -> dict:
    db = sqlite_copy(ctx["template"], "sendprof")
    out = RUN / "sendprof.json"
    out.unlink(missing_ok=True)
    accounts = RUN / "accounts.json"
    try:
        subprocess.run(
            [
                PY,
                "-m",
                "bench.sendprof",
                "--db",
                db,
                "--accounts",
                str(accounts),
                "--room",
                room,
                "--n",
                str(ctx["cfg"].get("sendprof_n", 30)),
                "--out",
                str(out),
            ],
            env=driver.env(),
            check=True,
            timeout=300,
            capture_output=True,
        )
        return json.loads(out.read_text())
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


# --- 2. moderation cost on delivery -------------------------------------------------------------

# Assessment on, and the configuration it is compared with (assessment off, same layout).
MODCOST_PAIRS = {
    "on": ("off", "embedded worker (one process, SQLite: `make run`)", "embedded worker"),
    "pg-proc": (
        "pg-off",
        "worker as its own process (PostgreSQL + Redis: production's layout)",
        "worker process",
    ),
}


def moderation_cost(ctx: dict) -> dict:
    cfg = ctx["cfg"]
    size = cfg["modcost_size"]
    ladder = cfg["modcost_ladder"]
    # off / on: assessment switched off / the embedded worker, on SQLite in one process (`make run`).
    # pg-off / pg-proc: the same on PostgreSQL + Redis, with the worker as its own process beside
    # the web process (production's layout, Procfile); full mode, or --set modcost_production=true.
    configs = ["off", "on"]
    if cfg.get("modcost_production"):
        configs += ["pg-off", "pg-proc"] if ctx.get("pg") else []
    # A/A: assessment off against off again on a fresh server, searched the same way as "on": the
    # ratio two identical configurations reach is the noise floor the ≥ 0.90 target is read against.
    if cfg.get("modcost_aa"):
        configs.append("off-aa")
    per: dict[str, list] = {c: [] for c in configs}
    for rep in range(cfg["reps"]):
        for which in configs if rep % 2 == 0 else configs[::-1]:
            pair = (
                MODCOST_PAIRS[which][0]
                if which in MODCOST_PAIRS
                else ("off" if which == "off-aa" else None)
            )
            off_runs = per[pair] if pair else []
            search = None
            if cfg.get("search"):
                # "on" starts at the rate "off" reached, so both have a step at that rate; each
                # search then brackets and bisects on its own, up to the same ceiling (a search
                # capped at "off"'s failing rate could only ever report "on" as a bound there).
                best = [r["best_rate"] for r in off_runs if r.get("best_rate")]
                search = Search(
                    best[-1] if best else cfg["modcost_start"],
                    factor=cfg["search"]["factor"],
                    resolution=cfg["search"]["resolution"],
                    lo=ladder[0],
                    hi=ladder[-1],
                )
            target = _modcost_target(ctx, which)
            try:
                settle(target["pids"], quiet=0.2, max_wait=120)
                if which in MODCOST_PAIRS:
                    _warm_worker(target["port"], target["members"])
                sockets = _room_sockets(target["members"], "modcost", size, min(size, 10))
                # The embedded worker's assessment backlog keeps the web process busy for a minute after
                # an overloaded step; what the next step needs is the delivery backlog gone, which takes
                # seconds, so waiting for the process to go quiet would only measure the worker.
                r = ladder_run(
                    target["port"],
                    target["web_pids"],
                    sockets,
                    members=size,
                    ladder=ladder,
                    search=search,
                    duration=cfg["step_seconds"],
                    grace=cfg.get("grace", 1.0),
                    n_procs=2,
                    name=f"modcost-{which}",
                    drain_after_fail=10 if which == "on" else 90,
                )
                r["pending_after"] = _pending(target["db"])
            finally:
                target["stop"]()
            per[which].append(r)

    def same(a: float, b: float) -> bool:  # the searches reach a rate by different arithmetic
        return abs(a - b) <= 0.01 * max(a, b)

    def p99_at(runs: list, rate: float) -> float | None:
        vals = [s["p99_ms"] for r in runs for s in r["steps"] if same(s["rate_msgs_per_s"], rate)]
        return median(vals)

    def first_fail(runs: list) -> str:
        f = lowest_fail(runs[-1]["steps"])
        if f is None:
            return "passed every step it ran"
        return (
            f"first failing step {f['rate_msgs_per_s'] * size:g} deliveries/s: p50 {f['p50_ms']} ms, "
            f"p99 {f['p99_ms']} ms, lost {f['lost']}, server CPU {f['server_cpu_pct']}%"
        )

    rows = []
    for which, (off, what, short) in MODCOST_PAIRS.items():
        if which not in per:
            continue
        off_best, off_bound = median_bound(
            [(r["best_deliveries_per_s"], r.get("bound")) for r in per[off]]
        )
        on_best, on_bound = median_bound(
            [(r["best_deliveries_per_s"], r.get("bound")) for r in per[which]]
        )
        # p99 at the highest rate both configurations passed in every run
        runs = per[off] + per[which]
        per_pair = {"on": per[which], "off": per[off]}
        probed = sorted({s["rate_msgs_per_s"] for s in runs[0]["steps"]})
        everywhere = [
            rt
            for rt in probed
            if all(any(same(s["rate_msgs_per_s"], rt) for s in r["steps"]) for r in runs)
        ]
        common = [
            rt
            for rt in everywhere
            if all(
                any(same(s["rate_msgs_per_s"], rt) and s["passed"] for s in r["steps"])
                for r in runs
            )
        ]
        rate = common[-1] if common else (everywhere[0] if everywhere else ladder[0])
        p_off, p_on = p99_at(per[off], rate), p99_at(per[which], rate)
        tr = ratio(on_best, off_best)
        lr = ratio(p_on, p_off)
        cpu_on = max((s["server_cpu_pct"] for s in per[which][-1]["steps"]), default=None)
        # Both sides failing the search's lowest rate measures nothing about moderation's cost; and
        # the "off" side doing worse than "on" means noise dominated the difference.
        t_met = None if (tr is None or not off_best) else tr >= 0.90
        l_met = None if (lr is None or not common) else lr <= 1.20
        why = l_why = ""
        if on_bound == "upper" and off_bound == "upper":
            why = l_why = (
                "inconclusive: both configurations failed the search's lowest rate (see fan-out for why); "
            )
        elif t_met is not None and within_resolution(tr, 0.90, cfg):
            t_met, why = (
                None,
                (
                    f"undecided: {tr:.3f} is within the searches' resolution of 0.90 "
                    f"(each figure to {_res_pct(cfg)}); "
                ),
            )
        if lr is not None and common and lr < 1.0 / 1.2:
            l_met, l_why = (
                None,
                "inconclusive: the run with assessment off was slower than with it on (noise); ",
            )
        rows += [
            row(
                "moderation cost",
                f"room of {size}: deliveries/s, assessment on ({what}) vs off",
                on_best,
                off_best,
                tr,
                "≥ 0.90",
                t_met,
                f"{why}{ctx['model_name']} + safety model; {cfg['reps']} run(s), median{_spread(per_pair)}; "
                f"peak web-process CPU with assessment on {cpu_on}%; on: {first_fail(per[which])}; "
                f"off: {first_fail(per[off])}",
                kindred_bound=on_bound,
                baseline_bound=off_bound,
            ),
            row(
                "moderation cost",
                f"{short}: p99 delivery latency at {rate * size:g} deliveries/s (ms)",
                p_on,
                p_off,
                lr,
                "≤ 1.20",
                l_met,
                f"{l_why}"
                f"{'rate both passed in every run' if common else 'no rate passed in every run: compared at the first step both ran'}; "
                f"pending assessments at the end (on): {per[which][-1].get('pending_after')}",
            ),
        ]
    if per.get("off-aa"):
        aa, aab = median_bound(
            [(r["best_deliveries_per_s"], r.get("bound")) for r in per["off-aa"]]
        )
        off_best, off_bound = median_bound(
            [(r["best_deliveries_per_s"], r.get("bound")) for r in per["off"]]
        )
        rows.append(
            row(
                "moderation cost",
                f"A/A: room of {size}: deliveries/s, assessment off vs off again (the noise floor)",
                aa,
                off_best,
                ratio(aa, off_best),
                "(report)",
                None,
                f'two identical configurations on fresh servers, searched as "on" is; a ratio this far '
                f"from 1.00 arises with nothing changed{_spread({'off again': per['off-aa'], 'off': per['off']})}",
                kindred_bound=aab,
                baseline_bound=off_bound,
            )
        )
    return {"rows": rows, "raw": per}


def _modcost_target(ctx: dict, which: str) -> dict[str, Any]:
    """Start one moderation-cost configuration: its database, web process and (pg-proc) worker."""
    model_env = ctx["model_env"] if which in MODCOST_PAIRS else {}
    if not which.startswith("pg-"):
        db = sqlite_copy(ctx["template"], "modcost")
        proc, port = start_kindred(
            f"modcost-{which}",
            db_url=db,
            extra={"MODERATION_EMBEDDED_WORKER": "1" if which == "on" else "0", **model_env},
        )
        return {
            "db": db,
            "port": port,
            "pids": [proc.pid],
            "web_pids": [proc.pid],
            "members": ctx["members"],
            "stop": proc.stop,
        }
    pg = ctx["pg"]
    db = pg["create"]("modcost")
    members = pg["setup"](db, ctx["cfg"]["modcost_size"] + 3, ("modcost", "warm"))["members"]
    shared = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CHANNEL_PREFIX": f"kbenchmc{int(time.time())}",
    }
    proc, port = start_kindred(
        f"modcost-{which}", db_url=db, extra={**shared, "MODERATION_EMBEDDED_WORKER": "0"}
    )
    worker = (
        start_worker(f"modcost-{which}-worker", db_url=db, extra={**shared, **model_env})
        if model_env
        else None
    )

    def stop() -> None:
        if worker is not None:
            worker.stop()
        proc.stop()
        pg["drop"](db)

    return {
        "db": db,
        "port": port,
        "pids": [proc.pid] + ([worker.pid] if worker else []),
        "web_pids": [proc.pid],
        "members": members,
        "stop": stop,
    }


def _pending(db_url: str) -> int | None:
    """Messages still waiting for assessment."""
    query = "select count(*) from chat_message where assessment_state='pending'"
    try:
        if db_url.startswith("sqlite:///"):
            with sqlite3.connect(db_url.replace("sqlite:///", "", 1), timeout=5) as c:
                return c.execute(query).fetchone()[0]
        import psycopg

        with psycopg.connect(db_url, connect_timeout=5) as c:
            return c.execute(query).fetchone()[0]
    except Exception:  # noqa: BLE001
        return None


def _warm_worker(port: int, members: list[dict]) -> None:
    """One message through the worker so the model is loaded before measuring."""
    sockets = _room_sockets(members[-3:], "warm", 1, 1)
    fleet = Fleet(
        port=port, sockets=sockets, n_procs=1, steps=[{"rate": 2, "duration": 1}], grace=0.5
    )
    try:
        fleet.ready()
        fleet.go(0)
    finally:
        fleet.stop()


# --- 3. classifier throughput -------------------------------------------------------------------


def classifier(ctx: dict) -> dict:
    cfg = ctx["cfg"]
    rows, raw = [], {}
    for model in cfg["class_models"]:
        out = VAR / "run" / f"classbench-{model}.json"
        log = VAR / "logs" / f"classbench-{model}.log"
        with open(log, "ab") as fh:
            subprocess.run(
                [
                    PY,
                    "-m",
                    "bench.classbench",
                    "--model",
                    model,
                    "--n-base",
                    str(cfg["class_n"]),
                    "--n-opt",
                    str(cfg.get("class_n_opt", 256)),
                    "--reps",
                    str(cfg["class_reps"]),
                    # Kindred's safety model's int8 check once, with the first architecture.
                    "--safety-n",
                    str(cfg.get("class_safety_n", 0) if model == cfg["class_models"][0] else 0),
                    "--out",
                    str(out),
                ],
                env=driver.env(),
                stdout=fh,
                stderr=fh,
                timeout=900,
                check=True,
            )
        r = json.loads(out.read_text())
        raw[model] = r
        base = median(r["baseline"])
        fp = median(r["fp32_batched"])
        q = median(r["int8_batched"])
        ag = r["agreement_random_weights"]
        real = r.get("agreement_real_weights")
        rows.append(
            row(
                "classifier",
                f"{model}: msgs/s, micro-batched fp32 vs predict() per message",
                round(fp, 2),
                round(base, 2),
                ratio(fp, base),
                "(info)",
                None,
                f"1 torch thread, batch {r['batch']}, {cfg['class_n']} messages, {cfg['class_reps']} reps",
            )
        )
        realnote = (
            ("real weights: " + json.dumps(real))
            if real
            else "no real weights in MODELS_DIR: real-weight agreement is reported automatically once fetched"
        )
        rows.append(
            row(
                "classifier",
                f"{model}: msgs/s, micro-batched + int8 (MODERATION_QUANTIZE=auto once "
                "fetch_models verified ≥ 98.5 % decision agreement)",
                round(q, 2),
                round(base, 2),
                ratio(q, base),
                "≥ 4×",
                None if base is None else q / base >= 4,
                f"{_random_agreement(ag)}; {realnote}",
            )
        )
        if r.get("agreement_safety_model"):
            rows.append(safety_agreement_row(r["agreement_safety_model"]))
    return {"rows": rows, "raw": raw}


def safety_agreement_row(sa: dict[str, Any]) -> dict[str, Any]:
    """Kindred's safety model int8 (as served) vs fp32: the verdicts' agreement on held-out
    messages, decided only when the scores gave it a way to fail (some class's scores on both
    sides of its threshold, some of them near it); otherwise undecided, with the spread shown."""
    figure = "Kindred's safety model: verdicts int8 (served) and fp32 agree, held-out test split"
    if sa.get("error"):
        return row(
            "classifier", figure, None, None, None, "≥ 98.5 %", None, f"not measured: {sa['error']}"
        )
    bar = sa.get("bar", 0.985)
    agree = sa["verdict_agreement"]
    spread = "; ".join(
        f"{k} (threshold {b['threshold']:g}): {b['under']} under, {b['over']} over, {b['near']} within "
        f"±{sa['near_band']:g}, range {b['min']:.3g}–{b['max']:.3g}"
        for k, b in sa["by_label"].items()
    )
    changed = sa.get("verdicts_changed") or []
    note = (
        f"{sa['version']}, {sa['messages']} messages ({', '.join(f'{k} {v}' for k, v in sa['labels_sampled'].items())}) "
        f"read with their context; fp32 scores against each threshold: {spread}; int8 moved a score by at most "
        f"{sa['max_abs_score_diff']}; {len(changed)} verdict(s) changed"
        + (
            ": " + ", ".join(f"{c['label']} {c['fp32']}→{c['int8']}" for c in changed[:8])
            if changed
            else ""
        )
    )
    if sa.get("product_agreement_can_fail"):
        met = agree >= bar
    else:
        met = None
        note = (
            "undecided: no class's fp32 scores straddle its threshold with one near it, so int8 and fp32 "
            "could not disagree here; " + note
        )
    return row(
        "classifier",
        figure,
        f"{100 * agree:.1f} %",
        None,
        None,
        f"≥ {100 * bar:g} %",
        met,
        note,
    )


def _random_agreement(ag: dict[str, Any]) -> str:
    """int8 vs fp32 agreement on the random weights, claimed only where it could have failed."""
    diff = f"int8 moved scores by at most {ag['max_abs_score_diff']}"
    if ag.get("product_agreement_can_fail"):
        return (
            f"random weights: int8 vs fp32 decisions agree on {ag['decision_agreement_product_thresholds']:.1%} "
            f"at product thresholds ({ag['fp32_messages_over_a_threshold']} messages over a threshold; {diff})"
        )
    if "product_agreement_can_fail" not in ag:  # a run from before the check existed
        return f"random weights: {diff}; decision agreement not claimed (it could not fail on these scores)"
    return (
        f"random weights: {diff}; decision agreement is not claimed: every fp32 score "
        f"(range {ag.get('score_range')}) is at least {ag.get('min_margin_to_threshold')} from its threshold, "
        f"so int8 and fp32 could not disagree"
    )


# --- 4. time to flag ----------------------------------------------------------------------------


def time_to_flag(ctx: dict) -> dict:
    """Run with the product's default with Detoxify installed (fp32), with Kindred's safety model
    alone (no Detoxify weights, as `make run` ships) and, in full mode, with MODERATION_QUANTIZE=1,
    each on its own server and database; the first two are targeted figures, int8 shows what it
    would move."""
    rows, raw = [], {}
    variants = (
        [("fp32", {})]
        + ([("alone", {"MODERATION_CLASSIFIER": "none"})] if ctx.get("mode") != "smoke" else [])
        + ([("int8", {"MODERATION_QUANTIZE": "1"})] if ctx["cfg"].get("flag_int8", True) else [])
    )
    for label, extra in variants:
        r = _time_to_flag_once(ctx, label, extra)
        raw[label] = r["raw"]
        rows += r["rows"]
    return {"rows": rows, "raw": raw}


def _time_to_flag_once(ctx: dict, label: str, extra: dict[str, str]) -> dict:
    cfg = ctx["cfg"]
    db = sqlite_copy(ctx["template"], f"flag-{label}")
    bait = ctx.get("flagbait") or []
    proc, port = start_kindred(
        f"time-to-flag-{label}",
        db_url=db,
        extra={"MODERATION_EMBEDDED_WORKER": "1", **ctx["model_env"], **extra},
    )
    raw: dict[str, Any] = {"bait": bait, "env": extra, "burst_grace_s": 5.0}
    try:
        settle([proc.pid], quiet=0.2, max_wait=120)
        _warm_worker(port, ctx["members"])
        settle([proc.pid], quiet=0.2, max_wait=60)
        senders = 4
        capacity, raw["capacity_bound"], raw["capacity_bursts"] = flag_capacity(
            port, db, ctx["members"][:senders], cfg
        )
        raw["capacity_msgs_per_s"] = capacity
        # Steady load at 80 % of capacity, with a moderator watching the live feed.
        # One message in five is bait, cycling through every chosen bait text.
        # The rest is the bench's everyday mix (bench.util.BENCH_TEXTS), four between each bait.
        everyday = iter(BENCH_TEXTS * (4 * max(1, len(bait))))
        texts = [t for b in bait for t in (b, *(next(everyday) for _ in range(4)))] or BENCH_TEXTS
        rate80 = max(0.5, 0.8 * capacity)
        socks = _room_sockets(ctx["members"][:senders], "flag", senders, senders)
        socks.append({"kind": "moderation", "cookie": ctx["moderators"][0]["cookie"], "room": ""})
        burst_rate = 2 * capacity
        steps = [
            {"rate": rate80, "duration": cfg["flag_seconds"]},
            {"rate": burst_rate, "duration": cfg["flag_burst_seconds"]},
        ]
        # 5 s of grace: "lost" here means not delivered within 5 s of the step's end (the fan-out
        # ladders use 1 s, where lateness is already a failed step).
        fleet = Fleet(
            port=port,
            sockets=socks,
            n_procs=1,
            steps=steps,
            grace=5.0,
            texts=texts,
            record_acks=True,
        )
        try:
            fleet.ready()
            res80 = fleet.go(0)
            window_end = time.time()  # the steady step and its grace are over
            pend80 = _pending(db)
            _wait_drained(db, 60)
            res_b = fleet.go(1)
            t_burst_end = time.time()
            drained = _wait_drained(db, 240)
        finally:
            fleet.stop()
        acks = {k: v for r in res80 for k, v in (r.get("acks") or {}).items()}
        # Flags seen while the steady step ran, then later (the drain wait and the burst).
        flags = [f for r in res80 + res_b for f in (r.get("flags") or [])]
        # Bait is decided on each body exactly as sent (its #b tag included, which moves the
        # model's verdict), for every acknowledged message of the steady phase, benign text too.
        steady = [a for a in acks.values() if a[2] and len(a) > 3 and a[3]]
        verdicts = _model_stage_flags(db, [a[3] for a in steady])
        judged = {(a[0], a[1]) for a, v in zip(steady, verdicts or [], strict=False) if v}
        sent_at = {(a[0], a[1]): a[2] for a in steady}
        # Once the backlog has drained: what the server itself decided for each steady message.
        _wait_drained(db, 60)
        server = _message_verdicts(db, "flag", [seq for _room, seq in sent_at])
        keys, excluded = bait_keys(judged, {(room, seq): server.get(seq) for room, seq in sent_at})
        bait_sent = {k: sent_at[k] for k in keys}
        raw["bait_by_text"] = {
            "sent": len(steady),
            "judged": verdicts is not None,
            "chosen_texts_sent": sum(1 for a in steady if any(a[3].startswith(b) for b in bait)),
            "judged_model_stage_flags_as_sent": len(judged),
            "bait": len(bait_sent),
            **excluded,
        }
        recon = reconcile_bait(bait_sent, flags, window_end=window_end)
        recon["missing_but_flagged_in_database"] = sum(
            1 for _room, seq in recon["missing_keys"] if (server.get(seq) or {}).get("model_flag")
        )
        ttf = recon["delays_s"]
        m80 = merge_step(res80, members=senders, duration=cfg["flag_seconds"])
        mb = merge_step(res_b, members=senders, duration=cfg["flag_burst_seconds"])
        delays = _assessment_delays(db, "flag")
        raw.update(
            {
                "steady": m80,
                "burst": mb,
                "bait_reconciled": recon,
                "time_to_flag": ttf,
                "assessment_delays_p50": pct(delays, 50),
                "assessment_delays_p95": pct(delays, 95),
                "pending_after_steady": pend80,
                "burst_drain_seconds": round(drained - t_burst_end, 1),
            }
        )
    finally:
        proc.stop()
    p95, p50 = recon["p95_s"], recon["p50_s"]
    backlog_ok = _pending(db) == 0
    what = {
        "fp32": "product default with Detoxify installed (fp32)",
        "alone": "Kindred's safety model alone (no Detoxify weights, as `make run` ships)",
    }.get(label, "with MODERATION_QUANTIZE=1 (int8)")
    targeted = label in ("fp32", "alone")
    target, target_b = (
        ("≤ 1 s", "0 lost, backlog drains") if targeted else ("(what int8 would move)", "(info)")
    )
    n_bait = recon["bait"]
    shown = None if p95 is None else "not flagged" if p95 == float("inf") else round(p95, 3)
    cap_bound = raw["capacity_bound"]
    met_p95, why_p95 = decided_at_capacity(
        (None if p95 is None else p95 <= 1.0) if targeted else None, cap_bound
    )
    met_b, why_b = decided_at_capacity(
        (mb["lost"] == 0 and backlog_ok) if targeted else None, cap_bound
    )
    bursts = raw["capacity_bursts"]
    cap_text = (
        f"capacity {_PREFIX_OF[cap_bound]}{capacity:.1f} msg/s from bursts of "
        f"{', '.join(str(b['burst']) for b in bursts)} messages in 1 s"
        + (
            " (even the largest was worked through within its window: only a lower bound)"
            if cap_bound == "lower"
            else " (its backlog had not drained after 180 s)"
            if cap_bound == "upper"
            else ""
        )
    )
    rows = [
        row(
            "time to flag",
            f"{what}: p95 send → flag on the moderators' live feed at 80% of capacity, over "
            f"every bait message (s)",
            shown,
            None,
            None,
            target,
            met_p95,
            f"{why_p95}bait: {n_bait} of the steady phase's {raw['bait_by_text']['sent']} acknowledged messages, i.e. every "
            f"one the server's model stage flagged plus every one judged flag-worthy on its body as sent that the "
            f"server never assessed ({raw['bait_by_text']['chosen_texts_sent']} carried a bait text chosen before "
            f"the run; {raw['bait_by_text']['judged_model_stage_flags_as_sent']} judged flag-worthy as sent"
            f"{'' if raw['bait_by_text']['judged'] else ' — judging failed'}; "
            f"{raw['bait_by_text']['judged_but_server_did_not_flag']} of those assessed by the server and not "
            f"flagged, left out): "
            f"{recon['within']} flagged within "
            f"its window (the step and its 5 s grace), {recon['late']} flagged later (counted with their "
            f"delay), {recon['missing']} never seen on the live feed{missing_bait_text(recon)} (counted as "
            f"not flagged: +∞), of which "
            f"{recon['missing_but_flagged_in_database']} have a flag in the database; p50 {_fmt(p50)} s; "
            f"{cap_text} "
            f"({ctx['model_name']} + safety model, embedded worker); steady {rate80:.1f} msg/s for "
            f"{cfg['flag_seconds']} s: {m80['acked']} acked; "
            f"send → assessment stored (all messages, steady and burst) p50 {_fmt(pct(delays, 50))} s, p95 {_fmt(pct(delays, 95))} s; "
            f"send errors {m80['errors'] or 'none'}",
        ),
        row(
            "time to flag",
            f"{what}: 2× burst ({burst_rate:.1f} msg/s for {cfg['flag_burst_seconds']} s): lost deliveries",
            mb["lost"],
            None,
            None,
            target_b,
            met_b,
            f"{why_b}{mb['acked']} acked; counted lost = not delivered within 5 s of the burst's end; delivery p50 "
            f"{mb['p50_ms']} ms, p99 {mb['p99_ms']} ms, max {mb['max_ms']} ms; backlog drained {raw['burst_drain_seconds']} s after the burst; pending now "
            f"{'0' if backlog_ok else 'not 0'}",
        ),
    ]
    return {"rows": rows, "raw": raw}


_PREFIX_OF = {None: "", "lower": "≥ ", "upper": "≤ "}


def decided_at_capacity(met: bool | None, capacity_bound: Bound) -> tuple[bool | None, str]:
    """A verdict measured at a load set from the capacity (80 % of it, twice it) holds only in the
    direction the capacity's bound allows. Capacity only ≥ x: the load was at most the fraction
    named, so a pass does not show the target at that fraction (a miss does, a fortiori).
    Capacity only ≤ x: the load was at least the fraction, so a miss does not (a pass does).
    Returns the verdict and, when it became undecided, why (to start the note)."""
    if met is None or capacity_bound is None:
        return met, ""
    if capacity_bound == "lower" and met:
        return None, (
            "undecided: the capacity is only a lower bound, so this load was at most the fraction of "
            "capacity named, and a pass there does not show the target at it; "
        )
    if capacity_bound == "upper" and not met:
        return None, (
            "undecided: the capacity is only an upper bound, so this load was at least the fraction of "
            "capacity named, and a miss there does not show the target missed at it; "
        )
    return met, ""


def flag_capacity(
    port: int, db: str, members: list[dict], cfg: dict
) -> tuple[float, Bound, list[dict[str, Any]]]:
    """The embedded worker's assessment capacity: a burst of messages sent in one second, then the
    time until nothing is pending; capacity = burst ÷ (that time from the burst's start).

    A burst the worker has already worked through when its window (the second and the grace)
    ends measures only the offered rate: such a figure is a lower bound. So the burst doubles
    (up to `flag_capacity_burst_max`, default 8× the first) until one leaves a backlog at the
    window's end; if even the largest does not, the capacity is "lower" (≥). A backlog that has
    not drained after 180 s makes it "upper" (≤). Returns (capacity, bound, every burst)."""
    burst = cfg["flag_capacity_burst"]
    largest = cfg.get("flag_capacity_burst_max", 8 * burst)
    grace = 0.5
    socks = _room_sockets(members, "flag-cap", len(members), len(members))
    fleet = Fleet(
        port=port,
        sockets=socks,
        n_procs=1,
        steps=[{"rate": burst, "duration": 1.0}],
        grace=grace,
    )
    bursts: list[dict[str, Any]] = []
    try:
        fleet.ready()
        k = 0
        while True:
            t0 = time.time() + 0.3
            res = fleet.go(k, t0=t0, step={"rate": float(burst), "duration": 1.0})
            m = merge_step(res, members=len(socks), duration=1.0)
            # A message not yet stored is not pending either: a backlog in front of the write
            # path hides the worker's, so "kept up" also needs every send acknowledged.
            pending_at_end = _pending(db)
            drained = _wait_drained(db, 180)
            left = _pending(db)
            bursts.append(
                {
                    "burst": burst,
                    "sent": m["sent"],
                    "acked": m["acked"],
                    "pending_at_window_end": pending_at_end,
                    "drained_after_s": round(drained - t0, 2),
                    "pending_after_wait": left,
                    "capacity_msgs_per_s": round((m["sent"] or burst) / max(0.1, drained - t0), 2),
                }
            )
            kept_up = pending_at_end == 0 and m["acked"] == m["sent"] > 0
            if not kept_up or left != 0 or burst * 2 > largest:
                break
            burst *= 2
            k += 1
    finally:
        fleet.stop()
    last = bursts[-1]
    if last["pending_after_wait"] != 0:
        bound: Bound = "upper"
    elif last["pending_at_window_end"] == 0 and last["acked"] == last["sent"]:
        bound = "lower"
    else:
        bound = None
    return last["capacity_msgs_per_s"], bound, bursts


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else "∞ (not flagged)" if v == float("inf") else f"{v:.3f}"


def reconcile_bait(
    bait_sent: dict[tuple[str, int], float], flags: list[list], *, window_end: float
) -> dict[str, Any]:
    """Every bait message against the flags the moderators' live feed showed.

    `bait_sent`: (room, seq) → send time of every acknowledged bait message; `flags`: [room, seq,
    time seen, kind] in the order seen. A bait message flagged by `window_end` counts with its
    delay; flagged later, it counts late, still with its delay; never flagged, it counts as
    missing with an infinite delay, so percentiles are over all bait, not the flags that arrived."""
    first: dict[tuple[str, int], float] = {}
    for f in flags:
        room, seq, t = f[0], f[1], f[2]
        key = (room.get("slug") if isinstance(room, dict) else room, seq)
        if key in bait_sent and key not in first:
            first[key] = t
    within, late, missing = [], [], []
    for key, t_send in bait_sent.items():
        t = first.get(key)
        if t is None:
            missing.append(key)
        elif t <= window_end:
            within.append(t - t_send)
        else:
            late.append(t - t_send)
    delays = sorted(within + late) + [float("inf")] * len(missing)
    return {
        "bait": len(bait_sent),
        "within": len(within),
        "late": len(late),
        "missing": len(missing),
        "missing_keys": [list(k) for k in missing],
        "delays_s": [round(d, 4) for d in delays if d != float("inf")],
        "p50_s": pct(delays, 50),
        "p95_s": pct(delays, 95),
        "missing_but_flagged_in_database": None,
    }


def missing_bait_text(recon: dict[str, Any], most: int = 10) -> str:
    """The bait messages never flagged on the live feed, by room and sequence number (the first
    `most`, and how many more), so a reader can look each one up: " (flag#12, flag#27)"."""
    keys = sorted((recon.get("missing_keys") or []), key=lambda k: (str(k[0]), k[1]))
    if not keys:
        return ""
    shown = ", ".join(f"{room}#{seq}" for room, seq in keys[:most])
    more = f" and {len(keys) - most} more" if len(keys) > most else ""
    return f" ({shown}{more})"


def _model_stage_flags(db_url: str, bodies: list[str]) -> list[bool] | None:
    """For each body as sent: does the worker's model stage act on it (inline rules allowing it)?"""
    src, out = RUN / "flag-bodies.json", RUN / "flag-verdicts.json"
    src.write_text(json.dumps(bodies))
    out.unlink(missing_ok=True)
    try:
        subprocess.run(
            [PY, "-m", "bench.djsetup", "flagbait", "--bodies", str(src), "--out", str(out)],
            env=driver.env(DATABASE_URL=db_url),
            check=True,
            timeout=300,
            capture_output=True,
        )
        return json.loads(out.read_text()).get("model_stage_flags")
    except (subprocess.SubprocessError, OSError, ValueError):
        return None


def bait_keys(
    judged: set[tuple[str, int]], server: dict[tuple[str, int], dict[str, Any] | None]
) -> tuple[set[tuple[str, int]], dict[str, int]]:
    """Which steady-phase messages time to flag is measured over.

    `judged`: messages whose body as sent the model stage acts on when judged on its own after the
    run; `server`: what the server recorded for each message ({"assessed", "model_flag"}, None if
    unknown). Bait = every message the server's model stage flagged, plus every judged message
    the server never assessed (a backlog that never cleared counts against the figure, as +∞).
    Judged messages the server assessed and did not flag are left out and counted: the same
    model scored them in another batch and decided otherwise (a borderline score), which says
    nothing about how long flagging takes."""
    keys, assessed_not_flagged = set(), 0
    for key, v in server.items():
        if v and v.get("model_flag"):
            keys.add(key)
        elif key in judged:
            if v and v.get("assessed"):
                assessed_not_flagged += 1
            else:
                keys.add(key)
    return keys, {
        "judged_but_server_did_not_flag": assessed_not_flagged,
        "server_flagged_not_judged": sum(1 for k in keys if k not in judged),
    }


def _message_verdicts(db_url: str, room: str, seqs: list[int]) -> dict[int, dict[str, Any]]:
    """For each message of the room: assessed or not, and whether the model stage flagged it."""
    path = db_url.replace("sqlite:///", "", 1)
    q = (
        "select m.seq, m.assessment_state, "
        "(select count(*) from moderation_flag f where f.message_id = m.id "
        " and (f.source = 'model' or f.sources like '%model%')) "
        "from chat_message m join chat_room r on r.id = m.room_id where r.slug = ?"
    )
    wanted = set(seqs)
    try:
        with sqlite3.connect(path, timeout=5) as c:
            return {
                seq: {"assessed": state == "done", "model_flag": bool(n)}
                for seq, state, n in c.execute(q, (room,)).fetchall()
                if seq in wanted
            }
    except sqlite3.Error:
        return {}


def _wait_drained(db_url: str, timeout: float) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if _pending(db_url) == 0:
            return time.time()
        time.sleep(0.05)
    return time.time()


def _assessment_delays(db_url: str, room: str) -> list[float]:
    path = db_url.replace("sqlite:///", "", 1)
    q = (
        "select (julianday(a.created_at) - julianday(m.created_at)) * 86400 from moderation_assessment a "
        "join chat_message m on m.id = a.message_id join chat_room r on r.id = m.room_id where r.slug = ?"
    )
    try:
        with sqlite3.connect(path, timeout=5) as c:
            return [x[0] for x in c.execute(q, (room,)).fetchall() if x[0] is not None]
    except sqlite3.Error:
        return []


# --- 5. idle connections ------------------------------------------------------------------------


def idle(ctx: dict) -> dict:
    cfg = ctx["cfg"]
    n = cfg["idle_sockets"]
    per_room = 25
    sockets = [
        {"room": f"idle-{i // per_room:03d}", "cookie": m["cookie"]}
        for i, m in enumerate(ctx["members"][:n])
    ]
    db = sqlite_copy(ctx["template"], "idle")
    proc, port = start_kindred("idle", db_url=db, extra={"MODERATION_EMBEDDED_WORKER": "0"})
    raw: dict[str, Any] = {}
    try:
        settle([proc.pid], quiet=0.1, max_wait=20)
        # Touch the app once so lazily imported code is in memory before the "before" figure.
        _warm_http(port)
        rss0 = rss_bytes(proc.pid)
        deadline = cfg.get("idle_connect_deadline", 300)
        fleet = Fleet(
            port=port,
            sockets=sockets,
            n_procs=cfg["idle_procs"],
            mode="idle",
            ping_interval=25.0,
            max_seconds=deadline + cfg["idle_seconds"] + 300,
            connect_deadline=deadline,
        )
        try:
            t = time.monotonic()
            cc0 = cpu_seconds(proc.pid)
            ready = fleet.ready(timeout=deadline + 90)
            raw["connect_cpu_pct"] = round(
                100 * (cpu_seconds(proc.pid) - cc0) / max(0.1, time.monotonic() - t), 1
            )
            raw["connect"] = ready
            raw["connect_seconds_total"] = round(time.monotonic() - t, 1)
            raw["settle_seconds"] = round(settle([proc.pid], quiet=0.2, max_wait=120), 1)
            # Steady state of phones that have been idle a while: each has pinged before (a
            # socket's first ping goes to the room consumer; its repeats are answered by Daphne,
            # config/daphne.py). One ping from every socket, spread over a few seconds.
            prime = cfg.get("idle_prime_seconds", 4.0)
            res = fleet.go(prime, t0=time.time() + 0.2, timeout=prime + 60, ping_interval=prime)
            raw["primed_pongs"] = sum(r.get("pongs", 0) for r in res)
            raw["settle_seconds"] += round(settle([proc.pid], quiet=0.2, max_wait=60), 1)
            rss1 = rss_bytes(proc.pid)
            # The part that does not depend on pings (Daphne's sweeps over every connection, the
            # hub's presence heartbeat every CHAT_HUB_HEARTBEAT_SECONDS): the same sockets, silent.
            quiet = cfg.get("idle_quiet_seconds", 0)
            if quiet:
                c0, t0 = cpu_seconds(proc.pid), time.monotonic()
                fleet.go(quiet, t0=time.time() + 0.2, timeout=quiet + 60, ping_interval=10**6)
                raw["idle_cpu_pct_without_pings"] = round(
                    100 * (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0), 2
                )
            hold = cfg["idle_seconds"]
            c0 = cpu_seconds(proc.pid)
            t0 = time.monotonic()
            res = fleet.go(hold, t0=time.time() + 0.2, timeout=hold + 60)
            cpu = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)
            raw["pongs"] = sum(r.get("pongs", 0) for r in res)
            raw["still_open"] = sum(r.get("still_open", 0) for r in res)
        finally:
            fleet.stop()
    finally:
        proc.stop()
    per_conn = (rss1 - rss0) / max(1, ready["connected"])
    raw.update({"rss_before": rss0, "rss_after": rss1, "idle_cpu_pct": round(100 * cpu, 2)})
    idle_cpu_met, idle_cpu_why = idle_cpu_verdict(raw["idle_cpu_pct"], ready["connected"], n)
    rows = [
        row(
            "idle connections",
            "authenticated sockets held open on one web process",
            ready["connected"],
            None,
            None,
            f"{n}",
            ready["connected"] >= n and raw["still_open"] >= n,
            f"{ready['failed']} failed ({ready.get('gave_up', 0)} still connecting when the harness gave up at "
            f"{deadline:g} s); {raw['connect_seconds_total']} s to connect, i.e. "
            f"{ready['connected'] / max(0.1, raw['connect_seconds_total']):.1f} joins/s "
            f"({n // per_room} rooms of {per_room}); server CPU while connecting {raw.get('connect_cpu_pct')}% of a core; "
            f"still open after the idle window: {raw['still_open']}",
        ),
        row(
            "idle connections",
            "memory per connection (KiB)",
            round(per_conn / 1024, 1),
            None,
            None,
            "(report)",
            None,
            f"web process RSS {rss0 / 2**20:.0f} → {rss1 / 2**20:.0f} MiB",
        ),
        row(
            "idle connections",
            f"idle CPU over {hold:g} s, pings every 25 s (% of a core)",
            raw["idle_cpu_pct"],
            None,
            None,
            "< 5%",
            idle_cpu_met,
            f"{idle_cpu_why}{raw['pongs']} protocol pings answered; before the window every socket had pinged once "
            f"({raw.get('primed_pongs')} pongs), as phones that have been idle a while have"
            + (
                f"; the same sockets silent for {quiet:g} s: {raw['idle_cpu_pct_without_pings']}% "
                f"(Daphne's sweeps and the presence heartbeat)"
                if quiet
                else ""
            ),
        ),
    ]
    return {"rows": rows, "raw": raw}


def idle_cpu_verdict(cpu_pct: float, connected: int, wanted: int) -> tuple[bool | None, str]:
    """Idle CPU < 5 % of a core at `wanted` sockets. Measured over fewer sockets (the rest never
    connected) it is only a lower bound on the CPU `wanted` would use: a miss stands, a pass
    does not show the target met. Returns the verdict and why it is undecided (or "")."""
    met = cpu_pct < 5.0
    if met and connected < wanted:
        return None, (
            f"undecided: measured over the {connected} sockets that connected, not {wanted}, so a figure "
            f"under the limit does not show it at {wanted}; "
        )
    return met, ""


def _warm_http(port: int) -> None:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10).read()
    except Exception:  # noqa: BLE001
        pass


# --- 6. scale-out -------------------------------------------------------------------------------


def scale_out(ctx: dict) -> dict:
    cfg = ctx["cfg"]
    pg = ctx.get("pg")
    if not pg:
        return {
            "rows": [
                row(
                    "scale-out",
                    "two web + two workers vs one + one",
                    None,
                    None,
                    None,
                    "nothing lost",
                    None,
                    f"skipped: {ctx.get('pg_error', 'PostgreSQL/Redis unavailable')}",
                )
            ],
            "raw": {},
        }
    size = cfg["scale_size"]
    ladder = cfg["scale_ladder"]
    results = {}
    for n in (1, 2):
        db_url = pg["create"](f"s{n}")
        members = pg["setup"](db_url, size)
        prefix = f"kbench{int(time.time())}{n}"
        extra = {
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "CHANNEL_PREFIX": prefix,
            "MODERATION_EMBEDDED_WORKER": "0",
            **ctx["model_env"],
            "MODERATION_QUANTIZE": "1",
        }
        webs, workers = [], []
        try:
            for i in range(n):
                webs.append(start_kindred(f"scale{n}-web{i}", db_url=db_url, extra=extra))
                workers.append(start_worker(f"scale{n}-worker{i}", db_url=db_url, extra=extra))
            pids = [w[0].pid for w in webs]
            settle(pids + [w.pid for w in workers], quiet=0.3, max_wait=120)
            sockets = []
            for i, m in enumerate(members["members"][:size]):
                sockets.append(
                    {
                        "room": "scale",
                        "cookie": m["cookie"],
                        "send": i < 10,
                        "base": f"ws://127.0.0.1:{webs[i % n][1]}",
                    }
                )
            # A search, not a fixed ladder whose top both layouts pass (which printed 1.00×): its
            # ratio is reported, not judged, so √2 resolution is enough and keeps it short.
            search = None
            if cfg.get("scale_search"):
                search = Search(
                    ladder[0],
                    factor=2.0,
                    resolution=cfg["scale_search"].get("resolution", 2**0.5),
                    lo=cfg["scale_search"].get("lo", 1.0),
                    hi=cfg["scale_search"].get("hi", 5000.0),
                )
            r = ladder_run(
                webs[0][1],
                pids,
                sockets,
                members=size,
                ladder=ladder,
                search=search,
                duration=cfg["step_seconds"],
                grace=cfg.get("grace", 1.0),
                n_procs=2,
                name=f"scale{n}",
                stop_on_fail=True,
                record_acks=True,
                tally_after=60,
            )
            # Let the workers finish, then check every message was assessed exactly once, and
            # every acknowledged client_id against the stored rows.
            acked_ids = r.pop("acked_client_ids", [])
            deadline = time.time() + 120
            rep = pg["report"](db_url, acked_ids)
            while rep["pending"] and time.time() < deadline:
                time.sleep(1)
                rep = pg["report"](db_url, acked_ids)
            rep.pop("assessment_delays", None)
            r["assessment"] = rep
        finally:
            for w in workers:
                w.stop()
            for p, _ in webs:
                p.stop()
            pg["drop"](db_url)
        results[n] = r
    one, two = results[1], results[2]
    rr = ratio(two["best_deliveries_per_s"], one["best_deliveries_per_s"])
    a2 = two["assessment"]
    # Loss counted independently of the pass rule (a passing step has no delivery loss by
    # definition): every client_id the server acknowledged must be a stored row.
    missing = a2.get("acked_missing")
    verdict = scale_out_correctness(two["steps"], a2, missing)
    ok, failing, reordered_failing = verdict["ok"], verdict["failing"], verdict["reordered_failing"]
    rows = [
        row(
            "scale-out",
            f"room of {size} across 2 web + 2 workers: deliveries/s vs 1 + 1",
            two["best_deliveries_per_s"],
            one["best_deliveries_per_s"],
            rr,
            "(report)",
            None,
            "PostgreSQL + Redis; members alternate between the web processes; workers int8; "
            + (
                f"searched from {ladder[0]:g} msg/s to "
                f"{100 * (cfg['scale_search'].get('resolution', 2**0.5) - 1):.0f} % resolution, within {cfg['scale_search'].get('lo', 1.0):g}–"
                f"{cfg['scale_search'].get('hi', 5000.0):g} msg/s"
                if cfg.get("scale_search")
                else f"ladder {', '.join(f'{x:g}' for x in ladder)} msg/s"
            ),
            kindred_bound=two.get("bound"),
            baseline_bound=one.get("bound"),
        ),
        row(
            "scale-out",
            "nothing acknowledged lost, nothing assessed twice, every member receives every message "
            "(overloaded steps included)",
            f"{a2.get('acked')} acked, {missing} of them not stored; {a2['messages']} msgs, {a2['assessments']} "
            f"assessments, {a2['assessed_twice']} twice, {a2['pending']} pending; deliveries never "
            f"received once the run drained, all steps: {verdict['never_received']}",
            None,
            None,
            "all hold",
            None if missing is None else ok,
            f"acknowledged client_ids checked against the database's rows; assessed per worker: "
            f"{list(a2['by_worker'].values())}; deliveries counted per member after the last step, "
            f"once the server had drained: {verdict['late']} arrived after their step's grace (late, "
            f"not lost), and {verdict['never_acked']} sends were never acknowledged (the product's "
            f"client sends those again; the load generator does not); "
            f"order on the wire is part of every step's pass rule; "
            f"in the {failing} overloaded (failing) step(s), {reordered_failing} message(s) reached a "
            f"member after a later one: the hub's order wait (CHAT_ORDER_WAIT_SECONDS) ran out and the "
            f"client places a late message by seq",
        ),
    ]
    return {"rows": rows, "raw": results}


def scale_out_correctness(
    steps: list[dict[str, Any]], assessment: dict[str, Any], acked_missing: int | None
) -> dict[str, Any]:
    """Scale-out's correctness verdict, on what the step pass rule does not already decide.

    Order on the wire is part of every step's pass rule (`_passes`), so a passing step has no
    reordering by definition and judging it again could not fail. Judged here: loss in *every*
    step, the overloaded ones included (deliveries of acknowledged messages no member had
    received once the run drained, from `ladder_run(tally_after=…)`; a step without that tally
    counts what missed its grace), acknowledged messages missing from the database, and
    exactly-once assessment. Reordering in overloaded
    steps is reported, not judged: the hub holds a message that overtook an earlier one for at
    most CHAT_ORDER_WAIT_SECONDS, then lets it go, and the client places the late one by seq
    (frontend/static/frontend/chat/timeline.js)."""
    failing = [s for s in steps if not s["passed"]]
    never = sum(s["never_received"] if "never_received" in s else s["lost"] for s in steps)
    reordered_passing = sum(s["out_of_order"] + s.get("gaps", 0) for s in steps if s["passed"])
    ok = (
        acked_missing == 0
        and never == 0
        and reordered_passing == 0
        and assessment["pending"] == 0
        and assessment["assessed_twice"] == 0
        and assessment["assessments"] == assessment["messages"]
    )
    return {
        "ok": ok,
        "never_received": never,
        "late": sum(s.get("late", 0) for s in steps),
        "never_acked": sum(s.get("never_acked", 0) for s in steps),
        "failing": len(failing),
        "reordered_failing": sum(s["out_of_order"] for s in failing),
    }


# --- 7. phone page weight -----------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.in_head = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "head":
            self.in_head = True
        if tag == "script" and a.get("src"):
            self.found.append(("script", {**a, "head": self.in_head}))
        elif (
            tag == "link"
            and a.get("href")
            and (a.get("rel") or "") in ("stylesheet", "icon", "modulepreload", "preload")
        ):
            self.found.append(("link", {**a, "head": self.in_head}))
        elif tag == "img" and a.get("src"):
            self.found.append(("img", {**a, "head": self.in_head}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False


def page_weight(ctx: dict) -> dict:
    db = sqlite_copy(ctx["template"], "page")
    proc, port = start_kindred("page", db_url=db, extra={"MODERATION_EMBEDDED_WORKER": "0"})
    origin = f"http://127.0.0.1:{port}"
    cookie = ctx["members"][0]["cookie"]
    items = []
    try:

        def get(url: str) -> tuple[bytes, int, str]:
            req = urllib.request.Request(
                url,
                headers={
                    "Cookie": f"sessionid={cookie}",
                    "Accept-Encoding": "gzip",
                    "User-Agent": "Mozilla/5.0 (Linux; Android 14) bench",
                },
            )
            with urllib.request.urlopen(req, timeout=20) as resp:
                body = resp.read()
                enc = resp.headers.get("Content-Encoding", "")
            raw_body = gzip.decompress(body) if enc == "gzip" else body
            return raw_body, len(body), enc

        html, wire, enc = get(f"{origin}/rooms/newborn/")
        items.append(
            {
                "url": "/rooms/newborn/",
                "raw": len(html),
                "wire": wire,
                "gzip": len(gzip.compress(html, 6)),
                "enc": enc,
            }
        )
        parser = _Links()
        parser.feed(html.decode("utf-8", "replace"))
        third_party_blocking = []
        queue = []
        for kind, a in parser.found:
            url = a.get("src") or a.get("href")
            absolute = urllib.request.urljoin(origin + "/rooms/newborn/", url)
            if not absolute.startswith(origin):
                blocking = a["head"] and (
                    (
                        kind == "script"
                        and not ({"async", "defer"} & set(a))
                        and a.get("type") != "module"
                    )
                    or (kind == "link" and a.get("rel") == "stylesheet")
                )
                if blocking:
                    third_party_blocking.append(absolute)
                continue
            queue.append(absolute)
        # Start-up fetches the page's scripts make before anyone touches anything.
        for path in STARTUP_FETCHES:
            try:
                body, wire, enc = get(f"{origin}{path}")
                items.append(
                    {
                        "url": path,
                        "raw": len(body),
                        "wire": wire,
                        "gzip": len(gzip.compress(body, 6)),
                        "enc": enc,
                        "kind": "start-up fetch",
                    }
                )
            except Exception as exc:  # noqa: BLE001
                items.append({"url": path, "error": str(exc), "kind": "start-up fetch"})
        # What the room socket sends at join, in a room with CHAT_HISTORY_ON_JOIN (50) messages.
        join = _join_payload(
            port, ctx["members"][1]["cookie"], ctx["members"][2]["cookie"], "newborn", 50
        )
        seen = set()
        while queue and len(seen) < 60:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            try:
                body, wire, enc = get(url)
            except Exception as exc:  # noqa: BLE001
                items.append({"url": url, "error": str(exc)})
                continue
            items.append(
                {
                    "url": url.replace(origin, ""),
                    "raw": len(body),
                    "wire": wire,
                    "gzip": len(gzip.compress(body, 6)),
                    "enc": enc,
                }
            )
            text = body.decode("utf-8", "replace")
            if url.endswith(".js"):
                for dep in re.findall(
                    r"""(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(?\s*['"]([^'"]+)['"]""",
                    text,
                ):
                    d = dep[0] or dep[1]
                    queue.append(urllib.request.urljoin(url, d))
            elif url.endswith(".css"):
                for dep in re.findall(
                    r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""", text
                ):
                    d = dep[0] or dep[1]
                    if not d.startswith("data:"):
                        queue.append(urllib.request.urljoin(url, d))
    finally:
        proc.stop()
    total_gzip = sum(
        min(i.get("wire", 0), i.get("gzip", 0)) if i.get("enc") else i.get("gzip", 0) for i in items
    )
    total_raw = sum(i.get("raw", 0) for i in items)
    served_compressed = sum(1 for i in items if i.get("enc"))
    # The socket's frames go as sent unless permessage-deflate was negotiated (then gzip -6 of
    # them is the estimate); a join that could not be measured leaves the total undecided.
    join_wire = None
    if "bytes" in join:
        join_wire = join["gzip"] if join.get("deflate") else join["bytes"]
    total = total_gzip + (join_wire or 0)
    errors = [i for i in items if i.get("error")]
    rows = [
        row(
            "phone page weight",
            "chat page first load with the room socket's join, room of 50 messages, "
            "compressed where the server compresses (KB)",
            round(total / 1000, 1),
            None,
            None,
            "≤ 100 KB",
            None if join_wire is None or errors else total <= 100_000,
            f"{len(items)} requests, {total_raw / 1000:.1f} KB uncompressed, {total_gzip / 1000:.1f} KB as gzip -6 "
            f"of each response ({served_compressed} served compressed by the dev server; production serves "
            f"WhiteNoise's pre-compressed files), start-up fetches {', '.join(STARTUP_FETCHES)} included; "
            + (
                f"room socket at join: {join['frames']} frames, {join['bytes'] / 1000:.1f} KB as sent "
                f"(permessage-deflate {'negotiated: counted as gzip -6, ' + format(join['gzip'] / 1000, '.1f') + ' KB' if join.get('deflate') else 'not negotiated: counted as sent'}), "
                f"history of {join['history']} messages"
                if join_wire is not None
                else f"room socket's join not measured: {join.get('error')}"
            )
            + (f"; failed requests: {', '.join(i['url'] for i in errors)}" if errors else ""),
        ),
        row(
            "phone page weight",
            "render-blocking third-party resources",
            len(third_party_blocking),
            None,
            None,
            "0",
            not third_party_blocking,
            ", ".join(third_party_blocking) or "all resources same-origin",
        ),
    ]
    return {"rows": rows, "raw": {"items": items, "join": join}}


# Requests the chat page's scripts make on load (frontend/static/frontend/unread.js polls at once).
STARTUP_FETCHES = ["/api/rooms/unread"]


def _join_payload(
    port: int, writer_cookie: str, reader_cookie: str, room: str, n: int
) -> dict[str, Any]:
    """Bytes the room socket receives at join once the room holds `n` messages: one member writes
    them (waiting for each acknowledgement), then another joins, offering permessage-deflate as a
    browser does, and every frame until the join's frames stop for half a second is counted."""
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{port}/ws/rooms/{room}/"
    origin = f"http://127.0.0.1:{port}"
    try:
        with connect(
            url,
            origin=origin,
            additional_headers={"Cookie": f"sessionid={writer_cookie}"},
            compression=None,
            open_timeout=20,
        ) as ws:
            stamp = int(time.time() * 1000)
            for i in range(n):
                body = f"{' '.join(FILLER_WORDS[i % 7 : i % 7 + 8 + i % 9])} — night {i}, how is everyone doing?"
                ws.send(
                    json.dumps(
                        {"type": "message.send", "client_id": f"page-{stamp}-{i}", "body": body}
                    )
                )
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    f = json.loads(ws.recv(timeout=10))
                    if f.get("type") == "message.ack":
                        break
                    if f.get("type") == "error":
                        return {"error": f"sending message {i}: {f.get('code')}"}
        frames, total, texts, history = 0, 0, [], 0
        with connect(
            url,
            origin=origin,
            additional_headers={"Cookie": f"sessionid={reader_cookie}"},
            open_timeout=20,
        ) as ws:
            ext = ws.response.headers.get("Sec-WebSocket-Extensions", "") or ""
            while True:
                try:
                    raw = ws.recv(timeout=0.5 if frames else 10)
                except TimeoutError:
                    break
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                frames += 1
                total += len(text.encode())
                texts.append(text)
                f = json.loads(text)
                if f.get("type") == "room.joined":
                    history = len(f.get("messages") or [])
        return {
            "frames": frames,
            "bytes": total,
            "gzip": len(gzip.compress("".join(texts).encode(), 6)),
            "deflate": "permessage-deflate" in ext,
            "extensions": ext,
            "history": history,
        }
    except Exception as exc:  # noqa: BLE001
        return {"error": f"{type(exc).__name__}: {exc}"}


FILLER_WORDS = (
    "thanks so much for this it really helps to hear that other mums are up at night too and that "
    "it does get easier with time and a bit of sleep"
).split()
