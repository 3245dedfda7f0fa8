"""A mother's safety features end to end: the support card after a risk message, Quick exit (the
button and Escape three times), and the Get help and privacy pages (also logged out)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ACCOUNTS, PASSWORD, PHONE, SCREENSHOTS
from tests.browser.test_chat import message, open_room, send

pytestmark = pytest.mark.browser

DOCS_SHOTS = SCREENSHOTS.parents[1] / "docs" / "screenshots"
NEUTRAL = re.compile(r"^https://www\.bbc\.co\.uk/weather")
RISK = "I don't want to be alive anymore"


def stub_neutral_site(page: Page) -> None:
    """The test machine may have no internet: answer for the neutral page ourselves."""
    page.context.route(
        re.compile(r"^https://www\.bbc\.co\.uk/.*"),
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body="<!doctype html><title>Weather</title><h1>Weather forecast</h1>",
        ),
    )


def kindred_session_keys(page: Page) -> list[str]:
    return page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('kindred:'))")


def test_support_card_after_a_risk_message(open_as, screens) -> None:  # noqa: ANN001
    cleo = open_as("cleo")
    open_room(cleo)
    send(cleo, RISK)
    expect(message(cleo, RISK)).to_be_visible()

    # The worker assesses it (rules alone are enough) and the card comes to her only, at once.
    card = cleo.get_by_role("dialog", name="You're not on your own")
    expect(card).to_be_visible(timeout=20_000)
    expect(card.get_by_role("heading", name="You're not on your own")).to_be_focused()
    expect(card).to_contain_text("call 999")
    samaritans = card.locator(".helpline").filter(has_text="Samaritans")
    expect(samaritans).to_contain_text("24/7")
    call = samaritans.get_by_role("link", name="Call Samaritans on 116 123")
    expect(call).to_have_attribute("href", "tel:116123")
    expect(call).to_have_text("Call 116 123")
    expect(card.get_by_role("link", name="Text SHOUT to 85258")).to_have_attribute(
        "href", "sms:85258?body=SHOUT"
    )
    web = samaritans.locator("a.helpline-web")
    expect(web).to_have_attribute("href", "https://www.samaritans.org/")
    expect(web).to_have_attribute("target", "_blank")
    cleo.wait_for_timeout(300)  # the backdrop fades in
    screens.shot("support-card")
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    cleo.screenshot(path=str(DOCS_SHOTS / "support-card-360x740.png"))

    # Close gives her focus back where she was writing; Get help brings the card back.
    card.get_by_role("button", name="Close").click()
    expect(card).to_be_hidden()
    expect(cleo.get_by_label("Your message")).to_be_focused()
    cleo.locator("#get-help").click()
    expect(card).to_be_visible()
    expect(
        card.get_by_role("link", name="All support options and opening hours")
    ).to_have_attribute("href", "/help/")
    cleo.keyboard.press("Escape")  # a modal dialog closes on Escape too
    expect(card).to_be_hidden()


def test_quick_exit_button_and_escape_three_times(open_as, screens) -> None:  # noqa: ANN001
    bea = open_as("bea")
    stub_neutral_site(bea)
    open_room(bea)
    room_url = bea.url
    bea.get_by_label("Your message").fill("Something I haven't sent yet")
    assert kindred_session_keys(bea), "the draft should be kept in sessionStorage before leaving"
    exit_button = bea.get_by_role("link", name=re.compile(r"^Quick exit"))
    expect(exit_button).to_be_visible()
    box = exit_button.bounding_box()
    assert box and box["x"] + box["width"] > PHONE["width"] - 20 and box["y"] < 20, box  # top right
    screens.shot("room-with-quick-exit")

    exit_button.click()
    bea.wait_for_url(NEUTRAL)
    expect(bea.get_by_role("heading", name="Weather forecast")).to_be_visible()
    # Back does not return to the chat (the room page was replaced, not left behind).
    bea.go_back()
    bea.wait_for_url(NEUTRAL)
    bea.wait_for_load_state()
    assert bea.url != room_url and not bea.url.startswith(room_url), bea.url
    assert kindred_session_keys(bea) == [], "the draft must be gone"
    screens.shot("after-back")

    # Quick exit logged her out (tests/browser/test_member_controls.py has the details): she
    # logs in again. Escape three times within two seconds, from anywhere on the page…
    bea.goto(room_url.split("/rooms/")[0] + "/accounts/login/")
    bea.get_by_label("Username").fill(ACCOUNTS["bea"].username)
    bea.get_by_label("Password").fill(PASSWORD)
    bea.get_by_role("button", name="Log in").click()
    bea.wait_for_url(re.compile(r"/rooms/$"))
    open_room(bea)
    expect(bea.get_by_label("Your message")).to_have_value("")
    bea.get_by_label("Your message").fill("Another draft")
    bea.keyboard.press("Escape")
    bea.keyboard.press("Escape")
    bea.wait_for_timeout(2300)  # …but not two now and one later
    bea.keyboard.press("Escape")
    expect(bea.get_by_role("heading", level=1)).to_be_visible()
    assert bea.url == room_url
    for _ in range(3):
        bea.keyboard.press("Escape")
    bea.wait_for_url(NEUTRAL)
    bea.go_back()
    bea.wait_for_load_state()
    assert not bea.url.startswith(room_url), bea.url
    assert kindred_session_keys(bea) == []


def test_get_help_and_privacy_pages(open_as, browser, live_server_proc, screens) -> None:  # noqa: ANN001
    live_server_proc.manage(
        "shell",
        "-c",
        (
            "import datetime; from moderation.models import Helpline; "
            "Helpline.objects.filter(name='Samaritans').update(last_verified=datetime.date(2026, 11, 2))"
        ),
    )
    # Logged out: nothing stands between her and a phone number.
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-GB"
    )
    try:
        page = context.new_page()
        screens.pages["visitor"] = page
        page.goto(f"{live_server_proc.url}/accounts/login/")
        page.get_by_role("link", name="Get help", exact=True).click()
        page.wait_for_url(re.compile(r"/help/$"))
        danger = page.locator(".danger-now")
        expect(danger).to_contain_text("If you or your baby are in danger, call 999 now.")
        expect(danger.get_by_role("link", name="Call 999")).to_have_attribute("href", "tel:999")
        # The danger line comes before the list.
        assert page.evaluate(
            "document.querySelector('.danger-now').compareDocumentPosition(document.querySelector('.help-list')) & 4"
        )
        samaritans = page.locator(".helpline").filter(
            has=page.get_by_role("heading", name="Samaritans")
        )
        expect(samaritans).to_contain_text("Talk to someone about anything, in confidence")
        expect(samaritans).to_contain_text("24/7")
        expect(samaritans).to_contain_text("Details checked 2 November 2026")
        expect(samaritans.get_by_role("link", name="Call 116 123")).to_have_attribute(
            "href", "tel:116123"
        )
        expect(
            page.locator(".helpline")
            .filter(has_text="Shout")
            .get_by_role("link", name="Text SHOUT to 85258")
        ).to_have_attribute("href", "sms:85258?body=SHOUT")
        expect(page.locator(".helpline")).to_have_count(9)
        expect(page.get_by_role("link", name=re.compile(r"^Quick exit"))).to_be_visible()
        screens.shot("help-page")
        page.screenshot(path=str(SCREENSHOTS / "help-page-full.png"), full_page=True)

        page.get_by_role("contentinfo").get_by_role("link", name="Privacy").click()
        page.wait_for_url(re.compile(r"/privacy/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Your privacy on Kindred")
        for heading in (
            "What we keep",
            "Who can see it",
            "How long we keep it",
            "Seeing or deleting your information",
        ):
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
        expect(page.locator("main")).to_contain_text("Trained volunteer moderators")
        page.goto(f"{live_server_proc.url}/accounts/signup/")
        expect(
            page.get_by_role("link", name="How we look after your information")
        ).to_have_attribute("href", "/privacy/")
    finally:
        screens.pages.pop("visitor", None)
        context.close()

    # Logged in, from the chat: one tap.
    amara = open_as("amara")
    open_room(amara)
    amara.get_by_role("link", name="Get help", exact=True).click()
    amara.wait_for_url(re.compile(r"/help/$"))
    expect(amara.locator(".helpline").filter(has_text="Samaritans")).to_be_visible()
    screens.shot("help-logged-in")
