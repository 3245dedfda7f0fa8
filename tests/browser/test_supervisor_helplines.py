"""A supervisor adds a helpline, with its kind and stages, through the real form; a member finds it
on the help page; the supervisor edits it (issue #17: the form used to answer 400 on every save)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NAME = "Night Feeds Listening Line (e2e)"


def test_supervisor_saves_a_helpline_and_a_member_finds_it(open_as, screens) -> None:  # noqa: ANN001
    sam = open_as("sam", viewport={"width": 1280, "height": 900})
    base = sam.url.split("/rooms/")[0]
    sam.goto(f"{base}/supervisor/helplines/new/")
    expect(sam.get_by_role("heading", name="New helpline")).to_be_visible()
    sam.get_by_label("Name", exact=True).fill(NAME)
    sam.get_by_label("Kind", exact=True).select_option(label="Local or NHS service")
    sam.get_by_label("Contact", exact=True).fill("0800 000 1234")
    sam.get_by_label("When to use it").fill("Someone to talk to during the night feeds")
    sam.get_by_label("Hours", exact=True).fill("Every night 10pm–6am")
    sam.get_by_label("Newborn (0–3 months)").check()
    sam.get_by_label("Baby (3–12 months)").check()
    sam.get_by_label("Reason").fill("New service (e2e)")
    screens.shot("helpline-form")
    sam.get_by_role("button", name="Save").click()
    expect(sam.locator("main")).to_contain_text(f"{NAME} is saved.")
    expect(sam.locator("main")).to_contain_text(NAME)

    amara = open_as("amara")
    amara.goto(f"{base}/help/")
    expect(amara.locator("main")).to_contain_text(NAME)
    expect(amara.locator("main")).to_contain_text("0800 000 1234")
    screens.shot("help-page")

    # Edit: the stages change and it is taken off the members' pages again (both audited).
    sam.get_by_role("link", name=NAME).click()
    expect(sam.get_by_label("Newborn (0–3 months)")).to_be_checked()
    expect(sam.get_by_label("Kind", exact=True)).to_have_value("service")
    sam.get_by_label("Newborn (0–3 months)").uncheck()
    sam.get_by_label("Shown to members").uncheck()
    sam.get_by_label("Reason").fill("Trial over (e2e)")
    sam.get_by_role("button", name="Save").click()
    expect(sam.locator("main")).to_contain_text(f"{NAME} is saved.")
    amara.reload()
    expect(amara.locator("main")).not_to_contain_text(NAME)
    sam.goto(f"{base}/supervisor/audit/")
    expect(sam.locator("main")).to_contain_text(re.compile(r"helpline", re.I))
