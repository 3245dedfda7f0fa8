"""Where a message send's time goes, in-process, on a copy of the SQLite database under test:

    python -m bench.sendprof --db sqlite:///FILE --accounts FILE --room SLUG --n 30 --out FILE

Runs exactly the room consumer's database work per `message.send` (`chat.consumers._send`:
`actions.check_send_message` and serialising the stored message), wrapped as
`database_sync_to_async` wraps it (close_old_connections before and after), twice, interleaved:

- "per-call connection": CONN_MAX_AGE=0, so every call opens the SQLite connection (and runs its
  PRAGMAs) and closes it afterwards;
- "persistent connection": a connection kept by the thread, as the product does (CONN_MAX_AGE).

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

    from django.db import close_old_connections, connection

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

    orig = connection.get_connection_params

    def params():
        out = orig()
        out["factory"] = Timed
        return out

    connection.get_connection_params = params  # this connection only, this process only
    modes = {"per-call connection": 0, "persistent connection": None}
    res: dict[str, dict[str, list[float]]] = {m: {"total": [], "close": [], "commit": [], "queries": []} for m in modes}
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    stamp = int(time.time() * 1000)
    for i in range(a.n + 2):
        for mode, age in modes.items():
            connection.settings_dict["CONN_MAX_AGE"] = age
            timers.update(close=0.0, commit=0.0)
            queries[0] = 0
            t = time.perf_counter()
            close_old_connections()
            with connection.execute_wrapper(count):
                # Exactly the room socket's database work for one message.send.
                consumers._send.func(author, room, {"client_id": f"prof-{stamp}-{i}-{age}",
                                                    "body": f"hello everyone, how was the night {i}"})
            close_old_connections()
            if age == 0:
                connection.close()  # what close_old_connections does once CONN_MAX_AGE=0 has expired
            dt = time.perf_counter() - t
            if i >= 2:  # the first two are warm-up (imports, first connection)
                res[mode]["total"].append(dt * 1000)
                res[mode]["close"].append(timers["close"] * 1000)
                res[mode]["commit"].append(timers["commit"] * 1000)
                res[mode]["queries"].append(queries[0])
    # A socket joining a room: the consumer's connect() database work (its two calls), with the
    # product's persistent connection.
    connection.settings_dict["CONN_MAX_AGE"] = None
    join = {"total": [], "queries": []}
    members = acc["members"][1: 1 + min(25, a.n)]
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
    out = {mode: {k: round(statistics.median(v), 2) for k, v in r.items()} for mode, r in res.items()}
    out["n"] = a.n
    with open(a.out, "w") as fh:
        json.dump(out, fh)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
