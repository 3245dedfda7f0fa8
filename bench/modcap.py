"""Moderated capacity (issue 18, "the figures that matter", item 1): the highest message rate in a
room of 20 at which the chat keeps up *and* moderation keeps up.

A step passes when, on top of the fan-out pass rule (`scenarios._passes`: every member received
every acknowledged message without a gap and in order, delivery p99 ≤ 100 ms from the scheduled
send), every acknowledged message is a stored row, every one was assessed, the time from its
scheduled send to its assessment being stored has p95 ≤ 1 s over all of them (a message never
assessed counts as +∞), and the backlog of messages waiting for assessment did not grow during the
step (`verdict`). The rate is found by the same search as every other capacity
(`scenarios.Search`: bracket, then bisect to 5 %); a figure at the search's edge is a bound and
decides nothing.

Layouts: `make run`'s (one web process with the embedded worker, SQLite) and production's
(PostgreSQL + Redis, one web process and `manage.py moderation_worker` as its own process), the
latter when PostgreSQL and Redis answer on 127.0.0.1."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from typing import Any

from bench.driver import sqlite_copy, start_kindred, start_worker
from bench.scenarios import (
    _PREFIX_OF,
    P99_LIMIT_MS,
    Bound,
    Search,
    _pending,
    _room_sockets,
    _warm_worker,
    ladder_run,
    lowest_fail,
    median_bound,
    row,
    settle,
)
from bench.util import cpu_seconds, pct

ROOM = "modcap"
TTF_P95_LIMIT_S = 1.0
# The backlog "grew" when the least-squares slope of the pending count over the sending window
# (its first fifth, the ramp-up to the first batch, left out) is more than this share of the
# offered rate: a worker short of the offered rate by more than that share piles up at least that
# many messages a second, while a worker keeping up only oscillates batch by batch. The share is
# the search's resolution, so the test resolves what the search does. A slope uses every sample of
# the window; the earlier test (mean of the last third minus mean of the middle third) used two
# thirds of them and compared two short means, so one batch's sawtooth moved it by about as much
# as the 5 % it had to resolve, and one noisy step among a search's many failed the search there.
# BACKLOG_MIN messages over the window is always allowed, so a one-message wobble at low rates
# does not fail a step.
BACKLOG_GROWTH_SHARE = 0.05
BACKLOG_MIN = 2
RAMP_SHARE = 0.2
# The pending count is read this often while a step runs.
SAMPLE_EVERY_S = 0.2


def backlog_slope(
    samples: list[tuple[float, int]], duration: float
) -> tuple[float, float, float] | None:
    """(slope, its standard error, the window's length): the least-squares slope of the pending
    count against time, in messages per second, over the sending window after its ramp-up
    (`samples`: (seconds since the step's first send, pending)); None with fewer than 4 samples
    there or no spread in time."""
    start = RAMP_SHARE * duration
    pts = [(t, n) for t, n in samples if start <= t <= duration]
    if len(pts) < 4:
        return None
    k = len(pts)
    mt = sum(t for t, _ in pts) / k
    mn = sum(n for _, n in pts) / k
    sxx = sum((t - mt) ** 2 for t, _ in pts)
    if sxx <= 0:
        return None
    slope = sum((t - mt) * (n - mn) for t, n in pts) / sxx
    resid = sum((n - mn - slope * (t - mt)) ** 2 for t, n in pts)
    se = (resid / (k - 2) / sxx) ** 0.5
    return slope, se, duration - start


def verdict(
    *,
    rate: float,
    duration: float,
    samples: list[tuple[float, int]],
    delays: list[float | None],
    not_stored: int,
) -> dict[str, Any]:
    """Moderation's half of a step's pass rule.

    `delays`: for every acknowledged message of the step, seconds from its scheduled send to its
    assessment being stored, None if it was never assessed (within the drain wait); `not_stored`:
    acknowledged messages missing from the database; `samples`: the pending count during the step.
    Fails on any message not stored, any message not assessed, p95 over all of them (unassessed as
    +∞) above TTF_P95_LIMIT_S, a growing backlog, or a backlog that could not be read."""
    unassessed = sum(1 for d in delays if d is None)
    all_delays = [float("inf") if d is None else d for d in delays]
    p95 = pct(all_delays, 95)
    fit = backlog_slope(samples, duration)
    growth = allowed = None
    if fit is not None:
        growth, growth_se, window = fit
        allowed = max(BACKLOG_MIN / window, BACKLOG_GROWTH_SHARE * rate)
    why = []
    if not delays:
        why.append("no acknowledged message to assess")
    if not_stored:
        why.append(f"{not_stored} acknowledged not stored")
    if unassessed:
        why.append(f"{unassessed} never assessed")
    if p95 is not None and p95 > TTF_P95_LIMIT_S:
        why.append(
            "send → assessed p95 "
            + ("∞" if p95 == float("inf") else f"{p95:.2f} s")
            + f" > {TTF_P95_LIMIT_S:g} s"
        )
    if growth is None:
        why.append("backlog not sampled")
    elif growth > allowed:
        why.append(
            f"backlog grew at {growth:.2f} ± {1.96 * growth_se:.2f} msg/s (allowed {allowed:.2f})"
        )
    return {
        "moderation_passed": not why,
        "moderation_failed_on": why,
        "assessed": len(delays) - unassessed,
        "unassessed": unassessed,
        "not_stored": not_stored,
        "ttf_p50_s": pct(all_delays, 50),
        "ttf_p95_s": p95,
        "ttf_max_s": max(all_delays) if all_delays else None,
        # msg/s: the slope of the pending count, and what was allowed (see BACKLOG_GROWTH_SHARE)
        "backlog_growth": None if growth is None else round(growth, 2),
        "backlog_growth_se": None if fit is None else round(growth_se, 2),
        "backlog_allowed": None if allowed is None else round(allowed, 2),
        "backlog_max": max((n for _t, n in samples), default=None),
    }


def _epoch(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, str):  # SQLite: Django stores UTC, naive, as text
        v = datetime.fromisoformat(v)
    if v.tzinfo is None:
        v = v.replace(tzinfo=UTC)
    return v.timestamp()


def assessed_at(db_url: str, room: str, seqs: list[int]) -> dict[int, float | None]:
    """For each stored message of `room` among `seqs`: when its first revision's assessment was
    stored (epoch seconds), None if not assessed. A seq missing from the answer is not stored."""
    if not seqs:
        return {}
    lo, hi = min(seqs), max(seqs)
    q = (
        "select m.seq, a.created_at from chat_message m join chat_room r on r.id = m.room_id "
        "left join moderation_assessment a on a.message_id = m.id and a.revision = 0 "
        "where r.slug = {p} and m.seq >= {p} and m.seq <= {p}"
    )
    wanted = set(seqs)
    if db_url.startswith("sqlite:///"):
        with sqlite3.connect(db_url.replace("sqlite:///", "", 1), timeout=10) as c:
            rows = c.execute(q.format(p="?"), (room, lo, hi)).fetchall()
    else:
        import psycopg

        with psycopg.connect(db_url, connect_timeout=5) as c:
            rows = c.execute(q.format(p="%s"), (room, lo, hi)).fetchall()
    return {seq: _epoch(at) for seq, at in rows if seq in wanted}


class Monitor:
    """Moderation's side of each step: samples the backlog while the step runs, then waits for it
    to drain and judges the step's acknowledged messages (`verdict`)."""

    def __init__(
        self, db_url: str, room: str, drain_s: float, worker_pid: int | None = None
    ) -> None:
        self.db, self.room, self.drain_s = db_url, room, drain_s
        # Production's worker process: its CPU over each step's sending window is recorded, so a
        # step that fails on moderation says whether the worker was busy or waiting.
        self.worker_pid = worker_pid
        self._worker_cpu0: tuple[float, float] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples: list[tuple[float, int]] = []

    def _drain(self) -> None:
        deadline = time.time() + self.drain_s
        while time.time() < deadline and _pending(self.db) != 0:
            time.sleep(0.1)

    def before(self, k: int) -> None:
        """Each step starts with nothing waiting for assessment (the warm-up's messages, or a
        backlog an earlier step left past its own drain wait)."""
        self._drain()

    def begin(self, k: int, step: dict[str, float], t0: float) -> None:
        self.samples, self.t0 = [], t0
        self._stop.clear()
        self._worker_cpu0 = self._worker_cpu()

        def run() -> None:
            while not self._stop.is_set():
                n = _pending(self.db)
                if n is not None:
                    self.samples.append((round(time.time() - t0, 3), n))
                self._stop.wait(SAMPLE_EVERY_S)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def end(
        self, k: int, step: dict[str, float], m: dict[str, Any], res: list[dict]
    ) -> dict[str, Any]:
        self._stop.set()
        worker_cpu = self._worker_cpu()
        if self._thread:
            self._thread.join(5)
        # This step's acknowledged messages (client_id "bench-<sender>-<step>-<i>-<tag>").
        acks = [
            a
            for r in res
            for cid, a in (r.get("acks") or {}).items()
            if cid.split("-")[2:3] == [str(k)] and a[1] is not None
        ]
        self._drain()
        try:
            at = assessed_at(self.db, self.room, [a[1] for a in acks])
        except Exception as exc:  # noqa: BLE001
            return {
                "moderation_passed": False,
                "moderation_failed_on": [f"assessments not read: {exc}"],
            }
        delays: list[float | None] = []
        not_stored = 0
        for a in acks:
            if a[1] not in at:
                not_stored += 1
                continue
            t = at[a[1]]
            delays.append(None if t is None or a[2] is None else round(t - a[2], 4))
        out = verdict(
            rate=step["rate"],
            duration=step["duration"],
            samples=self.samples,
            delays=delays,
            not_stored=not_stored,
        )
        out["backlog_samples"] = self.samples
        if worker_cpu is not None and self._worker_cpu0 is not None:
            (c0, t0), (c1, t1) = self._worker_cpu0, worker_cpu
            out["worker_cpu_pct"] = round(100 * (c1 - c0) / max(1e-6, t1 - t0), 1)
        return out

    def _worker_cpu(self) -> tuple[float, float] | None:
        if self.worker_pid is None:
            return None
        try:
            return cpu_seconds(self.worker_pid), time.monotonic()
        except OSError:
            return None


def _target(ctx: dict, layout: str, model_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Start one layout: its database, web process and (production) worker process."""
    cfg = ctx["cfg"]
    model_env = _model_env(ctx) if model_env is None else model_env
    if layout == "embedded":
        db = sqlite_copy(ctx["template"], "modcap")
        proc, port = start_kindred(
            "modcap-embedded", db_url=db, extra={"MODERATION_EMBEDDED_WORKER": "1", **model_env}
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
    db = pg["create"]("modcap")
    members = pg["setup"](db, cfg["modcap_size"] + 3, (ROOM, "warm"))["members"]
    shared = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CHANNEL_PREFIX": f"kbenchcap{int(time.time())}",
    }
    proc, port = start_kindred(
        "modcap-production", db_url=db, extra={**shared, "MODERATION_EMBEDDED_WORKER": "0"}
    )
    worker = start_worker("modcap-production-worker", db_url=db, extra={**shared, **model_env})

    def stop() -> None:
        worker.stop()
        proc.stop()
        pg["drop"](db)

    return {
        "db": db,
        "port": port,
        "pids": [proc.pid, worker.pid],
        "web_pids": [proc.pid],
        "worker_pid": worker.pid,
        "members": members,
        "stop": stop,
    }


def _model_env(ctx: dict) -> dict[str, str]:
    """The model stage under test: the run's Detoxify and the product's safety model; a smoke
    run (no model) assesses with the rules alone, which checks the harness, not the product."""
    if ctx.get("mode") == "smoke":
        return {"MODERATION_CLASSIFIER": "none", "MODERATION_SAFETY_MODEL": "off"}
    return ctx["model_env"]


LAYOUTS = {
    "embedded": "embedded worker, SQLite (`make run`)",
    "production": "worker process, PostgreSQL + Redis (production)",
}


def model_stages(ctx: dict) -> list[tuple[str, str, dict[str, str]]]:
    """The model stages measured: (key, description, environment). Production fetches Detoxify's
    weights, so its cost is measured; a fresh clone's `make run` has no Detoxify weights and
    assesses with Kindred's safety model alone, which is measured too (not in a smoke run,
    which has no model)."""
    if ctx.get("mode") == "smoke":
        return [("rules", "rules only (smoke: no model)", _model_env(ctx))]
    detoxify = _model_env(ctx)
    alone = {**detoxify, "MODERATION_CLASSIFIER": "none"}
    for key in ("DETOXIFY_MODEL", "DETOXIFY_CHECKPOINT"):
        alone.pop(key, None)
    return [
        ("detoxify", f"{ctx.get('model_name')} + safety model", detoxify),
        ("alone", "Kindred's safety model alone (no Detoxify weights, as `make run` ships)", alone),
    ]


def moderated_capacity(ctx: dict) -> dict:
    cfg = ctx["cfg"]
    size = cfg["modcap_size"]
    duration = cfg["modcap_step_seconds"]
    layouts = ["embedded"] + (["production"] if cfg.get("modcap_production") else [])
    rows, raw = [], {}
    for key, model, model_env in model_stages(ctx):
        for layout in layouts:
            figure = (
                f"room of {size}, {LAYOUTS[layout]}, {model}: msg/s with delivery p99 ≤ "
                f"{P99_LIMIT_MS:g} ms, nothing lost, every message assessed (send → assessed p95 "
                f"≤ {TTF_P95_LIMIT_S:g} s), backlog not growing"
            )
            if layout == "production" and not ctx.get("pg"):
                rows.append(
                    row(
                        "moderated capacity",
                        figure,
                        None,
                        None,
                        None,
                        "(report)",
                        None,
                        f"skipped: {ctx.get('pg_error', 'PostgreSQL/Redis unavailable')}",
                    )
                )
                continue
            runs = []
            for rep in range(cfg["reps"]):
                runs.append(_search_once(ctx, layout, f"modcap-{key}-{layout}-{rep}", model_env))
            raw[layout if key in ("detoxify", "rules") else f"{layout}-{key}"] = runs
            rows.append(_row(figure, runs, model, cfg, duration))
    return {"rows": rows, "raw": raw}


def _search_once(
    ctx: dict, layout: str, name: str, model_env: dict[str, str] | None = None
) -> dict[str, Any]:
    """One search on a fresh server and database of this layout (``model_env``: the model stage,
    by default the run's Detoxify plus the safety model)."""
    cfg = ctx["cfg"]
    size = cfg["modcap_size"]
    lo, hi = cfg["modcap_bounds"]
    target = _target(ctx, layout, model_env)
    try:
        settle(target["pids"], quiet=0.2, max_wait=120)
        _warm_worker(target["port"], target["members"])
        settle(target["pids"], quiet=0.2, max_wait=60)
        sockets = _room_sockets(target["members"], ROOM, size, min(size, 10))
        search = Search(
            cfg["modcap_start"],
            factor=cfg["search"]["factor"],
            resolution=cfg["search"]["resolution"],
            lo=lo,
            hi=hi,
        )
        r = ladder_run(
            target["port"],
            target["web_pids"],
            sockets,
            members=size,
            search=search,
            duration=cfg["modcap_step_seconds"],
            grace=cfg.get("grace", 1.0),
            n_procs=1,
            name=name,
            record_acks=True,
            monitor=Monitor(
                target["db"],
                ROOM,
                cfg.get("modcap_drain_seconds", 60),
                worker_pid=target.get("worker_pid"),
            ),
        )
        r.pop("acked_client_ids", None)
        r["pending_after"] = _pending(target["db"])
    finally:
        target["stop"]()
    for st in r["steps"]:  # the samples are many; keep their count (the peak is backlog_max)
        st["backlog_samples"] = len(st.get("backlog_samples") or [])
    return r


def figure_of(r: dict[str, Any]) -> tuple[float | None, Bound]:
    """One search's figure in msg/s with its bound: the believed best rate; with nothing passing,
    the lowest failing rate as an upper bound, or nothing when the load generator was saturated
    in that step ("unknown": no figure)."""
    bound = r.get("bound")
    if bound == "upper":
        f = lowest_fail(r.get("steps") or [])
        return (f["rate_msgs_per_s"] if f else None), "upper"
    if bound == "unknown":
        return None, None
    return r.get("best_rate"), bound


def _row(figure: str, runs: list[dict[str, Any]], model: str, cfg: dict, duration: float) -> dict:
    """The layout's row: the median of its searches' figures (every one in the note, ≥/≤ where
    bounded), the last search's steps described."""
    rate, bound = median_bound([figure_of(r) for r in runs])
    r = runs[-1]
    each = ", ".join(
        "–" if v is None else f"{_PREFIX_OF[b]}{v:.3g}" for v, b in map(figure_of, runs)
    )
    note = (
        f"{model}; {len(runs)} search(es), median (each: {each} msg/s); steps of {duration:g} s, searched within {cfg['modcap_bounds'][0]:g}–"
        f"{cfg['modcap_bounds'][1]:g} msg/s to {100 * (cfg['search']['resolution'] - 1):.0f} %; "
        f"a step passes when delivery passes (p99 ≤ {P99_LIMIT_MS:g} ms, nothing lost, no gap, in "
        f"order) and every acknowledged message is stored and assessed with send → assessed p95 ≤ "
        f"{TTF_P95_LIMIT_S:g} s and the backlog not growing"
    )
    ok = [s for s in r["steps"] if s["passed"] and s["rate_msgs_per_s"] == r.get("best_rate")]
    if ok:
        s = ok[-1]
        note += (
            f"; at the figure: delivery p99 {s['p99_ms']} ms, send → assessed p95 "
            f"{_s(s.get('ttf_p95_s'))}, peak backlog {s.get('backlog_max')}"
        )
    f = lowest_fail(r["steps"])
    if f:
        failed_on = list(f.get("moderation_failed_on") or [])
        if not (
            f["lost"] == 0
            and f["gaps"] == 0
            and f["out_of_order"] == 0
            and f["p99_ms"] is not None
            and f["p99_ms"] <= P99_LIMIT_MS
        ):
            failed_on.insert(
                0,
                f"delivery (p99 {f['p99_ms']} ms, lost {f['lost']}, gaps {f['gaps']}, out of order "
                f"{f['out_of_order']})",
            )
        note += (
            f"; lowest failing step {f['rate_msgs_per_s']:.3g} msg/s failed on: "
            f"{'; '.join(failed_on) or 'acknowledgements'} (send → assessed p95 "
            f"{_s(f.get('ttf_p95_s'))}, backlog growth {f.get('backlog_growth')} msg/s, server CPU "
            f"{f['server_cpu_pct']}%"
            + (
                f", worker CPU {f['worker_cpu_pct']}%"
                if f.get("worker_cpu_pct") is not None
                else ""
            )
            + f", load generator {f.get('loadgen_cpu_pct_max')}%)"
        )
    note += delivery_alone(r["steps"])
    if rate is None and r.get("bound") == "unknown":
        note = (
            "not measured: no step passed, and the load generator was saturated in the lowest "
            "failing one; " + note
        )
    if r.get("join_error"):
        note += f"; {r['join_error']}"
    return row(
        "moderated capacity",
        figure,
        None if rate is None else round(rate, 2),
        None,
        None,
        "(report)",
        None,
        note,
        kindred_bound=bound,
    )


def delivery_alone(steps: list[dict[str, Any]]) -> str:
    """What the chat did by itself in these steps, so a reader sees whether delivery or moderation
    bounds the figure. The search looked for the moderated limit, so when delivery never failed
    its own capacity is only ≥ the highest rate probed."""
    judged = [s for s in steps if "delivery_passed" in s]
    if not judged:
        return ""
    failed = [s["rate_msgs_per_s"] for s in judged if not s["delivery_passed"]]
    if failed:
        return f"; delivery alone first failed at {min(failed):.3g} msg/s"
    top = max(s["rate_msgs_per_s"] for s in judged)
    return (
        f"; delivery alone passed every step, up to {top:.3g} msg/s (its own capacity only ≥ that: "
        f"the search looked for moderation's limit)"
    )


def _s(v: float | None) -> str:
    return "n/a" if v is None else "∞" if v == float("inf") else f"{v:.2f} s"
