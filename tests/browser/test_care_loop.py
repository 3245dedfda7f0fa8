"""The care loop around a mother at risk, and the gaps a new member hits (issue 21), at 360×740:

* a private check-in both ways: the support card promises it, a moderator opens it from the risk
  item, the mother answers from a private banner in her room, the moderator sees it live, she
  closes it, a supervisor can read it;
* an unkind reply under a risk message is urgent, linked to the risk item and hidden from her,
  and "me too" is not offered on her message;
* an empty room at night: she is answered privately and honestly, and the room list tells the
  truth about who is on duty.

All in the pregnancy room, with accounts no other test uses."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ACCOUNTS, SCREENSHOTS
from tests.browser.test_chat import message, open_room, send

pytestmark = pytest.mark.browser

PREGNANCY = "Pregnancy"
RISK = "Some nights I just don't want to be alive anymore"
RISK_B = "Some nights I think my baby would be better off without me"
UNKIND = "Stop whining, other people have real problems"
DOCS_SHOTS = SCREENSHOTS.parents[1] / "docs" / "screenshots"  # the README's pictures


def open_console(page: Page) -> None:
    page.get_by_role("link", name="Moderation", exact=True).click()
    page.wait_for_url(re.compile(r"/moderation/"))
    expect(page.locator("#feed-state")).to_have_text("● Live")


def queue_item(page: Page, text: str, author: str):  # noqa: ANN201
    return (
        page.locator(".queue-item")
        .filter(has=page.locator(".queue-text", has_text=text))
        .filter(has=page.locator(".queue-author", has_text=author))
    )


def close_support_card(page: Page, expected: str) -> None:
    card = page.get_by_role("dialog", name="You're not on your own")
    expect(card).to_be_visible(timeout=20_000)
    expect(card).to_contain_text(expected)
    expect(card).not_to_contain_text("let know")
    card.get_by_role("button", name="Close").click()
    expect(card).to_be_hidden()


def test_a_private_checkin_both_ways(open_as, screens) -> None:  # noqa: ANN001
    nia = open_as("nia")
    open_console(nia)
    kira = open_as("kira")
    open_room(kira, PREGNANCY)

    # A moderator is on duty (Morgan, all session): the card promises a private message here.
    send(kira, RISK)
    card = kira.get_by_role("dialog", name="You're not on your own")
    expect(card).to_be_visible(timeout=20_000)
    expect(card).to_contain_text("A moderator will message you privately here")
    kira.wait_for_timeout(300)  # the backdrop fades in
    screens.shot("support-card-promises-a-checkin")
    close_support_card(kira, "message you privately")

    # The risk item offers the check-in first, already open.
    item = queue_item(nia, RISK, "Kira")
    expect(item).to_have_count(1, timeout=20_000)
    item.locator(".queue-link").click()
    detail = nia.locator("#detail-view")
    box = detail.get_by_label("What she will read (only she and the moderators see it)")
    expect(box).to_be_visible()
    box.fill(
        "Hi Kira, I'm Nia, one of the moderators. I read your message. Can we talk here, just us?"
    )
    screens.shot("risk-item-message-her-privately")
    detail.get_by_role("button", name="Send privately").click()
    nia.wait_for_url(re.compile(r"/checkins/\d+/$"))
    checkin_url = nia.url
    expect(nia.locator("#checkin-state")).to_have_text("Connected")
    expect(nia.locator(".checkin-msg")).to_have_count(1)

    # She is told at once, privately, in her room.
    banner = kira.locator("#checkin-banner")
    expect(banner).to_contain_text("A moderator has messaged you privately")
    screens.shot("banner-in-her-room")
    banner.get_by_role("link", name="Open the private conversation").click()
    kira.wait_for_url(checkin_url)
    expect(kira.get_by_role("heading", level=1)).to_have_text(
        "Private conversation with a moderator"
    )
    expect(kira.locator(".checkin-msg.from-moderator")).to_contain_text("Can we talk here")

    # Both ways, live.
    kira.get_by_label("Your reply").fill("Thank you. It helps that someone asked.")
    kira.get_by_label("Your reply").press("Enter")
    expect(nia.locator(".checkin-msg.from-member")).to_contain_text("It helps that someone asked")
    nia.get_by_label("Your message to Kira").fill("I'm really glad you told us. How are nights?")
    nia.get_by_label("Your message to Kira").press("Enter")
    expect(kira.locator(".checkin-msg.from-moderator").last).to_contain_text("How are nights?")
    screens.shot("checkin-both-ways")
    kira.screenshot(path=str(DOCS_SHOTS / "checkin-member-360x740.png"))

    # It never appears in the room.
    lena = open_as("lena")
    open_room(lena, PREGNANCY)
    expect(message(lena, RISK)).to_have_count(1)
    expect(lena.locator("#messages")).not_to_contain_text("It helps that someone asked")

    # It survives a reload (resumed from the server, nothing doubled).
    kira.reload()
    expect(kira.locator("#checkin-state")).to_have_text("Connected")
    expect(kira.locator(".checkin-msg")).to_have_count(3)

    # She closes it; the moderator sees that at once, and nobody can write in it any more.
    kira.once("dialog", lambda dialog: dialog.accept())
    kira.get_by_role("button", name="Close this conversation").click()
    expect(kira.locator("#checkin-closed")).to_contain_text("closed by you")
    expect(kira.locator("#checkin-composer")).to_be_hidden()
    expect(nia.locator("#checkin-closed")).to_contain_text("closed by Kira")
    screens.shot("closed-by-her")

    # A supervisor can read it.
    sam = open_as("sam")
    sam.goto(sam.url.replace("/rooms/", "/moderation/checkins/"))
    row = sam.locator(".checkin-row").filter(has_text="Kira")
    expect(row).to_contain_text("closed")
    row.get_by_role("link", name="Kira").click()
    expect(sam.locator(".checkin-msg")).to_have_count(3)
    expect(sam.locator(".checkin-msg").first).to_contain_text("Nia (moderator)")


def test_an_unkind_reply_under_a_risk_message_is_urgent_and_hidden_from_her(
    open_as, screens
) -> None:  # noqa: ANN001
    nia = open_as("nia")
    open_console(nia)
    lena, mona = open_as("lena"), open_as("mona")
    open_room(lena, PREGNANCY)
    open_room(mona, PREGNANCY)

    send(lena, RISK_B)
    close_support_card(lena, "message you privately")
    risk = message(mona, RISK_B)
    expect(risk).to_be_visible()
    # Supportive reactions only on a message that shows risk; none on her own message.
    expect(risk.get_by_role("menuitemcheckbox", name="Me too", include_hidden=True)).to_have_count(
        0
    )
    risk.get_by_role("button", name="Options for Lena's message").click()
    expect(risk.get_by_role("menuitemcheckbox", name="Sending a hug")).to_be_visible()
    expect(risk.get_by_role("menuitemcheckbox", name="Me too")).to_have_count(0)
    mona.keyboard.press("Escape")
    own = message(lena, RISK_B)
    own.get_by_role("button", name="Options for your message").click()
    expect(own.get_by_role("menuitem", name="Reply")).to_be_visible()
    expect(own.get_by_role("menuitemcheckbox")).to_have_count(0)
    lena.keyboard.press("Escape")

    # Straight under it, a minute later: the "Stop whining…".
    send(mona, UNKIND)
    expect(message(mona, UNKIND)).to_contain_text(
        "Waiting for a moderator to check this", timeout=20_000
    )
    # Gone from her screen (and the room's) pending review.
    expect(lena.locator("#messages")).not_to_contain_text(UNKIND, timeout=20_000)
    screens.shot("unkind-reply-hidden-from-her")

    item = queue_item(nia, UNKIND, "Mona")
    expect(item).to_have_count(1, timeout=20_000)
    expect(item.locator(".flag-badges")).to_contain_text(re.compile("Urgent", re.I))
    expect(item.locator(".reasons")).to_contain_text("Unkind reply to a risk message")
    expect(item.locator(".flag-wait")).to_contain_text("target 5 min")
    nia.evaluate("document.activeElement && document.activeElement.blur()")
    item.scroll_into_view_if_needed()
    screens.shot("urgent-linked-item")
    nia.screenshot(path=str(DOCS_SHOTS / "urgent-linked-reply-360x740.png"))


def _duty(page: Page, on: bool) -> None:
    switch = page.get_by_role("switch", name="On duty")
    if switch.get_attribute("aria-checked") != ("true" if on else "false"):
        switch.click()
    expect(switch).to_have_attribute("aria-checked", "true" if on else "false")


def test_an_empty_room_at_night_answers_her_and_the_room_list_tells_the_truth(
    open_as, live_server_proc, screens
) -> None:  # noqa: ANN001
    # Only Morgan is on duty here (other tests' moderators go off duty through the same action).
    live_server_proc.manage(
        "shell",
        "-c",
        (
            "from moderation.models import ModeratorDuty; from moderation.actions import do_set_on_duty; "
            "[do_set_on_duty(moderator=d.moderator, on_duty=False) for d in "
            f"ModeratorDuty.objects.filter(ended_at__isnull=True).exclude(moderator__username={ACCOUNTS['morgan'].username!r}).select_related('moderator')]"
        ),
    )
    morgan = open_as("morgan")
    open_console(morgan)
    kira = open_as("kira")
    # Morgan is on duty in the console, in no room: the list says so (it said "No moderator
    # online" on every room).
    expect(kira.locator("#duty-line")).to_contain_text("A moderator is on duty now")
    expect(kira.locator(".room-card").first.locator(".mod-duty")).to_have_text("Moderator on duty")
    screens.shot("room-list-moderator-on-duty")
    try:
        _duty(morgan, False)  # through the server, so its cached on-duty flag is cleared at once
        kira.reload()
        expect(kira.locator("#duty-line")).to_contain_text("No moderator is on duty right now")
        expect(kira.locator(".room-card").first.locator(".mod-absent")).to_have_text(
            "No moderator on duty"
        )
        screens.shot("room-list-nobody-on-duty")

        open_room(kira, PREGNANCY)
        send(kira, "Is anyone there? Bit of a rough evening.")
        note = kira.locator(".notice").filter(has_text="A note from Kindred, just for you")
        expect(note).to_be_visible(timeout=15_000)
        expect(note).to_contain_text("Nobody else is in Pregnancy right now")
        expect(note).to_contain_text("Your message is saved, and others will see it")
        expect(note).to_contain_text("Samaritans")
        expect(note).to_contain_text("Only you can see this")
        screens.shot("empty-room-answer")
        kira.screenshot(path=str(DOCS_SHOTS / "empty-room-answer-360x740.png"))

        # With nobody on duty the support card promises no check-in: it says so, and the
        # services that can talk now come first.
        send(kira, RISK)
        card = kira.get_by_role("dialog", name="You're not on your own")
        expect(card).to_be_visible(timeout=20_000)
        expect(card).to_contain_text("No moderator is on duty at the moment")
        expect(card).not_to_contain_text("message you privately")
        assert card.evaluate(
            "d => d.querySelector('.helplines').compareDocumentPosition("
            "d.querySelector('#support-card-text')) & Node.DOCUMENT_POSITION_FOLLOWING"
        ), "the helplines come before the words"
        kira.wait_for_timeout(300)  # the backdrop fades in
        screens.shot("support-card-nobody-on-duty")
        card.get_by_role("button", name="Close").click()
    finally:
        _duty(morgan, True)
