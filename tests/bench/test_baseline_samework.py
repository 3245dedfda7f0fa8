"""The same-work baseline does the work Kindred's send path does: each message stored with the
room's next sequence number, its body escaped, the sender acknowledged and the room sent
`message.new`, in seq order, on SQLite as `make run` configures it and on PostgreSQL."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from websockets.sync.client import connect

from bench.driver import start_samework
from bench.util import Proc

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'samework.sqlite3'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("KINDRED_REQUIRE_SERVICES") == "1":  # CI: a skip here would hide the test
            pytest.fail(f"PostgreSQL not reachable on 127.0.0.1:5432 ({exc})")
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432 ({exc})")
    name = f"kindred_samework_test_{os.getpid()}"
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgres://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _server(db_url: str) -> tuple[Proc, int]:
    return start_samework("test-samework", db_url=db_url)


def _frames_until(ws, kind: str, n: int = 1, timeout: float = 10) -> list[dict]:  # noqa: ANN001
    """The frames of type `kind` among those received, until `n` of them arrived."""
    got, deadline = [], time.monotonic() + timeout
    while len(got) < n:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame["type"] == kind:
            got.append(frame)
    return got


def _send_two(port: int, room: str = "fan-5") -> tuple[list[dict], list[dict], int]:
    """A sender and a listener join `room`; the sender sends two messages. Returns the
    sender's acks, the listener's message.new frames and the last_seq the listener joined at."""
    url = f"ws://127.0.0.1:{port}/ws/rooms/{room}/"
    with connect(url) as sender, connect(url) as listener:
        joined = _frames_until(listener, "room.joined")[0]
        _frames_until(sender, "room.joined")
        for cid, body in (("c-1", "hello <b>you</b> & me"), ("c-2", "second")):
            sender.send(json.dumps({"type": "message.send", "client_id": cid, "body": body}))
        acks = _frames_until(sender, "message.ack", 2)
        news = _frames_until(listener, "message.new", 2)
    return acks, news, joined["last_seq"]


def test_two_messages_get_seq_1_and_2_escaped_acked_broadcast_and_stored(
    sqlite_url: str,
) -> None:
    proc, port = _server(sqlite_url)
    try:
        acks, news, last_seq = _send_two(port)
    finally:
        proc.stop()
    assert last_seq == 0
    assert [a["client_id"] for a in acks] == ["c-1", "c-2"]
    assert [a["message"]["seq"] for a in acks] == [1, 2]
    assert [n["message"]["seq"] for n in news] == [1, 2]
    first = news[0]["message"]
    assert first["body"] == "hello <b>you</b> & me"
    assert first["html"] == "hello &lt;b&gt;you&lt;/b&gt; &amp; me"
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
        rows = db.execute(
            "select r.slug, m.seq, m.client_id, m.body, m.html from messages m "
            "join rooms r on r.id = m.room_id order by m.seq"
        ).fetchall()
        last = db.execute("select last_seq from rooms where slug = 'fan-5'").fetchone()[0]
        journal = db.execute("pragma journal_mode").fetchone()[0]
    assert rows == [
        ("fan-5", 1, "c-1", "hello <b>you</b> & me", "hello &lt;b&gt;you&lt;/b&gt; &amp; me"),
        ("fan-5", 2, "c-2", "second", "second"),
    ]
    assert last == 2
    assert journal == "wal"


def test_each_room_counts_on_its_own_and_a_restart_continues_from_the_database(
    sqlite_url: str,
) -> None:
    proc, port = _server(sqlite_url)
    try:
        _send_two(port, "a")
        acks_b, _news, _ = _send_two(port, "b")
    finally:
        proc.stop()
    assert [a["message"]["seq"] for a in acks_b] == [1, 2]
    proc, port = _server(sqlite_url)
    try:
        acks, news, last_seq = _send_two(port, "a")
    finally:
        proc.stop()
    # A member joining later starts from the stored counter, so the load generator's gap count
    # is right when a room is reused by the next repetition.
    assert last_seq == 2
    assert [n["message"]["seq"] for n in news] == [3, 4]


def test_many_senders_at_once_get_gapless_seqs_in_order_on_the_wire(sqlite_url: str) -> None:
    proc, port = _server(sqlite_url)
    url = f"ws://127.0.0.1:{port}/ws/rooms/busy/"
    try:
        with ExitStack() as stack:
            senders = [stack.enter_context(connect(url, max_queue=None)) for _ in range(5)]
            listener = stack.enter_context(connect(url))
            for ws in [*senders, listener]:
                _frames_until(ws, "room.joined")
            for i in range(8):
                for j, ws in enumerate(senders):
                    ws.send(
                        json.dumps({"type": "message.send", "client_id": f"{j}-{i}", "body": "x"})
                    )
            seqs = [n["message"]["seq"] for n in _frames_until(listener, "message.new", 40)]
    finally:
        proc.stop()
    assert seqs == list(range(1, 41))


def test_a_repeated_client_id_is_refused_without_taking_a_number(sqlite_url: str) -> None:
    proc, port = _server(sqlite_url)
    try:
        with connect(f"ws://127.0.0.1:{port}/ws/rooms/r/") as ws:
            _frames_until(ws, "room.joined")
            for cid in ("c-1", "c-1", "c-2"):
                ws.send(json.dumps({"type": "message.send", "client_id": cid, "body": "x"}))
            errors = _frames_until(ws, "error")
            acks = _frames_until(ws, "message.ack", 1)
    finally:
        proc.stop()
    assert errors[0]["code"] == "duplicate_client_id"
    # The refused insert rolled back with its transaction: the next message is seq 2, no gap.
    assert acks[0]["client_id"] == "c-2" and acks[0]["message"]["seq"] == 2


@pytest.mark.integration
def test_on_postgresql_too(pg_url: str) -> None:
    import psycopg

    proc, port = _server(pg_url)
    try:
        acks, news, _ = _send_two(port)
    finally:
        proc.stop()
    assert [a["message"]["seq"] for a in acks] == [1, 2]
    assert news[0]["message"]["html"] == "hello &lt;b&gt;you&lt;/b&gt; &amp; me"
    with psycopg.connect(pg_url) as db:
        rows = db.execute("select seq, client_id, html from messages order by seq").fetchall()
    assert rows == [(1, "c-1", "hello &lt;b&gt;you&lt;/b&gt; &amp; me"), (2, "c-2", "second")]


def test_the_load_generator_tallies_every_step_after_the_run(sqlite_url: str) -> None:
    """`Fleet.tally()` through real load-generator processes: what each step sent, had
    acknowledged and received, counted once the run is over."""
    from bench.driver import Fleet

    proc, port = _server(sqlite_url)
    sockets = [{"room": "fan-5", "cookie": "x", "send": i < 2} for i in range(4)]
    fleet = Fleet(port=port, sockets=sockets, n_procs=2, steps=[], grace=0.5, name="tally")
    try:
        assert fleet.ready(timeout=60)["connected"] == 4
        fleet.go(1, step={"rate": 10.0, "duration": 1.0})
        time.sleep(0.5)
        tally = fleet.tally()
        assert tally["sent"][1] == tally["acked"][1] == 10
        assert tally["recv"][1] == 10 * 4
    finally:
        fleet.stop()
        proc.stop()
