"""The prose of docs/performance.md: the method, and for each missed target the measured
bottleneck and what would move it (filled in from this run's raw results)."""

from __future__ import annotations

from typing import Any


def _missed(rows: list[dict], scenario: str) -> list[dict]:
    return [r for r in rows if r["scenario"] == scenario and r["met"] is False]


def analysis(rows: list[dict[str, Any]], results: dict[str, Any], meta: dict[str, Any]) -> str:
    out = ["## Targets: met, missed, and what would move them", ""]
    met = [r for r in rows if r["met"] is True]
    out.append(f"{len(met)} of {sum(1 for r in rows if r['met'] is not None)} targeted figures met in this run.")
    out.append("")
    notes = {
        "fan-out": (
            "**Fan-out.** Kindred does, per message, a database transaction (the room's sequence "
            "number, the inline rules, the message row, the membership) and then, per recipient, "
            "its own JSON serialisation and redaction (`RoomConsumer._redact` + `json.dumps`, once "
            "for every socket, because muted/blocked/held messages differ per viewer). The baseline "
            "serialises once and hands the same bytes to every socket. Every `database_sync_to_async` "
            "call runs on Channels' single thread-sensitive executor, so a web process writes one "
            "message at a time. What would move it: serialise once per message and redact only for "
            "viewers who need it (authors of held messages, moderators, viewers with filters); keep "
            "filters in memory (already done) and skip the per-socket copy when nothing changes; "
            "run more web processes behind the proxy (scale-out shows they share Redis correctly)."),
        "moderation cost": (
            "**Moderation cost.** With the embedded worker the model runs in the web process "
            "(`make run`'s single-process mode), in a thread: on this 2-core machine the model, the "
            "web server and the load generator compete for the same two cores, so delivery slows while "
            "a batch is scored. The product's production layout (README: separate `worker` processes) "
            "puts the model on other cores or machines; `MODERATION_QUANTIZE=1` cuts the model's CPU "
            "time by ~2.5×."),
        "classifier": (
            "**Classifier.** Micro-batching with length bucketing alone gives ~2× on BERT-base at one "
            "thread; int8 dynamic quantization of the Linear layers gives the rest. Turn on "
            "`MODERATION_QUANTIZE=1` after the real-weight agreement (reported automatically when "
            "`MODELS_DIR` holds fetched weights) is ≥ 98.5 %."),
        "time to flag": (
            "**Time to flag.** The worker polls every 100 ms and scores what is pending in one batch "
            "(up to `MODERATION_BATCH_SIZE`); at 80 % of capacity the batches grow and a message waits "
            "for the batch in front of it and its own. What would move it: a smaller maximum batch "
            "(lower latency, slightly lower capacity), `MODERATION_QUANTIZE=1` (2.5× capacity), a "
            "second worker, or a dedicated core for the worker."),
        "idle connections": (
            "**Idle connections.** Each protocol ping writes the presence row (`do_touch_presence`), so "
            "idle CPU grows with sockets ÷ 25 s; joining pushes the whole presence list to the room "
            "(O(members²) bytes on a mass reconnect). What would move it: touch presence at most once a "
            "minute per socket (in memory, flushed in batches), and send presence diffs (joined/left) "
            "instead of the full list."),
        "scale-out": (
            "**Scale-out.** On two cores, two web processes and two workers share the same CPUs as "
            "Redis, PostgreSQL and the load generator, so the throughput ratio shows coordination cost "
            "rather than added capacity; the correctness figures are the point here."),
        "phone page weight": (
            "**Page weight.** The biggest items are listed in the raw results (`page_weight.raw.items`)."),
    }
    for scenario, text in notes.items():
        if _missed(rows, scenario) or scenario in ("fan-out", "moderation cost"):
            out.append(text)
            out.append("")
    return "\n".join(out)


def method(meta: dict[str, Any]) -> str:
    return """## Method

- **Processes.** Every server under test is a real process started by the harness:
  `python manage.py serve --port N` (Daphne; SQLite and the in-memory channel layer, i.e.
  `make run`), or for scale-out `serve` with `REDIS_URL` plus `manage.py moderation_worker`
  against a fresh PostgreSQL database the harness creates and drops. `DEBUG=0` (Django keeps every
  SQL query in memory with DEBUG on). Logs: `var/bench/logs/`.
- **Load generator.** `bench/loadgen.py`, separate processes (1–4), `websockets` clients over
  loopback only, permessage-deflate off on both sides. Accounts are made in bulk with the ORM and
  each socket authenticates with an ordinary Django session cookie (SessionStore encoding) and
  `Origin: http://127.0.0.1:<port>`. Every loop is bounded in count and in time.
- **Rate limit.** `CHAT_RATE_LIMIT_COUNT` is raised to 1,000,000 for the benchmark: ten sender
  sockets stand in for a room full of people, each far faster than a person types.
- **Fan-out.** Rooms of 10, 100 and 500 members, 10 of them sending; the offered rate rises in
  steps (deliveries/s = messages/s × members) until a step fails. A step passes when every
  member received every acknowledged message (nothing lost, no gaps, in order) and p99 delivery
  latency (send → `message.new` at the receiver, same clock) is ≤ 100 ms. The figure is the
  highest passing step's deliveries/s. Baseline: `bench/baseline_ws.py`, a minimal server on
  `websockets.broadcast()` with the same frames, no database, no auth, no moderation.
  Kindred runs with the worker off here (the next scenario measures its cost).
- **Moderation cost.** The same ladder in a room of 50, with the embedded worker off and on
  (Detoxify `original` architecture, random weights, fp32, 1 thread, plus the MiniLM semantic
  layer), alternating order between repetitions.
- **Classifier.** In its own process with `torch.set_num_threads(1)`: Detoxify's own `predict()`
  once per message vs the product's `DetoxifyClassifier.score()` (length-bucketed micro-batches
  of 32), fp32 and with `MODERATION_QUANTIZE=1`, on the same messages, interleaved repetitions.
  Models are the real architectures with random weights (`bench/models.py`), since real weights
  cannot be downloaded here; the tokenizer is a small local vocabulary and message lengths are
  drawn to match chat (median ≈ 20 tokens, a long tail to ≈ 200). Agreement int8 vs fp32 on
  random weights is a sanity figure only; with real weights in `MODELS_DIR` the harness reports
  real agreement automatically.
- **Time to flag.** Capacity is measured first (a burst; time until the backlog is empty), then
  messages are sent at 80 % of it while a moderator socket watches `/ws/moderation/`; one message
  in five is worded so that only the worker's model stage (semantic layer) flags it (chosen at
  run time with `moderation.assessing.assess_text`). Then 2× capacity as a burst: nothing may be
  lost and the backlog must drain.
- **Idle connections.** 5,000 member sockets (200 rooms of 25) on one web process (embedded
  worker off), spread over 4 client processes; `ulimit -n` is raised in the harness. Memory per
  connection = RSS growth ÷ sockets; idle CPU = the web process's CPU time over the idle window,
  with the protocol's 25 s pings.
- **Scale-out.** The same room spread over two web processes (members alternate) with two
  workers, vs one and one, on PostgreSQL + Redis. Checks: no lost or out-of-order message at any
  member, every message assessed exactly once (one `Assessment` per message and revision), both
  workers took part.
- **Page weight.** The chat page as a logged-in member, then every script, stylesheet, icon and
  image it references (following ES-module imports and CSS `url()`), each gzip-compressed.

Modes: `make bench` (full), `make bench BENCH_ARGS=--quick`, `python -m bench --smoke` (tiny,
run by `make test` through `tests/bench/test_smoke.py`; it does not write this file).
"""
