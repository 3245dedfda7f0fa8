"""Issue 21, moderators, end to end on phones (360×740) and a laptop (1280×800):

- one queue item ends in hide *and* warn *and* mute, and the member sees all three;
- a moderator's claim goes back to the queue soon after she goes off duty, or closes the console,
  and the other moderator's console shows it open again without a reload;
- the facilitator panel sits beside the conversation on a laptop and folds under it on a phone,
  never over the Send button or the connection line (bounding boxes), and the session's focus
  reads naturally inside the prompt's sentence;
- a keyboard reaches the message box through the skip link, and Quick exit covers nothing.

The server runs with MODERATION_CLAIM_GRACE_SECONDS=6 (tests/browser/conftest.py).
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ACCOUNTS, LiveServer
from tests.browser.test_chat import message, open_room, send
from tests.browser.test_moderator_console import open_console, queue_item

pytestmark = pytest.mark.browser

TODDLER = "Toddler (1–3 years)"
BIRTH = "Birth experiences"
LAPTOP = {"width": 1280, "height": 800}
GRACE_SECONDS = 6
HURTFUL = "Honestly you're a pathetic excuse for a mum, shut up about it"
HURTFUL_AGAIN = "You are pathetic, nobody wants to hear about your toddler, shut up"
SESSION_TITLE = "Evening circle (moderator flow test)"
SESSION_FOCUS = "How nights are going."


def box(locator) -> dict[str, float]:  # noqa: ANN001
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not on screen"
    return found


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def inside_viewport(page: Page, b: dict[str, float]) -> bool:
    size = page.viewport_size
    return (
        b["x"] >= 0
        and b["y"] >= 0
        and b["x"] + b["width"] <= size["width"] + 0.5
        and b["y"] + b["height"] <= size["height"] + 0.5
    )


def open_item(page: Page, text: str):  # noqa: ANN201
    item = queue_item(page, text)
    expect(item).to_have_count(1, timeout=20_000)
    item.locator(".queue-link").click()
    page.wait_for_url(re.compile(r"#item-\d+$"))
    detail = page.locator("#detail-view")
    expect(detail.get_by_role("heading", level=2)).to_contain_text("Pip in Toddler")
    return detail


def audited(server: LiveServer, message_text: str, actions: list[str]) -> None:
    """The audit log has each action for that message's item (the shell exits non-zero if not)."""
    server.manage(
        "shell",
        "-c",
        (
            "from chat.models import Message; from moderation.models import AuditEntry; "
            f"m = Message.objects.get(body={message_text!r}); "
            "done = set(AuditEntry.objects.filter(target_user=m.author).values_list('action', flat=True)); "
            f"missing = set({actions!r}) - done; "
            "assert not missing, f'not audited: {missing}'"
        ),
    )


# --- one item: hide and warn and mute ---------------------------------------------------------------


def test_hide_and_warn_and_mute_from_one_item(open_as, screens, live_server_proc) -> None:  # noqa: ANN001
    quinn = open_as("quinn")
    open_console(quinn)
    pip = open_as("pip")
    open_room(pip, TODDLER)
    send(pip, HURTFUL)
    expect(message(pip, HURTFUL)).to_have_count(1)

    detail = open_item(quinn, HURTFUL)
    detail.get_by_role("button", name="Claim").click()
    expect(detail.locator(".flag-claim")).to_have_text("● You're handling this")

    # 1. Hide: this resolves the item...
    detail.get_by_role("button", name="Hide message").click()
    expect(detail.locator(".action-status")).to_contain_text("Hidden")
    expect(detail.locator(".flag-claim")).to_have_text("✓ Resolved")
    # (Other tests' hidden messages may be in this room too: her words are what must go.)
    expect(message(pip, HURTFUL)).to_have_count(0)
    expect(
        pip.locator("#messages li[data-seq]").filter(has_text="Removed by a moderator").first
    ).to_be_visible()
    # ...and the author's follow-ups stay on the item, for the moderator who resolved it.
    expect(detail.locator(".action-hint")).to_contain_text("You can still act on her below")
    warn_box = detail.locator("details").filter(has_text="Send a warning")
    mute_box = detail.locator("details").filter(has_text="Pause her posting (mute)")
    expect(warn_box).to_be_visible()
    expect(mute_box).to_be_visible()
    screens.shot("hidden-follow-ups-offered")

    # 2. Warn from the same item.
    warn_box.locator("summary").click()
    warn_box.get_by_role("button", name="Send warning").click()
    expect(detail.locator(".action-status")).to_contain_text("Warning sent")
    expect(pip.get_by_text("A note from the moderators")).to_be_visible(timeout=10_000)

    # 3. Mute from the same item.
    mute_box = detail.locator("details").filter(has_text="Pause her posting (mute)")
    if mute_box.get_attribute("open") is None:
        mute_box.locator("summary").click()
    mute_box.get_by_label("For how long").select_option(label="1 hour")
    mute_box.get_by_role("button", name="Mute", exact=True).click()
    expect(detail.locator(".action-status")).to_contain_text("Muted for 1 hour")
    expect(pip.get_by_text("Posting paused")).to_be_visible(timeout=10_000)
    expect(
        detail.get_by_role("button", name=re.compile(r"^Unmute in toddler", re.I))
    ).to_be_visible()
    screens.shot("hidden-warned-muted")

    # All three on the record, and still one item, resolved by the hide.
    audited(live_server_proc, HURTFUL, ["message.hidden", "member.warned", "member.muted"])
    expect(detail.locator(".action-hint")).to_contain_text("Resolved: hidden")

    # Leave Pip able to post for the next test: the undo is on the item too.
    detail.get_by_role("button", name=re.compile(r"^Unmute in toddler", re.I)).click()
    expect(detail.locator(".action-status")).to_contain_text("Unmuted")


# --- claims outlive the moderator only by the grace -----------------------------------------------


def test_claim_released_on_going_off_duty_and_on_closing_the_console(open_as, screens) -> None:  # noqa: ANN001
    reese, quinn = open_as("reese"), open_as("quinn")
    open_console(reese)
    open_console(quinn)
    duty = reese.get_by_role("switch", name="On duty")
    if duty.get_attribute("aria-checked") != "true":
        duty.click()
    expect(duty).to_have_attribute("aria-checked", "true")

    pip = open_as("pip")
    open_room(pip, TODDLER)
    send(pip, HURTFUL_AGAIN)
    detail = open_item(reese, HURTFUL_AGAIN)
    detail.get_by_role("button", name="Claim").click()
    expect(detail.locator(".flag-claim")).to_have_text("● You're handling this")
    on_quinn = queue_item(quinn, HURTFUL_AGAIN)
    expect(on_quinn.locator(".flag-claim")).to_have_text("● Reese is handling this")
    screens.shot("claimed-by-reese")

    # Off duty (from the queue, where the switch is on a phone): the console says what happens
    # to her claims, and after the grace the item is open again on Quinn's console, no reload.
    reese.get_by_role("link", name="← Back to the queue").click()
    on_reese = queue_item(reese, HURTFUL_AGAIN)
    expect(on_reese.locator(".flag-claim")).to_have_text("● You're handling this")
    duty.click()
    expect(duty).to_have_attribute("aria-checked", "false")
    left = time.monotonic()
    expect(reese.locator("#duty-stats")).to_contain_text(
        f"Items you had claimed go back to the queue after {GRACE_SECONDS} seconds"
    )
    expect(reese.locator("#duty-stats")).not_to_contain_text("first messages are held")
    # Still hers during the grace.
    expect(on_quinn.locator(".flag-claim")).to_have_text("● Reese is handling this")
    expect(on_quinn.locator(".flag-claim")).to_have_text(
        "○ Open: nobody has claimed it", timeout=GRACE_SECONDS * 1000 + 15_000
    )
    released_after = time.monotonic() - left
    print(f"claim released {released_after:.1f} s after going off duty (grace {GRACE_SECONDS} s)")
    assert released_after >= GRACE_SECONDS - 1
    expect(on_reese.locator(".flag-claim")).to_have_text("○ Open: nobody has claimed it")
    screens.shot("released-after-off-duty")

    # Closing the console: Quinn claims it and closes her tab; Reese's console sees it reopen.
    quinn_detail = open_item(quinn, HURTFUL_AGAIN)
    quinn_detail.get_by_role("button", name="Claim").click()
    expect(quinn_detail.locator(".flag-claim")).to_have_text("● You're handling this")
    expect(on_reese.locator(".flag-claim")).to_have_text("● Quinn is handling this")
    quinn.close()
    closed = time.monotonic()
    expect(on_reese.locator(".flag-claim")).to_have_text(
        "○ Open: nobody has claimed it", timeout=GRACE_SECONDS * 1000 + 15_000
    )
    print(f"claim released {time.monotonic() - closed:.1f} s after the console closed")
    screens.shot("released-after-console-closed")

    # Tidy up for later tests: Reese dismisses it (she is off duty, but may still work an item).
    detail = open_item(reese, HURTFUL_AGAIN)
    detail.get_by_role("button", name="Claim").click()
    expect(detail.locator(".flag-claim")).to_have_text("● You're handling this")
    detail.get_by_role("button", name="Dismiss").click()
    expect(detail.locator(".flag-claim")).to_have_text("✓ Resolved")


# --- the facilitator panel never covers the chat's controls -----------------------------------------


@pytest.fixture
def evening_session(live_server_proc):  # noqa: ANN001, ANN201
    """A session under way now in Birth experiences, run by Quinn; cancelled afterwards."""
    quinn = ACCOUNTS["quinn"].username

    def run(code: str) -> None:
        live_server_proc.manage("shell", "-c", code)

    run(
        "from datetime import timedelta; from django.utils import timezone; "
        "from accounts.models import User; from chat.models import Room; "
        "from moderation.facilitation.models import FacilitatedSession as S; "
        f"q = User.objects.get(username={quinn!r}); now = timezone.now(); "
        f"s = S.objects.create(room=Room.objects.get(slug='birth-experiences'), title={SESSION_TITLE!r}, "
        f"focus={SESSION_FOCUS!r}, starts_at=now - timedelta(seconds=30), "
        "ends_at=now + timedelta(minutes=60), created_by=q); s.facilitators.add(q)"
    )
    yield
    run(
        "from django.utils import timezone; from moderation.facilitation.models import FacilitatedSession as S; "
        f"S.objects.filter(title={SESSION_TITLE!r}).update(cancelled_at=timezone.now())"
    )


def assert_panel_clear_of_controls(page: Page) -> None:
    panel = box(page.locator("#facilitator-panel"))
    for name, control in (
        ("Send", page.locator("#composer .send-button")),
        ("message box", page.get_by_label("Your message")),
        ("connection status", page.locator("#conn-state")),
        ("room title", page.get_by_role("heading", level=1)),
    ):
        b = box(control)
        assert inside_viewport(page, b), f"{name} is off screen: {b}"
        assert not overlap(panel, b), f"the facilitator panel {panel} covers {name} {b}"
        # And nothing else is drawn on top of it: the control is what a tap there hits.
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y)?.closest('#facilitator-panel') !== null",
            [b["x"] + b["width"] / 2, b["y"] + b["height"] / 2],
        )
        assert not hit, f"a tap on {name} lands on the facilitator panel"


def test_facilitator_panel_does_not_cover_send(open_as, screens, evening_session) -> None:  # noqa: ANN001
    laptop = open_as("quinn", viewport=LAPTOP)
    open_room(laptop, BIRTH)
    panel = laptop.locator("#facilitator-panel")
    expect(panel).to_be_visible()
    opening = panel.locator(".fp-card.fp-opening")
    expect(opening).to_have_count(1, timeout=30_000)
    screens.shot("facilitator-laptop")
    assert_panel_clear_of_controls(laptop)
    # Beside the conversation: the chat column ends before the panel starts.
    chat, side = box(laptop.locator("section.chat")), box(panel)
    assert chat["x"] + chat["width"] <= side["x"], (chat, side)

    # The focus ("How nights are going.") reads naturally mid-sentence.
    text = opening.get_by_label("Posts in the room as you").input_value()
    assert "how nights are going" in text, text
    assert "How nights are going" not in text and "going.." not in text

    # On a phone: folded under the conversation, the composer and status still in view, and the
    # conversation keeps most of the screen.
    phone = open_as("quinn")
    open_room(phone, BIRTH)
    expect(phone.locator("#facilitator-panel .fp-card.fp-opening")).to_have_count(1, timeout=30_000)
    screens.shot("facilitator-phone")
    assert_panel_clear_of_controls(phone)
    side, composer = box(phone.locator("#facilitator-panel")), box(phone.locator("#composer"))
    assert side["y"] >= composer["y"] + composer["height"] - 1, (side, composer)
    assert side["height"] <= 0.4 * phone.viewport_size["height"], side
    timeline = box(phone.locator("#timeline"))
    assert timeline["height"] >= 120, timeline
    # She can fold it away entirely.
    phone.locator("#facilitator-panel").get_by_role("button", name="Hide").click()
    expect(phone.locator("#facilitator-list")).to_be_hidden()
    assert box(phone.locator("#facilitator-panel"))["height"] < 80


# --- keyboard and Quick exit -----------------------------------------------------------------------


def from_the_top(page: Page) -> None:
    """Start keyboard navigation at the top of the page, as on arriving."""
    page.evaluate(
        "() => { const s = document.createElement('span'); s.id = 'kb-start'; s.tabIndex = -1;"
        " document.body.prepend(s); s.focus(); }"
    )


def test_keyboard_reaches_the_composer_by_the_skip_link(open_as, screens) -> None:  # noqa: ANN001
    pip = open_as("pip")
    open_room(pip, TODDLER)
    from_the_top(pip)
    pip.keyboard.press("Tab")
    expect(pip.get_by_role("link", name="Skip to content")).to_be_focused()
    pip.keyboard.press("Tab")
    skip = pip.get_by_role("link", name="Skip to writing a message")
    expect(skip).to_be_focused()
    # Visible when focused, on top of the sticky header.
    b = box(skip)
    assert inside_viewport(pip, b), b
    on_top = pip.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('.skip-link')?.textContent",
        [b["x"] + b["width"] / 2, b["y"] + b["height"] / 2],
    )
    assert on_top == "Skip to writing a message"
    screens.shot("skip-link-focused")
    pip.keyboard.press("Enter")
    expect(pip.get_by_label("Your message")).to_be_focused()
    pip.keyboard.type("Typed straight after the skip link")
    pip.keyboard.press("Enter")
    expect(message(pip, "Typed straight after the skip link")).to_have_count(1)

    # The next stop after the skip links is Quick exit, inside the banner landmark.
    from_the_top(pip)
    for _ in range(3):
        pip.keyboard.press("Tab")
    exit_link = pip.locator("#quick-exit")
    expect(exit_link).to_be_focused()
    assert pip.evaluate(
        "document.getElementById('quick-exit').closest('header, [role=banner]') !== null"
    )


@pytest.mark.parametrize("path", ["/rooms/", "/rooms/toddler/", "/help/"])
def test_quick_exit_never_covers_other_controls(open_as, live_server_proc, path: str) -> None:  # noqa: ANN001
    pip = open_as("pip")
    pip.goto(f"{live_server_proc.url}{path}")
    exit_box = box(pip.locator("#quick-exit"))
    assert inside_viewport(pip, exit_box)
    controls = pip.locator(
        "a:visible, button:visible, textarea:visible, select:visible, input:visible"
    )
    for i in range(controls.count()):
        control = controls.nth(i)
        if control.get_attribute("id") == "quick-exit":
            continue
        b = control.bounding_box()
        if not b or b["width"] == 0 or b["height"] == 0:
            continue
        label = control.inner_text() or control.get_attribute("aria-label") or ""
        assert not overlap(exit_box, b), f"Quick exit {exit_box} covers {label!r} {b}"
    # Scrolled to the end, it is still on screen and still covers nothing.
    pip.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    exit_box = box(pip.locator("#quick-exit"))
    assert inside_viewport(pip, exit_box), exit_box
    hit = pip.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('#quick-exit') !== null",
        [exit_box["x"] + exit_box["width"] / 2, exit_box["y"] + exit_box["height"] / 2],
    )
    assert hit
