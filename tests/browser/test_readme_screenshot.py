"""The phone screenshot in the README, taken from a real conversation so it never goes stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat import message, open_room, send

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "chat-360x740.png"
# A message's "⋯" menu open on a phone: everything she can do to a message, behind one button.
MENU_SCREENSHOT = SCREENSHOT.with_name("message-menu-360x740.png")
ROOM = "Sleep and tiredness"

CONVERSATION = [
    (
        "morgan",
        "Evening all, Morgan here on duty tonight. Shout if you want to talk, no question is too small.",
    ),
    (
        "amara",
        "The 3am feeds are breaking me. She only settles on me and tonight I cried in the kitchen.",
    ),
    ("bea", "Oh Amara, that was me a fortnight ago. You're not doing anything wrong, I promise."),
    ("bea", "The contact-nap phase really does pass. It got easier for us around ten weeks."),
    ("amara", "Thank you. It helps so much just knowing someone else is awake."),
    (
        "morgan",
        "Some gentle ideas for the tiredness are on https://www.nhs.uk when you have a minute.",
    ),
    ("bea", "Trying the side-lying feed tonight. Fingers crossed for us both."),
]


def test_readme_phone_screenshot(open_as, screens) -> None:  # noqa: ANN001
    pages = {who: open_as(who) for who in ("morgan", "amara", "bea")}
    for page in pages.values():
        open_room(page, ROOM)
    bea = pages["bea"]
    for who, text in CONVERSATION:
        send(pages[who], text)
        expect(message(bea, text[:30])).to_be_visible()
    # Typing notices go out at most every 3 s per socket; Amara's last one was just now.
    pages["amara"].wait_for_timeout(3200)
    pages["amara"].get_by_label("Your message").press_sequentially("Same here")
    expect(bea.locator("#typing")).to_have_text("Amara is typing…")
    bea.locator("#messages li").last.scroll_into_view_if_needed()
    bea.evaluate("document.activeElement && document.activeElement.blur()")
    bea.wait_for_timeout(400)  # let the last message's entrance settle
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    bea.screenshot(path=str(SCREENSHOT))
    screens.shot("readme")

    # Bea sends Amara a hug from the message's one "⋯" button, then opens it again: the menu
    # with the hug ticked, the count under the message.
    thanks = message(bea, "It helps so much just knowing")
    options = thanks.get_by_role("button", name="Options for Amara's message")
    options.click()
    thanks.get_by_role("menuitemcheckbox", name="Sending a hug").click()
    expect(thanks.locator(".reaction-chip")).to_have_text("Hug 1 (you)")
    options.click()
    expect(thanks.get_by_role("menu")).to_be_visible()
    expect(thanks.get_by_role("menuitemcheckbox", name="Sending a hug")).to_have_attribute(
        "aria-checked", "true"
    )
    # From her name line, with "⋯" pressed, down to the count under the message.
    thanks.evaluate("li => li.scrollIntoView({block: 'start'})")
    bea.wait_for_timeout(300)
    bea.screenshot(path=str(MENU_SCREENSHOT))
    screens.shot("readme-menu")
