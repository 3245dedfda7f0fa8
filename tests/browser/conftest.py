"""Browser tests: a real Daphne in a subprocess, a real database, a real Chromium.

The server gets its own database (a fresh PostgreSQL database when DATABASE_URL points at
PostgreSQL, otherwise a temporary SQLite file) so the tests never touch development data, and it
can be stopped and started again on the same port and database to test reconnection.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "browser"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
PASSWORD = "calm-harbour-2026-e2e"


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    stage: str = ""


ACCOUNTS = {
    "amara": Account("amara_e2e", "Amara", "member", "newborn"),
    "bea": Account("bea_e2e", "Bea", "member", "newborn"),
    "morgan": Account("morgan_e2e", "Morgan", "moderator"),
    # Their own accounts for the safety tests, so a warning, a mute or a support card there never
    # shows up in another test's screenshots.
    "cleo": Account("cleo_e2e", "Cleo", "member", "newborn"),
    "dana": Account("dana_e2e", "Dana", "member", "newborn"),
    "rowan": Account("rowan_e2e", "Rowan", "moderator"),
    # Member features (tests/browser/test_member_features.py, test_accessibility.py): mutes,
    # reports and reading settings stay with these accounts.
    "erin": Account("erin_e2e", "Erin", "member", "newborn"),
    "fay": Account("fay_e2e", "Fay", "member", "newborn"),
    "tess": Account("tess_e2e", "Tess", "moderator"),
    # Whole journeys (tests/browser/test_e2e_journey.py): a supervisor, and two toddler-room
    # members so the hidden message, the risk item and the threshold change stay out of the
    # rooms the other tests use.
    "sam": Account("sam_e2e", "Sam", "supervisor"),
    "gwen": Account("gwen_e2e", "Gwen", "member", "toddler"),
    "ivy": Account("ivy_e2e", "Ivy", "member", "toddler"),
    # The safety model's journey (tests/browser/test_safety_model.py), in the baby room.
    "hana": Account("hana_e2e", "Hana", "member", "baby"),
    "jude": Account("jude_e2e", "Jude", "member", "baby"),
    # Her own account for the shadow-model test: Hana's goodbye earlier in the same room is context
    # the model reads with her next lines, and (v4, int8) it sometimes escalated "is the library rhyme
    # time on this week?" after it, so the support card blocked the rest of that test.
    "wren": Account("wren_e2e", "Wren", "member", "baby"),
    # Moderators' flow (tests/browser/test_moderator_flow.py): a member whose hurtful messages are
    # handled, and two moderators of their own, so claims, duty and mutes stay out of other tests.
    "pip": Account("pip_e2e", "Pip", "member", "toddler"),
    "quinn": Account("quinn_e2e", "Quinn", "moderator"),
    "reese": Account("reese_e2e", "Reese", "moderator"),
    # The care loop (tests/browser/test_care_loop.py), in the pregnancy room, which no other test
    # uses: a risk message, an unkind reply, a private check-in, an empty room at night.
    "kira": Account("kira_e2e", "Kira", "member", "pregnant"),
    "lena": Account("lena_e2e", "Lena", "member", "pregnant"),
    "mona": Account("mona_e2e", "Mona", "member", "pregnant"),
    "nia": Account("nia_e2e", "Nia", "moderator"),
    # Trained before they moderate (tests/browser/test_training_journey.py): a volunteer who
    # becomes a trainee and then a moderator, and a member whose message she handles on duty.
    "vera": Account("vera_e2e", "Vera", "member", "newborn"),
    "uma": Account("uma_e2e", "Uma", "member", "baby"),
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Database:
    """A database of its own for one test session; dropped at the end."""

    def __init__(self) -> None:
        self.url = os.environ.get("DATABASE_URL", "")
        self._admin_url = ""
        self._name = ""
        self._tmpdir: str | None = None
        if re.match(r"^postgres(ql)?://", self.url):
            import psycopg
            from psycopg import sql

            # One per stack: the browser and the reliability stacks are both alive in one session,
            # and a running server holds persistent connections to its own database.
            self._name = f"kindred_e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            self._admin_url = self.url
            with psycopg.connect(self._admin_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self._name))
                )
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self._name)))
            # Same server, credentials and options; another database name.
            self.url = urlunsplit(urlsplit(self.url)._replace(path=f"/{self._name}"))
        else:
            self._tmpdir = tempfile.mkdtemp(prefix="kindred-e2e-")
            self.url = f"sqlite:///{self._tmpdir}/e2e.sqlite3"

    def drop(self) -> None:
        if self._name:
            import psycopg
            from psycopg import sql

            with psycopg.connect(self._admin_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self._name)
                    )
                )
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


@dataclass
class LiveServer:
    """A Daphne subprocess that tests may stop and start again (same port, same database)."""

    env: dict[str, str]
    port: int
    log_path: Path
    proc: subprocess.Popen | None = None
    starts: int = 0
    _log: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> None:
        with self.log_path.open("a") as log:
            log.write(f"\n$ manage.py {' '.join(args)}\n")
            log.flush()
            subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=300,
            )

    def start(self) -> None:
        assert self.proc is None, "server already running"
        self.starts += 1
        self._log = self.log_path.open("a")
        self._log.write(f"\n=== manage.py serve start #{self.starts} on port {self.port}\n")
        self._log.flush()
        # `serve` is Daphne plus the embedded moderation worker (MODERATION_EMBEDDED_WORKER in
        # the env below): without a worker nothing is assessed, so no support card, no queue item.
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"daphne exited with {self.proc.returncode}; see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"daphne did not answer /healthz within 60 s; see {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self._log:
            self._log.write("=== daphne stopped\n")
            self._log.close()
            self._log = None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        reason = (
            f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
        )
        if _in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def live_server_proc(chromium_path: str) -> Iterator[LiveServer]:
    ARTIFACTS.mkdir(exist_ok=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    log_path = ARTIFACTS / "browser-server.log"
    log_path.write_text("")
    database = _Database()
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "true",
        "DJANGO_ENV": "development",
        "CHANNEL_PREFIX": f"kindred-e2e-{os.getpid()}-{secrets.token_hex(3)}",
        # The chat client is under test here, not the classifier: keep start-up fast and
        # deterministic unless the caller asks for a real one.
        "MODERATION_CLASSIFIER": os.environ.get("E2E_MODERATION_CLASSIFIER", "none"),
        # Also with REDIS_URL set (CI), where it would otherwise default to off.
        "MODERATION_EMBEDDED_WORKER": "true",
        # A moderator's claims outlive her leaving by this much (60 s in production): short, so
        # tests/browser/test_moderator_flow.py sees them released without waiting a minute.
        "MODERATION_CLAIM_GRACE_SECONDS": "6",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = LiveServer(env=env, port=_free_port(), log_path=log_path)
    try:
        server.manage("migrate", "--noinput")
        # Every account through the real create_account command, in one process: a Django
        # start-up per account took minutes on a busy machine.
        commands = []
        for account in ACCOUNTS.values():
            args = [
                "--username",
                account.username,
                "--password",
                PASSWORD,
                "--role",
                account.role,
                "--display-name",
                account.display_name,
            ]
            if account.stage:
                args += ["--stage", account.stage]
            commands.append(args)
        server.manage(
            "shell",
            "-c",
            "from django.core.management import call_command\n"
            f"for args in {commands!r}:\n"
            "    call_command('create_account', *args)",
        )
        # With no moderator on duty a member's first message is held for review (moderation
        # policy): right for the product, not what these tests are about. Morgan goes on duty
        # through the same action the moderator console uses.
        server.manage(
            "shell",
            "-c",
            (
                "from accounts.models import User; from moderation.actions import do_set_on_duty; "
                f"do_set_on_duty(moderator=User.objects.get(username={ACCOUNTS['morgan'].username!r}), on_duty=True)"
            ),
        )
        server.start()
        yield server
    finally:
        server.stop()
        database.drop()


# --- browsers --------------------------------------------------------------------------------


@pytest.fixture
def _fresh_channel_layer() -> None:
    """Overrides the suite-wide async fixture: these tests never use the in-process channel
    layer (the server is another process), and an async fixture here would need an event loop
    in the same thread as Playwright's sync API."""


# Function scope on purpose: Playwright's sync API keeps an event loop running in this thread
# while it is open, and pytest-asyncio cannot run async fixtures of the next test beside it.
# A fresh Chromium per test costs about a second.
@pytest.fixture
def browser(chromium_path: str):  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Screens:
    """Numbered screenshots of every page a test opened: per step, and on failure."""

    def __init__(self, test_name: str) -> None:
        self.prefix = re.sub(r"[^A-Za-z0-9_-]+", "_", test_name)
        self.pages: dict[str, Any] = {}
        self.step = 0

    def shot(self, label: str) -> None:
        self.step += 1
        for who, page in self.pages.items():
            path = SCREENSHOTS / f"{self.prefix}-{self.step:02d}-{label}-{who}.png"
            try:
                page.screenshot(path=str(path))
            except Exception as exc:  # noqa: BLE001
                print(f"screenshot {path.name} failed: {exc}")


@pytest.fixture
def screens(request: pytest.FixtureRequest) -> Screens:
    return Screens(request.node.name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def open_as(
    browser, live_server_proc: LiveServer, screens: Screens, request: pytest.FixtureRequest
):  # noqa: ANN001, ANN201
    """open_as("amara") → a logged-in phone-sized page, logged in through the real form."""
    contexts = []

    def _open(who: str, *, viewport: dict[str, int] = PHONE):  # noqa: ANN202
        account = ACCOUNTS[who]
        context = browser.new_context(
            viewport=viewport,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on(
            "console",
            lambda msg: (
                msg.type in ("error", "warning")
                and print(f"[{who}] console.{msg.type}: {msg.text}")
            ),
        )
        page.on("pageerror", lambda exc: print(f"[{who}] page error: {exc}"))
        screens.pages[who] = page
        page.goto(f"{live_server_proc.url}/accounts/login/")
        page.get_by_label("Username").fill(account.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/rooms/$"))
        return page

    yield _open
    # Before the pages close: a picture of every page as it was when the test failed.
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        screens.shot("FAILED")
    for context in contexts:
        context.close()
