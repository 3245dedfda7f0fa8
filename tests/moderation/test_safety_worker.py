"""The worker with Kindred's safety model, end to end through the real consumer and actions: what
a mother and a moderator notice. The sentences were written for these tests."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from chat.actions import do_send_message
from chat.models import Message, MessageState, Room
from moderation import selectors
from moderation.classifiers import ClassifierConfig, load_classifier
from moderation.models import Assessment, AuditEntry, Flag, WorkerHeartbeat
from moderation.worker import ModerationWorker
from tests.conftest import drain, receive_until
from tests.moderation.test_worker import join, moderator_feed

pytestmark = pytest.mark.django_db(transaction=True)

GOODBYE = (
    "you've all been so good to me. I've left the baby's things ready for my sister and written "
    "to my mum. this is the last time I'll post, please don't worry about me"
)


def worker() -> ModerationWorker:
    return ModerationWorker(classifier_status=load_classifier(ClassifierConfig(backend="none")))


@pytest.fixture
def on_duty(moderator):
    from moderation.actions import do_set_on_duty

    do_set_on_duty(moderator=moderator, on_duty=True)
    return moderator


async def test_a_goodbye_without_alarming_words_gets_the_card_and_an_urgent_alert(
    member, other_member, on_duty, safety_model_on
):
    w = await database_sync_to_async(worker)()
    await database_sync_to_async(w.beat)(force=True)  # the heartbeat says the safety model runs
    a, b = await join(member), await join(other_member)
    mod = await moderator_feed(on_duty)
    await a.send_json_to({"type": "message.send", "client_id": "bye-000001", "body": GOODBYE})
    seen = await receive_until(b, "message.new")
    assert seen["message"]["state"] == "visible"  # delivered at once, never held
    await database_sync_to_async(w.process_batch)()
    card = await receive_until(a, "support.card")
    assert "Samaritans" in [h["name"] for h in card["helplines"]]
    urgent = await receive_until(mod, "flag.urgent")
    assert urgent["flag"]["escalated"] is True
    reasons = urgent["flag"]["reasons"]
    model_reason = [r for r in reasons if r.get("score", "").startswith("kindred_")][0]
    assert model_reason["kind"] == "suicide_self_harm"
    assert all(f["type"] != "support.card" for f in await drain(b))
    for comm in (a, b, mod):
        await comm.disconnect()


async def test_a_goodbye_after_a_line_about_her_day_gets_the_card_and_says_which_sentence(
    member, on_duty, safety_model_on
):
    """Read whole, her day dilutes the goodbye below the risk threshold; the model also reads
    her sentences alone, and the moderator's urgent item quotes the one that decided."""
    w = await database_sync_to_async(worker)()
    await database_sync_to_async(w.beat)(force=True)
    a = await join(member)
    mod = await moderator_feed(on_duty)
    goodbye = "I've written the letters and the boys will be fine with their dad."
    body = f"Bath time was chaos again, he splashed everywhere. Did the big shop and the washing. {goodbye}"
    await a.send_json_to({"type": "message.send", "client_id": "day-000001", "body": body})
    await receive_until(a, "message.new")
    await database_sync_to_async(w.process_batch)()
    card = await receive_until(a, "support.card")
    assert card["helplines"]
    urgent = await receive_until(mod, "flag.urgent")
    reasons = urgent["flag"]["reasons"]
    decided = [r for r in reasons if r.get("score") == "kindred_sentence_risk"]
    assert decided and decided[0]["span"] == goodbye, reasons
    for comm in (a, mod):
        await comm.disconnect()


def test_healthz_and_the_queue_say_which_models_run(
    moderator, supervisor, safety_model_on, client: Client
):
    w = worker()
    w.beat(force=True)
    beat = WorkerHeartbeat.objects.get()
    assert beat.safety_model_available and beat.safety_model_status.startswith(
        settings.MODERATION_SAFETY_MODEL_DEFAULT
    )
    health = client.get("/healthz").json()
    assert (
        health["safety_model"].startswith(settings.MODERATION_SAFETY_MODEL_DEFAULT)
        and health["safety_model_available"] is True
    )
    # A volunteer gets one friendly line; a supervisor also gets which models run.
    client.force_login(moderator)
    page = client.get("/moderation/").content.decode()
    assert (
        "Automatic safety checks are running" in page
        and settings.MODERATION_SAFETY_MODEL_DEFAULT not in page
    )
    client.force_login(supervisor)
    page = client.get("/moderation/").content.decode()
    assert "Safety model:" in page and settings.MODERATION_SAFETY_MODEL_DEFAULT in page


def test_with_the_model_running_a_supportive_reply_is_not_escalated(
    member, on_duty, safety_model_on
):
    w = worker()
    w.beat(force=True)
    selectors.forget_safety_model_ready()
    room = Room.objects.get(slug="newborn")
    reply = "if you ever feel suicidal please ring Samaritans on 116 123, they're lovely and we're all here x"
    do_send_message(author=member, room=room, client_id="reply-01", body=reply)
    assert not Flag.objects.exists()  # the rules left it to the model: no card before it looked
    w.process_batch()
    assessment = Assessment.objects.get()
    assert assessment.action == "allow" and "kindred_ok" in assessment.scores
    assert not Flag.objects.exists()


def test_a_quoted_threat_held_before_delivery_is_shown_again_when_the_model_reads_risk(
    member, on_duty, safety_model_on
):
    w = worker()
    w.beat(force=True)
    selectors.forget_safety_model_ready()
    room = Room.objects.get(slug="newborn")
    text = "he grabbed my arm and told me I will kill you and the baby if you tell anyone. I'm scared to go home"
    message = do_send_message(author=member, room=room, client_id="quote-01", body=text)
    assert Message.objects.get(pk=message.pk).state == MessageState.HELD  # a threat rule, inline
    w.process_batch()
    flag = Flag.objects.get(message=message)
    assert flag.escalated and flag.category == "risk"
    assert Message.objects.get(pk=message.pk).state == MessageState.VISIBLE
    assert AuditEntry.objects.filter(action="message.released_as_risk", message=message).exists()


def test_context_the_worker_reads_is_her_own_recent_messages_in_this_room(member, other_member):
    room = Room.objects.get(slug="newborn")
    other = Room.objects.get(slug="baby")
    do_send_message(author=member, room=room, client_id="c1", body="first")
    do_send_message(author=other_member, room=room, client_id="c2", body="someone else")
    do_send_message(author=member, room=other, client_id="c3", body="another room")
    do_send_message(author=member, room=room, client_id="c4", body="second")
    last = do_send_message(author=member, room=room, client_id="c5", body="third")
    assert selectors.author_contexts([last.pk]) == {last.pk: ["first", "second"]}


def test_context_for_a_whole_batch_in_one_statement(
    member, other_member, settings, django_assert_max_num_queries
):
    """Her last three messages in the room within ten minutes, oldest first, never a deleted
    one: for every message of a batch at once, as one message at a time would read them."""
    from datetime import timedelta

    from django.utils import timezone

    settings.CHAT_RATE_LIMIT_COUNT = 1000
    room = Room.objects.get(slug="newborn")
    sent = {}
    for i, (author, body) in enumerate(
        [
            (member, "long ago"),
            (member, "one"),
            (other_member, "hers"),
            (member, "two"),
            (member, "deleted one"),
            (member, "three"),
            (member, "four"),
            (other_member, "hers again"),
            (member, "five"),
        ]
    ):
        sent[body] = do_send_message(author=author, room=room, client_id=f"ctx-{i:03d}", body=body)
    Message.objects.filter(pk=sent["long ago"].pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    Message.objects.filter(pk=sent["deleted one"].pk).update(state=MessageState.DELETED)
    ids = [sent[b].pk for b in ("one", "two", "four", "five", "hers again")]
    with django_assert_max_num_queries(2):
        found = selectors.author_contexts(ids)
    assert found == {
        sent["one"].pk: [],
        sent["two"].pk: ["one"],
        sent["four"].pk: ["one", "two", "three"],
        sent["five"].pk: ["two", "three", "four"],
        sent["hers again"].pk: ["hers"],
    }
