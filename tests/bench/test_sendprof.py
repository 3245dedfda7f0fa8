"""bench.sendprof measures each connection mode as named: "per-call connection" opens and closes
a connection on every call, "persistent connection" reuses one and the same connection on every
call (the product's steady state).

Two ways of alternating the modes on one shared connection get this wrong, and the checks must
reject both: toggling CONN_MAX_AGE alone swaps the modes (the per-call call reuses what the
persistent call left open, the persistent call opens a new one after the per-call call closed
it); closing it for the per-call mode and reopening it, untimed, for the persistent one gives
every "persistent" call a freshly opened connection, so the reused connection is never measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db.utils import ConnectionHandler
from django.utils.connection import ConnectionProxy

from bench.sendprof import MODES, check_modes, interleave

PER_CALL, PERSISTENT = MODES


@pytest.fixture
def handler(tmp_path: Path, django_db_blocker):  # noqa: ANN001
    """Real Django SQLite connections to a file of their own, not the test database (whose
    connection may be in-memory, where Django ignores close())."""
    h = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(tmp_path / "prof.sqlite3"),
                "CONN_MAX_AGE": 60,
            }
        }
    )
    with django_db_blocker.unblock():
        with h["default"].cursor() as cur:
            cur.execute("create table m (id integer primary key, body text)")
        yield h
        h.close_all()


def _write(h: ConnectionHandler):  # noqa: ANN202
    """A call that writes through `django.db.connection`-style access, as the product's code does,
    and keeps every DB-API connection it ran on (references held: ids are never reused)."""
    connection = ConnectionProxy(h, "default")
    ran_on: dict[str, list[Any]] = {m: [] for m in MODES}

    def call(i: int, mode: str) -> None:
        with connection.cursor() as cur:
            cur.execute("insert into m (body) values (%s)", [f"{mode} {i}"])
        ran_on[mode].append(connection.connection)

    return call, ran_on


def _distinct(objs: list[Any]) -> int:
    out: list[Any] = []
    for o in objs:
        if not any(o is x for x in out):
            out.append(o)
    return len(out)


def test_persistent_reuses_one_connection_and_per_call_opens_its_own_every_call(handler) -> None:  # noqa: ANN001
    call, ran_on = _write(handler)
    original = handler["default"]
    samples = interleave(handler, call, n=6, warmup=1)
    assert [len(samples[m]) for m in MODES] == [6, 6]
    assert check_modes(samples) == []
    # Every persistent call, warm-up included, ran on one and the same DB-API connection object.
    assert _distinct(ran_on[PERSISTENT]) == 1
    assert not any(s["opened"] or s["closed"] for s in samples[PERSISTENT])
    # Every per-call call ran on a new one, opened and closed inside the timed interval.
    assert _distinct(ran_on[PER_CALL]) == 7
    assert all(s["opened"] and s["closed"] for s in samples[PER_CALL])
    assert not any(c is ran_on[PERSISTENT][0] for c in ran_on[PER_CALL])
    # The caller's connection is back, and every call's row was written.
    assert handler["default"] is original
    with handler["default"].cursor() as cur:
        cur.execute("select count(*) from m")
        assert cur.fetchone()[0] == 2 * 7


def test_options_reach_each_mode_s_connection(handler) -> None:  # noqa: ANN001
    import sqlite3

    class Marked(sqlite3.Connection):
        pass

    call, ran_on = _write(handler)
    interleave(handler, call, n=2, warmup=0, options={"factory": Marked})
    assert all(isinstance(c, Marked) for m in MODES for c in ran_on[m])
    assert "factory" not in handler["default"].settings_dict.get("OPTIONS", {})


def _one_shared_connection(h: ConnectionHandler, *, reopen_for_persistent: bool) -> dict:
    """The two earlier loops, on one shared connection: CONN_MAX_AGE toggled before each call and
    the connection closed after each per-call call (the first harness), or (reopen_for_persistent)
    the connection closed before each per-call call and reopened, untimed, before each persistent
    one (its first fix)."""
    conn = h["default"]
    call, _ = _write(h)
    seen: list[Any] = []
    samples: dict[str, list[dict]] = {m: [] for m in MODES}
    for i in range(4):
        for mode, age in zip(MODES, (0, None), strict=True):
            if reopen_for_persistent and mode == PER_CALL:
                conn.close()
            conn.settings_dict["CONN_MAX_AGE"] = age
            if reopen_for_persistent and mode == PERSISTENT and conn.connection is None:
                conn.ensure_connection()
            before = conn.connection
            conn.close_if_unusable_or_obsolete()
            call(i, mode)
            used = conn.connection
            conn.close_if_unusable_or_obsolete()
            if not reopen_for_persistent and mode == PER_CALL:
                conn.close()
            if not any(used is x for x in seen):
                seen.append(used)
            samples[mode].append(
                {
                    "opened": used is not None and used is not before,
                    "closed": conn.connection is None,
                    "connection": next(k for k, x in enumerate(seen) if x is used),
                }
            )
    return samples


def test_the_swapped_modes_of_one_shared_connection_are_caught(handler) -> None:  # noqa: ANN001
    samples = _one_shared_connection(handler, reopen_for_persistent=False)
    # Swapped: the persistent mode opened a connection on every call, the per-call mode reused one.
    assert all(s["opened"] for s in samples[PERSISTENT][1:])
    assert not any(s["opened"] for s in samples[PER_CALL][1:])
    assert check_modes(samples)


def test_a_persistent_mode_reopened_before_every_call_is_caught(handler) -> None:  # noqa: ANN001
    samples = _one_shared_connection(handler, reopen_for_persistent=True)
    # Each call looks right on its own (opened untimed, so "not opened")...
    assert not any(s["opened"] or s["closed"] for s in samples[PERSISTENT])
    assert all(s["opened"] and s["closed"] for s in samples[PER_CALL])
    # ...but no two persistent calls ran on the same connection: no steady state was measured.
    assert len({s["connection"] for s in samples[PERSISTENT]}) == 4
    assert any("not one reused" in p for p in check_modes(samples))
