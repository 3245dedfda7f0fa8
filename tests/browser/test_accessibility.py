"""WCAG 2.2 AA on every member page, checked with axe-core in a real Chromium at 360×740, and the
chat page used with the keyboard alone.

axe-core is not vendored: the session fixture fetches it from the npm registry with
`npm pack axe-core@4` into test-artifacts/ (gitignored) on first use. The page's Content Security
Policy forbids injected scripts, so only the axe contexts use Playwright's `bypass_csp`; every
other browser test runs under the real policy."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ACCOUNTS, ARTIFACTS, PASSWORD, PHONE, LiveServer, _in_ci
from tests.browser.test_chat import choose, message, open_room, send

pytestmark = pytest.mark.browser

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
ROOM = "Anxiety and low mood"


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe.min.js from the npm registry (once per checkout; test-artifacts/ is gitignored)."""
    target = ARTIFACTS / "axe-core"
    script = target / "package" / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if not npm:
        reason = "npm is needed to fetch axe-core for the accessibility tests"
        if _in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    target.mkdir(parents=True, exist_ok=True)
    try:
        out = subprocess.run(
            [npm, "pack", "axe-core@4", "--silent"],
            cwd=target,
            capture_output=True,
            text=True,
            check=True,
            timeout=180,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        reason = f"could not fetch axe-core with npm pack: {exc}"
        if _in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    tarball = target / out.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as tar:
        member = tar.getmember("package/axe.min.js")
        tar.extractall(target, members=[member], filter="data")
    return script


def axe_violations(page: Page, script: Path) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(script))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {n['target']}: {n['failureSummary'][:300]}" for n in v["nodes"][:5])
    return "\n".join(lines)


def assert_accessible(page: Page, script: Path, what: str) -> None:
    violations = axe_violations(page, script)
    assert not violations, (
        f"{what}: serious or critical WCAG 2.2 AA violations\n{describe(violations)}"
    )


@pytest.fixture
def axe_page(browser, live_server_proc: LiveServer, screens):  # noqa: ANN001, ANN201
    """axe_page() → a logged-out phone page; axe_page("erin") → logged in through the form.
    These contexts bypass CSP so axe can be injected; nothing else is different."""
    contexts = []

    def _open(who: str | None = None) -> Page:
        context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
            timezone_id="Europe/London",
            bypass_csp=True,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        screens.pages[f"axe-{who or 'anon'}"] = page
        if who:
            page.goto(f"{live_server_proc.url}/accounts/login/")
            page.get_by_label("Username").fill(ACCOUNTS[who].username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(re.compile(r"/rooms/$"))
        return page

    yield _open
    for context in contexts:
        context.close()


def test_public_pages_meet_wcag_22_aa(axe_page, axe_script, live_server_proc) -> None:  # noqa: ANN001
    page = axe_page()
    for path, heading in [
        ("/accounts/login/", None),
        ("/accounts/signup/", None),
        ("/help/", "Get help now"),
        ("/privacy/", None),
        ("/resources/", "Support services"),
        ("/guidelines/", None),
    ]:
        page.goto(f"{live_server_proc.url}{path}")
        if heading:
            expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert_accessible(page, axe_script, path)
    # A form with errors is a page too.
    page.goto(f"{live_server_proc.url}/accounts/signup/")
    page.get_by_role("button", name=re.compile("Join|Create|Sign up", re.I)).first.click()
    # The form posts and the page comes back with its errors; check that page, not the one between
    # (in one CI run axe read the document mid-navigation, before it had a title).
    expect(page.locator(".field.has-error").first).to_be_visible()
    page.wait_for_load_state("load")
    assert_accessible(page, axe_script, "signup with errors")


def test_member_pages_meet_wcag_22_aa(axe_page, axe_script, live_server_proc) -> None:  # noqa: ANN001
    live_server_proc.manage(
        "shell",
        "-c",
        (
            "from accounts.models import User; User.objects.filter(username='erin_e2e').update(collapse_topics=['baby_loss'])"
        ),
    )
    erin, fay, tess = axe_page("erin"), axe_page("fay"), axe_page("tess")
    assert_accessible(erin, axe_script, "rooms")
    for path in ("/settings/", "/resources/", "/help/", "/privacy/", "/accounts/stage/"):
        erin.goto(f"{live_server_proc.url}{path}")
        assert_accessible(erin, axe_script, path)

    # The room with everything a message can carry: reactions, a reply, content notes, a resource card.
    for page in (erin, fay, tess):
        page.goto(f"{live_server_proc.url}/rooms/")
        open_room(page, ROOM)
    send(fay, "Some days the worry just sits on my chest all day.")
    theirs = message(erin, "worry just sits")
    theirs = erin.locator(f"#msg-{theirs.get_attribute('data-seq')}")  # replies will quote it
    choose(theirs, "Me too", role="menuitemcheckbox")
    expect(theirs.locator(".reaction-chip")).to_have_text("Me too 1 (you)")
    choose(theirs, "Reply")
    send(erin, "Same here. Breathing slowly helps me a little.")
    fay.get_by_role("button", name="Add a content note").click()
    fay.get_by_label("Content note").select_option("baby_loss")
    send(fay, "It started after our miscarriage last spring.")
    fay.get_by_role("button", name="Add a content note").click()
    fay.get_by_label("Content note").select_option("medical")
    send(fay, "The GP changed my tablets last week.")
    tess.get_by_role("button", name="Share a resource").click()
    tess.get_by_role("dialog", name="Share a resource").get_by_role(
        "button", name="Share Mind Infoline"
    ).click()
    expect(erin.locator("#messages li.msg-resource")).to_contain_text("Mind Infoline")
    expect(erin.locator("#messages .cn-toggle")).to_have_count(1)
    expect(erin.locator("#messages .cn-tag")).to_have_count(1)
    assert_accessible(erin, axe_script, "room chat")

    # With a message's options open, and with the report dialog open.
    theirs.get_by_role("button", name="Options for Fay's message").click()
    assert_accessible(erin, axe_script, "room chat, options open")
    theirs.get_by_role("menuitem", name="Report this message").click()
    expect(erin.get_by_role("dialog", name="Report this message")).to_be_visible()
    assert_accessible(erin, axe_script, "report dialog")
    erin.get_by_role("button", name="Cancel").click()
    # Composer with a reply and the note picker open.
    choose(theirs, "Reply")
    erin.get_by_role("button", name="Add a content note").click()
    assert_accessible(erin, axe_script, "composer with reply and note picker")


def focus_info(page: Page) -> dict:
    return page.evaluate("""() => {
        const el = document.activeElement;
        if (!el || el === document.body) return {tag: 'body'};
        const style = getComputedStyle(el);
        return {
            tag: el.tagName.toLowerCase(), id: el.id, act: el.dataset.act || '', cls: el.className,
            name: (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 60),
            outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
            shadow: style.boxShadow !== 'none',
        };
    }""")


def test_chat_with_the_keyboard_only(open_as, screens) -> None:  # noqa: ANN001
    erin, fay = open_as("erin"), open_as("fay")
    open_room(erin, ROOM)
    open_room(fay, ROOM)
    send(fay, "Is anyone else awake and struggling tonight?")
    expect(message(erin, "awake and struggling")).to_be_visible()
    erin.evaluate("document.activeElement && document.activeElement.blur()")
    erin.evaluate("window.scrollTo(0, 0)")

    wanted = {
        "quick exit": lambda f: f["id"] == "quick-exit",
        "get help": lambda f: f["id"] == "get-help",
        "message options": lambda f: f["act"] == "options",
        "composer": lambda f: f["id"] == "composer-input",
        "send": lambda f: "send-button" in f["cls"],
        "content note": lambda f: f["id"] == "note-toggle",
    }
    reached: dict[str, dict] = {}
    stops_in_her_message: list[str] = []
    for _ in range(150):
        erin.keyboard.press("Tab")
        info = focus_info(erin)
        if erin.evaluate(
            "() => Boolean(document.activeElement.closest('li[data-seq]')"
            " && document.activeElement.closest('li[data-seq]').textContent.includes('awake and struggling'))"
        ):
            stops_in_her_message.append(info["act"] or info["tag"])
        for label, test in wanted.items():
            if label not in reached and test(info):
                reached[label] = info
        if len(reached) == len(wanted):
            break
    missing = sorted(set(wanted) - set(reached))
    assert not missing, f"not reachable with Tab: {missing}"
    unseen = [k for k, f in reached.items() if not (f["outline"] or f["shadow"])]
    assert not unseen, f"no visible focus indicator on: {unseen} ({json.dumps(reached)[:500]})"
    # Everything she can do to a message is behind its one "⋯" button: one tab stop, not six.
    assert stops_in_her_message == ["options"], stops_in_her_message

    # The menu opens with Enter, the arrow keys move (and wrap), Home and End jump, Escape
    # closes it and focus comes back to the button.
    msg = message(erin, "awake and struggling")
    options = msg.get_by_role("button", name="Options for Fay's message")
    expect(options).to_have_attribute("aria-haspopup", "menu")
    options.focus()
    erin.keyboard.press("Enter")
    expect(options).to_have_attribute("aria-expanded", "true")
    item = lambda name, role="menuitem": msg.get_by_role(role, name=name)  # noqa: E731
    expect(item("Me too", "menuitemcheckbox")).to_be_focused()
    erin.keyboard.press("ArrowDown")
    expect(item("Sending a hug", "menuitemcheckbox")).to_be_focused()
    erin.keyboard.press("End")
    expect(item("Mute or block Fay…")).to_be_focused()
    erin.keyboard.press("ArrowDown")
    expect(item("Me too", "menuitemcheckbox")).to_be_focused()
    erin.keyboard.press("ArrowUp")
    expect(item("Mute or block Fay…")).to_be_focused()
    erin.keyboard.press("Home")
    expect(item("Me too", "menuitemcheckbox")).to_be_focused()
    erin.keyboard.press("Escape")
    expect(options).to_have_attribute("aria-expanded", "false")
    expect(msg.get_by_role("menu")).to_be_hidden()
    expect(options).to_be_focused()
    # A reaction with Space: the menu closes, focus stays on "⋯", the tick is there next time.
    erin.keyboard.press("Space")
    expect(item("Me too", "menuitemcheckbox")).to_be_focused()
    erin.keyboard.press("Space")
    expect(msg.locator(".reaction-chip")).to_have_text("Me too 1 (you)")
    expect(options).to_be_focused()
    expect(options).to_have_attribute("aria-expanded", "false")
    # ArrowUp on the button opens the menu on its last item; a tap elsewhere closes it.
    erin.keyboard.press("ArrowUp")
    expect(item("Mute or block Fay…")).to_be_focused()
    erin.locator("#room-title").click()
    expect(options).to_have_attribute("aria-expanded", "false")
    # A reply with Enter, then the message goes with Enter.
    options.focus()
    erin.keyboard.press("Enter")
    expect(item("Me too", "menuitemcheckbox")).to_have_attribute("aria-checked", "true")
    for _ in range(3):
        erin.keyboard.press("ArrowDown")
    expect(item("Reply")).to_be_focused()
    erin.keyboard.press("Enter")
    expect(erin.get_by_label("Your message")).to_be_focused()
    expect(options).to_have_attribute("aria-expanded", "false")
    erin.keyboard.type("Yes, I'm here too.")
    erin.keyboard.press("Enter")
    expect(message(fay, "I'm here too").locator(".msg-quote")).to_contain_text("Fay")
    screens.shot("keyboard")
