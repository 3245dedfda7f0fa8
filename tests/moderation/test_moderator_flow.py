"""Issue 21, moderators: one item ends in hide *and* warn *and* mute; claims go back to the queue
when their moderator goes off duty or closes the console; volunteers see the checks' state in
one friendly line, supervisors the detail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from django.utils import timezone

from chat.actions import do_send_message
from chat.models import MessageState, Room
from moderation import actions
from moderation.models import (
    AuditEntry,
    ConsoleConnection,
    Flag,
    FlagState,
    ModeratorDuty,
    Mute,
    Notice,
    WorkerHeartbeat,
)
from moderation.policy import Decision
from tests.conftest import open_socket, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


def api(user, method: str, path: str, data=None):  # noqa: ANN001, ANN201
    client = Client()
    client.force_login(user)
    if method == "get":
        return client.get(path)
    return client.post(path, data or {}, content_type="application/json")


@pytest.fixture
def on_duty(moderator):  # noqa: ANN001, ANN201
    actions.do_set_on_duty(moderator=moderator, on_duty=True)
    return moderator


def _flag(member, client_id: str, body: str) -> Flag:  # noqa: ANN001
    room = Room.objects.get(slug="newborn")
    message = do_send_message(author=member, room=room, client_id=client_id, body=body)
    flag = Flag.objects.filter(message=message).first() or actions.do_record_decision(
        message, Decision("flag", "toxic", "high", [{"rule": "test"}]), source="rule"
    )
    return Flag.objects.get(pk=flag.pk)


@pytest.fixture
def flagged(member, on_duty):  # noqa: ANN001, ANN201
    return _flag(member, "flow-01", "Stop whining, other people have real problems")


# --- one item: hide and warn and mute ------------------------------------------------------------


def test_one_item_ends_in_hide_and_warn_and_mute_each_audited(flagged, moderator, member):
    base = f"/api/moderation/flags/{flagged.pk}"
    assert api(moderator, "post", f"{base}/claim").status_code == 200
    hidden = api(moderator, "post", f"{base}/hide", {"reason": "unkind to a member at risk"})
    assert hidden.status_code == 200
    item = hidden.json()["flag"]
    # The item is resolved by the hide, and says who may still follow up and until when.
    assert item["state"] == "resolved" and item["resolution"] == "hidden"
    assert item["resolved_by"] == "Morgan" and item["follow_up_until"]

    assert api(moderator, "post", f"{base}/warn", {"text": "Please be kind."}).status_code == 200
    muted = api(moderator, "post", f"{base}/mute", {"minutes": 60, "reason": "cool off"})
    assert muted.status_code == 200

    flagged.refresh_from_db()
    flagged.message.refresh_from_db()
    assert flagged.message.state == MessageState.HIDDEN
    assert flagged.resolution == "hidden"
    assert Notice.objects.filter(user=member, kind="moderation.warning", text="Please be kind.")
    assert Mute.objects.filter(user=member, room__slug="newborn", lifted_at__isnull=True).exists()
    audited = set(AuditEntry.objects.filter(actor=moderator).values_list("action", flat=True)) & {
        "message.hidden",
        "member.warned",
        "member.muted",
    }
    assert audited == {"message.hidden", "member.warned", "member.muted"}


def test_warn_first_then_hide_from_the_same_item(flagged, moderator, member):
    base = f"/api/moderation/flags/{flagged.pk}"
    api(moderator, "post", f"{base}/claim")
    assert api(moderator, "post", f"{base}/warn", {}).status_code == 200
    assert api(moderator, "post", f"{base}/hide", {}).status_code == 200
    flagged.refresh_from_db()
    flagged.message.refresh_from_db()
    assert flagged.resolution == "warned" and flagged.message.state == MessageState.HIDDEN
    again = api(moderator, "post", f"{base}/hide", {})
    assert again.status_code == 409 and "already hidden" in again.json()["error"]["message"]


def test_follow_ups_belong_to_the_moderator_who_resolved_and_end_after_the_window(
    flagged, moderator, make_user
):
    base = f"/api/moderation/flags/{flagged.pk}"
    api(moderator, "post", f"{base}/claim")
    api(moderator, "post", f"{base}/dismiss", {})
    other = make_user(role="moderator", display_name="Rowan")
    refused = api(other, "post", f"{base}/mute", {"minutes": 15})
    assert refused.status_code == 409
    assert not Mute.objects.exists()
    Flag.objects.filter(pk=flagged.pk).update(
        resolved_at=timezone.now() - actions.FOLLOW_UP_WINDOW - timedelta(seconds=1)
    )
    late = api(moderator, "post", f"{base}/warn", {})
    assert late.status_code == 409 and "already been resolved" in late.json()["error"]["message"]


# --- claims outlive the moderator no longer than the grace ----------------------------------------


@pytest.fixture
def grace(settings):  # noqa: ANN001, ANN201
    settings.MODERATION_CLAIM_GRACE_SECONDS = 30
    return timedelta(seconds=30)


def test_going_off_duty_releases_her_claims_after_the_grace(flagged, moderator, grace):
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    actions.do_set_on_duty(moderator=moderator, on_duty=False)
    off_at = ModeratorDuty.objects.get(moderator=moderator).ended_at

    # Within the grace she keeps it (an off-duty tap undone, a break of a few seconds).
    assert actions.do_release_claims_of_absent_moderators(now=off_at + grace / 2) == 0
    assert Flag.objects.get(pk=flagged.pk).state == FlagState.CLAIMED

    assert actions.do_release_claims_of_absent_moderators(now=off_at + grace * 2) == 1
    flag = Flag.objects.get(pk=flagged.pk)
    assert flag.state == FlagState.OPEN and flag.claimed_by is None
    entry = AuditEntry.objects.get(action="flag.claim_lapsed")
    assert entry.target_user == moderator and entry.actor is None
    assert "went off duty" in entry.reason
    # Idempotent: nothing left to release, nothing audited twice.
    assert actions.do_release_claims_of_absent_moderators(now=off_at + grace * 3) == 0
    assert AuditEntry.objects.filter(action="flag.claim_lapsed").count() == 1


def test_coming_back_on_duty_within_the_grace_keeps_her_claims(flagged, moderator, grace):
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    actions.do_set_on_duty(moderator=moderator, on_duty=False)
    actions.do_set_on_duty(moderator=moderator, on_duty=True)
    later = timezone.now() + grace * 3
    assert actions.do_release_claims_of_absent_moderators(now=later) == 0
    assert Flag.objects.get(pk=flagged.pk).claimed_by == moderator


def test_a_claim_taken_after_going_off_duty_is_kept(flagged, moderator, grace):
    actions.do_set_on_duty(moderator=moderator, on_duty=False)
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    assert actions.do_release_claims_of_absent_moderators(now=timezone.now() + grace * 3) == 0
    assert Flag.objects.get(pk=flagged.pk).state == FlagState.CLAIMED


async def test_closing_the_console_releases_her_claims_and_other_consoles_see_it(
    flagged, moderator, make_user, grace
):
    other = await database_sync_to_async(make_user)(role="moderator", display_name="Rowan")
    mine = await open_socket(moderator, "/ws/moderation/")
    assert (await mine.connect())[0]
    await receive_until(mine, "moderation.ready")
    watching = await open_socket(other, "/ws/moderation/")
    assert (await watching.connect())[0]
    await receive_until(watching, "moderation.ready")

    await database_sync_to_async(actions.do_claim_flag)(flag_id=flagged.pk, acting_user=moderator)
    claimed = await receive_until(watching, "flag.changed")
    assert claimed["flag"]["claimed_by"] == "Morgan"

    await mine.disconnect()
    closed = await database_sync_to_async(
        lambda: ConsoleConnection.objects.get(moderator=moderator).closed_at
    )()
    assert closed is not None
    release = database_sync_to_async(actions.do_release_claims_of_absent_moderators)
    # A reload within the grace: nothing happens.
    assert await release(now=closed + grace / 2) == 0
    assert await release(now=closed + grace * 2) == 1
    opened = await receive_until(watching, "flag.changed")
    assert opened["flag"]["id"] == flagged.pk
    assert opened["flag"]["state"] == "open" and opened["flag"]["claimed_by"] is None
    await watching.disconnect()


async def test_a_reconnected_console_keeps_her_claims(flagged, moderator, grace):
    first = await open_socket(moderator, "/ws/moderation/")
    await first.connect()
    await receive_until(first, "moderation.ready")
    await database_sync_to_async(actions.do_claim_flag)(flag_id=flagged.pk, acting_user=moderator)
    await first.disconnect()
    second = await open_socket(moderator, "/ws/moderation/")
    await second.connect()
    await receive_until(second, "moderation.ready")
    release = database_sync_to_async(actions.do_release_claims_of_absent_moderators)
    assert await release(now=timezone.now() + grace * 3) == 0
    state = await database_sync_to_async(lambda: Flag.objects.get(pk=flagged.pk).state)()
    assert state == FlagState.CLAIMED
    await second.disconnect()


def test_the_worker_sweeps_claims_on_its_own(flagged, moderator, settings):
    from moderation.worker import ModerationWorker

    settings.MODERATION_CLAIM_GRACE_SECONDS = 0
    actions.do_claim_flag(flag_id=flagged.pk, acting_user=moderator)
    actions.do_set_on_duty(moderator=moderator, on_duty=False)
    worker = ModerationWorker.__new__(ModerationWorker)
    worker._last_claim_sweep = 0.0
    worker._last_housekeeping = 1e18  # only the claim sweep is under test here
    worker.housekeeping()
    assert Flag.objects.get(pk=flagged.pk).state == FlagState.OPEN


# --- off-duty text and the checks' status ---------------------------------------------------------


def test_duty_answer_tells_the_console_the_grace(moderator, settings):
    settings.MODERATION_CLAIM_GRACE_SECONDS = 45
    assert api(moderator, "get", "/api/moderation/duty").json()["claim_grace_seconds"] == 45
    answer = api(moderator, "post", "/api/moderation/duty", {"on_duty": False}).json()
    assert answer["claim_grace_seconds"] == 45


@pytest.fixture
def broken_worker():  # noqa: ANN201
    WorkerHeartbeat.objects.create(
        name="w1",
        classifier_status="unavailable: no checkpoint at /srv/models/x.ckpt; run python manage.py fetch_models",
        classifier_available=False,
        safety_model_status="off",
        safety_model_available=False,
        started_at=timezone.now(),
        last_beat=timezone.now(),
    )


def test_volunteers_get_one_friendly_line_without_paths_or_commands(moderator, broken_worker):
    data = api(moderator, "get", "/api/moderation/queue").json()
    assert data["checks_ok"] is False
    assert data["checks_line"].startswith("⚠ Only the safety rules")
    assert "classifier" not in data and "safety_model" not in data
    page = api(moderator, "get", "/moderation/").content.decode()
    assert "Only the safety rules are checking messages" in page
    assert "/srv/models" not in page and "manage.py" not in page and "fetch_models" not in page
    assert "/srv/models" not in str(data)


def test_supervisors_get_the_detail(supervisor, broken_worker):
    data = api(supervisor, "get", "/api/moderation/queue").json()
    assert "fetch_models" in data["classifier"]
    page = api(supervisor, "get", "/moderation/").content.decode()
    assert "Model details (supervisors)" in page and "fetch_models" in page


def test_a_running_worker_reads_as_running(moderator):
    WorkerHeartbeat.objects.create(
        name="w1",
        classifier_status="detoxify original (fp32)",
        classifier_available=True,
        safety_model_status=settings.MODERATION_SAFETY_MODEL_DEFAULT,
        safety_model_available=True,
        started_at=timezone.now(),
        last_beat=timezone.now(),
    )
    data = api(moderator, "get", "/api/moderation/queue").json()
    assert data["checks_ok"] is True
    assert data["checks_line"] == "✓ Automatic safety checks are running."


async def test_the_open_consoles_time_the_release_without_the_worker(
    flagged, moderator, make_user, settings
):
    """Going off duty: every open console times the grace, so the item reopens for the others
    when it ends, even while the worker is busy (its sweep is the backstop)."""
    settings.MODERATION_CLAIM_GRACE_SECONDS = 0.3
    other = await database_sync_to_async(make_user)(role="moderator", display_name="Rowan")
    watching = await open_socket(other, "/ws/moderation/")
    assert (await watching.connect())[0]
    await receive_until(watching, "moderation.ready")
    await database_sync_to_async(actions.do_set_on_duty)(moderator=moderator, on_duty=True)
    await database_sync_to_async(actions.do_claim_flag)(flag_id=flagged.pk, acting_user=moderator)
    assert (await receive_until(watching, "flag.changed"))["flag"]["claimed_by"] == "Morgan"
    await database_sync_to_async(actions.do_set_on_duty)(moderator=moderator, on_duty=False)
    reopened = await receive_until(watching, "flag.changed", timeout=5)
    assert reopened["flag"]["state"] == "open" and reopened["flag"]["claimed_by"] is None
    lapsed = await database_sync_to_async(
        AuditEntry.objects.filter(action="flag.claim_lapsed").count
    )()
    assert lapsed == 1
    await watching.disconnect()
