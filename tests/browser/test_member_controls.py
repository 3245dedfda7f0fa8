"""A mother's own controls end to end on a 360×740 phone (issue 21): Quick exit then Back shows
nothing of Kindred and needs a fresh login; content notes fold by default for a new member;
changing stage keeps her past conversations readable; recovery codes let her back in when she
forgets her password. (Notifications are tested in tests/chat/test_notifications.py.)

Each test makes its own members (pregnant-stage accounts in the Pregnancy room, which no other
browser test posts in), so what one leaves behind never shows up in another."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, LiveServer
from tests.browser.test_chat import message, send

pytestmark = pytest.mark.browser

NEUTRAL = re.compile(r"^https://www\.bbc\.co\.uk/weather")
PREGNANCY = "Pregnancy"
PASSWORD = "quiet-kettle-2026-e2e"


def new_member(server: LiveServer, name: str, stage: str = "pregnant") -> str:
    """A fresh account made through the same command the operators use; returns its username."""
    username = f"{name.lower()}_{secrets.token_hex(3)}"
    display = f"{name}{secrets.token_hex(2)}"
    server.manage(
        "create_account",
        "--username",
        username,
        "--password",
        PASSWORD,
        "--role",
        "member",
        "--stage",
        stage,
        "--display-name",
        display,
    )
    return username


def phone(browser: Browser):  # noqa: ANN201
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Europe/London",
    )
    # The test machine has no internet: answer for the neutral page ourselves.
    context.route(
        re.compile(r"^https://www\.bbc\.co\.uk/.*"),
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body="<!doctype html><title>Weather</title><h1>Weather forecast</h1>",
        ),
    )
    return context


def open_room(page: Page, room_name: str) -> None:
    """As tests/browser/test_chat.py's, with room for a first socket on a busy machine."""
    page.get_by_role("link", name=room_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(room_name)
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "connected", timeout=30_000)


def log_in(page: Page, server: LiveServer, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/rooms/$"))


@pytest.fixture
def contexts(browser):  # noqa: ANN001, ANN201
    opened = []

    def _open():  # noqa: ANN202
        context = phone(browser)
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda exc: print(f"page error: {exc}"))
        return page

    yield _open
    for context in opened:
        context.close()


def shows_nothing_of_kindred(page: Page, server: LiveServer) -> None:
    expect(page).to_have_url(NEUTRAL)
    expect(page.get_by_role("heading", name="Weather forecast")).to_be_visible()
    assert "Kindred" not in page.content()
    assert not page.url.startswith(server.url)


def test_quick_exit_then_back_shows_nothing_and_needs_a_fresh_login(
    contexts, live_server_proc: LiveServer, screens
) -> None:  # noqa: ANN001
    server = live_server_proc
    username = new_member(server, "Nell")
    page = contexts()
    screens.pages["nell"] = page
    log_in(page, server, username)
    open_room(page, PREGNANCY)
    page.get_by_label("Your message").fill("Something I haven't sent yet")
    screens.shot("room-before-exit")

    with page.expect_request(lambda r: r.url.endswith("/accounts/quick-exit/")) as beacon:
        page.get_by_role("link", name=re.compile(r"^Quick exit")).click()
    assert beacon.value.method == "POST"
    page.wait_for_url(NEUTRAL)
    shows_nothing_of_kindred(page, server)

    # Back, and Back again: each Kindred page in the history is replaced by the neutral page
    # before it is drawn, and none is restored from a cache.
    for step in range(2):
        page.go_back()
        page.wait_for_url(NEUTRAL)
        page.wait_for_load_state()
        shows_nothing_of_kindred(page, server)
        screens.shot(f"after-back-{step + 1}")

    # The session ended on the server: whoever opens Kindred on this phone must log in again.
    again = page.context.new_page()
    again.goto(f"{server.url}/rooms/")
    expect(again).to_have_url(re.compile(r"/accounts/login/"))
    expect(again.get_by_role("button", name="Log in")).to_be_visible()
    # Opening Kindred herself (not through Back) works as usual, and a reload stays put.
    log_in(again, server, username)
    again.reload()
    expect(again).to_have_url(re.compile(r"/rooms/$"))


def test_content_notes_fold_by_default_for_a_new_member(
    contexts, live_server_proc: LiveServer, screens
) -> None:  # noqa: ANN001
    server = live_server_proc
    writer, reader = contexts(), contexts()
    screens.pages.update({"writer": writer, "reader": reader})
    log_in(writer, server, new_member(server, "Orla"))
    log_in(reader, server, new_member(server, "Pia"))  # never opened Settings
    open_room(writer, PREGNANCY)
    open_room(reader, PREGNANCY)

    text = "My first birth ended in an emergency section and I'm scared of this one."
    writer.get_by_role("button", name="Add a content note").click()
    writer.get_by_label("Content note").select_option("birth_trauma")
    send(writer, text)

    noted = message(reader, "Content note: Birth trauma").last
    expect(noted).to_be_visible()
    toggle = noted.get_by_role("button", name=re.compile(r"^Content note: Birth trauma"))
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(noted.locator(".msg-body")).to_be_hidden()
    screens.shot("folded-for-a-new-member")
    toggle.click()
    expect(noted.locator(".msg-body")).to_have_text(text)

    # Settings say so, and she can choose to read that topic straight away.
    reader.goto(f"{server.url}/settings/")
    expect(reader.get_by_label("Birth trauma")).to_be_checked()
    expect(reader.get_by_label("Baby loss")).to_be_checked()
    reader.get_by_label("Birth trauma").uncheck()
    reader.get_by_role("button", name="Save settings").click()
    expect(reader.get_by_role("status")).to_contain_text("Saved")
    reader.goto(f"{server.url}/rooms/")
    open_room(reader, PREGNANCY)
    shown = message(reader, "emergency section").last
    expect(shown.locator(".msg-body")).to_be_visible()
    expect(shown.locator(".cn-tag")).to_have_text("Content note: Birth trauma")


def test_changing_stage_keeps_her_past_conversation_readable(
    contexts, live_server_proc: LiveServer, screens
) -> None:  # noqa: ANN001
    server = live_server_proc
    quinn, rhea = contexts(), contexts()
    screens.pages.update({"tamsin": quinn, "rhea": rhea})
    log_in(quinn, server, new_member(server, "Tamsin"))
    log_in(rhea, server, new_member(server, "Rhea"))
    open_room(quinn, PREGNANCY)
    open_room(rhea, PREGNANCY)
    send(quinn, "Scans make me so anxious I can't sleep the night before")
    expect(message(rhea, "Scans make me so anxious")).to_be_visible()
    send(rhea, "Same here, it does get easier after the 20 week one")
    expect(message(quinn, "it does get easier")).to_be_visible()

    # The stage page says what changes, and nothing changes until she confirms.
    quinn.get_by_role("link", name="My stage").click()
    expect(quinn.locator("#stage-what-changes")).to_contain_text(
        "You keep reading your past conversations"
    )
    quinn.get_by_label("Where are you now?").select_option("newborn")
    quinn.get_by_role("button", name="Continue").click()
    expect(quinn.get_by_role("heading", level=1)).to_have_text(
        "Change your stage to Newborn (0–3 months)?"
    )
    changes = quinn.locator("#stage-changes")
    expect(changes).to_contain_text("Your past conversations there stay for you to read")
    expect(changes).to_contain_text("you can no longer post or see new messages")
    screens.shot("stage-what-changes")
    quinn.get_by_role("button", name="Yes, change my stage").click()
    quinn.wait_for_url(re.compile(r"/rooms/$"))
    expect(quinn.get_by_role("status")).to_contain_text("past conversations")

    # Rhea carries on; Quinn's copy of the room stops where she left.
    send(rhea, "Welcome to everyone new this week")
    card = quinn.locator(".room-card").filter(has_text=PREGNANCY)
    expect(card).to_contain_text("Your past conversations: read only")
    card.get_by_role("link", name=PREGNANCY).click()
    expect(quinn.get_by_role("heading", level=1)).to_have_text(PREGNANCY)
    expect(quinn.locator("#past-note")).to_contain_text("You changed your stage")
    past = quinn.locator(".past-messages")
    expect(past).to_contain_text("Scans make me so anxious")
    expect(past).to_contain_text("it does get easier after the 20 week one")
    expect(past).not_to_contain_text("Welcome to everyone new this week")
    expect(quinn.get_by_label("Your message")).to_have_count(0)
    screens.shot("past-conversation")
    # Her new stage room is hers to post in.
    quinn.get_by_role("link", name="Back to your rooms").click()
    open_room(quinn, "Newborn (0–3 months)")


def test_recovery_codes_at_sign_up_then_a_code_sets_a_new_password(
    contexts, live_server_proc: LiveServer, screens, tmp_path
) -> None:  # noqa: ANN001
    server = live_server_proc
    page = contexts()
    screens.pages["sian"] = page
    username = f"sian_{secrets.token_hex(3)}"
    page.goto(f"{server.url}/accounts/signup/")
    expect(page.locator("#forgot-plan")).to_contain_text("If you forget your password")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name").fill(f"Sian{secrets.token_hex(2)}")
    page.get_by_label("Where are you now?").select_option("pregnant")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("I am 18 or over").check()
    page.get_by_label(re.compile("I agree to the community guidelines")).check()
    page.get_by_role("button", name="Join").click()

    # Shown once, with a download.
    page.wait_for_url(re.compile(r"/accounts/recovery-codes/$"))
    expect(page.locator("#codes-once")).to_contain_text("the only time they are shown")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", c) for c in codes)
    screens.shot("recovery-codes")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the codes").click()
    saved = tmp_path / "codes.txt"
    download.value.save_as(saved)
    assert all(code in saved.read_text() for code in codes)
    page.get_by_role("link", name="I've saved them: continue").click()
    page.wait_for_url(re.compile(r"/rooms/$"))
    page.goto(f"{server.url}/accounts/recovery-codes/")
    expect(page.locator("#recovery-codes")).to_have_count(0)  # never shown again
    expect(page.locator("#codes-left")).to_have_text("10")
    page.get_by_role("button", name="Log out").click()

    # She forgot her password: a code gets her back in with a new one.
    page.goto(f"{server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("One of your recovery codes").fill(codes[0].upper())
    page.get_by_label("New password").fill("new-dawn-kettle-2026")
    screens.shot("recover-with-code")
    page.get_by_role("button", name="Set my new password").click()
    page.wait_for_url(re.compile(r"/rooms/$"))
    expect(page.get_by_role("status")).to_contain_text("You have 9 recovery codes left")
    page.get_by_role("button", name="Log out").click()
    # The code is used up; the new password works.
    page.goto(f"{server.url}/accounts/recover/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("One of your recovery codes").fill(codes[0])
    page.get_by_label("New password").fill("another-new-one-2026")
    page.get_by_role("button", name="Set my new password").click()
    expect(page.get_by_role("alert").first).to_contain_text("don't match")
    log_in(page, server, username, "new-dawn-kettle-2026")
