"""The prose of docs/performance.md: the method, and for each missed target the measured
bottleneck and what would move it.

Every number in the prose is read from this run's raw results, or is a setting of the product or
the harness, or sits in the "Earlier measurements" section, each with the commit it comes from
(HISTORY). A figure at a bound of its search is written as a bound ("≥"/"≤")."""

from __future__ import annotations

from typing import Any

from bench.scenarios import P99_LIMIT_MS
from bench.soak import RULE, SLOPE_PER_S, flatness, summary


def _missed(rows: list[dict], scenario: str) -> list[dict]:
    return [r for r in rows if r["scenario"] == scenario and r["met"] is False]


def _g(d: Any, *keys: Any) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


# Measurements from earlier commits that explain the design but were not repeated by this run:
# (scenario, text, commit where the figure was measured or first recorded, `git log -S`).
HISTORY: list[tuple[str, str, str]] = [
    (
        "fanout",
        "Before room sockets wrote straight to the wire, a delivery went through Channels' session "
        "wrapper, Daphne's `handle_reply`, autobahn's `sendMessage` and Twisted's deferred write; a py-spy "
        "profile put that at about 100 µs of the event loop per delivery.",
        "aa5c6d5",
    ),
    (
        "fanout",
        "After that change, the largest item in a py-spy profile of a room of 500 was the `send()` "
        "system call itself, then Python's loop over the sockets.",
        "a9a0601",
    ),
    (
        "fanout",
        "Building the idempotency look-up and the mute check once per process instead of compiling them "
        "with the ORM on every send took the in-process write path from 1.72–1.77 ms to 1.11–1.16 ms per message "
        "(alternating runs).",
        "4c75213",
    ),
    (
        "fanout",
        "Reusing a room's serialised history for joins (`chat.fanout.RecentHistory`) took a join's "
        "database work in a room with 50 messages from 7.9 ms to 2.25 ms.",
        "5d4b41c",
    ),
    (
        "moderation_cost",
        "A py-spy profile of the GIL holder at 226 msg/s (room of 50, embedded worker "
        "saturated): the worker's thread held the GIL in 45 % of the samples, the event loop in 35 %; recording "
        "each assessment (`do_record_assessment`) was 13 points of the worker's share.",
        "0f8108a",
    ),
    (
        "moderation_cost",
        "Two runs each with and without the worker thread's lower CPU priority "
        "(`MODERATION_WORKER_NICE`) differed by less than the run-to-run noise.",
        "0bd7d49",
    ),
    (
        "time_to_flag",
        "Before the worker sized its batches to `MODERATION_BATCH_SECONDS`, on a 2-core AMD EPYC "
        "at 80 % of capacity batches grew to seconds and p95 send → flag was 2.2 s (2.1–2.3 s in other "
        "runs); that p95 was over the flags that arrived, not over every bait message.",
        "bdf1d37",
    ),
    (
        "moderated_capacity",
        "The safety model used to read every message that had earlier ones from her with them too (a "
        "second, longer encode); it now does only where that could change the verdict (not risk "
        "already, own risk at least the context floor): 67 of 605 ordinary and 13 of 338 distress "
        "messages of the test split (v8), but nearly every bench message, whose numeric `#b` tag lifts v8's risk "
        "score above the floor. A cProfile of the worker on 400 test-split messages from five "
        "authors (SQLite, while a training run held both cores): 20.2 → 35.8 msg/s assessed.",
        "fe77957",
    ),
    (
        "moderated_capacity",
        "Recording a batch's assessments in one transaction (9 statements for 12 messages instead of "
        "about 8 each): a cProfile of the worker on 600 bench-style messages on PostgreSQL, while a "
        "training run held both cores, spent 2.75 s recording instead of 11.0 s (22.7 → 35.6 msg/s "
        "assessed); the model's encodes were then two thirds of its time.",
        "4b57a64",
    ),
    (
        "idle",
        "With the garbage collector's default thresholds a full collection walked every object of 5,000 "
        "connections, 0.2–0.6 s of the event loop each, several times a minute.",
        "c5256bd",
    ),
    (
        "moderated_capacity",
        "Until this commit the load generator's tag was digits, which the safety model read as times and "
        "dates: it flagged 21-27 of 400 tagged benign bench bodies (0 untagged) and sent nearly every one "
        "through its second, context encode. What that moved in moderated capacity was not resolved: "
        "with the safety model alone, production's layout measured 24.7 msg/s before and 45.2 and 29.3 in "
        "two runs after (embedded 33.4, then 53.8 and 34.9), one repetition each on a shared VM.",
        "31b81fb",
    ),
    (
        "moderated_capacity",
        "Until this commit only Detoxify's loader set PyTorch's thread count, so with Detoxify off the "
        "worker's encodes took one thread per core. In the quick run just before (fe1f080) the production "
        "worker process with the safety model alone was at 51.6 % of a core at 8 msg/s and 110.1 % at "
        "16 msg/s, and the layout carried 29.3 msg/s; in a `--quick --only time_to_flag moderated_capacity` "
        "run straight after this commit: 35.6 % and 66.5 %, never above 78.4 %, and 41.5 msg/s (one "
        "repetition each). A cProfile of the worker alone then (PostgreSQL, batches of 4, 500 bench "
        "messages): 40 ms of CPU per message, 77 % of it in the safety model's encodes, almost all per-call "
        "overhead: four forward passes per batch (two length groups, for the message and for her context), "
        "each 37 int8 linear calls of 0.47 ms.",
        "1c5c11c",
    ),
    (
        "moderated_capacity",
        "Until this commit every fan-out and moderation scenario sent one supportive line ("
        '"thanks so much for this, it really helps to hear"), whose own risk score (0.07-0.20) is above '
        "the safety model's context floor, so every bench message from a member who had written in the last "
        "ten minutes (all of them) took the model's second, longer encode with her recent messages; on the "
        "test split 67 of 605 ordinary messages (11 %) do. The bench now sends a mix in which one line in "
        "nine does (`bench.util.BENCH_TEXTS`); the figures before it are in the commits before this one.",
        "2a43da2",
    ),
    (
        "moderated_capacity",
        "The safety model reads each sentence of a message of several alone as well as the whole "
        "(69c0a01), and the bench's everyday mix became four single and four two-sentence lines plus "
        "the supportive reply (44 % of the test split's ordinary messages have two or more sentences); "
        "the figures before it are in the commits before this one.",
        "6b62ed5",
    ),
    (
        "idle",
        "Freezing what the processes load at start and collecting less often (`config/gcpolicy.py`) "
        "took the collector's time in a 5,000-socket join storm from 5.6–6.8 s to under 1 s.",
        "1247d8e",
    ),
    (
        "classifier",
        "On the Intel Xeon machine of earlier sessions, batching and int8 together measured "
        "5.4–5.6× `predict()` per message on all three architectures.",
        "68cc012",
    ),
]


def history(scenarios: list[str] | None = None) -> str:
    """The earlier measurements for these scenarios, each marked with its commit."""
    items = [(sc, t, c) for sc, t, c in HISTORY if scenarios is None or sc in scenarios]
    if not items:
        return ""
    out = [
        "## Earlier measurements (history, not this run)",
        "",
        "These figures explain why the code is as it is. They were measured in earlier sessions, on the "
        "commit named, and were not repeated by this run.",
        "",
    ]
    out += [f"- {t} (commit `{c}`)" for _sc, t, c in items]
    return "\n".join(out) + "\n"


def _busiest_cpu(runs: list[dict]) -> tuple[float, float] | None:
    """(server CPU µs per delivery, deliveries/s) at the busiest step with nothing lost, over
    every repetition; CPU and deliveries of the same interval (runs recorded before
    cpu_us_per_delivery existed divided by the nominal window's rate, about a third too low:
    not used)."""
    steps = [
        st
        for r in runs
        for st in r.get("steps", [])
        if st.get("cpu_us_per_delivery") and st["lost"] == 0
    ]
    if not steps:
        return None
    st = max(steps, key=lambda x: x["deliveries_per_s"])
    return st["cpu_us_per_delivery"], st["deliveries_per_s"]


def _bound_text(run: dict, scale: float = 1.0, unit: str = "msg/s") -> str:
    """A run's figure in words, with its bound."""
    b, rate = run.get("bound"), run.get("best_rate")
    if run.get("failure_loadgen_saturated"):
        f = _first_fail(run)
        why = (
            (
                f"the load generator was saturated in its lowest failing step ({f['rate_msgs_per_s'] * scale:g} {unit}: "
                f"generator CPU {f.get('loadgen_cpu_pct_max')}% of a core, sends {f.get('send_lag_p99_ms')} ms late "
                f"at p99)"
            )
            if f
            else "the load generator was saturated"
        )
        if rate is None:
            return f"passed no step, and {why}, so nothing is known about its figure"
        return f"passed up to {rate * scale:g} {unit}, and {why}, so its figure is only ≥ that"
    if b == "upper":
        f = _first_fail(run)
        return (
            f"failed even the lowest rate it probed ({f['rate_msgs_per_s'] * scale:g} {unit}): its figure is "
            f"below that"
            if f
            else "passed no step"
        )
    if rate is None:
        return "passed no step"
    return f"passed up to {rate * scale:g} {unit}" + (
        " — the top of what it probed, so its figure is only ≥ that" if b == "lower" else ""
    )


# A capacity measured by a burst the worker kept up with is only "≥"; one whose backlog outlasted
# the wait only "≤" (scenarios.flag_capacity).
_CAP_PREFIX = {"lower": "≥ ", "upper": "≤ "}


def _first_fail(run: dict) -> dict | None:
    """The failing step with the lowest rate (the quick mode's search does not probe in order)."""
    return min(
        (s for s in run.get("steps", []) if not s["passed"]),
        key=lambda s: s["rate_msgs_per_s"],
        default=None,
    )


def analysis(
    rows: list[dict[str, Any]],
    results: dict[str, Any],
    meta: dict[str, Any],
    *,
    with_history: bool = True,
) -> str:
    """Every number below is read from this run's raw results; the prose says what they mean."""
    out = ["## Targets: met, missed, and what would move them", ""]
    met = [r for r in rows if r["met"] is True]
    missed = [r for r in rows if r["met"] is False]
    undecided = [
        r
        for r in rows
        if r["met"] is None
        and r["target"] not in ("", "(report)", "(info)")
        and not r["target"].startswith("(")
    ]
    bounded = [
        r
        for r in undecided
        if any(r.get(k) for k in ("kindred_bound", "baseline_bound", "ratio_bound"))
    ]
    out.append(
        f"{len(met)} targeted figures met, {len(missed)} missed, {len(undecided)} undecided, inconclusive or "
        f"not measured in this run"
        + (
            f" ({len(bounded)} of them because a figure sits at a bound of its search, printed ≥/≤)"
            if bounded
            else ""
        )
        + "."
    )
    out.append("")
    raw = {k: v.get("raw", {}) for k, v in results.items()}
    cpus = (meta.get("machine") or {}).get("cpus")
    cores = (
        f"{cpus}-core" if cpus else "shared"
    )  # this run's machine, as bench.util.machine() read it

    fan = raw.get("fanout") or {}
    prof = fan.get("sendprof") or {}
    if "fanout" in results:
        lines = []
        for size, per in fan.items():
            if not size.isdigit() or not per.get("kindred"):
                continue
            k = per["kindred"][-1]
            if k.get("join_error"):
                lines.append(f"room of {size}: {k['join_error']}")
                continue
            f = _first_fail(k)
            if (
                f
                and f is (k.get("steps") or [None])[0]
                and f["server_cpu_pct"] > 90
                and (f["p50_ms"] or 0) > 1000
            ):
                lines.append(
                    f"room of {size}: all joined in {k.get('join_seconds')} s, but the first step "
                    f"({f['rate_msgs_per_s']:.3g} msg/s) ran with the server at {f['server_cpu_pct']}% "
                    f"of a core, p50 {f['p50_ms']} ms, {f['lost']} lost: most likely still working "
                    f"through the join storm's presence frames (the harness's settle check had seen a "
                    f"quiet half-second after {k.get('settle_seconds')} s)"
                )
            elif f:
                lines.append(
                    f"room of {size}: Kindred {_bound_text(k, int(size), 'deliveries/s')}; first failing "
                    f"step {f['rate_msgs_per_s'] * int(size):g} deliveries/s "
                    f"({f['rate_msgs_per_s']:.3g} msg/s): p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
                    f"lost {f['lost']}, gaps {f.get('gaps', 0)}, out of order {f.get('out_of_order', 0)}, "
                    f"server CPU {f['server_cpu_pct']}% of a core"
                )
            else:
                lines.append(f"room of {size}: Kindred {_bound_text(k, int(size), 'deliveries/s')}")
            for which, name in (
                ("baseline", "the baseline"),
                ("samework", "the same-work baseline"),
            ):
                bl = (per.get(which) or [None])[-1]
                if bl and bl.get("bound"):
                    lines.append(
                        f"room of {size}: {name} {_bound_text(bl, int(size), 'deliveries/s')}"
                    )
        cpu_lines, samework_lines = [], []
        layouts = [("", s, p) for s, p in fan.items() if s.isdigit()]
        layouts += [(", production layout", s, p) for s, p in (fan.get("production") or {}).items()]
        for layout, size, per in layouts:
            vals = {w: _busiest_cpu(per.get(w, [])) for w in ("kindred", "baseline", "samework")}
            if vals["kindred"] and vals["samework"]:
                k, w = vals["kindred"], vals["samework"]
                samework_lines.append(
                    f"room of {size}{layout}: Kindred {k[0]:.0f} µs at {k[1]:g} deliveries/s, "
                    f"same-work baseline {w[0]:.0f} µs at {w[1]:g}/s ({k[0] / w[0]:.1f}×)"
                )
            if layout:
                continue
            if int(size) < 50:  # in small rooms the sends' own work dominates
                continue
            if vals["kindred"] and vals["baseline"]:
                k, b = vals["kindred"], vals["baseline"]
                cpu_lines.append(
                    f"room of {size}: Kindred {k[0]:.0f} µs at {k[1]:g} deliveries/s, baseline "
                    f"{b[0]:.0f} µs at {b[1]:g}/s ({k[0] / b[0]:.1f}×)"
                )
        pc, pp, pj = (
            prof.get("per-call connection"),
            prof.get("persistent connection"),
            prof.get("join"),
        )
        text = "**Fan-out.** " + ("; ".join(lines) + ". " if lines else "")
        text += (
            "How Kindred delivers: the message is stored first (its sequence number taken inside the "
            "insert's transaction), then one event goes to the room's channel-layer group, in which each "
            "web process is subscribed once (`chat/fanout.py`). The process frames the message once "
            "(rendered once when stored; framed once with autobahn's `prepareMessage`) and writes the same "
            "bytes to every local ordinary socket in one pass, straight to the socket when nothing is "
            "buffered for it (`config/daphne.py`, the `kindred.direct_send` scope extension), as "
            "`websockets.broadcast()` does; only the author, moderators and members with a mute/block list "
            "get their own rendering through ASGI. "
        )
        if cpu_lines:
            text += (
                "*Per delivery*, server CPU time per delivered message (the web process's CPU over a step's "
                "whole round trip ÷ the deliveries received in that same round trip, at the busiest step "
                "with nothing lost; it includes the sends' own work): "
                + "; ".join(cpu_lines)
                + ". "
            )
        if pp:
            text += (
                f"*Per message*, in-process, the room socket's database work for one `message.send` "
                f"costs {pp['total']} ms (median, persistent connection as in the product; "
                f"{pc['total'] if pc else '–'} ms opening a connection per call) and {pp['queries']:g} SQL "
                f"statements (idempotency look-up, mute check, then BEGIN, the room's sequence "
                f"`UPDATE … RETURNING`, INSERT, COMMIT), plus the inline safety rules and rendering. "
                f"The idempotency look-up and the mute check run statements built once per process. "
            )
        if samework_lines:
            text += (
                "*Against the same work*: the same-work baseline (`bench/baseline_samework.py`) stores "
                "each message as Kindred must, on the same kind of database (its sequence number taken "
                "inside the insert's transaction, one transaction per message, one writer thread), "
                "escapes its body, acknowledges it and broadcasts it with `websockets.broadcast()`, and "
                "does nothing else; Kindred ÷ same-work is what the rest of Kindred costs (Daphne and "
                "Channels, authentication and the session, the ORM, the idempotency look-up and the "
                "mute check, the inline safety rules, the channel layer, linkifying). Server CPU per "
                "delivery measured the same way: " + "; ".join(samework_lines) + ". "
            )
        sizes = sorted(int(s) for s in fan if s != "sendprof" and str(s).isdigit())
        smallest = f"this run's smallest room ({sizes[0]} members)" if sizes else "a small room"
        text += (
            "The store-before-deliver write is what a small, busy room is bound by: the bare baseline "
            f"stores nothing, authenticates nobody and checks nothing (it is the floor, not a like-for-like "
            f"comparison), so in {smallest} Kindred's figure is "
            "bounded by its message rate (one web process, Python's GIL serialising the ORM work, SQLite "
            "one writer at a time) more than by its fan-out; the bigger the room, the more of the work is "
            "delivery. What would move both: more web "
            "processes (the scale-out scenario shows they share Redis and PostgreSQL correctly, each one "
            "subscribing once per room), PostgreSQL instead of SQLite for concurrent writers, and an ASGI "
            "server with a C WebSocket framer (outside the chosen stack: Daphne). "
        )
        sw_missed = [
            r for r in _missed(rows, "fan-out") if "same-work" in r["figure"] and r.get("ratio")
        ]
        if sw_missed:
            text += (
                "Against the same-work baseline the target was missed in "
                + ", ".join(
                    f"the {r['figure'].split(':')[0]} ({r['ratio']:.2f}× its figure)"
                    for r in sw_missed
                )
                + ": the difference is what Kindred does beyond the storing, escaping and "
                "broadcasting every such server must do. What would move it: fewer layers per frame "
                "between the socket and the consumer (Channels' and Daphne's per-frame Python), the "
                "idempotency look-up, the mute check and the insert in fewer statements, and less Python "
                "around each statement (the ORM builds and reads every row in Python). "
            )
        if pj:
            text += (
                f"Joining costs {pj['total']} ms and {pj['queries']:g} statements in-process (user, room and "
                f"mute/block look-ups, membership, presence insert and count, the last "
                f"50 messages with their quotes and reactions, notices, who is present), plus one `presence` "
                f"delta to the members present, rendered once per process. That figure reads the history "
                f"every time; a web process reuses a room's history, as it serialised it for the last "
                f"join, while nothing in the room has changed (`chat.fanout.RecentHistory`, at most "
                f"`CHAT_HISTORY_CACHE_SECONDS`), which is what a reconnect storm after a deploy is "
                f"made of."
            )
        out += [text, ""]

    mc = raw.get("moderation_cost") or {}
    if "moderation_cost" in results:
        text = (
            "**Moderation cost.** With the embedded worker the model runs inside the web process "
            f"(`make run`'s single-process mode), in a thread: on this {cores} machine the model, the web "
            "server and the load generator compete for the same cores. The search's upper steps offer far "
            "more messages than the model can assess (its capacity is in the time-to-flag figures), so "
            "with assessment on the worker is busy for the whole run with a growing backlog. Its thread "
            "runs at a lower CPU priority than the chat (`MODERATION_WORKER_NICE`), but it shares the "
            "process's GIL: tokenizing, the Python between the model's operations and each assessment's "
            "database writes hold it, and delivery waits for them (see the earlier measurements below). "
        )
        for r in rows:
            if r["scenario"] == "moderation cost" and "both configurations failed" in (
                r.get("note") or ""
            ):
                text += (
                    "This run's comparison is inconclusive (see the notes in the table): the comparison "
                    "needs a rate at which Kindred passes with assessment off, and on this shared machine "
                    "both configurations failed the lowest rate the search probed. "
                )
                break
        for w, label in (
            ("off", "off (SQLite)"),
            ("on", "on, embedded worker"),
            ("pg-off", "off (PostgreSQL + Redis)"),
            ("pg-proc", "on, worker process"),
        ):
            runs = mc.get(w) or []
            if runs:
                f = _first_fail(runs[-1])
                text += (
                    f"Assessment {label}: {_bound_text(runs[-1])}"
                    + (
                        f"; its lowest failing step {f['rate_msgs_per_s']:g} msg/s had p50 {f['p50_ms']} ms, "
                        f"p99 {f['p99_ms']} ms, web process CPU {f['server_cpu_pct']}%"
                        if f and runs[-1].get("bound") != "upper"
                        else ""
                    )
                    + ". "
                )
        if "pg-proc" not in mc:
            text += (
                "Production's layout (the worker as its own process, PostgreSQL and Redis) is measured "
                "in full mode (`make bench`, or `--set modcost_production=true`). "
            )
        text += (
            "With the worker as its own process there is no shared GIL, and the worker's lower CPU "
            f"priority leaves the web process the cores it needs; on this {cores} machine the load generator, "
            "PostgreSQL and Redis still compete with both. What would move it: the worker on its own "
            "cores or machine, as production can run it; recording an assessment with less Python "
            "inside its write transaction (rules and policy before it, one transaction per batch); int8 (`MODERATION_QUANTIZE=auto`, used "
            "once `fetch_models` has verified ≥ 98.5 % decision agreement on the real checkpoint) cuts the "
            "model's CPU time per message (classifier figures)."
        )
        out += [text, ""]

    cls_missed = _missed(rows, "classifier")
    if any("msgs/s" in r["figure"] for r in cls_missed):
        out += [_classifier_text(raw.get("classifier") or {}), ""]
    sa = next(
        (
            r["agreement_safety_model"]
            for r in (raw.get("classifier") or {}).values()
            if isinstance(r, dict) and r.get("agreement_safety_model")
        ),
        None,
    )
    if sa and any("safety model" in r["figure"] for r in cls_missed):
        out += [_safety_agreement_text(sa), ""]

    tf = raw.get("time_to_flag") or {}
    if tf:
        fp, q = tf.get("fp32") or {}, tf.get("int8") or {}
        text = "**Time to flag.** "
        if fp:
            text += (
                f"With the product default with Detoxify installed (fp32) the embedded worker's capacity was "
                f"{_CAP_PREFIX.get(fp.get('capacity_bound'), '')}{fp.get('capacity_msgs_per_s', 0):.1f} msg/s; send → assessment stored, over the steady "
                f"and burst phases together, had p50 {_fmt(fp.get('assessment_delays_p50'))} s and p95 "
                f"{_fmt(fp.get('assessment_delays_p95'))} s, while delivery to the room stayed at p50 "
                f"{_g(fp, 'steady', 'p50_ms')} ms in the steady phase: the time to flag is the model (a "
                f"message waits for the batch in front of it and for its own), not the live feed. The "
                f"worker therefore sizes each batch from its measured pace to take about "
                f"`MODERATION_BATCH_SECONDS` instead of always taking up to 32; smaller batches cost some "
                f"peak throughput, which the capacity burst measures. "
            )
            rc = fp.get("bait_reconciled")
            if rc:
                text += (
                    f"Of the {rc['bait']} bait messages of the steady phase (every message the server's model "
                    f"stage flagged, plus those judged flag-worthy as sent that it never assessed), "
                    f"{rc['within']} were flagged on the live feed within the step and its grace, "
                    f"{rc['late']} later and {rc['missing']} not at all; the p95 is over all of them. "
                )
        alone = tf.get("alone") or {}
        if alone:
            p95 = _g(alone, "bait_reconciled", "p95_s")
            text += (
                f"With Kindred's safety model alone (no Detoxify weights, as `make run` ships) the "
                f"embedded worker's capacity was "
                f"{_CAP_PREFIX.get(alone.get('capacity_bound'), '')}{alone.get('capacity_msgs_per_s', 0):.1f} msg/s "
                f"and p95 send → flag over every bait message was {_fmt(p95)} s at 80 % of that rate "
                f"(send → assessment stored p95 {_fmt(alone.get('assessment_delays_p95'))} s). "
            )
        if q:
            p95 = _g(q, "bait_reconciled", "p95_s")
            text += (
                f"With int8 (`MODERATION_QUANTIZE=1`) capacity was "
                f"{_CAP_PREFIX.get(q.get('capacity_bound'), '')}{q.get('capacity_msgs_per_s', 0):.1f} msg/s and "
                f"p95 send → flag over every bait message {_fmt(p95)} s at 80 % of that rate. "
            )
        for lbl, v in (("fp32", fp), ("int8", q)):
            b = v.get("burst") or {}
            if b.get("lost"):
                grace = v.get("burst_grace_s", 1.0)  # runs before the grace was recorded used 1 s
                text += (
                    f"In the 2× burst ({lbl}) {b['lost']} of {b['expected']} deliveries had not arrived "
                    f"{grace:g} s after the burst ended (delivery p50 {b['p50_ms']} ms, max {b['max_ms']} ms; nothing "
                    f"was refused: {b['acked']} of {b['sent']} sends acknowledged): with the embedded worker, "
                    f"scoring and delivery share one process and two busy cores, so an over-capacity burst "
                    f"delays delivery itself by seconds. "
                )
        text += (
            "What would move it further: int8 (the default once `fetch_models` has checked real-weight "
            "agreement), and the worker as its own process (`manage.py moderation_worker`, as in "
            "production) so that a backlog of assessments never competes with delivery in one process."
        )
        out += [text, ""]

    cap = raw.get("moderated_capacity") or {}
    if cap:
        out += [_modcap_text(cap), ""]

    ov = raw.get("overload") or {}
    if ov:
        out += [_overload_text(ov), ""]

    sk = raw.get("soak") or {}
    if sk.get("samples"):
        out += [_soak_text(sk), ""]

    idle = raw.get("idle") or {}
    if idle:
        c = idle.get("connect") or {}
        text = (
            f"**Idle connections.** {c.get('connected')} of {meta['cfg'].get('idle_sockets')} sockets "
            f"connected in {idle.get('connect_seconds_total')} s with the web process at "
            f"{idle.get('connect_cpu_pct')}% of a core (each join: the authenticated handshake with its "
            "session and user look-ups, two database calls on the thread pool, and a presence delta to the "
            "room). "
        )
        if c.get("gave_up"):
            text += (
                f"{c['gave_up']} sockets were still connecting when the harness gave up: the "
                f"{meta['cfg'].get('idle_sockets')}-socket target is missed on connect rate, not on memory (per-socket memory and idle CPU are measured "
                "over the sockets that did connect). "
            )
        if idle.get("pongs"):
            hold = meta["cfg"].get("idle_seconds", 0)
            quiet = idle.get("idle_cpu_pct_without_pings")
            ping_part = idle.get("idle_cpu_pct", 0) - (quiet or 0)
            per = (ping_part / 100 * hold) / idle["pongs"] * 1000
            text += (
                f"Idle CPU: {idle.get('idle_cpu_pct')}% of a core over {hold} s while {idle['pongs']} pings "
                f"were answered"
                + (
                    f"; the same sockets without pings used {quiet}% (Daphne's sweeps over "
                    f"every connection and the hub's presence heartbeat), so the pings "
                    f"cost about {per:.2f} ms of CPU each"
                    if quiet is not None
                    else f", i.e. about {per:.2f} ms of CPU per ping if pings were all it did"
                )
                + ". "
            )
        text += (
            "A ping touches no database and no channel layer: the web process marks all its sockets "
            "present in a few statements every 20 s (`chat/fanout.py`), the read position is written "
            "only when it moved, and once the room consumer has handled a ping, Kindred's Daphne answers "
            "each identical repeat (same read position) itself, with the same pong written straight to "
            "the socket (`config/daphne.py`), once autobahn has parsed the frame (the wire-level "
            "shortcut that recognised a repeat before autobahn's parser was removed in issue 17: it "
            "answered from inside a split control frame). "
            "The web server and the worker freeze what they load at start and collect less often than "
            "Python's defaults (`config/gcpolicy.py`, `GC_THRESHOLDS`; see the earlier measurements "
            "below). Two "
            "Daphne defaults were tuned for thousands of sockets: its keep-alive pings (30 s, so clients "
            "that ping every 25 s are never pinged as well) and its two sweeps over every connection (every "
            "5 and 6 s instead of 1 and 2 s). Channels' per-frame `close_old_connections` thread hop is "
            "skipped on the room socket."
        )
        out += [text, ""]

    so = raw.get("scale_out") or {}
    if so:
        text = (
            f"**Scale-out.** On this {cores} machine, two web processes and two workers share the CPUs with Redis, "
            "PostgreSQL and the load generator, so the throughput ratio shows coordination cost rather than "
            "added capacity; the correctness figures (nothing lost, nothing assessed twice, order kept) are "
            "the point here. Each message is pushed after its own commit, so two messages stored a moment "
            "apart on different processes can reach Redis in the opposite order; each web process holds a "
            "message that overtook an earlier one until the earlier one arrives (at most "
            "`CHAT_ORDER_WAIT_SECONDS`, 0.25 s), so members see seq order on the wire instead of a gap, a "
            "resume and a duplicate. Out-of-order counts come from every step, failing ones included. "
        )
        for n, r in so.items():
            text += f"{n} web + {n} worker: {_bound_text(r)}. "
            f = _first_fail(r)
            if f:
                text += (
                    f"{n} web + {n} worker: first failing step {f['rate_msgs_per_s']:g} msg/s, p50 "
                    f"{f['p50_ms']} ms, p99 {f['p99_ms']} ms, lost {f['lost']}, web CPU "
                    f"{f['server_cpu_pct']}%. "
                )
        out += [text, ""]
    if _missed(rows, "phone page weight"):
        out += [
            "**Page weight.** The biggest items are listed in the raw results (`page_weight.raw.items`).",
            "",
        ]
    if with_history:
        out.append(history(list(results)))
    return "\n".join(out)


_LAYOUT = {
    "embedded": "With the embedded worker (one process, SQLite: `make run`)",
    "production": "With the worker as its own process (PostgreSQL + Redis: production's layout)",
    "embedded-alone": "With Kindred's safety model alone (no Detoxify weights, as `make run` "
    "ships) and the embedded worker",
    "production-alone": "With Kindred's safety model alone and the worker as its own process "
    "(PostgreSQL + Redis)",
}


def _modcap_text(cap: dict[str, Any]) -> str:
    """Moderated capacity per layout, and which half of the pass rule bounded it."""
    text = (
        "**Moderated capacity.** The message rate a room carries with moderation keeping up: a "
        "step passes only if delivery passes and every acknowledged message is stored and "
        "assessed, send → assessed p95 within its limit and the backlog not growing. "
    )
    for layout, runs in cap.items():
        runs = runs if isinstance(runs, list) else [runs]
        if not runs:
            continue
        r = runs[-1]
        text += (
            f"{_LAYOUT.get(layout, layout)} "
            + (
                f"the last of {len(runs)} searches (the table has their median) "
                if len(runs) > 1
                else "it "
            )
            + _bound_text(r)
        )
        best = r.get("best_rate")
        at = [s for s in r.get("steps", []) if s["passed"] and s["rate_msgs_per_s"] == best]
        if at:
            s = at[-1]
            text += (
                f" (there: delivery p99 {s['p99_ms']} ms, send → assessed p95 "
                f"{_fmt(s.get('ttf_p95_s'))} s, backlog at most {s.get('backlog_max')})"
            )
        f = _first_fail(r)
        if f:
            by = (
                "moderation (delivery itself passed)"
                if f.get("delivery_passed")
                else "delivery" + (" and moderation" if f.get("moderation_passed") is False else "")
            )
            text += (
                f"; its lowest failing step, {f['rate_msgs_per_s']:.3g} msg/s, failed on {by}: "
                + "; ".join(
                    (
                        []
                        if f.get("delivery_passed")
                        else [f"delivery p99 {f['p99_ms']} ms, lost {f['lost']}"]
                    )
                    + list(f.get("moderation_failed_on") or [])
                )
            )
        text += ". "
    return text.rstrip()


def _overload_text(ov: dict[str, Any]) -> str:
    """Each burst above capacity and how the room came back, and whether anything acknowledged
    was lost."""
    text = "**Overload.** "
    cap = ov.get("capacity") or {}
    if not ov.get("bursts"):
        return text + "Not driven: this run had no capacity figure for the room to go above."

    def after(v: float | None) -> str:
        return f"not within the {ov['after_s']:g} s watched" if v is None else f"after {v:g} s"

    def ms(v: float | None) -> str:
        return "–" if v is None else "∞" if v == float("inf") else f"{v:g}"

    text += (
        f"A room of {ov['size']} in `make run`'s layout (embedded worker, SQLite), whose capacity was "
        f"{_CAP_PREFIX.get(cap.get('bound'), '')}{cap['rate']:.3g} msg/s ({cap.get('source')}), was "
        f"driven above it, each burst followed at once by {ov['after_share']:g}× capacity while it "
        "recovered"
        + (
            " (the capacity is only a lower bound, so the bursts may not have exceeded it)"
            if cap.get("bound") == "lower"
            else ""
        )
        + ". "
    )
    for b in ov["bursts"]:
        f = b["figures"]
        text += (
            f"At {b['factor']:g}× ({b['rate']:.3g} msg/s for {ov['burst_s']:g} s) the burst's "
            f"deliveries had p50 {ms(f['p50_ms'])} ms, p99 {ms(f['p99_ms'])} ms and max "
            f"{ms(f['max_ms'])} ms, and {f['missing']} of {f['expected']} never arrived; "
            + (
                f"all of the burst's messages had reached every member {f['delivered_all_s']:g} s "
                f"after it ended; "
                if f["delivered_all_s"] is not None
                else ""
            )
            + (
                f"all of them had been assessed {f['assessed_all_s']:g} s after it ended"
                if f["assessed_all_s"] is not None
                else "some of them were still not assessed after the drain wait"
            )
            + f"; delivery p99 was within "
            f"{P99_LIMIT_MS:g} ms again {after(f['delivery_recovered_s'])}, with the web process "
            f"at {b['server_cpu_pct']}% of a core over the step. "
        )
    lost = ov.get("acked_not_stored")
    text += f"Acknowledged messages missing from the database: {lost} of {ov.get('acked')}."
    if lost:
        text += (
            " Kindred acknowledges a message only once the call that stores it has returned "
            "(`chat/consumers.py`, `chat.actions.do_send_message`): a missing row means that order "
            "broke somewhere, and the web process's log (`var/bench/logs/overload.log`) is where "
            "to start."
        )
    return text


def _soak_text(sk: dict[str, Any]) -> str:
    """Whether the web process stayed flat over the soak, on which series it did not, and
    whether anything was lost or refused on the way."""
    seconds = sk["seconds"]
    per = sk.get("slope_minutes", SLOPE_PER_S / 60)
    flat = flatness(
        sk["samples"], seconds=seconds, until=sk.get("steady_until"), rule=sk.get("rule") or RULE
    )
    half = [x for x in sk["samples"] if x[0] >= seconds / 2]
    parts = []
    for name, col, scale, unit in (
        ("RSS", 1, 2**20, " MiB"),
        ("file descriptors", 2, 1, ""),
        ("threads", 3, 1, ""),
    ):
        a = summary(sk["samples"], col, scale=scale, per_s=60 * per)
        h = summary(half, col, scale=scale, per_s=60 * per)
        parts.append(
            f"{name} {a['start']:.4g} → {a['end']:.4g}{unit} ({h['slope']:+.3g}{unit} per "
            f"{per:g} min over the second half)"
        )
    verdict = {True: "stayed flat", False: "did not stay flat", None: "was not judged"}[flat["met"]]
    text = (
        f"**Soak.** Over {seconds / 60:g} minutes of mixed load on {sk['members']} sockets in "
        f"{len(sk['sizes'])} rooms, the web process {verdict}: " + "; ".join(parts) + ". "
    )
    if flat["met"] is None:
        text += f"The rule did not decide: {flat.get('why')}. "
    failed = [n for n in ("rss", "fds", "threads") if n in flat and not flat[n]["ok"]]
    if "rss" in failed:
        r = flat["rss"]
        text += (
            f"RSS rose {r['growth_pct']:.3g} % over the second half ({r['rise_bytes'] / 2**20:.1f} "
            "MiB), after the first half had warmed the caches: something kept per message, "
            "per rejoin or per frame is not let go (a cache without a bound, a per-socket object "
            "outliving its socket); a `tracemalloc` snapshot of the web process at each end of the "
            "second half would name it. "
        )
    for n, what in (("fds", "file descriptors"), ("threads", "threads")):
        if n in failed:
            f = flat[n]
            text += (
                f"Its {what} ended at {f['end']:g}, above the {f['reference']:g} of the second "
                f"half's start: something opened per rejoin or per frame is not closed"
                + (
                    " (a socket, or a database connection held by a worker thread)"
                    if n == "fds"
                    else " (a thread started per task instead of taken from a pool)"
                )
                + ". "
            )
    d = sk.get("deliveries") or {}
    errors = sum((sk.get("errors") or {}).values()) + sum((sk.get("closes") or {}).values())
    text += (
        f"Along the way {sk.get('acked_not_stored')} acknowledged messages were missing from the "
        f"database, {d.get('lost')} of {d.get('expected')} deliveries were lost, and sockets got "
        f"{errors} error frames or closes they should not have; delivery p99 over the whole soak "
        f"was {d.get('p99_ms')} ms."
    )
    return text


def _classifier_text(cls: dict[str, Any]) -> str:
    from statistics import median

    text = "**Classifier.** The int8 target was missed in this run. Medians (msgs/s, every repetition in brackets): "
    parts = []
    for model, r in cls.items():
        b, f, q = median(r["baseline"]), median(r["fp32_batched"]), median(r["int8_batched"])
        parts.append(
            f"{model}: predict() per message {b:.1f} {[round(x, 1) for x in r['baseline']]}, batched fp32 "
            f"{f:.1f} {[round(x, 1) for x in r['fp32_batched']]} ({f / b:.2f}× from batching), batched int8 "
            f"{q:.1f} {[round(x, 1) for x in r['int8_batched']]} ({q / f:.2f}× more from int8, {q / b:.2f}× "
            f"in all)"
        )
    text += "; ".join(parts) + ". "
    caps = sorted({f"{r.get('cpu_capability')}" for r in cls.values() if r.get("cpu_capability")})
    engines = sorted(
        {f"{r.get('quantized_engine')}" for r in cls.values() if r.get("quantized_engine")}
    )
    text += (
        "The target needs batching and int8 together to give 4×, and how much int8 gives depends on the "
        "CPU's integer dot-product instructions: torch reported this run's CPU capability as "
        f"{', '.join(caps) or 'unknown'} (quantized engine {', '.join(engines) or 'unknown'}). On an AVX2-only "
        "CPU (no AVX-512, no VNNI dot-product instructions) int8 adds much "
        "less, and batching adds little for BERT with one thread (the matrix products are already large per "
        "message; batching saves per-call overhead and pays for padding). What would move it on such "
        "CPUs: an inference runtime with fused attention and int8 kernels tuned for AVX2 (ONNX Runtime, "
        "named in the issue; a new dependency with an export step in `fetch_models`), a shorter maximum "
        "sequence length for chat messages, and the worker as its own process with more than one thread. "
        "Decision agreement int8 vs fp32 is not claimed on random weights unless it could have failed"
    )
    for model, r in cls.items():
        ag = r.get("agreement_random_weights") or {}
        if ag.get("score_range") and not ag.get("product_agreement_can_fail"):
            text += (
                f" ({model}'s fp32 scores in this run spanned {ag['score_range'][0]}–{ag['score_range'][1]}, "
                f"every one at least {ag.get('min_margin_to_threshold')} from its threshold)"
            )
    text += (
        "; real-weight agreement is reported when `MODELS_DIR` holds real weights, and Kindred's own "
        "safety model's int8 check is its own row."
    )
    return text


def _safety_agreement_text(sa: dict[str, Any]) -> str:
    """Why Kindred's safety model's int8 check missed, from this run's measurement."""
    changed = sa.get("verdicts_changed") or []
    moves: dict[str, int] = {}
    for c in changed:
        key = f"{c['fp32']} → {c['int8']}"
        moves[key] = moves.get(key, 0) + 1
    return (
        f"**Safety model int8.** As served (int8, per its card) {sa['version']} gave a different verdict "
        f"from the same model in fp32 on {len(changed)} of {sa['messages']} held-out messages "
        f"({100 * sa['verdict_agreement']:.1f} % agreement against the {100 * sa.get('bar', 0.985):g} % the "
        f"product asks of Detoxify's int8); the verdicts moved "
        + ", ".join(f"{k} ({v})" for k, v in sorted(moves.items(), key=lambda kv: -kv[1]))
        + f", and int8 moved a single score by up to {sa['max_abs_score_diff']}. The sample is spread "
        "evenly over the test split's labels, so it holds more messages near a decision than ordinary "
        "chat does. What would move it: serving the fp32 embedder (at the model tier's fp32 cost, "
        "`make bench-safety`), or a quantisation recipe checked against fp32 verdicts before it is served, "
        "as `fetch_models` does for Detoxify."
    )


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def method(meta: dict[str, Any]) -> str:
    return """## Method

- **Client ids.** Each load-generator fleet tags its client_ids, since the product is idempotent
  on (author, client_id) and refuses one already used in another room.
- **Processes.** Every server under test is a real process started by the harness:
  `python manage.py serve --port N` (Daphne; SQLite and the in-memory channel layer, i.e.
  `make run`), or for scale-out `serve` with `REDIS_URL` plus `manage.py moderation_worker`
  against a fresh PostgreSQL database the harness creates and drops. `DEBUG=0` (Django keeps every
  SQL query in memory with DEBUG on). Logs: `var/bench/logs/`.
- **Load generator.** `bench/loadgen.py`, separate processes (1–4), `websockets` clients over
  loopback only, permessage-deflate off on both sides. Accounts are made in bulk with the ORM and
  each socket authenticates with an ordinary Django session cookie (SessionStore encoding) and
  `Origin: http://127.0.0.1:<port>`. Every loop is bounded in count and in time. Latency is
  timed from each message's *scheduled* send time, so a generator running behind shows as
  latency (no coordinated omission); p50, p99, p99.9 and max are recorded. The generator shares
  the server's cores: each step records its processes' CPU, how late its sends were and how late its
  event loop woke; a step where it used ≥ 90 % of a core or sent > 25 ms late at p99 is marked
  saturated, and a failure in such a step does not bound a figure (it becomes "≥").
- **Rate limit.** `CHAT_RATE_LIMIT_COUNT` is raised to 1,000,000 for the benchmark: ten sender
  sockets stand in for a room full of people, each far faster than a person types.
- **Searches and bounds.** Each capacity figure is found by `bench.scenarios.Search`: bracket
  (double the offered rate while steps pass; halve while they fail, or drop to just below the
  rate an overloaded server acknowledged), then bisect geometrically between the last passing and
  the first failing rate until they are within 5 %. The figure is the highest passing rate below
  the lowest failing one. If the search's ceiling passed, the figure is printed "≥ x"; if even its
  floor failed, "≤ x"; such a row is "undecided (bound)" and never met or missed. A ratio within
  the searches' 5 % of its target is undecided too. Full mode repeats each search three times
  (median, every run's figure in the notes); `--quick` runs it once, so it has no interval.
- **Fan-out.** Rooms of 10, 100 and 500 members, 10 of them sending (deliveries/s = messages/s ×
  members); Kindred's search starts at a third of the baseline's figure. A step passes when every
  member received every acknowledged message (nothing lost), with no gap in the sequence numbers
  and nothing out of order during that step, and p99 delivery latency (send → `message.new` at the
  receiver, same clock) is ≤ 100 ms. The figure is the passing step's measured deliveries/s (the
  notes give the lowest failing step's p50/p99, losses and server CPU). Per-delivery CPU is the web
  process's CPU over a step's whole round trip ÷ the deliveries received in that round trip. A
  slow step lasts long enough for ≥ 10 messages (at most 12 s), so a big room's first steps still
  send something. Two baselines, each searched and judged by the same rule with the same load
  generator, in the same run, alternating order with Kindred between repetitions. The bare
  baseline, `bench/baseline_ws.py`: a minimal server on `websockets.broadcast()` with the same
  frames, no database, no auth, no moderation, the floor a Python WebSocket server reaches
  (Kindred's target against it: ≥ 0.33×). The same-work baseline, `bench/baseline_samework.py`:
  the same frames, and for each `message.send` the work Kindred's send path must do and nothing
  else: one transaction that takes the room's next sequence number (`UPDATE rooms … RETURNING
  last_seq`) and inserts the message (a table with Kindred's two unique constraints, room + seq
  and author + client_id), the body stored HTML-escaped (`html.escape`, as Kindred escapes
  before linkifying), then the sender's ack and `message.new` with the seq to the room through
  `websockets.broadcast()`. Its database is the kind Kindred uses in the scenario: here a fresh
  SQLite file with `make run`'s settings (WAL, `synchronous=NORMAL`, IMMEDIATE transactions); it
  also takes a PostgreSQL URL for production's layout. It uses the database from one writer
  thread over one connection kept open, as Kindred's consumer does its ORM work on one thread
  over a persistent connection, so its event loop keeps serving sockets meanwhile. Kindred's
  target against it: ≥ 0.5×, decided only when neither figure sits at a bound of its search and
  the ratio is not within the searches' resolution of 0.5. Its search starts at its own earlier
  figure, else at half the bare baseline's; where a search starts changes only how many steps
  it takes.
  Kindred runs with the worker off here (the next scenario measures its cost). After the searches,
  `bench/sendprof.py` times one `message.send` and one join in-process on the same database
  (statements per call, sqlite3 `close()`/`commit()` time), alternating two modes call by call,
  each on a Django connection of its own: a new connection opened and closed per call, and one
  connection kept open and reused by every call (the product's steady state); the run fails
  unless every per-call call opened and closed its own and every persistent call ran on the same
  one.
- **Moderation cost.** The same search in a room of 50, in pairs that differ only in assessment:
  off vs the embedded worker on SQLite (one process, as `make run`), and, in full mode (or with
  `--set modcost_production=true`), off vs `manage.py moderation_worker` as its own process
  beside the web process on PostgreSQL + Redis (production's layout) (Detoxify `original`
  architecture, random weights, fp32, 1 thread, plus the MiniLM safety model), alternating
  order between repetitions. The search with assessment on starts at the rate assessment off
  reached and searches up to the same ceiling.
- **Classifier.** In its own process with `torch.set_num_threads(1)`: Detoxify's own `predict()`
  once per message vs the product's `DetoxifyClassifier.score()` (length-bucketed micro-batches
  of 32), fp32 and with `MODERATION_QUANTIZE=1`, on the same messages, interleaved repetitions.
  Models are the real architectures with random weights (`bench/models.py`), since real weights
  cannot be downloaded here; the output layer's bias is set to −4 so that scores sit near 0.02, as a
  real model's do on ordinary messages (with plain random weights every score is ≈ 0.5, above the
  `severe_toxicity` threshold, and every message was held and flagged); the tokenizer is a small local vocabulary and message lengths are
  drawn to match chat (median ≈ 20 tokens, a long tail to ≈ 200). Agreement int8 vs fp32 on
  random weights is claimed only when it could have failed (some label's scores on both sides of
  its threshold with one within 0.05 of it, or a decision that did change); with real weights in
  `MODELS_DIR` the harness reports real agreement automatically. Where it can fail it is also
  measured on Kindred's committed safety model: the verdicts of the model as served (int8) and
  of the same model in fp32, on held-out test-split messages spread evenly over its labels and
  read with their context, against the bar the product sets for Detoxify's int8 (98.5 %); the row
  lists each class's fp32 scores under, over and near its calibrated threshold, and is undecided
  when no class's scores straddle its threshold.
- **Time to flag.** Capacity is measured first (a burst of messages in one second; time until
  the backlog is empty, with the worker's batches sized to `MODERATION_BATCH_SECONDS` as in the
  product; a burst worked through within its own window measures only the offered rate, so the
  burst doubles, up to 8×, until one leaves a backlog, else the capacity is printed "≥"; a
  verdict at 80 % or 2× of a bounded capacity is decided only in the direction the bound
  allows), then
  messages are sent at 80 % of it while a moderator socket watches `/ws/moderation/`; one message
  in five is worded so that only the worker's model stage (safety model) flags it (chosen before
  the run with `moderation.assessing.assess_text` under several load-generator tags). After the
  step, every acknowledged message's body exactly as sent (tag included) is judged the same way.
  The bait is every steady message the server's model stage flagged (from the database, once the
  backlog has drained) plus every message judged flag-worthy that the server never assessed;
  messages judged flag-worthy that the server assessed and did not flag (a borderline score in
  another batch) are counted and left out. Each bait message is reconciled with the live feed:
  flagged within the step and its 5 s grace, flagged later (counted with its delay), or never
  (counted as +∞). The p95 is over all of them. Then 2× capacity as a burst: nothing may be lost and the
  backlog must drain. In full mode all of it twice, on fresh servers and databases:
  the product default (fp32, the targeted figure) and with `MODERATION_QUANTIZE=1`; `--quick`
  runs the product default only.
- **Moderated capacity.** A room of 20 (10 of them sending) searched as above, in `make run`'s
  layout (SQLite, the embedded worker) and, when PostgreSQL and Redis answer on 127.0.0.1,
  production's (PostgreSQL + Redis, one web process and `manage.py moderation_worker` as its own
  process), with the same model stage as the other moderation scenarios. A step passes when
  delivery passes (as in fan-out: p99 ≤ 100 ms from the scheduled send, nothing lost, no gap,
  in order) and, for every message the server acknowledged in the step, the message is a stored
  row, it was assessed (the harness waits for the backlog to drain after the step), and the time
  from its scheduled send to its assessment being stored has p95 ≤ 1 s (a message never assessed
  counts as +∞); and the backlog did not grow: the pending count, read every 0.2 s while the
  step ran, has a least-squares slope over the step after its first fifth (the ramp-up to the
  first batch) of at most 5 % of the offered rate (at least 2 messages over that window), so a
  worker short of the rate by more than the search's resolution fails while one batch's sawtooth
  does not (the slope and its ± 95 % half-width are printed for the failing step). That bounds when a flag can reach the moderators; the
  live feed itself is time to flag's figure. A smoke run assesses with the rules alone (no
  model), to check the harness, not the product.
- **Overload.** The same room of 20 in `make run`'s layout (embedded worker, SQLite), its
  capacity taken from this run's moderated capacity (the median of its searches) when that ran
  first, else one such search. On a fresh server and database the room is driven at 1.5× that
  rate for 30 s (`--quick`: 10 s), straight on at 0.5× for 60 s (`--quick`: 20 s) while it
  recovers; once the moderation backlog is empty, the same at 2×. Latency is timed from each
  message's scheduled send. Reported per burst: p50/p99/p99.9/max over the burst's messages'
  deliveries, deliveries that never arrived (by the end of the recovery load and a grace),
  when the last of the burst's messages had reached every member and had been assessed
  (counted from the burst's end; 0 when nothing was left then), and
  when delivery was back within its limit: the start of the first one-second window (by
  scheduled send) of the recovery load from which every later window has p99 ≤ 100 ms, a
  delivery that never arrived counting as +∞ (likewise send → assessed p95 ≤ 1 s). Judged only:
  nothing acknowledged lost, i.e. every client_id the server acknowledged, warm-up included, is a
  stored message of the room, looked up in the database after the run, independently of any pass
  rule. A capacity that is only a bound (≥) is said to be one: the bursts may then not exceed it.
  The smoke run drives a room of 4 for 2 s with the rules alone, to check the harness.
- **Soak.** Full mode only: 30 minutes (`--quick` runs a 5-minute one only with `--set
  soak=true`; the smoke run one of 24 s in 5 rooms of 2–8, which checks the harness and is too
  short for the rule to decide). `make run`'s layout (one web process with the embedded worker,
  SQLite, the same model stage as the other moderation scenarios) on a fresh database: 40 rooms
  whose sizes follow Zipf's rank-size law from 60 members down to 2 (the k-th room has 60 / k^s,
  s = ln 30 / ln 40, rounded: 292 members), one account and one socket each, driven by
  `bench/soakgen.py` from a plan drawn in advance with a fixed seed (`bench.soak.plan`).
  The load is fixed, not derived from a capacity: 1.5 messages/s in all, each from a member
  chosen uniformly (so a room's traffic follows its size) and announced by a typing frame
  1.5 s before; a tenth of them edited by their author 5–60 s later; 1 reaction/s to one of the
  last ten visible messages of others the member holds; 0.5 typing frames/s that lead to
  nothing; every socket closed and reopened every 5 minutes, staggered so that about as many
  are away at any moment, away 5 s, then `room.joined` and `resume` from its last contiguous
  seq as the protocol says; every open socket pings every 25 s with its read position. Nobody is
  planned to act while away or rejoining, and the last 10 s carry no action. When moderated
  capacity ran first, the notes give the message rate as a share of its figure. The web
  process's RSS (VmRSS), open file descriptors (`/proc/<pid>/fd`) and threads are read every
  10 s. Reported: each series' first and last sample and least-squares slope per 10 minutes,
  over the whole soak and over its second half. "Flat" is decided on the second half only, so
  what the first half warms up (caches, the thread pool, SQLite's page cache) does not count,
  up to the last planned leave (after it every socket is open again, a few descriptors more
  than while some are always away):
  met when the least-squares line of RSS over the second half rises by less than 5 % of its
  value at the half's start (the note gives that allowance in MiB: the model's weights are part
  of the RSS), and file descriptors and threads are back to their level (the median of the
  half's last tenth of samples, at least 3, is at most the median of its first tenth plus the
  larger of 2 and 2 % for descriptors, of 1 and 2 % for threads); a second half shorter than
  2 minutes decides nothing. Also judged: every acknowledged client_id is a stored message
  (from the database); no delivery lost, i.e. every stored seq of a room is, at the end, held
  by every member of it by the protocol's own means (live `message.new`, a join's history, the
  `resume` after a rejoin or after a gap on an open socket; no extra catch-up at the end); and
  no error frame nor a close the client did not ask for: the client sends only what the
  protocol allows it (its own messages edited within the window, reactions to others' visible
  messages, no "me too" on a supportive-only one), so every error frame is one it should not
  get. Reported: delivery latency from the scheduled send to `message.new` on each open
  socket, p50/p99/max over the whole soak and p99 per half; whether each member's stored read
  position is the last one she sent; the moderation backlog at the end.
- **Idle connections.** 5,000 member sockets (200 rooms of 25) on one web process (embedded
  worker off), spread over 4 client processes, at most 64 handshakes in flight per process;
  `ulimit -n` is raised in the harness. Sockets still connecting after a deadline (240 s quick,
  420 s full) are given up and the rest is measured. Memory per connection = RSS growth ÷ connected
  sockets; idle CPU = the web process's CPU time over the idle window,
  with the protocol's 25 s pings, after every socket has pinged once (phones that have been idle
  a while; their repeats are answered below ASGI, `config/daphne.py`). Full mode also measures
  the same sockets silent for 20 s first, to separate the pings' cost from the rest.
- **Scale-out.** The same room spread over two web processes (members alternate) with two
  workers, vs one and one, on PostgreSQL + Redis, each searched (from 20 msg/s in `--quick`,
  10 in full mode) to √2 resolution: its ratio is reported, not judged.
  Checks: every client_id the server acknowledged is a stored row (counted from the database, not
  from the pass rule), every member receives every message in every step, overloaded ones
  included (order on the wire is part of each step's pass rule; reordering in overloaded steps,
  where the hub's order wait runs out, is counted and reported), every message assessed exactly
  once (one `Assessment` per message and revision), both workers took part.
- **Page weight.** The chat page as a logged-in member, then every script, stylesheet, icon and
  image it references (following ES-module imports and CSS `url()`), each gzip-compressed, plus
  the requests its scripts make on load (`/api/rooms/unread`) and what the room socket sends at
  join once the room holds 50 messages (another member writes them first): counted as sent
  unless the server negotiates permessage-deflate with a client that offers it, as browsers do.

Modes: `make bench` (full), `make bench BENCH_ARGS=--quick`, `python -m bench --smoke` (tiny,
run by `make test` through `tests/bench/test_smoke.py`; it does not write this file).
"""
