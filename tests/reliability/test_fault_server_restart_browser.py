"""Fault: the web server is killed (SIGKILL) and started again. Six phones (one Chromium, six
contexts at 360×740) reconnect by themselves, spread out in time by the client's jittered
back-off (frontend/static/frontend/chat/connection.js) rather than all at once, and resume with
no gap: every page ends with exactly the room's stored seqs.

Each page records, from an init script, every WebSocket it opens and every change of
#conn-state's data-state, with Date.now() timestamps (same clock as this process)."""

from __future__ import annotations

import asyncio
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.reliability.conftest import BABY_MEMBERS, Stack, logged_in_context, write_figure
from tests.reliability.wsclient import ResumingClient

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.integration]

ROOM = "baby"
RECORDER = """
(() => {
  window.__ws = [];
  window.__states = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__ws.push(Date.now()); }
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


def _send_from_python(stack: Stack, name: str, bodies: list[str]) -> None:
    async def go() -> None:
        client = ResumingClient(
            name, f"{stack.ws_base}/ws/rooms/{ROOM}/", stack.origin, stack.cookie(name)
        )
        task = asyncio.create_task(client.run(time.monotonic() + 30))
        await asyncio.wait_for(client.joined.wait(), 20)
        for body in bodies:
            client.submit(body)
        assert await client.drain_outbox(20), client.outbox
        await client.stop()
        await asyncio.gather(task, return_exceptions=True)

    # Playwright's sync API keeps an event loop running in this thread: use another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, go()).result(timeout=60)


def test_pages_reconnect_spread_out_after_a_server_kill_and_resume_without_gaps(
    stack: Stack, browser
) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    pages = []
    for name in BABY_MEMBERS:
        context = logged_in_context(browser, stack, name)
        context.add_init_script(RECORDER)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{stack.server.url}/rooms/{ROOM}/")
        pages.append(page)
    for page in pages:
        expect(page.locator("#conn-state")).to_have_attribute(
            "data-state", "connected", timeout=30_000
        )

    _send_from_python(stack, BABY_MEMBERS[0], [f"before the crash {n}" for n in range(5)])
    for page in pages:
        expect(page.locator("#messages li[data-seq]")).to_have_count(
            len(stack.stored(ROOM)), timeout=15_000
        )

    killed_ms = time.time() * 1000
    stack.server.stop(__import__("signal").SIGKILL)
    for page in pages:
        expect(page.locator("#conn-state")).not_to_have_attribute(
            "data-state", "connected", timeout=15_000
        )
    time.sleep(2)
    # Reconnect times are measured from the moment the new process is launched (a page may get
    # in before /healthz is polled); start() returns once /healthz answers.
    ready_ms = time.time() * 1000
    stack.server.start()
    healthz_ms = time.time() * 1000
    # Messages stored after the restart, while the pages are still waiting out their back-off:
    # each page can only have them by resuming.
    _send_from_python(stack, BABY_MEMBERS[1], [f"after the restart {n}" for n in range(5)])
    stored = [s for s, _, _ in stack.stored(ROOM)]

    for page in pages:
        expect(page.locator("#conn-state")).to_have_attribute(
            "data-state", "connected", timeout=60_000
        )
    for page in pages:
        expect(page.locator("#messages li[data-seq]")).to_have_count(len(stored), timeout=15_000)

    per_page = []
    for name, page in zip(BABY_MEMBERS, pages, strict=True):
        ws_times = page.evaluate("window.__ws")
        states = page.evaluate("window.__states")
        seqs = [
            int(s)
            for s in page.locator("#messages li[data-seq]").evaluate_all(
                "els => els.map(e => e.dataset.seq)"
            )
        ]
        reconnected = next(t for t, s in states if t >= ready_ms and s == "connected")
        attempts_while_down = [t for t in ws_times if killed_ms <= t < ready_ms]
        per_page.append(
            {
                "page": name,
                "connected_ms_after_restart": round(reconnected - ready_ms),
                "first_attempt_ms_after_restart": round(
                    min((t for t in ws_times if t >= ready_ms), default=reconnected) - ready_ms
                ),
                "attempts_while_down": len(attempts_while_down),
                "gaps": len(set(stored) - set(seqs)),
                "duplicates": len(seqs) - len(set(seqs)),
                "in_order": seqs == sorted(seqs),
                "seqs": len(seqs),
            }
        )
    for page in pages:
        page.context.close()

    times = sorted(p["connected_ms_after_restart"] for p in per_page)
    # When each page *tried* again is the client's jitter; when it got in also depends on the new
    # process, whose event loop is busy loading the models for a moment after /healthz answers,
    # so handshakes that arrive meanwhile complete together (seen: six first attempts over 219 ms,
    # connected within 148 ms). The spread is judged on the attempts.
    attempts = sorted(p["first_attempt_ms_after_restart"] for p in per_page)
    gaps_between = [b - a for a, b in zip(times, times[1:])]
    figure = {
        "pages": len(pages),
        "viewport": "360x740",
        "server_down_ms_before_restart": round(ready_ms - killed_ms),
        "server_startup_ms_until_healthz": round(healthz_ms - ready_ms),
        "stored": len(stored),
        "reconnect_spread_ms": times[-1] - times[0],
        "first_attempt_spread_ms": attempts[-1] - attempts[0],
        "reconnect_ms_after_restart": times,
        "median_ms_between_consecutive_reconnects": statistics.median(gaps_between),
        "pages_within_50ms_of_first": sum(1 for t in times if t - times[0] <= 50),
        "per_page": per_page,
    }
    write_figure("server-restart-browser", figure)

    assert all(
        p["gaps"] == 0 and p["duplicates"] == 0 and p["in_order"] and p["seqs"] == len(stored)
        for p in per_page
    ), figure
    assert figure["first_attempt_spread_ms"] >= 150, figure
    assert sum(1 for t in attempts if t - attempts[0] <= 50) < len(pages), figure
    assert all(p["attempts_while_down"] >= 1 for p in per_page), figure
