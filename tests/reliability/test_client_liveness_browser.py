"""Fault: the phone's network dies without a close (a half-open connection). Chromium talks to the
real server through a relay that can go silent: from then on it swallows bytes both ways and
closes nothing, as a network that vanished under a phone does. The page must notice by itself
(frontend/static/frontend/chat/connection.js) and reconnect; the server must notice too.

- Visible page: its JSON ping goes unanswered and it reconnects within one ping interval plus the
  pong deadline (25 s + 10 s).
- Hidden page: it sends no JSON pings (nobody sees it; docs/performance.md, "What an idle member
  costs"), yet stays connected, because the browser answers the server's WebSocket pings.
- Shown again: it checks at once, so a socket that died while the screen was off is replaced
  within the pong deadline instead of showing "Connected" for up to half a minute.
- The server closes a socket whose client went silent (its WebSocket ping unanswered) within
  Daphne's keep-alive bound: 30 s of silence, 30 s for the pong, plus its 6 s sweeps.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field

import pytest

from tests.reliability.conftest import MEMBERS, Stack, logged_in_context, write_figure

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.integration]

ROOM = "newborn"
NAME = MEMBERS[7]
PING_INTERVAL, PONG_DEADLINE = 25.0, 10.0  # connection.js defaults
SERVER_DROP_BOUND = (
    30 + 30 + 2 * 6 + 8
)  # serve.py's ping_interval + ping_timeout, two sweeps, slack

RECORDER = """
(() => {
  window.__ws = [];
  window.__sent = [];
  window.__states = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__ws.push(Date.now()); }
    send(data) { window.__sent.push([Date.now(), String(data)]); return super.send(data); }
  };
  window.__setVisibility = (value) => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => value });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => value === "hidden" });
    document.dispatchEvent(new Event("visibilitychange"));
  };
  const watch = () => {
    const el = document.getElementById("conn-state");
    if (!el) return;
    window.__states.push([Date.now(), el.dataset.state]);
    new MutationObserver(() => window.__states.push([Date.now(), el.dataset.state]))
      .observe(el, { attributes: true, attributeFilter: ["data-state"] });
  };
  document.addEventListener("DOMContentLoaded", watch);
})();
"""


@dataclass(eq=False)
class Link:
    browser_side: socket.socket
    server_side: socket.socket
    silent_since: float | None = None
    server_closed_at: float | None = None
    server_pings: int = 0  # reads that begin with a WebSocket ping frame from the server
    browser_pongs: int = 0  # ... and with a pong frame from the browser
    request: bytes = b""  # the first bytes the browser sent: "GET /ws/..." for a socket

    @property
    def is_socket(self) -> bool:
        return self.request.startswith(b"GET /ws/")

    threads: list[threading.Thread] = field(default_factory=list)


class SilentNetwork:
    """A TCP relay from a local port to the server that can go silent link by link."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.links: list[Link] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                browser_side, _ = self.listener.accept()
            except OSError:
                return
            server_side = socket.create_connection(("127.0.0.1", self.target_port))
            link = Link(browser_side, server_side)
            with self._lock:
                self.links.append(link)
            for src, dst, from_server in (
                (browser_side, server_side, False),
                (server_side, browser_side, True),
            ):
                t = threading.Thread(
                    target=self._pump, args=(link, src, dst, from_server), daemon=True
                )
                link.threads.append(t)
                t.start()

    @staticmethod
    def _pump(link: Link, src: socket.socket, dst: socket.socket, from_server: bool) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                if from_server and link.server_closed_at is None:
                    link.server_closed_at = time.time()
                if link.silent_since is None:  # a live network passes the close on
                    for s in (dst, src):
                        try:
                            s.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                return
            if not from_server and not link.request:
                link.request = data[:64]
            if link.silent_since is None:
                # Frames are small and far apart on an idle socket: a read is one frame.
                if from_server and data[0] == 0x89:
                    link.server_pings += 1
                elif not from_server and data[0] == 0x8A:
                    link.browser_pongs += 1
                try:
                    dst.sendall(data)
                except OSError:
                    return

    def go_silent(self) -> list[Link]:
        """Every open link stops carrying bytes (new connections still work)."""
        now = time.time()
        with self._lock:
            cut = [
                link
                for link in self.links
                if link.silent_since is None and link.server_closed_at is None
            ]
            for link in cut:
                link.silent_since = now
        return cut

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for link in self.links:
                for s in (link.browser_side, link.server_side):
                    try:
                        s.close()
                    except OSError:
                        pass


def _wait(predicate, timeout: float, step: float = 0.25):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def _left_connected_after(page, since_ms: float) -> float | None:  # noqa: ANN001
    """Seconds from `since_ms` until the page stopped saying "connected", if it did."""
    states = page.evaluate("window.__states")
    for at, state in states:
        if at >= since_ms and state != "connected":
            return (at - since_ms) / 1000
    return None


def _pings_since(page, since_ms: float) -> int:  # noqa: ANN001
    return sum(
        1
        for at, data in page.evaluate("window.__sent")
        if at >= since_ms and json.loads(data).get("type") == "ping"
    )


@pytest.mark.timeout(600)  # up to 35 s + 66 s + 80 s of waiting on the clocks under test
def test_a_half_open_socket_is_noticed_by_the_page_and_the_server(stack: Stack, browser) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    network = SilentNetwork(stack.server.port)
    context = logged_in_context(browser, stack, NAME)
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.set_default_timeout(20_000)
    connected = page.locator("#conn-state")
    figure: dict[str, float | int | None] = {}
    try:
        page.goto(f"http://127.0.0.1:{network.port}/rooms/{ROOM}/")
        expect(connected).to_have_attribute("data-state", "connected", timeout=30_000)

        # 1. Visible, and the network dies: the page's own ping finds out.
        cut_at = time.time() * 1000
        first_cut = [link for link in network.go_silent() if link.is_socket]
        assert len(first_cut) == 1, first_cut
        noticed = _wait(
            lambda: _left_connected_after(page, cut_at), PING_INTERVAL + PONG_DEADLINE + 10
        )
        figure["visible_noticed_s"] = noticed
        assert noticed is not None and noticed <= PING_INTERVAL + PONG_DEADLINE + 5, noticed
        expect(connected).to_have_attribute("data-state", "connected", timeout=30_000)
        assert len(page.evaluate("window.__ws")) == 2

        # 2. Hidden: no JSON pings for longer than the page's ping interval, and the socket stays
        # open because the browser answers the server's WebSocket ping by itself.
        hidden_at = time.time() * 1000
        page.evaluate("window.__setVisibility('hidden')")
        live = [link for link in network.links if link.silent_since is None and link.is_socket]
        assert len(live) == 1, live
        answered = _wait(lambda: any(link.browser_pongs for link in live), 30 + 6 + 30)
        time.sleep(max(0.0, hidden_at / 1000 + PING_INTERVAL + 2 - time.time()))
        figure["hidden_s"] = round(time.time() - hidden_at / 1000, 1)
        figure["pings_while_hidden"] = _pings_since(page, hidden_at)
        assert figure["pings_while_hidden"] == 0
        assert answered, "no WebSocket ping from the server was answered while the page was hidden"
        assert len(page.evaluate("window.__ws")) == 2
        assert _left_connected_after(page, hidden_at) is None

        # The server has dropped the socket that went silent in step 1.
        _wait(
            lambda: all(link.server_closed_at for link in first_cut),
            max(0.0, cut_at / 1000 + SERVER_DROP_BOUND - time.time()),
        )
        dropped = [link.server_closed_at for link in first_cut if link.server_closed_at]
        assert dropped, "the server never closed the socket whose client went silent"
        figure["server_dropped_silent_socket_s"] = round(max(dropped) - cut_at / 1000, 1)
        assert figure["server_dropped_silent_socket_s"] <= SERVER_DROP_BOUND

        # 3. The network dies while the screen is off; she looks again: checked at once.
        network.go_silent()
        shown_at = time.time() * 1000
        page.evaluate("window.__setVisibility('visible')")
        noticed = _wait(lambda: _left_connected_after(page, shown_at), PONG_DEADLINE + 10)
        figure["shown_noticed_s"] = noticed
        assert noticed is not None and noticed <= PONG_DEADLINE + 4, noticed
        expect(connected).to_have_attribute("data-state", "connected", timeout=30_000)
        assert len(page.evaluate("window.__ws")) == 3
    finally:
        write_figure("client_liveness", figure)
        context.close()
        network.close()
