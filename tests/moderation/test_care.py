"""The care loop around a message that shows risk (moderation/care.py, chat reactions, the
support card's words)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from chat.actions import check_send_message, check_toggle_reaction
from chat.errors import ChatError
from chat.models import Message, MessageState, Reaction
from chat.selectors import redact_for, serialize_message
from moderation import actions
from moderation.models import AuditEntry, Flag, Priority
from moderation.policy import Decision

RISK = "I don't want to be here anymore, I keep thinking about ending it"
UNKIND = "Stop whining, other people have real problems"
_ids = itertools.count(1)


def send(author, room, body, **kw):  # noqa: ANN001, ANN201
    message, _ = check_send_message(
        author=author, room=room, client_id=f"care-{next(_ids):06d}", body=body, **kw
    )
    return Message.objects.get(pk=message.pk)


@pytest.fixture
def on_duty(moderator):  # noqa: ANN001, ANN201
    actions.do_set_on_duty(moderator=moderator, on_duty=True)
    return moderator


@pytest.mark.django_db
def test_an_unkind_reply_to_a_risk_message_is_urgent_linked_and_hidden_from_her(
    member, other_member, newborn_room, on_duty
):
    risk = send(member, newborn_room, RISK)
    risk_flag = Flag.objects.get(message=risk)
    assert risk_flag.escalated
    reply = send(other_member, newborn_room, UNKIND, reply_to=risk.seq)
    flag = Flag.objects.get(message=reply)
    assert flag.priority == Priority.URGENT
    assert {"rule": "reply_to_risk", "risk_flag_id": risk_flag.pk}.items() <= next(
        r for r in flag.reasons if r.get("rule") == "reply_to_risk"
    ).items()
    assert reply.state == MessageState.HELD
    # What her screen gets: no words, no author.
    hers = redact_for(serialize_message(reply), viewer_id=member.pk, viewer_is_moderator=False)
    assert hers["body"] == "" and hers["author"] is None
    assert AuditEntry.objects.filter(action="message.held_near_risk", message=reply).exists()


@pytest.mark.django_db
def test_an_unkind_message_minutes_after_a_risk_message_counts_but_not_later_or_elsewhere(
    member, other_member, newborn_room, on_duty
):
    from chat.models import Room

    risk = send(member, newborn_room, RISK)
    soon = send(other_member, newborn_room, UNKIND)
    assert Flag.objects.get(message=soon).priority == Priority.URGENT
    other_room = Room.objects.exclude(pk=newborn_room.pk).filter(kind="topic").first()
    elsewhere = send(other_member, other_room, UNKIND)
    assert Flag.objects.get(message=elsewhere).priority == Priority.NORMAL
    Message.objects.filter(pk=risk.pk).update(created_at=risk.created_at - timedelta(minutes=30))
    later = send(other_member, newborn_room, UNKIND + " honestly")
    later_flag = Flag.objects.get(message=later)
    assert later_flag.priority == Priority.NORMAL and later.state == MessageState.VISIBLE


@pytest.mark.django_db
def test_an_unkind_reply_flagged_before_the_risk_was_escalated_is_linked_then(
    member, other_member, newborn_room, on_duty, settings
):
    plain = send(member, newborn_room, "Today was a long one")
    reply = send(other_member, newborn_room, UNKIND, reply_to=plain.seq)
    assert Flag.objects.get(message=reply).priority == Priority.NORMAL
    # The model stage escalates her message after the reply's flag exists.
    actions.do_record_decision(plain, Decision("escalate", "risk", "urgent", []), source="model")
    flag = Flag.objects.get(message=reply)
    reply.refresh_from_db()
    assert flag.priority == Priority.URGENT and reply.state == MessageState.HELD


@pytest.mark.django_db
def test_a_risk_message_takes_supportive_reactions_only_and_nobody_reacts_to_her_own(
    member, other_member, newborn_room, on_duty
):
    risk = send(member, newborn_room, RISK)
    assert serialize_message(risk)["supportive_only"] is True
    with pytest.raises(ChatError) as refused:
        check_toggle_reaction(user=other_member, room=newborn_room, seq=risk.seq, kind="me_too")
    assert refused.value.code == "forbidden"
    check_toggle_reaction(user=other_member, room=newborn_room, seq=risk.seq, kind="hug")
    assert list(Reaction.objects.values_list("kind", flat=True)) == ["hug"]
    with pytest.raises(ChatError) as own:
        check_toggle_reaction(user=member, room=newborn_room, seq=risk.seq, kind="hug")
    assert own.value.code == "forbidden"
    ordinary = send(member, newborn_room, "Anyone else up with a teething baby?")
    check_toggle_reaction(user=other_member, room=newborn_room, seq=ordinary.seq, kind="me_too")
    assert serialize_message(ordinary)["supportive_only"] is False


@pytest.mark.django_db
def test_a_me_too_given_before_the_escalation_is_taken_off(
    member, other_member, newborn_room, on_duty
):
    message = send(member, newborn_room, "Today was a long one")
    check_toggle_reaction(user=other_member, room=newborn_room, seq=message.seq, kind="me_too")
    actions.do_record_decision(message, Decision("escalate", "risk", "urgent", []), source="model")
    assert not Reaction.objects.filter(message=message).exists()
    message.refresh_from_db()
    assert message.shows_risk


@pytest.mark.django_db
def test_the_support_card_says_what_will_happen(member, newborn_room, moderator):
    message = send(member, newborn_room, "hello")
    card = actions._support_card(message)
    assert "No moderator is on duty" in card["text"] and card["lead_with_helplines"] is True
    assert "let know" not in card["text"] and "day and night" not in card["text"]
    actions.do_set_on_duty(moderator=moderator, on_duty=True)
    card = actions._support_card(message)
    assert "A moderator will message you privately here" in card["text"]
    assert card["lead_with_helplines"] is False and card["moderator_on_duty"] is True


# --- When nobody is there ---------------------------------------------------------------------


def _present(user, room):  # noqa: ANN001, ANN202
    from django.utils import timezone

    from chat.models import Presence

    now = timezone.now()
    return Presence.objects.create(
        channel_name=f"socket.{user.pk}.{room.pk}",
        user=user,
        room=room,
        connected_at=now,
        last_seen=now,
    )


def _alone_notices(user):  # noqa: ANN001, ANN202
    from moderation.models import Notice

    return list(Notice.objects.filter(user=user, kind="room.alone"))


@pytest.mark.django_db
def test_posting_alone_with_nobody_on_duty_gets_a_private_honest_answer_once(
    member, other_member, newborn_room, django_capture_on_commit_callbacks
):
    from chat.models import Room

    sleep = Room.objects.filter(kind="topic").first()
    _present(member, newborn_room)  # only she is here
    _present(other_member, sleep)
    with django_capture_on_commit_callbacks(execute=False) as pushed:
        send(member, newborn_room, "Is anyone there?")
    [notice] = _alone_notices(member)
    assert "Nobody else is in Newborn (0–3 months) right now" in notice.text
    assert "Your message is saved, and others will see it" in notice.text
    assert "Samaritans" in notice.text
    assert f"People are in these rooms now: {sleep.name} (1 here)" in notice.text
    assert "Emergency services" not in notice.text  # 999 has its own sentence
    assert len(pushed) == 2  # her message to the room, the answer to her alone
    send(member, newborn_room, "Hello?")
    assert len(_alone_notices(member)) == 1  # it never nags


@pytest.mark.django_db
def test_no_answer_when_someone_is_here_or_a_moderator_is_on_duty(
    member, other_member, newborn_room, moderator
):
    _present(other_member, newborn_room)
    send(member, newborn_room, "Morning all")
    assert _alone_notices(member) == []
    newborn_room.presences.all().delete()
    actions.do_set_on_duty(moderator=moderator, on_duty=True)
    send(member, newborn_room, "Anyone?")
    assert _alone_notices(member) == []


@pytest.mark.django_db
def test_the_worker_answers_a_message_nobody_replied_to_for_a_few_minutes(
    member, other_member, newborn_room
):
    from django.core.cache import cache
    from django.utils import timezone

    from moderation.care import do_answer_unanswered

    _present(other_member, newborn_room)  # someone was here, but nobody answered
    waiting = send(member, newborn_room, "I feel like I'm drowning")
    answered = send(other_member, newborn_room, "Evening!")
    replied_to = send(other_member, newborn_room, "Anyone up?")
    send(member, newborn_room, "Me, hi")
    earlier = timezone.now() - timedelta(minutes=4)
    Message.objects.filter(pk__in=[waiting.pk, answered.pk, replied_to.pk]).update(
        created_at=earlier
    )
    Message.objects.exclude(pk__in=[waiting.pk, answered.pk, replied_to.pk]).update(
        created_at=timezone.now() - timedelta(minutes=1)
    )
    cache.clear()
    assert do_answer_unanswered() == 0  # each got a reply after it
    Message.objects.filter(room=newborn_room, seq__gt=waiting.seq).delete()
    assert do_answer_unanswered() == 1
    assert len(_alone_notices(member)) == 1


@pytest.mark.django_db
def test_the_room_list_says_truthfully_whether_a_moderator_is_on_duty(member, moderator):
    from django.test import Client

    client = Client()
    client.force_login(member, backend="accounts.backends.KindredBackend")
    page = client.get("/rooms/").content.decode()
    assert "No moderator is on duty right now" in page and "No moderator online" not in page
    assert "No moderator on duty" in page
    actions.do_set_on_duty(moderator=moderator, on_duty=True)  # on the console, in no room
    page = client.get("/rooms/").content.decode()
    assert "A moderator is on duty now" in page and "Moderator on duty" in page
    assert "No moderator on duty" not in page


@pytest.mark.django_db
def test_under_a_risk_message_the_model_does_not_overrule_the_rules_unkind_hit(
    member, other_member, newborn_room, on_duty
):
    """When the model follows, the rules leave an uncertain unkind hit to it; under a risk message
    a model that would allow it (as v8 does with "Stop whining…" on a CPU without VNNI) does not
    get the last word, and elsewhere it still does."""
    from chat.models import Room
    from moderation import rules, selectors
    from moderation.actions import _unkind_near_risk
    from moderation.policy import MemberState

    allowed = Decision("allow", "none", "low", [])
    send(member, newborn_room, RISK)
    soon = send(other_member, newborn_room, UNKIND)
    signals = rules.rule_signals(UNKIND)
    assert signals.insensitive or signals.abuse
    near = _unkind_near_risk(
        soon, signals, allowed, MemberState(), selectors.thresholds_for(newborn_room)
    )
    assert near.action in ("flag", "hold") and near.category in ("insensitive", "toxic")
    other_room = Room.objects.exclude(pk=newborn_room.pk).filter(kind="topic").first()
    elsewhere = send(other_member, other_room, UNKIND)
    assert (
        _unkind_near_risk(
            elsewhere, signals, allowed, MemberState(), selectors.thresholds_for(other_room)
        )
        is allowed
    )
    kind = send(other_member, newborn_room, "Sending you a big hug, we're here")
    assert (
        _unkind_near_risk(
            kind,
            rules.rule_signals(kind.body),
            allowed,
            MemberState(),
            selectors.thresholds_for(newborn_room),
        )
        is allowed
    )


@pytest.mark.django_db
def test_an_unkind_reply_in_the_same_model_batch_as_the_risk_message_is_still_caught(
    member, other_member, newborn_room, on_duty, monkeypatch
):
    """The model stage reads both in one batch: her keyword-free message as risk, then the reply
    under it, which the model would allow. The reply is flagged, linked to her risk item and
    hidden from her, as when the risk was escalated before it."""
    from moderation import selectors
    from moderation.actions import ModelStageResult, do_record_assessments
    from moderation.safety_model import SafetyScores, SafetyThresholds
    from tests.moderation.test_worker import rules_only_worker

    # The model is running, so the inline rules leave both to it.
    monkeypatch.setattr(selectors, "safety_model_ready", lambda: True)
    hers = send(member, newborn_room, "I've sorted who gets the baby's things. Thank you all x")
    reply = send(other_member, newborn_room, UNKIND, reply_to=hers.seq)
    assert not Flag.objects.exists()
    t = SafetyThresholds.from_mapping(
        {"distress": 0.8, "insensitive": 0.8, "risk": 0.8, "toxic": 0.9}
        | {"risk_context_floor": 0.05, "risk_with_rule": 0.05}
    )

    def scores(verdict: str, risk: float) -> SafetyScores:
        return SafetyScores(
            ok=1 - risk, distress=0.0, risk=risk, toxic=0.1, insensitive=0.1,
            risk_family="giving_away_affairs_in_order", risk_family_p=0.9,
            verdict=verdict, thresholds=t,
        )  # fmt: skip

    worker = rules_only_worker()
    claimed = {pk: revision for pk, _body, revision in worker.claim_batch()}
    assert set(claimed) == {hers.pk, reply.pk}
    results = [
        ModelStageResult(hers.pk, claimed[hers.pk], None, scores("risk", 0.95), body=hers.body),
        ModelStageResult(reply.pk, claimed[reply.pk], None, scores("none", 0.01), body=reply.body),
    ]
    assert do_record_assessments(results, classifier="rules", worker=worker.name) == 2
    risk_flag = Flag.objects.get(message=hers)
    assert risk_flag.escalated
    flag = Flag.objects.get(message=reply)
    reply.refresh_from_db()
    assert flag.priority == Priority.URGENT and reply.state == MessageState.HELD
    assert any(r.get("risk_flag_id") == risk_flag.pk for r in flag.reasons)
