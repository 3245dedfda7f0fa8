"""bench.sendprof measures each connection mode as named: "per-call connection" opens and closes
a connection on every call, "persistent connection" reuses one (the product's steady state).
Alternating the two on one connection without resetting its state swaps them: the per-call mode
then reuses the connection the persistent mode left open, and the persistent mode opens a new one
after the per-call mode closed it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db.utils import ConnectionHandler

from bench.sendprof import MODES, check_modes, interleave


@pytest.fixture
def conn(tmp_path: Path, django_db_blocker):  # noqa: ANN001
    """A real Django SQLite connection to a file of its own, not the test database (whose
    connection may be in-memory, where Django ignores close())."""
    handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3",
                                             "NAME": str(tmp_path / "prof.sqlite3")}})
    c = handler["default"]
    with django_db_blocker.unblock():
        with c.cursor() as cur:
            cur.execute("create table m (id integer primary key, body text)")
        yield c
        c.close()


def _write(conn):  # noqa: ANN001, ANN202
    seen: dict[str, list[int]] = {m: [] for m in MODES}

    def call(i: int, mode: str) -> None:
        with conn.cursor() as cur:
            cur.execute("insert into m (body) values (%s)", [f"{mode} {i}"])
        seen[mode].append(id(conn.connection))

    return call, seen


def test_per_call_opens_a_connection_every_call_and_persistent_reuses_one(conn) -> None:  # noqa: ANN001
    call, seen = _write(conn)
    samples = interleave(conn, call, n=6, warmup=1)
    assert [len(samples[m]) for m in MODES] == [6, 6]
    assert all(s["opened"] and s["closed"] for s in samples["per-call connection"])
    assert not any(s["opened"] or s["closed"] for s in samples["persistent connection"])
    # The persistent mode's calls (after warm-up) all ran on one and the same connection.
    assert len(set(seen["persistent connection"][1:])) == 1
    assert check_modes(samples) == []
    with conn.cursor() as cur:
        cur.execute("select count(*) from m")
        assert cur.fetchone()[0] == 2 * 7


def test_the_old_alternation_is_caught(conn) -> None:  # noqa: ANN001
    """The previous loop only set CONN_MAX_AGE before each call: the check must reject it."""
    call, _ = _write(conn)
    samples: dict[str, list[dict]] = {m: [] for m in MODES}
    for i in range(4):
        for mode, age in zip(MODES, (0, None), strict=True):
            conn.settings_dict["CONN_MAX_AGE"] = age
            before = conn.connection
            conn.close_if_unusable_or_obsolete()
            call(i, mode)
            used = conn.connection
            conn.close_if_unusable_or_obsolete()
            if age == 0:
                conn.close()
            samples[mode].append({"opened": used is not None and used is not before, "closed": conn.connection is None})
    # Swapped: the persistent mode opened a connection on every call, the per-call mode reused one.
    assert all(s["opened"] for s in samples["persistent connection"][1:])
    assert not any(s["opened"] for s in samples["per-call connection"][1:])
    assert check_modes(samples)
