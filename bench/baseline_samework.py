"""The same-work baseline: a minimal `websockets` chat server that does the work Kindred's send
path must do and nothing else.

For each `message.send` it stores the message in a database of the kind Kindred uses (an SQLite
file in WAL mode with synchronous=NORMAL and IMMEDIATE transactions, as `make run` configures it;
or PostgreSQL, production's layout), taking the room's next sequence number inside the insert's
transaction (`UPDATE rooms … RETURNING last_seq`, then the INSERT, one transaction per message),
stores the body HTML-escaped as Kindred does (`html.escape(body, quote=False)`, without
linkifying), acknowledges the sender and broadcasts `message.new` with the seq to the room with
`websockets.broadcast()`. The message table carries the two constraints Kindred's does on every
insert (unique room + seq, unique author + client_id); there is no authentication, no
idempotency look-up, no mute check, no moderation, no channel layer.

The database is used from one writer thread with one connection kept open, as Kindred's room
consumer does its ORM work on one thread (`database_sync_to_async`, thread-sensitive) over a
persistent connection, so the event loop keeps serving sockets while a message is stored.

Same URL shape and frames as `bench/baseline_ws.py`. Usage:
python -m bench.baseline_samework --port N --db sqlite:///path/file.sqlite3 | postgres://…
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import sqlite3
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import broadcast, serve

from bench.baseline_ws import joined_frame
from bench.util import raise_nofile

SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rooms (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, "
    "last_seq INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL "
    "REFERENCES rooms(id), seq INTEGER NOT NULL, author_id INTEGER NOT NULL, "
    "client_id TEXT NOT NULL, body TEXT NOT NULL, html TEXT NOT NULL, created_at TEXT NOT NULL, "
    "UNIQUE (room_id, seq), UNIQUE (author_id, client_id))",
)
PG_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rooms (id BIGSERIAL PRIMARY KEY, slug TEXT NOT NULL UNIQUE, "
    "last_seq BIGINT NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS messages (id BIGSERIAL PRIMARY KEY, room_id BIGINT NOT NULL "
    "REFERENCES rooms(id), seq BIGINT NOT NULL, author_id BIGINT NOT NULL, "
    "client_id TEXT NOT NULL, body TEXT NOT NULL, html TEXT NOT NULL, "
    "created_at TIMESTAMPTZ NOT NULL, UNIQUE (room_id, seq), UNIQUE (author_id, client_id))",
)


class Store:
    """The messages table, on one connection used by one thread only (the writer thread).

    `send` is one transaction: the room's counter is incremented (the UPDATE locks the room row,
    or on SQLite the IMMEDIATE transaction the whole database, until commit, so concurrent
    writers queue and a rollback returns the number), then the row is inserted."""

    def __init__(self, db_url: str) -> None:
        self.pg = not db_url.startswith("sqlite:///")
        if self.pg:
            import psycopg

            self.conn: Any = psycopg.connect(db_url, autocommit=True)
            self.integrity_error: type[Exception] = psycopg.IntegrityError
            self.mark = "%s"
            for stmt in PG_SCHEMA:
                self.conn.execute(stmt)
        else:
            # Autocommit mode: transactions are begun explicitly, IMMEDIATE as Kindred's are.
            self.conn = sqlite3.connect(
                db_url.removeprefix("sqlite:///"),
                isolation_level=None,
                timeout=20,
                check_same_thread=False,
            )
            self.mark = "?"
            self.integrity_error = sqlite3.IntegrityError
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            for stmt in SQLITE_SCHEMA:
                self.conn.execute(stmt)
        self.room_ids: dict[str, int] = {}
        # Each socket stands for an author of its own; numbering continues from the stored rows,
        # so a restarted server never reuses an (author, client_id) pair.
        (self.last_author,) = self.conn.execute(
            "SELECT COALESCE(MAX(author_id), 0) FROM messages"
        ).fetchone()

    def _sql(self, text: str) -> str:
        return text.replace("?", self.mark)

    def join(self, slug: str) -> tuple[int, int]:
        """The room's last sequence number (the room is created on its first join), and a new
        author id for the joining socket."""
        q = self._sql
        self.conn.execute(
            q("INSERT INTO rooms (slug, last_seq) VALUES (?, 0) ON CONFLICT (slug) DO NOTHING"),
            (slug,),
        )
        room_id, last_seq = self.conn.execute(
            q("SELECT id, last_seq FROM rooms WHERE slug = ?"), (slug,)
        ).fetchone()
        self.room_ids[slug] = room_id
        self.last_author += 1
        return last_seq, self.last_author

    def send(self, slug: str, *, author_id: int, client_id: str, body: str) -> dict[str, Any]:
        """Store one message; returns it as the frames carry it."""
        room_id = self.room_ids[slug]
        escaped = html.escape(body, quote=False)
        now = datetime.now(UTC)
        created = now if self.pg else now.isoformat()
        if self.pg:
            with self.conn.transaction():
                seq, msg_id = self._insert(room_id, author_id, client_id, body, escaped, created)
        else:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                seq, msg_id = self._insert(room_id, author_id, client_id, body, escaped, created)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        return {
            "id": msg_id,
            "seq": seq,
            "room": slug,
            "client_id": client_id,
            "author": {"id": author_id, "display_name": "bench", "role": "member"},
            "body": body,
            "html": escaped,
            "created_at": now.isoformat(),
            "state": "visible",
        }

    def _insert(
        self, room_id: int, author_id: int, client_id: str, body: str, escaped: str, created: Any
    ) -> tuple[int, int]:
        q = self._sql
        (seq,) = self.conn.execute(
            q("UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq"),
            (room_id,),
        ).fetchone()
        (msg_id,) = self.conn.execute(
            q(
                "INSERT INTO messages (room_id, seq, author_id, client_id, body, html, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id"
            ),
            (room_id, seq, author_id, client_id, body, escaped, created),
        ).fetchone()
        return seq, msg_id

    def close(self) -> None:
        self.conn.close()


class Server:
    """The sockets of each room and the writer thread that owns the Store."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.rooms: dict[str, set] = defaultdict(set)
        # One thread, so every statement runs on the one connection, in the order asked.
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="samework-writer")
        self.store: Store | None = None

    async def _db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(
            self.writer, lambda: fn(*args, **kwargs)
        )

    async def open(self) -> None:
        self.store = await self._db(Store, self.db_url)

    async def close(self) -> None:
        if self.store is not None:
            await self._db(self.store.close)
        self.writer.shutdown(wait=True)

    async def handler(self, ws) -> None:  # noqa: ANN001
        slug = ws.request.path.strip("/").split("/")[-1]
        last_seq, author_id = await self._db(self.store.join, slug)
        members = self.rooms[slug]
        members.add(ws)
        try:
            await ws.send(joined_frame(slug, last_seq))
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "ping":
                    await ws.send('{"type": "pong"}')
                    continue
                if frame.get("type") != "message.send":
                    continue
                try:
                    message = await self._db(
                        self.store.send,
                        slug,
                        author_id=author_id,
                        client_id=frame["client_id"],
                        body=frame["body"],
                    )
                except self.store.integrity_error:
                    # A client_id this author used before (Kindred would acknowledge it again
                    # without storing it; the load generator never resends).
                    await ws.send('{"type": "error", "code": "duplicate_client_id"}')
                    continue
                # The writer thread finishes messages in seq order and the loop resumes their
                # handlers in that order; broadcasting before this handler's next await keeps
                # the room's frames in seq order on every socket.
                broadcast(
                    members,
                    json.dumps({"type": "message.new", "message": message}, ensure_ascii=False),
                )
                await ws.send(
                    json.dumps(
                        {
                            "type": "message.ack",
                            "client_id": frame["client_id"],
                            "created": True,
                            "message": message,
                        },
                        ensure_ascii=False,
                    )
                )
        finally:
            members.discard(ws)


async def main(port: int, db_url: str, ready: asyncio.Event | None = None) -> None:
    server = Server(db_url)
    await server.open()
    try:
        async with serve(
            server.handler,
            "127.0.0.1",
            port,
            compression=None,
            max_size=2**20,
            ping_interval=None,
        ):
            if ready is not None:
                ready.set()
            await asyncio.Future()
    finally:
        await server.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", required=True, help="sqlite:///path or postgres://…")
    a = p.parse_args()
    raise_nofile()
    asyncio.run(main(a.port, a.db))
