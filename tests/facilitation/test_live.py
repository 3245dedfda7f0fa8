"""The live facilitation runtime through the real consumer, actions and database, with an injected
clock: what a facilitator and the members in the room would notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.models import Role
from chat.actions import do_send_message
from chat.models import Message, Room
from moderation.facilitation.actions import (
    SessionFields,
    do_create_session,
    do_dismiss_prompt,
    do_send_prompt,
)
from moderation.facilitation.models import PromptRecord
from moderation.facilitation.runtime import FacilitationRuntime
from moderation.models import AuditEntry, Notice
from tests.conftest import drain, open_socket, receive_until
from tests.facilitation.conftest import WordSentiment

pytestmark = pytest.mark.django_db(transaction=True)


def runtime(name: str = "worker-a", **kw) -> FacilitationRuntime:
    # No MiniLM here (drift has its own tests); every step scans; messages count at once.
    kw.setdefault("embedder", None)
    kw.setdefault("sentiment", WordSentiment())
    return FacilitationRuntime(name=name, scan_seconds=0, assessment_wait_s=0, **kw)


@pytest.fixture
def facilitated(supervisor, moderator):
    """A one-hour session in the newborn room that started a second ago, run by Morgan."""
    start = timezone.now() - timedelta(seconds=1)
    return do_create_session(
        SessionFields(
            room=Room.objects.get(slug="newborn"),
            title="Sleep and night wakings",
            focus="Sleep and night wakings",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            facilitators=[moderator],
        ),
        acting_user=supervisor,
    )


async def join(user, slug: str = "newborn"):
    comm = await open_socket(user, f"/ws/rooms/{slug}/")
    assert (await comm.connect())[0]
    await receive_until(comm, "room.joined")
    return comm


def at(session, seconds: float):
    return session.starts_at + timedelta(seconds=seconds)


async def test_the_opening_prompt_goes_live_to_the_facilitator_only(
    facilitated, moderator, member, make_user
):
    other_moderator = await database_sync_to_async(make_user)(role=Role.MODERATOR)
    fac = await join(moderator)
    mum = await join(member)
    bystander = await join(other_moderator)
    recorded = await database_sync_to_async(runtime().step)(at(facilitated, 2))
    assert recorded == 1
    frames = {f["type"]: f for f in await drain(fac)}
    prompt = frames["facilitator.prompt"]["prompt"]
    assert prompt["signal"] == "opening" and prompt["session"]["room"] == "newborn"
    # The focus reads as a phrase inside the prompt's sentence (lower-case, no full stop).
    assert "sleep and night wakings" in prompt["text"] and prompt["reason"]
    assert frames["session.started"]["session"]["title"] == "Sleep and night wakings"
    for comm in (mum, bystander):
        frames = await drain(comm)
        # Everyone in the room is told the session has started...
        assert "session.started" in [f["type"] for f in frames]
        # ...but no member, and no moderator who is not facilitating, sees a prompt.
        assert all(not f["type"].startswith("facilitator.") for f in frames)
    for comm in (fac, mum, bystander):
        await comm.disconnect()


async def test_a_newcomers_first_message_prompts_a_welcome(facilitated, member, other_member):
    rt = runtime()
    await database_sync_to_async(rt.step)(at(facilitated, 2))
    room = facilitated.room
    for i, (author, text) in enumerate(
        [(other_member, "Morning all"), (member, "Hi, my little one is 8 weeks")]
    ):
        await database_sync_to_async(do_send_message)(
            author=author, room=room, client_id=f"nc-{i:06d}", body=text
        )
    # Bea has posted in this room before the session; Amara never has.
    await database_sync_to_async(Message.objects.filter(author=other_member).update)(
        created_at=at(facilitated, 10)
    )
    await database_sync_to_async(Message.objects.filter(author=member).update)(
        created_at=at(facilitated, 20)
    )
    await database_sync_to_async(rt.step)(at(facilitated, 21))
    newcomer = await database_sync_to_async(
        lambda: list(
            PromptRecord.objects.filter(signal="newcomer").values_list("target", "target_user_id")
        )
    )()
    # Both are first messages in the room, but the rate limit gives one welcome a minute: first come.
    assert newcomer == [("Bea", other_member.pk)]
    await database_sync_to_async(rt.step)(at(facilitated, 81))
    newcomer = await database_sync_to_async(
        lambda: list(
            PromptRecord.objects.filter(signal="newcomer").values_list("target", flat=True)
        )
    )()
    assert newcomer == ["Bea", "Amara"]


async def test_sending_a_prompt_posts_it_into_the_room_as_the_facilitator(
    facilitated, moderator, member
):
    await database_sync_to_async(runtime().step)(at(facilitated, 2))
    mum = await join(member)
    prompt = await database_sync_to_async(PromptRecord.objects.get)(signal="opening")
    record = await database_sync_to_async(do_send_prompt)(
        prompt.pk, "Welcome all, lovely to see you.", acting_user=moderator
    )
    seen = await receive_until(mum, "message.new")
    assert seen["message"]["author"]["display_name"] == "Morgan"
    assert seen["message"]["body"] == "Welcome all, lovely to see you."
    assert record.state == "sent" and record.edited and record.message.seq == seen["message"]["seq"]
    entry = await database_sync_to_async(AuditEntry.objects.get)(action="facilitation.prompt_sent")
    assert entry.actor_id == moderator.pk and entry.after["edited"] is True
    assert (
        entry.before["prompt"] == record.pk and "text" not in entry.before
    )  # ids only: audit rows are never erased
    await mum.disconnect()


async def test_dismissing_is_recorded_and_the_facilitators_panels_drop_it(facilitated, moderator):
    await database_sync_to_async(runtime().step)(at(facilitated, 2))
    fac = await join(moderator)
    prompt = await database_sync_to_async(PromptRecord.objects.get)(signal="opening")
    await database_sync_to_async(do_dismiss_prompt)(prompt.pk, acting_user=moderator)
    closed = await receive_until(fac, "facilitator.prompt_closed")
    assert closed["prompt"] == {"id": prompt.pk, "state": "dismissed", "acted_by": "Morgan"}
    await database_sync_to_async(prompt.refresh_from_db)()
    assert prompt.state == "dismissed" and prompt.acted_by_id == moderator.pk and prompt.acted_at
    assert (
        await database_sync_to_async(
            AuditEntry.objects.filter(action="facilitation.prompt_dismissed").count
        )()
        == 1
    )
    assert not await database_sync_to_async(Message.objects.exists)()
    await fac.disconnect()


def test_silence_prompts_respect_their_cooldown(facilitated):
    rt = runtime()
    for second in range(0, 700, 20):
        rt.step(at(facilitated, second + 1))
    silences = list(PromptRecord.objects.filter(signal="silence").values_list("t", flat=True))
    # 3 min of nothing, then the 5-min cooldown (not one every step, not one every 3 min).
    assert silences == [180.0, 480.0]


def test_a_check_in_goes_privately_to_her_never_to_the_room(facilitated, moderator, member):
    from moderation.models import Flag

    rt = runtime()
    rt.step(at(facilitated, 2))
    message = do_send_message(
        author=member, room=facilitated.room, client_id="ci-000001", body="I can't cope"
    )
    Message.objects.filter(pk=message.pk).update(created_at=at(facilitated, 30))
    Flag.objects.create(
        message=message,
        category="distress",
        priority=1,
        source="model",
        created_at=at(facilitated, 31),
    )
    rt.step(at(facilitated, 32))
    check_in = PromptRecord.objects.get(signal="check_in")
    assert check_in.target_user_id == member.pk
    before = Message.objects.count()
    do_send_prompt(check_in.pk, acting_user=moderator)
    assert Message.objects.count() == before
    notice = Notice.objects.get(user=member, kind="check_in")
    assert notice.text == check_in.text and "Morgan" in notice.title


def test_two_runtimes_never_both_run_a_session_and_a_takeover_repeats_nothing(facilitated, member):
    a, b = runtime("worker-a"), runtime("worker-b")
    a.step(at(facilitated, 2))
    b.step(at(facilitated, 2))
    assert a.running and not b.running
    assert PromptRecord.objects.count() == 1
    do_send_message(
        author=member,
        room=facilitated.room,
        client_id="tk-000001",
        body="Is anyone else awake with a teething baby?",
    )
    Message.objects.filter(author=member).update(created_at=at(facilitated, 100))
    b.step(at(facilitated, 20))
    assert not b.running
    # Worker A dies. Its lease lapses after 30 s and B takes over, rebuilding from the messages.
    b.step(at(facilitated, 240))
    assert b.running
    signals = list(PromptRecord.objects.order_by("t").values_list("signal", "t", "worker"))
    # The opening is not offered again; the unanswered message (due at t=220, 20 s ago) still is.
    assert signals == [("opening", 0.0, "worker-a"), ("unanswered", 220.0, "worker-b")]


def test_a_restarted_runtime_does_not_replay_stale_prompts(facilitated, member):
    runtime("before-restart").step(at(facilitated, 2))
    do_send_message(
        author=member,
        room=facilitated.room,
        client_id="rs-000001",
        body="Is anyone else awake with a teething baby?",
    )
    Message.objects.filter(author=member).update(created_at=at(facilitated, 100))
    # The process restarts ten minutes in, with the same name (same host and pid are not required).
    restarted = runtime("before-restart")
    restarted.step(at(facilitated, 600))
    # The unanswered prompt (t=220) and the silences were due while it was down: all stale now.
    assert list(PromptRecord.objects.values_list("signal", flat=True)) == ["opening"]
    # The rebuilt engine knows those were due (silences at 400 and 700), so the next one backs off
    # to t=1300 just as it would have without the restart.
    restarted.step(at(facilitated, 1299))
    assert list(PromptRecord.objects.values_list("signal", flat=True)) == ["opening"]
    restarted.step(at(facilitated, 1301))
    assert list(PromptRecord.objects.order_by("t").values_list("signal", "t")) == [
        ("opening", 0.0),
        ("silence", 1300.0),
    ]


def test_the_end_is_announced_once_with_a_closing_prompt(facilitated):
    rt = runtime()
    rt.step(at(facilitated, 2))
    rt.step(at(facilitated, 3601))
    rt.step(at(facilitated, 3650))
    assert PromptRecord.objects.filter(signal="closing").count() == 1
    run = facilitated.runs.get()
    assert run.started_announced_at and run.ended_announced_at
    rt.step(at(facilitated, 3601 + 180))
    assert not rt.running


def test_no_session_means_no_engine(moderator):
    rt = FacilitationRuntime(name="idle", scan_seconds=0)
    assert rt.step() == 0 and not rt.running
    assert rt._warm_thread is None  # the sentence model is never loaded
