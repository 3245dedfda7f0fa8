"""Kindred's safety model as people meet it, on phones, against the real server with the committed
model in its embedded worker:

* a goodbye with no alarming word brings Hana the support card and the moderator an urgent item;
* Jude's long story about an unkind midwife raises nothing, and nobody is told anything;
* a supervisor starts a candidate model in shadow, sees it compared with the live one on real
  traffic, and promotes it; the audit log shows who did it and why.

The messages here were written for this test, not taken from any training or test data."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.browser.conftest import REPO
from tests.browser.test_chat import message, open_room, send
from tests.browser.test_moderator_console import open_console, queue_item

pytestmark = pytest.mark.browser

BABY = "Baby (3–12 months)"
GOODBYE = (
    "Thank you all for being there for me these past months, you've been kinder than anyone. "
    "I've sorted the paperwork and written something for each of the kids. This is my last "
    "message on here. Look after yourselves xx"
)
STORY = (
    "Had my six week check today and honestly the midwife was awful. She barely looked at me, "
    "rushed through the questions about my mood and when I said I'd been crying a lot she just said "
    "'that's normal' and ticked a box. Then she told me off for the baby's weight in front of the "
    "receptionist. I drove home feeling like a failure but my mum says I should put in a complaint, "
    "so I might. Has anyone else had that at the surgery on Hill Road?"
)
CANDIDATE = "kindred-safety-e2e-candidate"
MODELS = REPO / "moderation" / "safety_models"


def flag_count_for(live_server_proc, text: str) -> int:
    out = REPO / "test-artifacts" / "flag-count.json"
    live_server_proc.manage(
        "shell",
        "-c",
        (
            "import json; from moderation.models import Flag; "
            f"open({str(out)!r}, 'w').write(json.dumps(Flag.objects.filter(message__body={text!r}).count()))"
        ),
    )
    return json.loads(out.read_text())


def assessed(live_server_proc, text: str) -> bool:
    out = REPO / "test-artifacts" / "assessed.json"
    live_server_proc.manage(
        "shell",
        "-c",
        (
            "import json; from chat.models import Message; "
            f"open({str(out)!r}, 'w').write(json.dumps(Message.objects.filter(body={text!r}, "
            "assessment_state='done').exists()))"
        ),
    )
    return json.loads(out.read_text())


def test_a_goodbye_without_alarming_words_brings_the_card_and_an_urgent_alert(
    open_as, screens
) -> None:
    rowan = open_as("rowan")
    open_console(rowan)
    hana = open_as("hana")
    open_room(hana, BABY)
    send(hana, GOODBYE)
    expect(message(hana, GOODBYE)).to_be_visible()
    card = hana.get_by_role("dialog", name="You're not on your own")
    expect(card).to_be_visible(timeout=30_000)
    expect(card.locator(".helpline").filter(has_text="Samaritans")).to_be_visible()
    hana.wait_for_timeout(300)
    screens.shot("goodbye-support-card")
    item = queue_item(rowan, "Thank you all for being there for me")
    expect(item).to_have_count(1, timeout=20_000)
    expect(item).to_have_class(re.compile(r"\bis-urgent\b"))
    expect(item.locator(".reasons")).to_contain_text("Safety model: risk")
    screens.shot("goodbye-urgent-item")


def test_a_long_story_about_an_unkind_midwife_raises_nothing(
    open_as, live_server_proc, screens
) -> None:
    jude = open_as("jude")
    open_room(jude, BABY)
    send(jude, STORY)
    expect(message(jude, STORY)).to_be_visible()
    deadline = time.monotonic() + 30
    while not assessed(live_server_proc, STORY):
        assert time.monotonic() < deadline, "the worker never assessed the story"
        time.sleep(0.5)
    assert flag_count_for(live_server_proc, STORY) == 0
    expect(jude.get_by_role("dialog", name="You're not on your own")).to_be_hidden()
    expect(message(jude, STORY)).not_to_contain_text("waiting for a moderator")
    screens.shot("midwife-story-no-flag")


def _restore_live_model(live_server_proc) -> None:
    """Leave the server as the other tests expect it: the committed model live, no candidate."""
    live_server_proc.manage(
        "shell",
        "-c",
        (
            "from moderation.models import SafetyModelRelease; SafetyModelRelease.objects.all().delete()"
        ),
    )


@pytest.fixture
def candidate_model(live_server_proc):
    target = MODELS / CANDIDATE
    shutil.copytree(MODELS / settings.MODERATION_SAFETY_MODEL_DEFAULT, target, dirs_exist_ok=True)
    card = json.loads((target / "card.json").read_text())
    card["version"] = CANDIDATE
    (target / "card.json").write_text(json.dumps(card))
    yield CANDIDATE
    _restore_live_model(live_server_proc)
    shutil.rmtree(target, ignore_errors=True)


def test_supervisor_compares_a_shadow_model_and_promotes_it(
    open_as, candidate_model, screens
) -> None:
    sam: Page = open_as("sam")
    sam.goto(
        sam.url.split("/", 3)[0] + "//" + sam.url.split("/", 3)[2] + "/supervisor/safety-model/"
    )
    expect(
        sam.get_by_role(
            "heading",
            name=re.compile("Live model: " + re.escape(settings.MODERATION_SAFETY_MODEL_DEFAULT)),
        )
    ).to_be_visible()
    row = sam.locator(".versions li").filter(has_text=candidate_model)
    row.get_by_label("Reason").fill("Retrained with last month's moderator labels")
    row.get_by_role("button", name="Run in shadow").click()
    expect(sam.locator(".flash")).to_contain_text("is now running in shadow")
    expect(sam.get_by_role("heading", name=f"In shadow: {candidate_model}")).to_be_visible()

    # Real traffic: the worker scores it with both models.
    wren = open_as("wren")
    open_room(wren, BABY)
    send(wren, "Does anyone know if the library rhyme time is on this week?")
    # The worker re-reads the versions every 5 s and may still be working through earlier tests'
    # messages, so allow it time.
    # A message the worker assessed before it picked up the shadow version is not scored again,
    # so she writes another now and then until one is.
    deadline, next_send, n = time.monotonic() + 90, time.monotonic() + 12, 0
    while True:
        sam.reload()
        if sam.get_by_text("messages scored by both").count():
            break
        assert time.monotonic() < deadline, "no message was scored in shadow"
        if time.monotonic() > next_send:
            n += 1
            send(wren, f"Which nappy cream do you all use? ({n})")
            next_send = time.monotonic() + 12
        sam.wait_for_timeout(1000)
    expect(sam.locator("#h-compare")).to_be_visible()
    screens.shot("shadow-comparison")

    sam.get_by_label("Reason (kept in the audit log)").fill(
        "Agrees with live on real traffic; same test figures"
    )
    sam.get_by_role("button", name="Promote to live").click()
    expect(sam.locator(".flash")).to_contain_text("is now the live safety model")
    expect(sam.get_by_role("heading", name=f"Live model: {candidate_model}")).to_be_visible()
    screens.shot("promoted")
    sam.get_by_role("link", name="Audit log").first.click()
    expect(sam.locator("body")).to_contain_text("safety_model.promoted")
