"""Reliability and attack tests: shared machinery.

`stack` is a real deployment in miniature: a PRIVATE redis-server on a free port (so a test may
kill -9 it and start it again without touching anybody's Redis) and a real `manage.py serve`
(Daphne + embedded moderation worker) with REDIS_URL pointing at it and its own database (a fresh
PostgreSQL database when DATABASE_URL names PostgreSQL, else a temporary SQLite file). The server
helpers (`LiveServer`, `_Database`) are the browser tests' own, imported rather than copied.

Accounts and login sessions are made once, in one `manage.py shell` run against the server's
database; sockets authenticate with those session cookies exactly as a browser would.

Every fault scenario writes its figures to test-artifacts/reliability/<scenario>.json;
docs/reliability.md quotes them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    LiveServer,
    _Database,
    _free_port,
    _in_ci,
)

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "reliability"
ORIGIN = "http://127.0.0.1"  # + ":<port>" for the live server


def need(ok: bool, reason: str) -> None:
    """A missing dependency fails in CI (CI=true) and skips, saying why, elsewhere."""
    if ok:
        return
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: reliability tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


def write_figure(scenario: str, figure: dict[str, Any]) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{scenario}.json"
    figure = {
        "scenario": scenario,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "database": "postgresql"
        if re.match(r"^postgres", os.environ.get("DATABASE_URL", ""))
        else "sqlite",
        **figure,
    }
    path.write_text(json.dumps(figure, indent=2, sort_keys=False, default=str) + "\n")
    return path


# --- a private Redis ---------------------------------------------------------------------------


class PrivateRedis:
    """redis-server on its own port, no persistence: a restart loses every key (groups included),
    as a crashed production Redis without AOF would."""

    def __init__(self, log_path: Path) -> None:
        self.binary = shutil.which("redis-server") or ""
        self.port = _free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.proc is None
        self.starts += 1
        log = self.log_path.open("a")
        log.write(f"\n=== redis-server start #{self.starts} on {self.port}\n")
        log.flush()
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with {self.proc.returncode}; see {self.log_path}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("private redis-server did not answer PING within 10 s")

    def kill9(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None


# --- the stack ---------------------------------------------------------------------------------

MEMBERS = [f"rel{n:02d}" for n in range(1, 17)]  # newborn-stage members
BABY_MEMBERS = [f"relb{n:02d}" for n in range(1, 7)]  # baby-stage members (browser restart)
PASSWORD = "steady-lantern-2026-rel"

_SETUP = r"""
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from accounts.actions import do_create_account
from moderation.actions import do_set_on_duty
spec = json.loads(%r)
out = {}
Store = import_module(settings.SESSION_ENGINE).SessionStore
for username, role, stage, display in spec:
    user = do_create_account(username=username, password=%r, display_name=display, role=role, stage=stage,
                             adult_confirmed=True, guidelines_accepted=True, validate_password_strength=False)
    session = Store()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "accounts.backends.KindredBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    out[username] = {"id": user.pk, "session": session.session_key, "display_name": user.display_name, "role": role}
    if role == "moderator":
        do_set_on_duty(moderator=user, on_duty=True)
print("SETUP-JSON " + json.dumps(out))
"""


@dataclass
class Stack:
    server: LiveServer
    redis: PrivateRedis
    database_url: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}"

    @property
    def origin(self) -> str:
        return f"{ORIGIN}:{self.server.port}"

    def cookie(self, username: str) -> str:
        return f"sessionid={self.users[username]['session']}"

    def shell(self, code: str, timeout: float = 120) -> str:
        """Run Python in `manage.py shell` against the server's database; returns stdout."""
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=REPO,
            env=self.server.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py shell failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def create_users(self, spec: list[tuple[str, str, str, str]]) -> dict[str, dict[str, Any]]:
        out = self.shell(_SETUP % (json.dumps(spec), PASSWORD))
        line = next(line for line in out.splitlines() if line.startswith("SETUP-JSON "))
        made = json.loads(line.removeprefix("SETUP-JSON "))
        self.users.update(made)
        return made

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the server's database directly (placeholders: %s)."""
        if self.database_url.startswith("sqlite"):
            path = self.database_url.removeprefix("sqlite:///")
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20)
            try:
                return conn.execute(sql.replace("%s", "?"), params).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def stored(self, slug: str) -> list[tuple[int, str, int]]:
        """(seq, client_id, author_id) of every stored message in the room, by seq."""
        return self.query(
            "SELECT m.seq, m.client_id, m.author_id FROM chat_message m JOIN chat_room r ON r.id = m.room_id "
            "WHERE r.slug = %s ORDER BY m.seq",
            (slug,),
        )

    def server_log_since(self, offset: int) -> str:
        with self.server.log_path.open(errors="replace") as fh:
            fh.seek(offset)
            return fh.read()

    def log_offset(self) -> int:
        return self.server.log_path.stat().st_size


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    need(
        bool(shutil.which("redis-server")),
        "redis-server is not installed (apt-get install redis-server)",
    )
    try:
        import websockets  # noqa: F401
    except ImportError:
        need(False, "the websockets package is missing (pip install -e '.[test]')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    redis = PrivateRedis(ARTIFACTS / "redis.log")
    redis.log_path.write_text("")
    redis.start()
    log_path = ARTIFACTS / "server.log"
    log_path.write_text("")
    database = _Database()
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "REDIS_URL": redis.url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "SECRET_KEY": "reliability-tests-only-" + "x" * 40,
        "DJANGO_ENV": "development",
        "CHANNEL_PREFIX": f"kindred-rel-{os.getpid()}",
        "MODERATION_CLASSIFIER": "none",
        "MODERATION_SEMANTIC": "false",
        "MODERATION_EMBEDDED_WORKER": "true",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = LiveServer(env=env, port=_free_port(), log_path=log_path)
    st = Stack(server=server, redis=redis, database_url=database.url)
    try:
        server.manage("migrate", "--noinput")
        spec = [(u, "member", "newborn", f"Rel {u[3:]}") for u in MEMBERS]
        spec += [(u, "member", "baby", f"Relb {u[4:]}") for u in BABY_MEMBERS]
        spec += [
            ("relmod", "moderator", "", "Rel Moderator"),
            ("relsup", "supervisor", "", "Rel Supervisor"),
        ]
        st.create_users(spec)
        server.start()
        yield st
    finally:
        # SIGKILL: a graceful Daphne stop waits out open sockets (15 s); nothing here needs it.
        server.stop(signal.SIGKILL)
        redis.stop()
        database.drop()


# --- browsers ----------------------------------------------------------------------------------


@pytest.fixture
def chromium() -> str:
    need(
        Path(CHROMIUM).exists(),
        f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)",
    )
    try:
        import playwright  # noqa: F401
    except ImportError:
        need(False, "playwright (python) is not installed")
    return CHROMIUM


@pytest.fixture
def browser(chromium: str):  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


def logged_in_context(browser, stack: Stack, username: str, *, viewport: dict[str, int] = PHONE):  # noqa: ANN001, ANN201
    """A browser context carrying the user's session cookie (made by the setup script)."""
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/London")
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": stack.users[username]["session"],
                "url": stack.server.url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    return context
