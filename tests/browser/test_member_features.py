"""Member features end to end on a 360×740 phone: support reactions, replies, editing and deleting
her own messages, reporting, mute and block, content notes (and her settings for them), resource
cards and the resources page, the room list's "what's on", and the unread badge.

Each test uses its own topic room and the erin/fay/tess accounts, so what it leaves behind (a mute,
a report, a setting) never shows up in another test."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, LiveServer
from tests.browser.test_chat import choose, message, open_room, send

pytestmark = pytest.mark.browser

DOCS_SHOTS = SCREENSHOTS.parents[1] / "docs" / "screenshots"


def docs_shot(page: Page, name: str) -> None:
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(300)  # entrance animations settle
    page.screenshot(path=str(DOCS_SHOTS / f"{name}-360x740.png"))


def go_to_room(page: Page, name: str) -> None:
    page.get_by_role("link", name="Rooms", exact=False).first.click()
    open_room(page, name)


def shell(server: LiveServer, code: str) -> None:
    server.manage("shell", "-c", code)


def test_reactions_and_replies(open_as, screens) -> None:  # noqa: ANN001
    erin, fay = open_as("erin"), open_as("fay")
    for page in (erin, fay):
        open_room(page, "Feeding")
    send(fay, "Did anyone else find the night feeds really lonely?")
    theirs = message(erin, "night feeds really lonely")
    expect(theirs).to_be_visible()
    theirs = erin.locator(f"#msg-{theirs.get_attribute('data-seq')}")  # the reply will quote it

    # A support reaction, from the message's one "⋯" menu: ticked for her, counted for everyone, live.
    options = theirs.get_by_role("button", name="Options for Fay's message")
    expect(options).to_have_attribute("aria-haspopup", "menu")
    options.click()
    menu = theirs.get_by_role("menu")
    me_too = menu.get_by_role("menuitemcheckbox", name="Me too")
    expect(me_too).to_be_focused()  # the first item takes focus when it opens
    expect(me_too).to_have_attribute("aria-checked", "false")
    me_too.click()
    expect(menu).to_be_hidden()
    expect(options).to_be_focused()
    expect(theirs.locator(".reaction-chip")).to_have_text("Me too 1 (you)")
    options.click()
    expect(menu.get_by_role("menuitemcheckbox", name="Me too")).to_have_attribute(
        "aria-checked", "true"
    )
    erin.keyboard.press("Escape")
    on_fay = fay.locator(f"#msg-{theirs.get_attribute('data-seq')}")
    # Nobody reacts to her own message: Fay sees who reacted, with no reactions in her menu.
    expect(on_fay.get_by_text("Who reacted (1)")).to_be_visible()
    expect(on_fay.locator(".reaction-chip")).to_have_text("Me too 1")
    on_fay.get_by_role("button", name="Options for your message").click()
    expect(on_fay.get_by_role("menuitemcheckbox")).to_have_count(0)
    expect(on_fay.get_by_role("menuitem", name="Reply")).to_be_visible()
    fay.keyboard.press("Escape")
    choose(theirs, "Sending a hug", role="menuitemcheckbox")
    expect(theirs.locator(".reaction-chip").nth(1)).to_have_text("Hug 1 (you)")
    # Who reacted: names behind a disclosure.
    on_fay.get_by_text("Who reacted (2)").click()
    expect(on_fay.locator(".msg-reactors")).to_contain_text("Me too: Erin")
    expect(on_fay.locator(".msg-reactors")).to_contain_text("Sending a hug: Erin")
    # Taking it back.
    choose(theirs, "Sending a hug", role="menuitemcheckbox")
    expect(theirs.locator(".reaction-chip")).to_have_count(1)
    expect(on_fay.get_by_text("Who reacted (1)")).to_be_visible()
    screens.shot("reacted")

    # Reply: a quoted snippet above the composer, cancelable.
    choose(theirs, "Reply")
    context = erin.locator("#compose-context")
    expect(context).to_be_visible()
    expect(context).to_contain_text("Replying to Fay")
    expect(context).to_contain_text("night feeds really lonely")
    expect(erin.get_by_label("Your message")).to_be_focused()
    erin.get_by_role("button", name="Cancel reply").click()
    expect(context).to_be_hidden()
    choose(theirs, "Reply")
    send(erin, "Every single night. The 3am ones were the worst.")
    expect(context).to_be_hidden()
    reply = message(erin, "The 3am ones were the worst")
    quote = reply.locator(".msg-quote")
    expect(quote).to_contain_text("Fay")
    expect(quote).to_contain_text("night feeds really lonely")
    expect(message(fay, "The 3am ones were the worst").locator(".msg-quote")).to_contain_text("Fay")

    # Tapping the quote takes her to the original.
    quote.click()
    expect(theirs).to_be_focused()
    screens.shot("replied")
    docs_shot(erin, "chat-reactions-reply")


def test_edit_and_delete_own_message(open_as, screens) -> None:  # noqa: ANN001
    erin, fay = open_as("erin"), open_as("fay")
    for page in (erin, fay):
        open_room(page, "Feeding")
    send(erin, "Has anyone tried paced bottle feding?")
    mine = message(erin, "paced bottle feding")
    expect(mine).to_be_visible()

    # Others get Report and Mute in her message's options, never Edit.
    on_fay = message(fay, "paced bottle feding")
    on_fay.get_by_role("button", name="Options for Erin's message").click()
    expect(on_fay.get_by_role("menuitem", name="Report this message")).to_be_visible()
    expect(on_fay.get_by_role("menuitem", name="Edit")).to_have_count(0)
    fay.keyboard.press("Escape")
    expect(on_fay.get_by_role("menuitem", name="Report this message")).to_be_hidden()

    options = mine.get_by_role("button", name="Options for your message")
    expect(options).to_have_attribute("aria-expanded", "false")
    options.click()
    expect(options).to_have_attribute("aria-expanded", "true")
    mine.get_by_role("menuitem", name="Edit").click()
    box = erin.get_by_label("Your message")
    expect(box).to_have_value("Has anyone tried paced bottle feding?")
    expect(erin.locator("#compose-context")).to_contain_text("Editing your message")
    expect(erin.get_by_role("button", name="Save")).to_be_visible()
    box.fill("Has anyone tried paced bottle feeding?")
    erin.get_by_role("button", name="Save").click()
    edited = message(fay, "paced bottle feeding?")
    expect(edited).to_be_visible()
    expect(edited.locator(".msg-edited")).to_have_text("edited")
    expect(message(fay, "feding")).to_have_count(0)
    expect(box).to_have_value("")
    expect(erin.get_by_role("button", name="Send")).to_be_visible()
    screens.shot("edited")

    # Delete, after a confirmation: everyone sees that it was deleted, nobody sees the words.
    mine = message(erin, "paced bottle feeding?")
    seq = mine.get_attribute("data-seq")
    mine.get_by_role("button", name="Options for your message").click()
    mine.get_by_role("menuitem", name="Delete").click()
    dialog = erin.get_by_role("dialog", name="Delete this message?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog).to_be_hidden()
    expect(message(fay, "paced bottle")).to_have_count(0)
    expect(fay.locator(f"#msg-{seq}")).to_contain_text("Message deleted")
    expect(erin.locator(f"#msg-{seq}")).to_contain_text("You deleted this message")
    expect(erin.locator(f"#msg-{seq}").get_by_role("button")).to_have_count(0)
    screens.shot("deleted")


def test_report_a_message(open_as, screens) -> None:  # noqa: ANN001
    erin, fay = open_as("erin"), open_as("fay")
    for page in (erin, fay):
        open_room(page, "Feeding")
    send(fay, "Formula is lazy parenting, just try harder.")
    theirs = message(erin, "lazy parenting")
    expect(theirs).to_be_visible()
    # No Report on her own messages.
    send(erin, "That isn't fair, fed is best.")
    expect(
        message(erin, "fed is best").get_by_role(
            "menuitem", name="Report this message", include_hidden=True
        )
    ).to_have_count(0)

    theirs.get_by_role("button", name="Options for Fay's message").click()
    theirs.get_by_role("menuitem", name="Report this message").click()
    dialog = erin.get_by_role("dialog", name="Report this message")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("lazy parenting")
    reason = dialog.get_by_label("What's wrong? (optional)")
    expect(reason).to_be_focused()
    reason.fill("Judging how other mums feed their babies.")
    screens.shot("report-dialog")
    docs_shot(erin, "report-dialog")
    dialog.get_by_role("button", name="Send report").click()
    thanks = erin.get_by_role("dialog", name="Thank you")
    expect(thanks).to_be_visible()
    expect(thanks).to_contain_text("A moderator will look at it")
    thanks.get_by_role("button", name="Close").click()
    expect(thanks).to_be_hidden()
    screens.shot("reported")


def test_mute_and_block_then_undo(open_as, screens) -> None:  # noqa: ANN001
    erin, fay = open_as("erin"), open_as("fay")
    for page in (erin, fay):
        open_room(page, "Anxiety and low mood")
    send(fay, "Honestly some of you are making this up.")
    theirs = message(erin, "making this up")
    expect(theirs).to_be_visible()
    seq = theirs.get_attribute("data-seq")

    theirs.get_by_role("button", name="Options for Fay's message").click()
    theirs.get_by_role("menuitem", name="Mute or block Fay…").click()
    dialog = erin.get_by_role("dialog", name="Mute or block Fay?")
    expect(dialog).to_contain_text("Mute")
    expect(dialog).to_contain_text("no longer sees that you're in the room")
    dialog.get_by_role("button", name="Mute Fay").click()
    line = erin.locator(f"#msg-{seq}")
    expect(line).to_contain_text("Message hidden. You muted Fay.")
    expect(line).not_to_contain_text("making this up")

    # Her next message arrives without its words (the server withholds them).
    send(fay, "Still here, still think so.")
    expect(message(fay, "Still here")).to_be_visible()
    newest = erin.locator("#messages li[data-seq]").last
    expect(newest).to_have_class(re.compile(r"\bmsg-filtered\b"))
    expect(newest).to_contain_text("You muted Fay")
    expect(message(erin, "Still here")).to_have_count(0)
    screens.shot("muted")

    # Undo from the line itself: the words come back.
    line.get_by_role("button", name="Unmute Fay").click()
    expect(message(erin, "making this up")).to_be_visible()
    expect(message(erin, "Still here")).to_be_visible()
    expect(erin.locator("#messages li.msg-filtered")).to_have_count(0)

    # Block works the same way for her; undo it so other tests see Fay.
    theirs = message(erin, "Still here")
    theirs.get_by_role("button", name="Options for Fay's message").click()
    theirs.get_by_role("menuitem", name="Mute or block Fay…").click()
    erin.get_by_role("dialog", name="Mute or block Fay?").get_by_role(
        "button", name="Block Fay"
    ).click()
    expect(erin.locator("#messages li.msg-filtered").first).to_contain_text("You blocked Fay")
    erin.locator("#messages li.msg-filtered").first.get_by_role(
        "button", name="Unblock Fay"
    ).click()
    expect(message(erin, "Still here")).to_be_visible()


def test_content_notes_and_reading_settings(open_as, live_server_proc, screens) -> None:  # noqa: ANN001
    shell(
        live_server_proc,
        (
            "from chat.models import Room; Room.objects.filter(slug='birth-experiences')"
            ".update(required_content_notes=['baby_loss'])"
        ),
    )
    erin, fay = open_as("erin"), open_as("fay")

    # Her reading settings: every note folds by default; she keeps "Baby loss" folded until she
    # taps and opens the rest.
    erin.goto(erin.url.replace("/rooms/", "/settings/"))
    expect(erin.get_by_role("heading", name="Settings")).to_be_visible()
    # (Folding by default for a new member is tested in test_member_controls.py; Erin may have
    # saved her settings in an earlier test.)
    for topic in ("Birth trauma", "Self-harm", "Suicidal thoughts", "Medical details", "Abuse"):
        erin.get_by_label(topic).uncheck()
    erin.get_by_label("Baby loss").check()
    erin.get_by_role("button", name="Save settings").click()
    expect(erin.get_by_role("status")).to_contain_text("Saved")
    expect(erin.get_by_label("Baby loss")).to_be_checked()
    expect(erin.get_by_label("Medical details")).not_to_be_checked()
    docs_shot(erin, "settings")
    go_to_room(erin, "Birth experiences")
    open_room(fay, "Birth experiences")

    # The room asks for a note: she's asked to pick one, her words stay in the box.
    box = fay.get_by_label("Your message")
    send(fay, "We had a stillbirth two years ago and this week is hard.")
    picker = fay.get_by_label("Content note")
    expect(picker).to_be_visible()
    expect(picker).to_have_value("baby_loss")
    expect(picker).to_be_focused()
    expect(box).to_have_value("We had a stillbirth two years ago and this week is hard.")
    expect(fay.locator("#composer-error")).to_contain_text("content note")
    expect(fay.get_by_role("button", name="Content note: Baby loss")).to_be_visible()
    fay.get_by_role("button", name="Send").click()
    expect(box).to_have_value("")
    expect(fay.locator("#note-picker")).to_be_hidden()

    # Collapsed for Erin (her setting), keyboard accessible.
    noted = erin.locator("#messages li.msg-noted").filter(has_text="Baby loss").last
    toggle = noted.get_by_role("button", name=re.compile(r"^Content note: Baby loss"))
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(noted.locator(".msg-body")).to_be_hidden()
    screens.shot("collapsed")
    toggle.focus()
    erin.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(noted.locator(".msg-body")).to_have_text(
        "We had a stillbirth two years ago and this week is hard."
    )

    # A note she did not choose to collapse: labelled, but open.
    fay.get_by_role("button", name="Add a content note").click()
    fay.get_by_label("Content note").select_option("medical")
    expect(fay.get_by_role("button", name="Content note: Medical details")).to_be_visible()
    send(fay, "I needed stitches and a catheter for two days.")
    medical = message(erin, "stitches and a catheter")
    expect(medical).to_be_visible()
    expect(medical.locator(".cn-tag")).to_have_text("Content note: Medical details")
    # A new message keeps the opened one open (message.updated redraws keep her choice).
    expect(noted.locator(".msg-body")).to_be_visible()
    # And a plain one after it has no note.
    send(fay, "Thank you all for listening.")
    expect(message(erin, "listening").locator(".cn-tag")).to_have_count(0)
    screens.shot("notes")

    # Docs picture: one collapsed, one labelled.
    toggle.click()
    expect(noted.locator(".msg-body")).to_be_hidden()
    docs_shot(erin, "chat-content-notes")


def test_moderator_shares_a_resource_card(open_as, screens) -> None:  # noqa: ANN001
    tess, erin = open_as("tess"), open_as("erin")
    open_room(tess, "Feeding")
    open_room(erin, "Feeding")
    # Members don't get the picker.
    expect(erin.get_by_role("button", name="Share a resource")).to_have_count(0)
    tess.get_by_role("button", name="Share a resource").click()
    picker = tess.get_by_role("dialog", name="Share a resource")
    expect(picker).to_be_visible()
    picker.get_by_role("button", name="Share Samaritans").click()
    expect(picker).to_be_hidden()
    card = erin.locator("#messages li.msg-resource").last
    expect(card).to_contain_text("Samaritans")
    expect(card).to_contain_text("Shared by a moderator")
    expect(card.get_by_role("link", name="Call 116 123")).to_have_attribute("href", "tel:116123")
    expect(card.get_by_role("link", name=re.compile(r"^Website"))).to_have_attribute(
        "href", "https://www.samaritans.org/"
    )
    screens.shot("resource-card")


def test_resources_page_filters_by_stage_and_area(open_as, live_server_proc, screens) -> None:  # noqa: ANN001
    shell(
        live_server_proc,
        (
            "from moderation.models import Helpline; "
            "Helpline.objects.get_or_create(name='Leeds Perinatal Peer Group', defaults=dict(contact='0113 000 0000', "
            "when='A weekly group for mums in Leeds', region='Leeds', kind='group', stages=['newborn', 'baby'])); "
            "Helpline.objects.get_or_create(name='Bump Buddies Bristol', defaults=dict(contact='0117 000 0000', "
            "when='For pregnant mums in Bristol', region='Bristol', kind='group', stages=['pregnant']))"
        ),
    )
    erin = open_as("erin")
    erin.get_by_role("link", name="Support services").first.click()
    expect(erin.get_by_role("heading", name="Support services", level=1)).to_be_visible()
    # Her stage by default.
    expect(erin.get_by_label("Stage")).to_have_value("newborn")
    expect(erin.get_by_role("heading", name="Samaritans")).to_be_visible()
    expect(erin.get_by_role("heading", name="Bump Buddies Bristol")).to_have_count(0)
    expect(erin.get_by_role("heading", name="Leeds Perinatal Peer Group")).to_be_visible()
    docs_shot(erin, "resources")
    erin.get_by_label("Area").select_option("Bristol")
    erin.get_by_label("Stage").select_option("pregnant")
    erin.get_by_role("button", name="Show services").click()
    expect(erin).to_have_url(re.compile(r"stage=pregnant&region=Bristol"))
    expect(erin.get_by_role("heading", name="Bump Buddies Bristol")).to_be_visible()
    expect(erin.get_by_role("heading", name="Leeds Perinatal Peer Group")).to_have_count(0)
    call = (
        erin.locator(".helpline")
        .filter(has_text="Samaritans")
        .get_by_role("link", name="Call 116 123")
    )
    expect(call).to_have_attribute("href", "tel:116123")
    # From the help page too.
    erin.get_by_role("link", name="Get help", exact=True).click()
    expect(
        erin.get_by_role("link", name="More support services for your stage and area")
    ).to_have_attribute("href", "/resources/")
    screens.shot("resources")


def test_room_list_shows_whats_on_and_unread_badge(open_as, live_server_proc, screens) -> None:  # noqa: ANN001
    shell(
        live_server_proc,
        (
            "from datetime import timedelta; from django.utils import timezone; "
            "from accounts.models import User; from chat.models import Room; "
            "from moderation.facilitation.models import FacilitatedSession as S; "
            "tess = User.objects.get(username='tess_e2e'); room = Room.objects.get(slug='feeding'); "
            "start = (timezone.now() + timedelta(days=1)).replace(hour=19, minute=30, second=0, microsecond=0); "
            "S.objects.filter(room=room, title='Feeding worries circle').exists() or "
            "S.objects.create(room=room, title='Feeding worries circle', focus='Sharing what helped with feeds', "
            "starts_at=start, ends_at=start + timedelta(hours=1), weekly=True, created_by=tess).facilitators.add(tess)"
        ),
    )
    erin, fay, tess = open_as("erin"), open_as("fay"), open_as("tess")
    open_room(tess, "Sleep and tiredness")
    # Erin has been in Feeding before (she is a member there) and now reads Birth experiences.
    open_room(erin, "Feeding")
    go_to_room(erin, "Birth experiences")
    badge = erin.locator("#rooms-unread")
    open_room(fay, "Feeding")
    send(fay, "Anyone around for a chat about weaning?")
    expect(message(fay, "weaning")).to_be_visible()
    # The page polls every 30 s and whenever she comes back to the tab.
    erin.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(badge).to_be_visible()
    expect(
        erin.get_by_role("link", name=re.compile(r"^Rooms, \d+ new messages? in your other rooms$"))
    ).to_be_visible()
    # Counts only: nothing of the text.
    expect(erin.locator(".site-header")).not_to_contain_text("weaning")

    erin.get_by_role("link", name=re.compile(r"^Rooms")).first.click()

    def card(name: str):  # noqa: ANN202
        return erin.locator(".room-card").filter(
            has=erin.locator(".room-name", has_text=re.compile(f"^{name}"))
        )

    feeding = card("Feeding")
    expect(feeding.locator(".room-unread")).to_have_text(re.compile(r"^\d+ new$"))
    expect(feeding.locator(".upcoming-sessions")).to_contain_text("Feeding worries circle")
    sleep = card("Sleep and tiredness")
    expect(sleep.locator(".mod-present")).to_have_text("Moderator here")
    expect(sleep.locator(".room-online")).to_have_text(re.compile(r"^[1-9]\d* online$"))
    # A moderator is on duty (in another room): the list says so truthfully for every room.
    expect(card("Toddler").locator(".mod-duty")).to_have_text("Moderator on duty")
    docs_shot(erin, "rooms")
    # The room page shows its sessions too, and loads the session start/end lines for everyone.
    open_room(erin, "Feeding")
    expect(erin.locator(".chat-header .upcoming-sessions")).to_contain_text(
        "Feeding worries circle"
    )
    assert erin.evaluate("[...document.scripts].some(s => s.src.endsWith('/frontend/sessions.js'))")
    screens.shot("rooms")
