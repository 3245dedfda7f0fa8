"""The moderator console end to end: an abusive message arrives live in the queue (assessed by the
server's embedded worker on rules alone), a moderator claims it, reads the context, hides it, and
it disappears from the members' screens without a reload. A second moderator meets the typed
"already handling" error; a warning reaches the author as a private notice."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_chat import message, open_room, send

pytestmark = pytest.mark.browser

DOCS_SHOTS = SCREENSHOTS.parents[1] / "docs" / "screenshots"
ABUSE = "You're a pathetic excuse for a mother, shut up"
ABUSE_AGAIN = "Oh just shut up, you are pathetic"


def open_console(page: Page) -> None:
    page.get_by_role("link", name="Moderation", exact=True).click()
    page.wait_for_url(re.compile(r"/moderation/"))
    expect(page.locator("#feed-state")).to_have_text("● Live")


def queue_item(page: Page, text: str):  # noqa: ANN201
    return page.locator(".queue-item").filter(has=page.locator(".queue-text", has_text=text))


def test_moderator_hides_an_abusive_message_live(open_as, screens) -> None:  # noqa: ANN001
    morgan = open_as("morgan")
    open_console(morgan)
    expect(morgan.get_by_role("switch", name="On duty")).to_have_attribute("aria-checked", "true")
    amara, dana = open_as("amara"), open_as("dana")
    open_room(amara)
    open_room(dana)

    send(dana, ABUSE)
    expect(message(amara, ABUSE)).to_be_visible()

    # Live: no reload on the console.
    item = queue_item(morgan, ABUSE)
    expect(item).to_have_count(1, timeout=20_000)
    expect(item.locator(".flag-badges")).to_contain_text("Hurtful")
    # High priority; or urgent, when another test's risk message was posted in this room within
    # the last 5 minutes (an unkind message after a risk message is urgent: moderation/care.py).
    expect(item.locator(".flag-badges")).to_contain_text(re.compile(r"High priority|Urgent"))
    expect(item.locator(".flag-wait")).to_contain_text(
        re.compile(r"Waiting .* · target (30|5) min")
    )
    expect(item.locator(".reasons")).to_contain_text("Rule abuse.insult: “you are a pathetic”")
    expect(item.locator(".flag-claim")).to_have_text("○ Open: nobody has claimed it")
    # Care: hurtful text is blurred, hidden from screen readers too, until she chooses.
    expect(item.locator(".sensitive")).to_have_class(re.compile(r"\bis-blurred\b"))
    expect(item.locator(".sensitive-text")).to_have_attribute("aria-hidden", "true")
    morgan.evaluate("document.activeElement && document.activeElement.blur()")
    screens.shot("queue-live")
    morgan.screenshot(path=str(DOCS_SHOTS / "moderation-queue-360x740.png"))
    show = item.get_by_role("button", name="Show message")
    show.focus()
    morgan.keyboard.press("Enter")  # keyboard works, not only taps
    expect(item.locator(".sensitive")).not_to_have_class(re.compile(r"\bis-blurred\b"))
    expect(item.locator(".sensitive-text")).not_to_have_attribute("aria-hidden", "true")

    # Open it: context around the flagged message, actions that need a claim are off until then.
    item.locator(".queue-link").click()
    morgan.wait_for_url(re.compile(r"#item-\d+$"))
    flag_id = morgan.url.rsplit("-", 1)[1]
    detail = morgan.locator("#detail-view")
    expect(detail.get_by_role("heading", level=2)).to_have_text("Dana in Newborn (0–3 months)")
    flagged = detail.locator(".ctx-msg.is-flagged")
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("▶ Flagged message")
    expect(detail.get_by_role("button", name="Hide message")).to_be_disabled()
    expect(detail.locator(".action-hint")).to_contain_text("Claim this item")
    detail.get_by_role("button", name="Claim").click()
    expect(detail.locator(".flag-claim")).to_have_text("● You're handling this")
    expect(detail.get_by_role("button", name="Hide message")).to_be_enabled()
    screens.shot("detail-claimed")
    morgan.evaluate(
        "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)"
    )
    morgan.screenshot(path=str(DOCS_SHOTS / "moderation-detail-360x740.png"))

    # Another moderator cannot take it: the server's typed error is shown next to the buttons.
    rowan = open_as("rowan")
    rowan.goto(morgan.url)
    rowan_detail = rowan.locator("#detail-view")
    expect(rowan_detail.locator(".flag-claim")).to_have_text("● Morgan is handling this")
    rowan_detail.get_by_role("button", name="Claim").click()
    expect(rowan_detail.locator(".actions .action-error")).to_have_text(
        "Morgan is already handling this item."
    )
    screens.shot("second-moderator-refused")

    # Hide: gone from both members' screens at once, and from the queue.
    detail.get_by_role("button", name="Hide message").click()
    expect(detail.locator(".action-status")).to_contain_text("Hidden")
    for page in (amara, dana):
        removed = page.locator("#messages li[data-seq]").filter(has_text="Removed by a moderator")
        expect(removed).to_have_count(1)
        expect(message(page, ABUSE)).to_have_count(0)
    expect(morgan.locator(f'.queue-item[data-flag-id="{flag_id}"]')).to_have_count(0)
    expect(detail.locator(".flag-claim")).to_have_text("✓ Resolved")
    screens.shot("hidden")

    # Undo is one tap away.
    detail.get_by_role("button", name="Restore message (undo hide)").click()
    expect(detail.locator(".action-status")).to_contain_text("Restored")
    expect(message(amara, ABUSE)).to_have_count(1)
    screens.shot("restored")

    # A second hurtful message: Morgan sends a warning, which Dana gets as a private notice.
    send(dana, ABUSE_AGAIN)
    morgan.get_by_role("link", name="← Back to the queue").click()
    second = queue_item(morgan, ABUSE_AGAIN)
    expect(second).to_have_count(1, timeout=20_000)
    second.locator(".queue-link").click()
    detail.get_by_role("button", name="Claim").click()
    expect(detail.locator(".flag-claim")).to_have_text("● You're handling this")
    detail.get_by_text("Send a warning").click()
    warning = detail.get_by_label("What she will read (only she sees it)")
    expect(warning).to_have_value(re.compile(r"^Hi Dana, one of our volunteer moderators here\."))
    warning.fill("Hi Dana, please keep it kind here. We know things are hard right now.")
    detail.get_by_role("button", name="Send warning").click()
    expect(detail.locator(".action-status")).to_contain_text("Warning sent")
    notice = dana.locator("#notices .notice")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("A note from the moderators")
    expect(notice).to_contain_text("please keep it kind here")
    expect(notice).to_contain_text("Only you can see this")
    expect(amara.locator("#notices .notice")).to_have_count(0)
    screens.shot("warning-notice")
    notice.get_by_role("button", name=re.compile(r"^Dismiss")).click()
    expect(notice).to_have_count(0)

    # Duty: Rowan goes on and off duty from the switch; the counters say so.
    rowan.get_by_role("link", name="← Back to the queue").click()
    switch = rowan.get_by_role("switch", name="On duty")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(rowan.locator("#duty-stats")).to_have_text(
        re.compile(r"^Handled 0 items · (less than a minute|\d+ min) on duty$")
    )
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
