"""Trained before they moderate (issue 19), end to end at 360×740: a supervisor makes a volunteer a
trainee; she works through the practice queue, gets feedback, fails a risk scenario, retries and
passes; the supervisor signs her off; she goes on duty and claims a real member's flag."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_chat import open_room, send

# Run alone, this test also pays for the server's start (migrations, accounts): allow for it.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

BABY = "Baby (3–12 months)"
REAL_ABUSE = "You are a pathetic excuse for a mother, shut up Uma"


def practice_item(page: Page, author: str):  # noqa: ANN201
    return page.locator(".queue-item").filter(has=page.locator(".queue-author", has_text=author))


def open_practice_item(page: Page, author: str) -> None:
    item = practice_item(page, author)
    expect(item).to_have_count(1)
    item.locator(".queue-link").click()
    page.wait_for_url(re.compile(r"#item-\d+$"))
    detail = page.locator("#detail-view")
    expect(detail.locator(".detail-title")).to_contain_text(author)
    detail.get_by_role("button", name="Claim").click()
    expect(detail.locator(".flag-claim")).to_have_text("● You're handling this")


def feedback(page: Page):  # noqa: ANN201
    return page.locator(".practice-feedback")


def back_to_queue(page: Page) -> None:
    page.locator(".practice-feedback").get_by_role(
        "link", name="Back to the practice queue"
    ).click()
    expect(page.locator("#queue-view")).to_be_visible()


def test_a_volunteer_trains_passes_is_signed_off_and_claims_a_real_flag(open_as, screens) -> None:  # noqa: ANN001
    sam = open_as("sam")
    vera = open_as("vera")
    # A volunteer is a member: no practice, no moderation.
    expect(vera.get_by_role("link", name="Practice", exact=True)).to_have_count(0)
    expect(vera.get_by_role("link", name="Moderation", exact=True)).to_have_count(0)

    # The supervisor makes her a trainee (People) and sets a short pass mark for this cohort.
    sam.goto(sam.url.replace("/rooms/", "/supervisor/people/?q=Vera"))
    person = sam.locator(".person").filter(has_text="Vera")
    person.get_by_label("Role").select_option("trainee")
    person.get_by_label("Reason (for the audit log)").fill("Starting volunteer training")
    person.get_by_role("button", name="Change role").click()
    expect(sam.locator(".flash")).to_contain_text("Vera is now a trainee")
    sam.get_by_role("link", name="Training", exact=True).click()
    expect(sam.get_by_role("heading", name="Trainees")).to_be_visible()
    expect(sam.locator("#h-trainees + *")).to_contain_text("Vera")
    sam.get_by_label("Overall accuracy needed (%)").fill("80")
    sam.get_by_label("Scenarios to complete").fill("4")
    sam.get_by_label("Practice items in her queue at once").fill("4")
    sam.get_by_label("Reason").fill("Short course for the journey test")
    sam.get_by_role("button", name="Save pass mark").click()
    expect(sam.locator(".flash")).to_contain_text("Pass mark saved")
    screens.shot("supervisor-made-trainee")

    # She trains in the practice console: it looks like the real one and says it is practice.
    vera.reload()
    vera.get_by_role("link", name="Practice", exact=True).click()
    vera.wait_for_url(re.compile(r"/practice/$"))
    expect(vera.get_by_role("heading", name="Practice queue")).to_be_visible()
    expect(vera.locator(".practice-label")).to_contain_text("Nothing you do here reaches anyone")
    expect(vera.locator(".queue-item")).to_have_count(4)
    first = vera.locator(".queue-item").first
    expect(first.locator(".pinned")).to_have_text("▲ Pinned: risk to the member")
    expect(first.locator(".flag-wait")).to_contain_text("target 5 min")
    expect(first.locator(".sensitive")).to_have_class(re.compile(r"\bis-blurred\b"))
    screens.shot("practice-queue")

    # She fails the risk scenario: dismissing a mother who says she wants to die.
    open_practice_item(vera, "Juniper")
    detail = vera.locator("#detail-view")
    expect(detail.locator(".ctx-msg.is-flagged")).to_contain_text("▶ Flagged message")
    detail.get_by_role("button", name="Dismiss").click()
    expect(feedback(vera)).to_be_focused()
    expect(feedback(vera).get_by_role("heading")).to_have_text("✗ Not quite this time")
    expect(feedback(vera)).to_contain_text("Escalate to supervisors.")
    expect(feedback(vera)).to_contain_text("burden thought")
    screens.shot("feedback-missed-risk")

    # She retries it and escalates in time.
    feedback(vera).get_by_role("button", name="Try this one again").click()
    expect(detail.locator(".detail-title")).to_contain_text("Juniper")
    expect(feedback(vera)).to_have_count(0)
    detail.get_by_role("button", name="Claim").click()
    expect(detail.locator(".flag-claim")).to_have_text("● You're handling this")
    detail.locator("summary", has_text="Escalate to supervisors").click()
    detail.get_by_label("Why (required)").fill("She says she wants to die and feels a burden")
    detail.get_by_role("button", name="Escalate", exact=True).click()
    expect(feedback(vera).get_by_role("heading")).to_have_text(
        "✓ That's what a supervisor would do"
    )
    expect(feedback(vera)).to_contain_text("within the 5 min target")
    screens.shot("feedback-right-risk")
    back_to_queue(vera)

    # Distress is left alone, an insensitive reply gets a warning, abuse is hidden and warned.
    open_practice_item(vera, "Clem")
    detail.get_by_role("button", name="Dismiss").click()
    expect(feedback(vera).get_by_role("heading")).to_have_text(
        "✓ That's what a supervisor would do"
    )
    back_to_queue(vera)

    open_practice_item(vera, "Greer")
    detail.locator("summary", has_text="Send a warning").click()
    detail.get_by_role("button", name="Send warning").click()
    expect(feedback(vera).get_by_role("heading")).to_have_text(
        "✓ That's what a supervisor would do"
    )
    back_to_queue(vera)

    open_practice_item(vera, "Rhona")
    detail.get_by_role("button", name="Hide message").click()
    expect(detail.locator(".action-hint")).to_contain_text("If you meant to warn")
    detail.locator("summary", has_text="Send a warning").click()
    detail.get_by_role("button", name="Send warning").click()
    expect(feedback(vera).get_by_role("heading")).to_have_text(
        "✓ That's what a supervisor would do"
    )
    back_to_queue(vera)
    expect(vera.locator("#practice-progress")).to_contain_text("You've met the pass mark")
    screens.shot("passed")

    # The supervisor reviews her record and signs her off.
    sam.get_by_role("link", name="Training", exact=True).click()
    expect(sam.locator("#h-trainees + *")).to_contain_text("ready for sign-off")
    sam.get_by_role("link", name="Vera").first.click()
    expect(sam.get_by_role("heading", name="Training record")).to_be_visible()
    expect(sam.locator(".missed-list")).to_contain_text("She says she wants to die")
    expect(sam.locator(".missed-list")).to_contain_text("since got right")
    sam.get_by_label("Your review of her record (kept with the sign-off)").fill(
        "Careful with risk after one retry"
    )
    sam.get_by_role("button", name="Sign off Vera as a moderator").click()
    expect(sam.locator(".flash")).to_contain_text("Vera is signed off and is now a moderator")
    screens.shot("signed-off")

    # She goes on duty and claims a real member's flag.
    vera.goto(vera.url.split("/practice/")[0] + "/rooms/")
    vera.get_by_role("link", name="Moderation", exact=True).click()
    vera.wait_for_url(re.compile(r"/moderation/"))
    expect(vera.locator("#feed-state")).to_have_text("● Live")
    duty = vera.get_by_role("switch", name="On duty")
    if duty.get_attribute("aria-checked") != "true":
        duty.click()
    expect(duty).to_have_attribute("aria-checked", "true")

    uma = open_as("uma")
    open_room(uma, BABY)
    send(uma, REAL_ABUSE)
    item = vera.locator(".queue-item").filter(has=vera.locator(".queue-text", has_text=REAL_ABUSE))
    expect(item).to_have_count(1, timeout=20_000)
    item.locator(".queue-link").click()
    vera.wait_for_url(re.compile(r"#item-\d+$"))
    real = vera.locator("#detail-view")
    real.get_by_role("button", name="Claim").click()
    expect(real.locator(".flag-claim")).to_have_text("● You're handling this")
    screens.shot("claimed-real-flag")
    # She finishes it, so no other test meets it in the queue.
    real.get_by_role("button", name="Hide message").click()
    expect(real.locator(".flag-claim")).to_have_text("✓ Resolved")
