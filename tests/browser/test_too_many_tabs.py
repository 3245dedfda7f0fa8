"""A member with Kindred open in more tabs than the server keeps (CHAT_MAX_SOCKETS_PER_USER, 5):
her oldest tab says so plainly instead of silently fighting the others for the connection, and
she can bring it back with one tap."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat import open_room

pytestmark = pytest.mark.browser


def test_the_oldest_of_six_tabs_explains_itself_and_reopens_on_a_tap(open_as, screens) -> None:  # noqa: ANN001
    first = open_as("amara")
    open_room(first)
    room_url = first.url
    tabs = []
    for _ in range(5):
        tab = first.context.new_page()
        tab.goto(room_url)
        expect(tab.locator("#conn-state")).to_have_attribute("data-state", "connected")
        tabs.append(tab)
    state = first.locator("#conn-state")
    expect(state).to_have_attribute("data-state", "stopped")
    expect(state).to_contain_text("open in too many other tabs or devices")
    first.wait_for_timeout(300)
    screens.shot("too-many-tabs")
    # It stays stopped: no automatic reconnect that would close another tab in turn.
    first.wait_for_timeout(3000)
    expect(state).to_have_attribute("data-state", "stopped")
    expect(tabs[0].locator("#conn-state")).to_have_attribute("data-state", "connected")
    # Her choice: this tab again, and now the oldest other one steps back.
    first.get_by_role("link", name="Open it here again").click()
    expect(first.locator("#conn-state")).to_have_attribute("data-state", "connected")
    expect(tabs[0].locator("#conn-state")).to_have_attribute("data-state", "stopped")
    for tab in tabs:
        tab.close()
