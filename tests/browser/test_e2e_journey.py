"""Whole journeys across roles, in real browsers at 360×740 against `manage.py serve` (Daphne plus
the embedded moderation worker, which also runs the facilitation engine):

1. A supervisor schedules a facilitated session; the facilitator gets live prompts in her side
   panel (and nobody else does), edits and sends one into the room, dismisses another.
2. A moderator hides an abusive message; the supervisor finds the audit record, the removed
   message in the message logs, and her own threshold change with before/after values.
3. A member posts a risk message: she gets the support card, and the moderator's queue pins an
   urgent risk item above everything else.

Rooms: the session runs in Newborn (and is cancelled at the end, so later tests never see a
session under way); the hidden message, the risk item and the threshold change are in the Toddler
room, which no other browser test uses.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_chat import NEWBORN, message, open_room, send
from tests.browser.test_moderator_console import open_console, queue_item

pytestmark = pytest.mark.browser

DOCS_SHOTS = SCREENSHOTS.parents[1] / "docs" / "screenshots"
TODDLER = "Toddler (1–3 years)"
UK = ZoneInfo("Europe/London")

SESSION_TITLE = "Night feeds circle (e2e)"
SESSION_FOCUS = "Sleep and night feeds in the first weeks"
# How the prompts say it, mid-sentence ("Today we're talking about sleep and night feeds…").
FOCUS_IN_PROMPT = "sleep and night feeds in the first weeks"
OPENING_EDIT = "I'm Morgan, and I'm with you until the end of the session."

ABUSE = "Honestly just shut up, you are pathetic and nobody wants you here"
HIDE_REASON = "Personal attack on another mum (e2e journey)"
ABUSE_BEFORE_RISK = "You are a pathetic mother, shut up and go away"
RISK = "I don't want to be alive anymore"
THRESHOLD_REASON = "Trial: flag hurtful messages a little sooner in Toddler (e2e)"


# --- helpers ----------------------------------------------------------------------------------------


def shoot_docs(page: Page, name: str) -> None:
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=str(DOCS_SHOTS / name))


def record_frames(page: Page) -> list[str]:
    """Every WebSocket frame this page receives from now on (text frames as they came)."""
    frames: list[str] = []

    def on_socket(ws) -> None:  # noqa: ANN001
        ws.on(
            "framereceived",
            lambda payload: frames.append(
                payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
            ),
        )

    page.on("websocket", on_socket)
    return frames


def session_times() -> tuple[datetime, datetime]:
    """Start at the current minute (so up to a minute ago), end 60 minutes later, UK time. The
    form does not allow a session past midnight: just before midnight, wait for the new day."""
    now = datetime.now(UK)
    if now.hour == 23 and now.minute >= 58:
        time.sleep(180 - now.minute % 58 * 60 - now.second)
        now = datetime.now(UK)
    start = now.replace(second=0, microsecond=0)
    end = min(start + timedelta(minutes=60), start.replace(hour=23, minute=59))
    return start, end


def moderate(page: Page, text: str, *, button: str, reason: str, status: str) -> None:
    """From the queue: open the item for `text`, claim it, give a reason and act on it."""
    item = queue_item(page, text)
    expect(item).to_have_count(1, timeout=20_000)
    item.locator(".queue-link").click()
    page.wait_for_url(re.compile(r"#item-\d+$"))
    detail = page.locator("#detail-view")
    detail.get_by_role("button", name="Claim").click()
    expect(detail.locator(".flag-claim")).to_have_text("● You're handling this")
    detail.get_by_label("Reason (optional, kept in the record)").fill(reason)
    detail.get_by_role("button", name=button, exact=True).click()
    expect(detail.locator(".action-status")).to_contain_text(status)
    expect(detail.locator(".flag-claim")).to_have_text("✓ Resolved")


def back_to_queue(page: Page) -> None:
    page.get_by_role("link", name="← Back to the queue").click()
    expect(page.locator("#queue-view")).to_be_visible()


def audit_filter(page: Page, action: str) -> None:
    """The audit log's own filter form: open it, choose the action, filter."""
    page.get_by_role("navigation", name="Supervision").get_by_role("link", name="Audit log").click()
    page.wait_for_url(re.compile(r"/supervisor/audit/"))
    filters = page.locator("details.sup-filter-card")
    if filters.get_attribute("open") is None:
        filters.locator("summary").click()
    page.get_by_label("Action").select_option(action)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"[?&]action=" + re.escape(action)))


@pytest.fixture
def cancel_session_afterwards(live_server_proc):  # noqa: ANN001, ANN201
    """Whatever happens in the test, no session stays under way in Newborn for the tests after it."""
    yield
    live_server_proc.manage(
        "shell",
        "-c",
        (
            "from django.utils import timezone; from moderation.facilitation.models import FacilitatedSession; "
            f"FacilitatedSession.objects.filter(title={SESSION_TITLE!r}, cancelled_at__isnull=True)"
            ".update(cancelled_at=timezone.now())"
        ),
    )


# --- 1. facilitation ---------------------------------------------------------------------------------


def test_facilitated_session_prompts_reach_only_the_facilitator(
    open_as, screens, cancel_session_afterwards
) -> None:  # noqa: ANN001
    # The supervisor schedules a session under way now, with Morgan facilitating.
    sam = open_as("sam")
    sam.get_by_role("link", name="Supervision").click()
    sam.get_by_role("navigation", name="Supervision").get_by_role("link", name="Sessions").click()
    sam.wait_for_url(re.compile(r"/supervisor/sessions/$"))
    sam.get_by_role("link", name="Schedule a session").click()
    expect(sam.get_by_role("heading", level=1)).to_have_text("Schedule a session")
    start, end = session_times()
    sam.get_by_label("Room").select_option(label=NEWBORN)
    sam.get_by_label("Title").fill(SESSION_TITLE)
    sam.get_by_label("Focus").fill(SESSION_FOCUS)
    sam.get_by_label("Topic").fill("sleep")
    sam.get_by_label("Date (first session)").fill(start.strftime("%Y-%m-%d"))
    sam.get_by_label("Starts at").fill(start.strftime("%H:%M"))
    sam.get_by_label("Ends at").fill(end.strftime("%H:%M"))
    sam.get_by_label("Morgan (moderator)").check()
    screens.shot("session-form")
    sam.get_by_role("button", name="Schedule").click()
    sam.wait_for_url(re.compile(r"/supervisor/sessions/$"))
    expect(sam.locator("main")).to_contain_text(f"“{SESSION_TITLE}” is scheduled.")
    card = sam.locator(".room-card").filter(has_text=SESSION_TITLE)
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Newborn (0–3 months)")
    expect(card).to_contain_text("Facilitators: Morgan")
    expect(card).to_contain_text(SESSION_FOCUS)
    screens.shot("session-scheduled")

    # Morgan opens the room: her side panel, and the opening prompt with its reason and text.
    morgan = open_as("morgan")
    open_room(morgan)
    panel = morgan.locator("#facilitator-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", level=2)).to_have_text(
        f"Facilitator prompts: {SESSION_TITLE}"
    )
    # The engine runs in the worker, steps about once a second, and loads its sentence model in
    # the background when the session starts: be generous for the first prompt.
    opening = panel.locator(".fp-card.fp-opening")
    expect(opening).to_have_count(1, timeout=30_000)
    expect(opening.locator(".badge")).to_have_text("Opening")
    expect(opening.locator(".fp-reason")).to_have_text(
        re.compile(r"^Why: session is starting: welcome everyone")
    )
    expect(opening.get_by_label("Posts in the room as you")).to_have_value(
        re.compile(re.escape(FOCUS_IN_PROMPT))
    )
    expect(opening.get_by_label("Posts in the room as you")).to_have_attribute("readonly", "")
    opening_text = opening.get_by_label("Posts in the room as you").input_value()
    screens.shot("facilitator-panel-opening")
    shoot_docs(morgan, "facilitator-panel-360x740.png")

    # Two members join, each in her own browser; everything their sockets receive is kept.
    amara, bea = open_as("amara"), open_as("bea")
    frames = {"amara": record_frames(amara), "bea": record_frames(bea)}
    open_room(amara)
    open_room(bea)
    for page in (amara, bea):
        upcoming = page.locator(".upcoming-sessions")
        expect(upcoming).to_contain_text("On now")
        expect(upcoming.locator(".upcoming-title")).to_have_text(SESSION_TITLE)
        expect(page.locator("#facilitator-panel")).to_have_count(0)
    screens.shot("members-joined")

    # Morgan edits the opening and sends it: it arrives in both members' chats as hers.
    opening.get_by_role("button", name="Edit & send").click()
    box = opening.get_by_label("Posts in the room as you")
    expect(box).not_to_have_attribute("readonly", "")
    expect(box).to_be_focused()
    box.fill(f"{opening_text} {OPENING_EDIT}")
    screens.shot("opening-edited")
    opening.get_by_role("button", name="Send edited").click()
    expect(panel.locator(".fp-card.fp-opening")).to_have_count(0)
    for page in (amara, bea):
        sent = message(page, OPENING_EDIT)
        expect(sent).to_have_count(1)
        expect(sent.locator(".msg-author")).to_contain_text("Morgan")
        expect(sent.locator(".msg-body")).to_contain_text(FOCUS_IN_PROMPT)
    expect(message(morgan, OPENING_EDIT)).to_have_count(1)
    screens.shot("opening-sent")

    # The members talk. A newcomer's first message brings a "newcomer" prompt (when Amara and Bea
    # have not written in Newborn before this run); otherwise Bea's message, left unanswered for
    # two minutes, brings an "unanswered" one. Either way: a prompt about one of them, live.
    send(amara, "Hello, is anyone else up with a newborn tonight?")
    expect(message(bea, "anyone else up with a newborn")).to_be_visible()
    send(bea, "Yes, me too, we are feeding every two hours here")
    expect(message(amara, "feeding every two hours")).to_be_visible()
    screens.shot("members-chatting")
    prompt = panel.locator(".fp-card").first
    expect(prompt).to_have_count(1, timeout=180_000)
    expect(prompt.locator(".fp-target")).to_have_text(re.compile(r"about (Amara|Bea)$"))
    expect(prompt.locator(".fp-reason")).to_have_text(re.compile(r"^Why: (Amara|Bea)\b"))
    prompt_text = prompt.locator(".fp-text").input_value()
    prompt_reason = prompt.locator(".fp-reason").inner_text()
    signal = prompt.get_attribute("class")
    assert prompt_text.strip(), "a prompt comes with a ready-to-send text"
    screens.shot("second-prompt")

    # Only Morgan sees prompts: the members' pages show none and their sockets never carried one.
    for who, page in (("amara", amara), ("bea", bea)):
        expect(page.locator(".fp-card")).to_have_count(0)
        expect(page.get_by_text(prompt_reason[len("Why: ") :])).to_have_count(0)
        expect(page.get_by_text(prompt_text)).to_have_count(0)
        assert frames[who], f"{who}'s page received no frames at all: the check would prove nothing"
        leaked = [
            f
            for f in frames[who]
            if "facilitator." in f
            or prompt_text[:40] in f
            or (opening_text[:40] in f and OPENING_EDIT not in f)
        ]
        assert leaked == [], f"{who} received facilitator frames: {leaked[:2]}"

    # Dismissed: gone at once, and not back after a reload (the server recorded it).
    prompt_id = prompt.get_attribute("data-prompt-id")
    prompt.get_by_role("button", name="Dismiss").click()
    expect(panel.locator(f'.fp-card[data-prompt-id="{prompt_id}"]')).to_have_count(0)
    screens.shot("prompt-dismissed")
    morgan.reload()
    expect(morgan.locator("#conn-state")).to_have_attribute("data-state", "connected")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", level=2)).to_have_text(
        f"Facilitator prompts: {SESSION_TITLE}"
    )
    morgan.wait_for_timeout(1500)  # the panel asks the server again on load and on join
    expect(panel.locator(f'.fp-card[data-prompt-id="{prompt_id}"]')).to_have_count(0)
    expect(panel.locator(".fp-card.fp-opening")).to_have_count(0)
    print(f"dismissed prompt {prompt_id} ({signal}): {prompt_reason}")

    # The supervisor ends it from the session list (no session stays on for later tests).
    sam.reload()
    card = sam.locator(".room-card").filter(has_text=SESSION_TITLE)
    card.get_by_text("Cancel…").click()
    card.get_by_label("Reason (for the audit log)").fill("End of the e2e journey")
    card.get_by_role("button", name="Cancel", exact=True).click()
    expect(sam.locator("main")).to_contain_text(
        re.compile(rf"“{re.escape(SESSION_TITLE)}”.* is cancelled\.")
    )
    screens.shot("session-cancelled")


# --- 2. supervisor audit -----------------------------------------------------------------------------


def test_supervisor_finds_the_audit_record(open_as, screens) -> None:  # noqa: ANN001
    # Morgan hides an abusive message from Ivy, with a reason.
    morgan = open_as("morgan")
    open_console(morgan)
    ivy = open_as("ivy")
    open_room(ivy, TODDLER)
    send(ivy, ABUSE)
    expect(message(ivy, ABUSE)).to_be_visible()
    # The toddler room may already show a message another test's moderator removed.
    removed = ivy.locator("#messages li[data-seq]").filter(has_text="Removed by a moderator")
    before = removed.count()
    moderate(morgan, ABUSE, button="Hide message", reason=HIDE_REASON, status="Hidden")
    expect(removed).to_have_count(before + 1)
    expect(message(ivy, ABUSE)).to_have_count(0)
    screens.shot("hidden-by-morgan")

    # Sam filters the audit log by action and finds Morgan's record with her reason.
    sam = open_as("sam")
    sam.get_by_role("link", name="Supervision").click()
    sam.wait_for_url(re.compile(r"/supervisor/$"))
    audit_filter(sam, "message.hidden")
    entry = sam.locator(".audit-entry").filter(has_text=HIDE_REASON)
    expect(entry).to_have_count(1)
    expect(entry.locator(".badge")).to_have_text("message.hidden")
    expect(entry.locator(".audit-who")).to_contain_text("By Morgan (moderator)")
    expect(entry.locator(".audit-who")).to_contain_text("about Ivy")
    expect(entry.locator(".audit-who")).to_contain_text(TODDLER)
    expect(entry.locator(".audit-reason")).to_have_text(f"Reason: {HIDE_REASON}")
    expect(entry.locator(".audit-values")).to_contain_text("'state': 'hidden'")
    # Only that action is listed.
    for badge in sam.locator(".audit-entry .badge").all_inner_texts():
        assert badge == "message.hidden", badge
    entry.scroll_into_view_if_needed()
    screens.shot("audit-filtered")
    shoot_docs(sam, "supervisor-audit-360x740.png")

    # The message logs: the removed message with its original text and what happened to it.
    sam.get_by_role("navigation", name="Supervision").get_by_role(
        "link", name="Message logs"
    ).click()
    sam.wait_for_url(re.compile(r"/supervisor/messages/"))
    filters = sam.locator("details.sup-filter-card")
    if filters.get_attribute("open") is None:
        filters.locator("summary").click()
    sam.get_by_label("Room").select_option(label=TODDLER)
    sam.get_by_label("Member").fill("Ivy")
    sam.get_by_label("Message state").select_option("hidden")
    sam.get_by_role("button", name="Search").click()
    sam.wait_for_url(re.compile(r"[?&]state=hidden"))
    row = sam.locator(".log-msg").filter(has_text=ABUSE)
    expect(row).to_have_count(1)
    expect(row.locator(".msg-author")).to_have_text("Ivy")
    expect(row.locator(".msg-body")).to_have_text(ABUSE)
    expect(row.locator(".state-badge")).to_have_text("Removed by a moderator")
    expect(row.locator(".log-flag")).to_contain_text("hidden by Morgan")
    screens.shot("message-logs")
    row.get_by_role("link", name="What happened to this message").click()
    sam.wait_for_url(re.compile(r"/supervisor/messages/\d+/$"))
    expect(sam.locator(".log-msg .msg-body").first).to_have_text(ABUSE)
    facts = sam.locator("section").filter(has=sam.get_by_role("heading", name="Queue item"))
    expect(facts).to_contain_text("Toxic (high)")  # the console calls the category "Hurtful"
    expect(facts).to_contain_text("Resolved: hidden by Morgan")
    expect(facts).to_contain_text(HIDE_REASON)
    trail = sam.locator("section").filter(has=sam.get_by_role("heading", name="Audit trail"))
    hidden = trail.locator(".audit-entry").filter(has_text="message.hidden")
    expect(hidden).to_have_count(1)
    expect(hidden).to_contain_text("by Morgan")
    expect(hidden).to_contain_text(f"Reason: {HIDE_REASON}")
    screens.shot("message-detail")

    # A threshold change on the Toddler room, then found in the audit log with before and after.
    sam.get_by_role("navigation", name="Supervision").get_by_role("link", name="Rooms").click()
    sam.get_by_role("link", name=TODDLER).click()
    thresholds = sam.locator("section").filter(
        has=sam.get_by_role("heading", name="Classifier thresholds")
    )
    field = thresholds.get_by_label("Flag at toxicity")
    before = float(field.input_value())
    after = round(before - 0.05, 2) if before > 0.1 else round(before + 0.05, 2)
    field.fill(f"{after:.2f}")
    thresholds.get_by_label("Reason").fill(THRESHOLD_REASON)
    screens.shot("thresholds-form")
    try:
        thresholds.get_by_role("button", name="Save thresholds").click()
        expect(sam.locator("main")).to_contain_text(f"Thresholds for {TODDLER} are saved.")
        expect(thresholds.get_by_label("Flag at toxicity")).to_have_value(
            re.compile(rf"^{after:g}")
        )
        audit_filter(sam, "room.thresholds_changed")
        change = sam.locator(".audit-entry").filter(has_text=THRESHOLD_REASON)
        expect(change).to_have_count(1)
        expect(change.locator(".audit-who")).to_contain_text("By Sam (supervisor)")
        expect(change.locator(".audit-who")).to_contain_text(TODDLER)
        values = change.locator(".audit-values")
        expect(values.locator("dd").nth(0)).to_have_text(f"{{'toxicity_flag': {before!r}}}")
        expect(values.locator("dd").nth(1)).to_have_text(f"{{'toxicity_flag': {after!r}}}")
        change.scroll_into_view_if_needed()
        screens.shot("audit-threshold-change")
    finally:
        # Put it back (itself audited), so the room behaves as before for anything after this.
        sam.goto(sam.url.split("/supervisor/")[0] + "/supervisor/rooms/")
        sam.get_by_role("link", name=TODDLER).click()
        thresholds.get_by_label("Flag at toxicity").fill(f"{before}")
        thresholds.get_by_label("Reason").fill("Trial over (e2e)")
        thresholds.get_by_role("button", name="Save thresholds").click()
        expect(sam.locator("main")).to_contain_text(f"Thresholds for {TODDLER} are saved.")


# --- 3. risk ----------------------------------------------------------------------------------------


def test_risk_message_brings_support_card_and_pinned_urgent_item(open_as, screens) -> None:  # noqa: ANN001
    morgan = open_as("morgan")
    open_console(morgan)
    ivy, gwen = open_as("ivy"), open_as("gwen")
    open_room(ivy, TODDLER)
    open_room(gwen, TODDLER)

    # Something ordinary is already waiting, so "on top" means something.
    send(ivy, ABUSE_BEFORE_RISK)
    hurtful = queue_item(morgan, ABUSE_BEFORE_RISK)
    expect(hurtful).to_have_count(1, timeout=20_000)
    expect(hurtful.locator(".flag-badges")).to_contain_text("Hurtful")

    # Gwen writes that she does not want to be alive: the support card comes to her.
    send(gwen, RISK)
    card = gwen.get_by_role("dialog", name="You're not on your own")
    expect(card).to_be_visible(timeout=20_000)
    expect(card).to_contain_text("call 999")
    expect(card.get_by_role("link", name="Call Samaritans on 116 123")).to_have_attribute(
        "href", "tel:116123"
    )
    expect(ivy.get_by_role("dialog", name="You're not on your own")).to_be_hidden()
    gwen.wait_for_timeout(300)  # the backdrop fades in
    screens.shot("support-card")

    # Morgan's queue, live: an urgent risk item pinned above the older hurtful one.
    risk = queue_item(morgan, RISK)
    expect(risk).to_have_count(1, timeout=20_000)
    # Pinned among the urgent items at the top (an earlier test's urgent item, if any, may share
    # the top: items are never hidden from moderators to make a test tidy).
    first = morgan.locator("#queue .queue-item.is-urgent").filter(has_text=RISK)
    expect(first).to_have_count(1)
    expect(first).to_have_class(re.compile(r"\bis-urgent\b"))
    expect(first).to_have_attribute("data-category", "risk")
    expect(first.locator(".pinned")).to_have_text("▲ Pinned: risk to the member")
    expect(first.locator(".flag-badges")).to_contain_text("⚠ Urgent: risk")
    expect(first.locator(".flag-badges")).to_contain_text("Risk")
    expect(first.locator(".queue-author")).to_have_text("Gwen")
    order = morgan.locator("#queue .queue-item").evaluate_all(
        "els => els.map(e => e.dataset.category)"
    )
    assert order.index("risk") < order.index("toxic"), order
    expect(morgan.locator("#urgent-alert")).to_be_visible()
    # One alert for everything urgent that arrived while she watched: it names the room when it is
    # the only one, and counts them when an earlier test's message was escalated meanwhile.
    expect(morgan.locator("#urgent-alert-text")).to_contain_text(
        re.compile(
            rf"(a message in {re.escape(TODDLER)} shows|\d+ messages show) risk to the member"
        )
    )
    expect(morgan.locator("#queue-summary")).to_contain_text(re.compile(r"\b\d+ urgent"))
    urgent = morgan.locator("#queue .queue-item").evaluate_all(
        "els => els.map(e => e.classList.contains('is-urgent'))"
    )
    assert urgent == sorted(urgent, reverse=True), urgent  # every urgent item above every other
    morgan.evaluate("window.scrollTo(0, 0)")
    screens.shot("queue-risk-pinned")

    # Morgan takes it (the alert goes), and both items are resolved so no later test inherits them.
    moderate(
        morgan,
        RISK,
        button="Dismiss",
        reason="Support card seen; checked in with her privately (e2e)",
        status="Dismissed",
    )
    back_to_queue(morgan)
    expect(queue_item(morgan, RISK)).to_have_count(0)
    moderate(
        morgan,
        ABUSE_BEFORE_RISK,
        button="Hide message",
        reason="Personal attack (e2e)",
        status="Hidden",
    )
    back_to_queue(morgan)
    expect(queue_item(morgan, ABUSE_BEFORE_RISK)).to_have_count(0)
    # The alert goes once nothing urgent is left; an item of another test's (left for moderators,
    # never tidied away) keeps it up, and then it no longer names the Toddler room.
    if morgan.locator("#queue .queue-item.is-urgent").count() == 0:
        expect(morgan.locator("#urgent-alert")).to_be_hidden()
    else:
        expect(morgan.locator("#urgent-alert-text")).not_to_contain_text(TODDLER)
    screens.shot("queue-cleared")
