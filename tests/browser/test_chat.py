"""The chat page end to end: two mothers on phones, a real server, a real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

NEWBORN = "Newborn (0–3 months)"


def open_room(page: Page, room_name: str = NEWBORN) -> None:
    page.get_by_role("link", name=room_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(room_name)
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "connected")
    expect(page.locator("#conn-state")).to_have_text("Connected")


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def message(page: Page, text: str):  # noqa: ANN201
    return page.locator("#messages li[data-seq]").filter(has_text=text)


def choose(msg, name: str | re.Pattern[str], *, role: str = "menuitem") -> None:  # noqa: ANN001
    """Open the message's "⋯" menu and pick `name` in it (reactions are menuitemcheckbox)."""
    msg.get_by_role("button", name=re.compile(r"^Options for")).click()
    msg.get_by_role(role, name=name).click()


def seqs(page: Page) -> list[int]:
    return [
        int(s)
        for s in page.locator("#messages li[data-seq]").evaluate_all(
            "els => els.map(e => e.dataset.seq)"
        )
    ]


def test_two_members_talk_in_real_time(open_as, screens) -> None:  # noqa: ANN001
    amara, bea = open_as("amara"), open_as("bea")
    screens.shot("rooms-list")
    open_room(amara)
    open_room(bea)
    expect(amara.locator("#presence")).to_contain_text("2 here")
    screens.shot("both-in-room")

    send(amara, "Is anyone else awake with a newborn right now?")
    mine = message(amara, "Is anyone else awake")
    expect(mine).to_have_class(re.compile(r"\bmsg-own\b"))
    expect(mine.locator(".msg-author")).to_have_text("You")
    theirs = message(bea, "Is anyone else awake")
    expect(theirs).to_be_visible()
    expect(theirs.locator(".msg-author")).to_have_text("Amara")
    expect(theirs).not_to_have_class(re.compile(r"\bmsg-own\b"))
    screens.shot("amara-sent")

    # Bea starts typing: Amara is told, then Bea sends with the button.
    bea.get_by_label("Your message").press_sequentially("Yes, me")
    expect(amara.locator("#typing")).to_have_text("Bea is typing…")
    bea.get_by_label("Your message").fill("Yes, me. Feeding at 3am again, you're not alone.")
    bea.get_by_role("button", name="Send").click()
    expect(message(amara, "you're not alone")).to_be_visible()
    expect(message(amara, "you're not alone").locator(".msg-author")).to_have_text("Bea")
    expect(amara.locator("#typing")).to_have_text("")
    expect(bea.get_by_label("Your message")).to_have_value("")
    screens.shot("bea-replied")

    # Nothing pending is left over and each message is there once, in order, for both.
    for page in (amara, bea):
        expect(page.locator("#messages .msg-pending")).to_have_count(0)
        expect(message(page, "Is anyone else awake")).to_have_count(1)
        got = seqs(page)
        assert got == sorted(got) and got == list(range(got[0], got[0] + len(got)))


def test_message_text_is_never_markup(open_as, screens) -> None:  # noqa: ANN001
    amara, bea = open_as("amara"), open_as("bea")
    dialogs: list[str] = []
    for page in (amara, bea):
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_room(amara)
    open_room(bea)

    payload = "<img src=x onerror=alert(1)> see https://example.org."
    send(amara, payload)
    for page in (amara, bea):
        item = message(page, "onerror=alert(1)")
        expect(item).to_have_count(1)
        expect(item.locator(".msg-body")).to_have_text(payload)
        expect(page.locator("#messages img")).to_have_count(0)
        link = item.locator("a")
        expect(link).to_have_count(1)
        expect(link).to_have_text("https://example.org")  # the full stop belongs to the sentence
        expect(link).to_have_attribute("href", "https://example.org/")
        expect(link).to_have_attribute("rel", re.compile(r"\bnofollow\b"))
        expect(link).to_have_attribute("target", "_blank")
    screens.shot("xss-as-text")

    send(amara, "javascript:alert(2) and http://a.test/x?y=<b>1</b>")
    item = message(bea, "javascript:alert(2)")
    expect(item.locator("a")).to_have_count(1)
    expect(item.locator("a")).to_have_attribute("href", re.compile(r"^http://a\.test/"))
    expect(bea.locator("#messages b")).to_have_count(0)
    assert dialogs == []


def test_both_pages_survive_a_server_restart(open_as, screens, live_server_proc) -> None:  # noqa: ANN001
    amara, bea = open_as("amara"), open_as("bea")
    open_room(amara)
    open_room(bea)
    send(amara, "Before the restart")
    expect(message(bea, "Before the restart")).to_be_visible()
    screens.shot("before-restart")

    live_server_proc.stop()
    for page in (amara, bea):
        expect(page.locator("#conn-state")).to_contain_text(
            re.compile(r"Reconnecting|Connecting|Offline"), timeout=15_000
        )
        expect(page.locator("#conn-state")).not_to_have_attribute("data-state", "connected")

    offline_text = "This one went in the outbox first"
    send(amara, offline_text)
    pending = amara.locator("#messages .msg-pending").filter(has_text=offline_text)
    expect(pending).to_have_count(1)
    expect(pending.locator(".msg-status")).to_contain_text(re.compile(r"Not sent yet|Sending"))
    screens.shot("server-down-message-queued")

    live_server_proc.start()
    # Back-off after ~5 failed attempts can be up to 8 s × 1.5; allow for it.
    for page in (amara, bea):
        expect(page.locator("#conn-state")).to_have_attribute(
            "data-state", "connected", timeout=45_000
        )
    expect(message(bea, offline_text)).to_have_count(1, timeout=15_000)
    expect(amara.locator("#messages .msg-pending")).to_have_count(0)
    expect(message(amara, offline_text)).to_have_count(1)
    screens.shot("reconnected")

    send(bea, "Glad you're still here")
    expect(message(amara, "Glad you're still here")).to_have_count(1)

    # Every seq exactly once and without a gap, on both pages, ending with the same last message.
    bea_seqs, amara_seqs = seqs(bea), seqs(amara)
    for got in (bea_seqs, amara_seqs):
        assert got == list(range(got[0], got[0] + len(got))), got
    assert bea_seqs[-1] == amara_seqs[-1]
    assert message(bea, offline_text).get_attribute("data-seq") == message(
        amara, offline_text
    ).get_attribute("data-seq")
    # A reload does not bring the delivered message back as pending.
    amara.reload()
    expect(amara.locator("#conn-state")).to_have_attribute("data-state", "connected")
    expect(amara.locator("#messages .msg-pending")).to_have_count(0)
    expect(message(amara, offline_text)).to_have_count(1)
    screens.shot("after-reload")


def test_refused_message_stays_with_retry_and_edit(open_as, screens) -> None:  # noqa: ANN001
    amara = open_as("amara")
    open_room(amara)
    # Control characters are stripped by the server, leaving an empty message: a validation error.
    send(amara, "\u0007\u0007")
    failed = amara.locator("#messages .msg-failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("Not sent: The message is empty.")
    expect(amara.locator("#composer-error")).to_have_text("The message is empty.")
    expect(failed.get_by_role("button", name="Try again")).to_be_visible()
    screens.shot("failed")

    failed.get_by_role("button", name="Edit").click()
    expect(amara.locator("#messages .msg-pending")).to_have_count(0)
    expect(amara.get_by_label("Your message")).to_have_value("\u0007\u0007")
    expect(amara.get_by_label("Your message")).to_be_focused()


def test_offline_then_logged_out_stops_and_offers_login(open_as, screens) -> None:  # noqa: ANN001
    bea = open_as("bea")
    open_room(bea)
    bea.context.set_offline(True)
    expect(bea.locator("#conn-state")).to_have_text("Offline: waiting for the network")
    send(bea, "Written on the train")
    expect(bea.locator("#messages .msg-pending")).to_contain_text("Not sent yet")
    screens.shot("offline")

    bea.context.set_offline(False)
    # Back online: the queued message goes out once, by itself.
    expect(bea.locator("#messages .msg-pending")).to_have_count(0, timeout=20_000)
    expect(bea.locator("#messages")).to_contain_text("Written on the train")

    # Logging out in another tab closes this tab's socket at once (same login session):
    # no retry loop, and a way to log in again.
    other = bea.context.new_page()
    other.goto(bea.url.split("/rooms/")[0] + "/rooms/")
    other.get_by_role("button", name="Log out").click()
    other.close()
    state = bea.locator("#conn-state")
    expect(state).to_have_attribute("data-state", "stopped")
    expect(state).to_contain_text("You are logged out.")
    expect(state.get_by_role("link", name="Log in again")).to_have_attribute(
        "href", "/accounts/login/?next=%2Frooms%2Fnewborn%2F"
    )
    expect(bea.locator("#conn-retry")).to_be_hidden()
    screens.shot("logged-out")
    bea.wait_for_timeout(1500)
    expect(state).to_have_attribute("data-state", "stopped")


def test_a_socket_that_never_says_joined_is_given_up_and_tried_again(open_as, screens) -> None:  # noqa: ANN001
    """A phone between networks (or a server stuck mid-handshake) can open a socket that never
    answers. The page must not sit on "Connecting…" for ever: after 15 s it drops that socket and
    connects again, and the room works."""
    page = open_as("amara")
    attempts: list[str] = []

    def route(ws) -> None:  # noqa: ANN001
        attempts.append(ws.url)
        if len(attempts) > 1:
            ws.connect_to_server()  # the second attempt reaches the real server
        # the first is accepted by nobody and never answered

    page.route_web_socket(re.compile(r"/ws/rooms/"), route)
    page.get_by_role("link", name=NEWBORN).click()
    expect(page.locator("#conn-state")).to_have_text("Connecting…")
    page.wait_for_timeout(5_000)
    expect(page.locator("#conn-state")).to_have_text("Connecting…")  # still waiting, not given up
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "connected", timeout=30_000)
    assert len(attempts) == 2, attempts
    send(page, "back on the wifi now, morning all")
    expect(message(page, "back on the wifi now, morning all")).to_be_visible()
