"""Where a message send's time goes, in-process, on a copy of the SQLite database under test:

    python -m bench.sendprof --db sqlite:///FILE --accounts FILE --room SLUG --n 30 --out FILE

Runs exactly the room consumer's database work per `message.send` (`chat.consumers._send`:
`actions.check_send_message` and serialising the stored message), wrapped as
`database_sync_to_async` wraps it (close_old_connections before and after), in two modes,
interleaved call by call:

- "per-call connection": CONN_MAX_AGE=0, so every call opens the SQLite connection (and runs its
  PRAGMAs) and closes it afterwards;
- "persistent connection": one connection kept open and reused by every call, as the product
  does (CONN_MAX_AGE): its steady state.

Each mode has a database connection of its own (its own Django connection object, installed as
the default connection for its calls), so alternating them call by call never hands one mode the
other's state. On a single shared connection the modes swap (the per-call mode reuses what the
persistent one left open) or, if the persistent mode reopens what the per-call mode closed, the
"persistent" calls each run on a freshly opened connection and the steady state is never
measured. Each sample records which connection it ran on, and the run fails unless every
per-call sample opened and closed one of its own and every persistent sample reused the same one.

Then a socket's join (`_access_room` and `_join`, plus the auth middleware's user load).

Reports the median wall time per send, how much of it is sqlite3's close() and commit(), and the
number of SQL statements per send.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.utils import ConnectionHandler

MODES = ("per-call connection", "persistent connection")


def interleave(
    connections: ConnectionHandler,
    call: Callable[[int, str], None],
    *,
    n: int,
    warmup: int = 2,
    alias: str = "default",
    options: dict[str, Any] | None = None,
    reset: Callable[[], None] = lambda: None,
    collect: Callable[[], dict[str, float]] = dict,
) -> dict[str, list[dict[str, Any]]]:
    """Time `call(i, mode)` n times in each of MODES, alternating call by call, each call between
    the two `close_if_unusable_or_obsolete()` that `database_sync_to_async` runs
    (close_old_connections). The first `warmup` rounds are not kept.

    Each mode gets a Django connection of its own, a copy of `connections[alias]` with that mode's
    CONN_MAX_AGE (and `options` added to its OPTIONS), installed as `connections[alias]` for its
    calls only: code that uses `django.db.connection` runs on the mode's own connection. The
    original connection is put back afterwards and both copies are closed.

    Each sample: wall ms, whether the call opened a new DB-API connection, whether it was closed at
    the end, which connection it ran on (`connection`: the same number for the same DB-API
    connection object, references held so that numbers are never reused), plus `collect()`
    (counters the caller reset with `reset()` just before timing)."""
    original = connections[alias]
    own: dict[str, Any] = {}
    for mode, max_age in zip(MODES, (0, None), strict=True):
        settings = {
            **original.settings_dict,
            "CONN_MAX_AGE": max_age,
            "OPTIONS": {**original.settings_dict.get("OPTIONS", {}), **(options or {})},
        }
        own[mode] = type(original)(settings, alias)
    seen: list[Any] = []  # every DB-API connection a call ran on, kept alive so ids stay unique

    def number(raw: Any) -> int | None:
        if raw is None:
            return None
        for k, other in enumerate(seen):
            if other is raw:
                return k
        seen.append(raw)
        return len(seen) - 1

    out: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    try:
        for i in range(n + warmup):
            for mode in MODES:
                conn = own[mode]
                connections[alias] = conn
                reset()
                before = conn.connection
                t = time.perf_counter()
                conn.close_if_unusable_or_obsolete()
                call(i, mode)
                used = conn.connection
                conn.close_if_unusable_or_obsolete()
                dt = time.perf_counter() - t
                sample = {
                    "ms": dt * 1000,
                    "opened": used is not None and used is not before,
                    "closed": conn.connection is None,
                    "connection": number(used),
                    **collect(),
                }
                if i >= warmup:
                    out[mode].append(sample)
    finally:
        connections[alias] = original
        for conn in own.values():
            conn.close()
    return out


def check_modes(samples: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What contradicts the modes' names (empty when each mode was measured as named)."""
    problems = []
    pc, pp = samples["per-call connection"], samples["persistent connection"]
    if not all(s["opened"] and s["closed"] for s in pc):
        problems.append("a per-call sample did not open and close its own connection")
    if len({s.get("connection") for s in pc}) != len(pc):
        problems.append("two per-call samples ran on the same connection")
    if any(s["opened"] or s["closed"] for s in pp):
        problems.append("a persistent-connection sample opened or closed a connection")
    used = {s.get("connection") for s in pp}
    if len(used) > 1 or None in used:
        problems.append(
            f"the persistent-connection samples ran on {len(used)} connections, not one reused"
        )
    if used & {s.get("connection") for s in pc}:
        problems.append("a per-call sample ran on the persistent mode's connection")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--accounts", required=True)
    p.add_argument("--room", required=True)
    p.add_argument("--n", type=int, default=30)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    os.environ["DATABASE_URL"] = a.db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import sqlite3
    import statistics

    from django.db import close_old_connections, connection, connections

    from accounts.models import User
    from chat.models import Room

    with open(a.accounts) as fh:
        acc = json.load(fh)
    room = Room.objects.get(slug=a.room)
    uid = acc["members"][0]["id"]
    from chat import consumers

    author = User.objects.get(pk=uid)  # the socket holds her from the handshake
    timers = {"close": 0.0, "commit": 0.0}

    class Timed(sqlite3.Connection):
        def close(self) -> None:
            t = time.perf_counter()
            super().close()
            timers["close"] += time.perf_counter() - t

        def commit(self) -> None:
            t = time.perf_counter()
            super().commit()
            timers["commit"] += time.perf_counter() - t

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    stamp = int(time.time() * 1000)

    def send(i: int, mode: str) -> None:
        with connection.execute_wrapper(count):
            # Exactly the room socket's database work for one message.send.
            consumers._send.func(
                author,
                room,
                {
                    "client_id": f"prof-{stamp}-{i}-{MODES.index(mode)}",
                    "body": f"hello everyone, how was the night {i}",
                },
            )

    def reset() -> None:
        timers.update(close=0.0, commit=0.0)
        queries[0] = 0

    samples = interleave(
        connections,
        send,
        n=a.n,
        options={"factory": Timed},  # sqlite3.connect(factory=...): close() and commit() timed
        reset=reset,
        collect=lambda: {
            "close": timers["close"] * 1000,
            "commit": timers["commit"] * 1000,
            "queries": queries[0],
        },
    )
    problems = check_modes(samples)
    if problems:
        raise SystemExit("sendprof: modes not measured as named: " + "; ".join(problems))
    res: dict[str, dict[str, list[float]]] = {
        mode: {
            "total": [x["ms"] for x in xs],
            "close": [x["close"] for x in xs],
            "commit": [x["commit"] for x in xs],
            "queries": [x["queries"] for x in xs],
            "new_connections": [float(x["opened"]) for x in xs],
        }
        for mode, xs in samples.items()
    }
    # A socket joining a room: the consumer's connect() database work (its two calls), with the
    # product's persistent connection.
    connection.settings_dict["CONN_MAX_AGE"] = None
    join = {"total": [], "queries": []}
    members = acc["members"][1 : 1 + min(25, a.n)]
    for i, mem in enumerate(members):
        queries[0] = 0
        t = time.perf_counter()
        with connection.execute_wrapper(count):
            user = User.objects.get(pk=mem["id"])  # the auth middleware's load, counted
            close_old_connections()
            rm, _filters = consumers._access_room.func(user, a.room)
            close_old_connections()
            consumers._join.func(user, rm, f"bench.sendprof.{stamp}.{i}")
        dt = time.perf_counter() - t
        if i >= 2:
            join["total"].append(dt * 1000)
            join["queries"].append(queries[0])
    res["join"] = join
    connection.close()
    out = {
        mode: {k: round(statistics.median(v), 2) for k, v in r.items()} for mode, r in res.items()
    }
    out["n"] = a.n
    with open(a.out, "w") as fh:
        json.dump(out, fh)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
