"""The moderation pipeline end to end through the real consumer, actions and worker: what a
mother and a moderator would notice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from chat.actions import do_send_message
from chat.models import AssessmentState, Message, Room
from moderation.classifiers import ClassifierConfig, ClassifierStatus, load_classifier
from moderation.models import Assessment, Flag
from moderation.worker import ModerationWorker
from tests.conftest import drain, open_socket, receive_until

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]


def rules_only_worker(**kw) -> ModerationWorker:  # noqa: ANN003
    return ModerationWorker(
        classifier_status=load_classifier(ClassifierConfig(backend="none")), **kw
    )


async def join(user, slug="newborn"):  # noqa: ANN001, ANN201
    comm = await open_socket(user, f"/ws/rooms/{slug}/")
    assert (await comm.connect())[0]
    await receive_until(comm, "room.joined")
    return comm


async def moderator_feed(user):  # noqa: ANN001, ANN201
    comm = await open_socket(user, "/ws/moderation/")
    assert (await comm.connect())[0]
    assert (await comm.receive_json_from())["type"] == "moderation.ready"
    return comm


@pytest.fixture
def on_duty(moderator):  # noqa: ANN001, ANN201
    from moderation.actions import do_set_on_duty

    do_set_on_duty(moderator=moderator, on_duty=True)
    return moderator


async def test_abuse_is_delivered_at_once_then_reaches_the_moderator_queue(
    member, other_member, on_duty, client
):
    moderator = on_duty
    a = await join(member)
    b = await join(other_member)
    mod = await moderator_feed(moderator)
    await a.send_json_to(
        {
            "type": "message.send",
            "client_id": "abuse-0001",
            "body": "You're a pathetic excuse for a mother",
        }
    )
    delivered = await receive_until(b, "message.new")
    assert delivered["message"]["state"] == "visible"
    message = await database_sync_to_async(Message.objects.get)(pk=delivered["message"]["id"])
    # Delivery did not wait for the model: the message was pending when Bea saw it.
    assert message.assessment_state in (AssessmentState.PENDING, AssessmentState.DONE)
    await database_sync_to_async(rules_only_worker().process_batch)()
    alert = await receive_until(mod, "flag.new")
    assert alert["flag"]["category"] == "toxic"
    assert alert["flag"]["message"]["body"] == "You're a pathetic excuse for a mother"
    await database_sync_to_async(client.force_login)(moderator)
    queue = (await database_sync_to_async(client.get)("/api/moderation/queue")).json()
    assert [item["message"]["id"] for item in queue["items"]] == [message.pk]
    for comm in (a, b, mod):
        await comm.disconnect()


async def test_risk_gets_the_sender_a_support_card_and_moderators_an_urgent_alert(
    member, other_member, moderator
):
    a = await join(member)
    b = await join(other_member)
    mod = await moderator_feed(moderator)
    await a.send_json_to(
        {
            "type": "message.send",
            "client_id": "risk-00001",
            "body": "honestly I don't want to be alive anymore",
        }
    )
    card = await receive_until(a, "support.card")
    assert card["title"]
    names = [h["name"] for h in card["helplines"]]
    assert "Samaritans" in names and "Emergency services" in names
    urgent = await receive_until(mod, "flag.urgent")
    assert urgent["flag"]["escalated"] is True and urgent["flag"]["priority"] == "urgent"
    # Not punished: everyone else still sees it, and only the sender got the card.
    seen = await receive_until(b, "message.new")
    assert seen["message"]["state"] == "visible" and seen["message"]["body"]
    assert all(f["type"] != "support.card" for f in await drain(b))
    for comm in (a, b, mod):
        await comm.disconnect()


async def test_with_nobody_on_duty_abuse_is_held_before_anyone_sees_it(
    member, other_member, moderator
):
    a = await join(member)
    b = await join(other_member)
    m = await join(moderator)
    await a.send_json_to(
        {"type": "message.send", "client_id": "held-00001", "body": "Shut up you stupid cow"}
    )
    ack = await receive_until(a, "message.ack")
    assert ack["message"]["state"] == "held" and ack["message"]["body"]  # the author sees her own
    hidden = await receive_until(b, "message.new")
    assert hidden["message"]["state"] == "held"
    assert hidden["message"]["body"] == "" and hidden["message"]["author"] is None
    seen_by_mod = await receive_until(m, "message.new")
    assert seen_by_mod["message"]["body"] == "Shut up you stupid cow"
    for comm in (a, b, m):
        await comm.disconnect()


def test_self_directed_distress_raises_no_flag(member, on_duty):
    room = Room.objects.get(slug="newborn")
    for i, text in enumerate(
        [
            "I feel like a failure as a mum",
            "I'm such a useless mum, I hate myself today",
            "I could murder a cup of tea",
        ]
    ):
        do_send_message(author=member, room=room, client_id=f"distress-{i:03d}", body=text)
    rules_only_worker().process_batch()
    assert Message.objects.filter(assessment_state=AssessmentState.DONE).count() == 3
    assert not Flag.objects.exists()
    assert Assessment.objects.filter(category="distress").count() == 2


def test_worker_uses_the_real_detoxify_loading_path(member, tiny_detoxify, settings):
    settings.MODERATION_CLASSIFIER = "detoxify"
    settings.DETOXIFY_CHECKPOINT = str(tiny_detoxify.checkpoint)
    settings.MODELS_DIR = str(tiny_detoxify.root)
    status = load_classifier(ClassifierConfig.from_settings(settings))
    assert status.available, status.status
    room = Room.objects.get(slug="newborn")
    do_send_message(author=member, room=room, client_id="detox-0001", body="Anyone else awake?")
    worker = ModerationWorker(classifier_status=status)
    assert worker.process_batch() == 1
    assessment = Assessment.objects.get()
    assert assessment.classifier.startswith("detoxify")
    assert set(assessment.scores) >= {"toxicity", "severe_toxicity", "insult", "threat"}


def test_unavailable_classifier_is_visible_and_chat_still_works(member, client):
    room = Room.objects.get(slug="newborn")
    worker = ModerationWorker(
        classifier_status=ClassifierStatus(None, "unavailable: model directory missing")
    )
    do_send_message(
        author=member,
        room=room,
        client_id="unav-0001",
        body="You're an idiot and a terrible mother",
    )
    worker.process_batch()
    health = client.get("/healthz").json()
    assert health["classifier_available"] is False
    assert "unavailable" in health["classifier"]
    flag = Flag.objects.get()
    assert flag.category == "toxic"
    assert any(r.get("rule") == "classifier_unavailable" for r in Assessment.objects.get().reasons)


def test_a_second_worker_never_assesses_a_message_twice(member, settings):
    settings.CHAT_RATE_LIMIT_COUNT = 1000
    room = Room.objects.get(slug="newborn")
    for i in range(20):
        do_send_message(author=member, room=room, client_id=f"twice-{i:04d}", body=f"message {i}")
    first, second = rules_only_worker(batch_size=8), rules_only_worker(batch_size=8)
    claimed = first.claim_batch()
    assert len(claimed) == 8
    # The second worker skips what the first has leased, even though the first has not finished.
    second_claim = second.claim_batch()
    assert not {row[0] for row in claimed} & {row[0] for row in second_claim}
    # A worker that dies after claiming leaves the rows pending; after the lease lapses they are
    # claimed again and assessed once.
    Message.objects.filter(pk__in=[row[0] for row in claimed]).update(assessment_lease_until=None)
    third = rules_only_worker(batch_size=50)
    while third.process_batch():
        pass
    assert Assessment.objects.count() == 20 - len(second_claim)
    assert Message.objects.filter(assessment_state=AssessmentState.PENDING).count() == len(
        second_claim
    )


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.mark.slow
def test_killing_the_worker_mid_burst_leaves_every_message_assessed_exactly_once(
    member, settings, tiny_detoxify
):
    settings.CHAT_RATE_LIMIT_COUNT = 10_000
    room = Room.objects.get(slug="newborn")
    total = 300
    for i in range(total):
        do_send_message(
            author=member,
            room=room,
            client_id=f"burst-{i:05d}",
            body=f"burst message number {i} from a long night",
        )
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "MODERATION_CLASSIFIER": "detoxify",
        "DETOXIFY_CHECKPOINT": str(tiny_detoxify.checkpoint),
        "MODELS_DIR": str(tiny_detoxify.root),
        "MODERATION_BATCH_SIZE": "8",
        "MODERATION_LEASE_SECONDS": "2",
        "HF_HUB_OFFLINE": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "moderation_worker"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while Assessment.objects.count() < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)  # no chance to finish its batch
    worker.wait(timeout=30)
    killed_at = Assessment.objects.count()
    assert 0 < killed_at < total, "the worker should have died mid-burst"

    restarted = subprocess.run(
        [sys.executable, "manage.py", "moderation_worker", "--once"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    assert Message.objects.filter(assessment_state=AssessmentState.PENDING).count() == 0
    assert Assessment.objects.count() == total
    assert Assessment.objects.values("message").distinct().count() == total
    # "kindred-safety-vN + detoxify:…": both models read every message, none fell back to rules.
    assert all(
        "detoxify" in a.classifier and "rules-only" not in a.classifier
        for a in Assessment.objects.all()
    )


async def test_severe_model_score_hides_a_delivered_message_from_every_client(
    member, other_member, on_duty
):
    """A hold that needs the model happens right after delivery: every open client hides it."""
    from moderation.classifiers import Scores

    class Severe:
        name = "test-severe"

        def score(self, texts):  # noqa: ANN001, ANN202
            return [
                Scores(
                    toxicity=0.99,
                    severe_toxicity=0.95,
                    obscene=0.5,
                    threat=0.1,
                    insult=0.9,
                    identity_attack=0.1,
                )
                for _ in texts
            ]

    a = await join(member)
    b = await join(other_member)
    await a.send_json_to(
        {"type": "message.send", "client_id": "severe-001", "body": "some vile words aimed at you"}
    )
    shown = await receive_until(b, "message.new")
    assert shown["message"]["state"] == "visible" and shown["message"]["body"]
    worker = ModerationWorker(classifier_status=ClassifierStatus(Severe(), "test-severe"))
    await database_sync_to_async(worker.process_batch)()
    update = await receive_until(b, "message.updated")
    assert update["message"]["seq"] == shown["message"]["seq"]
    assert update["message"]["state"] == "held" and update["message"]["body"] == ""
    flag = await database_sync_to_async(Flag.objects.get)()
    assert flag.category == "toxic" and "model" in flag.sources
    await a.disconnect()
    await b.disconnect()


async def test_danger_at_home_gets_a_discreet_support_card(member):
    a = await join(member)
    await a.send_json_to(
        {
            "type": "message.send",
            "client_id": "home-00001",
            "body": "he locked me in the bathroom and took my phone so I couldn't call anyone",
        }
    )
    card = await receive_until(a, "support.card")
    assert card["discreet"] is True
    assert "abuse" not in (card["title"] + card["text"]).lower()
    assert "National Domestic Abuse Helpline (Refuge)" in [h["name"] for h in card["helplines"]]
    await a.disconnect()


class _SlowClassifier:
    """Scores everything as harmless, taking `per_message` seconds per message (a slow CPU)."""

    name = "slow-test-classifier"

    def __init__(self, per_message: float) -> None:
        self.per_message = per_message
        self.batches: list[int] = []

    def score(self, texts):  # noqa: ANN001, ANN201
        from moderation.classifiers import Scores

        self.batches.append(len(texts))
        time.sleep(self.per_message * len(texts))
        return [Scores(0.01, 0.0, 0.0, 0.0, 0.0, 0.0) for _ in texts]


def test_batches_are_sized_so_a_flag_is_not_kept_waiting_behind_a_full_batch(member, settings):
    """On a slow CPU a full batch of 32 takes seconds, and every message in it waits for all of
    it. The worker sizes batches from its measured pace to MODERATION_BATCH_SECONDS."""
    settings.CHAT_RATE_LIMIT_COUNT = 1000
    settings.MODERATION_BATCH_SECONDS = 0.2
    settings.MODERATION_SEMANTIC = False
    room = Room.objects.get(slug="newborn")
    for i in range(30):
        do_send_message(
            author=member, room=room, client_id=f"paced-{i:04d}", body=f"a long night {i}"
        )
    slow = _SlowClassifier(per_message=0.04)
    worker = ModerationWorker(classifier_status=ClassifierStatus(slow, "ok"), batch_size=10)
    while worker.process_batch():
        pass
    # The first batch is full (nothing measured yet); then at most 0.2 s / 0.04 s = 5 per batch.
    assert slow.batches[0] == 10
    assert len(slow.batches) >= 5 and all(1 <= n <= 5 for n in slow.batches[1:])
    assert Assessment.objects.count() == 30  # nothing skipped


def test_with_no_budget_batches_stay_full(member, settings):
    settings.MODERATION_BATCH_SECONDS = 0
    worker = rules_only_worker(batch_size=16)
    worker._measured(10, 5.0)
    assert worker.next_batch_size() == 16


def test_the_embedded_worker_thread_runs_at_a_lower_cpu_priority() -> None:
    import threading

    from moderation.worker import lower_priority

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread nice values are a Linux feature")
    seen: dict[str, int] = {}

    def run() -> None:
        lower_priority(5)
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        inner = threading.Thread(
            target=lambda: seen.update(
                child=os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            )
        )
        inner.start()
        inner.join()

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert seen["nice"] == min(19, base + 5)
    assert seen["child"] == seen["nice"]  # the model's own threads inherit it
    assert (
        os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
    )  # the chat's thread is untouched


def _claimed(worker: ModerationWorker, *, with_bodies: bool = False):  # noqa: ANN202
    from moderation.actions import ModelStageResult

    return [
        ModelStageResult(
            message_id=pk, revision=revision, scores=None, body=body if with_bodies else None
        )
        for pk, body, revision in worker.claim_batch()
    ]


def test_a_message_edited_after_the_claim_is_assessed_on_its_new_text(member, settings):
    from chat.actions import check_edit_message
    from moderation.actions import do_record_assessments

    settings.CHAT_RATE_LIMIT_COUNT = 1000
    room = Room.objects.get(slug="newborn")
    sent = [
        do_send_message(author=member, room=room, client_id=f"edit-{i:04d}", body=f"message {i}")
        for i in range(3)
    ]
    worker = rules_only_worker()
    claimed = _claimed(worker)
    assert len(claimed) == 3
    check_edit_message(user=member, room=room, seq=sent[1].seq, body="You're a pathetic mother")
    assert do_record_assessments(claimed, classifier="rules", worker=worker.name) == 2
    edited = Message.objects.get(pk=sent[1].pk)
    assert edited.assessment_state == AssessmentState.PENDING
    assert not Assessment.objects.filter(message=edited).exists()
    assert worker.process_batch() == 1
    assessment = Assessment.objects.get(message=edited)
    # Judged on what she wrote last (held: no moderator is on duty to see a flag).
    assert (assessment.revision, assessment.category) == (edited.revision, "toxic")
    assert assessment.action in ("flag", "hold")
    assert Assessment.objects.count() == 3


def test_one_message_that_cannot_be_recorded_does_not_hold_back_its_batch(
    member, settings, monkeypatch
):
    from moderation import actions, rules

    settings.CHAT_RATE_LIMIT_COUNT = 1000
    room = Room.objects.get(slug="newborn")
    for i, body in enumerate(["first message", "the broken one", "You're a pathetic mother"]):
        do_send_message(author=member, room=room, client_id=f"bad-{i:04d}", body=body)
    real = rules.rule_signals

    def failing(text):  # noqa: ANN001, ANN202
        if text == "the broken one":
            raise RuntimeError("a bug in one message's assessment")
        return real(text)

    monkeypatch.setattr(actions.rules, "rule_signals", failing)
    worker = rules_only_worker()
    assert worker.process_batch() == 2
    assert Message.objects.get(body="the broken one").assessment_state == AssessmentState.PENDING
    # Nothing of the batch was lost with the failed attempt: the abusive one reached the queue.
    assert Flag.objects.filter(message__body="You're a pathetic mother").exists()


def test_a_batch_is_recorded_in_a_handful_of_statements(
    member, other_member, settings, django_assert_max_num_queries
):
    from moderation.actions import do_record_assessments

    settings.CHAT_RATE_LIMIT_COUNT = 1000
    room = Room.objects.get(slug="newborn")
    for i in range(12):
        author = member if i % 2 else other_member
        do_send_message(author=author, room=room, client_id=f"few-{i:04d}", body=f"hello {i}")
    worker = rules_only_worker()
    claimed = _claimed(worker, with_bodies=True)  # as the worker hands them over
    assert len(claimed) == 12
    # One message at a time took about eight statements each (about 100 here).
    with django_assert_max_num_queries(16):
        assert do_record_assessments(claimed, classifier="rules", worker=worker.name) == 12
    assert Assessment.objects.count() == 12


@pytest.mark.django_db
def test_the_worker_scores_with_torch_threads_with_detoxify_off_too(settings):
    """TORCH_THREADS holds whichever models run: with Detoxify off (as `make run` ships) the
    safety model's encodes used to take one thread per core, whose spinning took the CPU the
    chat needed."""
    import torch

    before = torch.get_num_threads()
    settings.TORCH_THREADS = 1
    settings.MODERATION_SAFETY_MODEL = "off"
    try:
        torch.set_num_threads(2)
        rules_only_worker().warm_up()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
