"""Every moderation write: flags, assessments, reports, thresholds. Pushes only after commit."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.events import MODERATORS_GROUP, room_group, send_event_on_commit, user_group
from chat.models import AssessmentState, Message, MessageState, Room
from chat.selectors import serialize_message
from moderation import rules, selectors
from moderation.audit import record_audit
from moderation.models import Assessment, Flag, FlagSource, FlagState, Priority, Report, RoomPolicy
from moderation.policy import Decision, decide

SUPPORT_CARD_TITLE = "You're not on your own"
SUPPORT_CARD_TEXT = (
    "Thank you for telling us how you're feeling. What you wrote sounds really hard, and you "
    "deserve support right now. A moderator has been let know and will check in with you. "
    "If you might act on these thoughts, or you or your baby are in danger, please call 999 now. "
    "These people are there to talk, day and night:"
)


def _support_card(message: Message) -> dict[str, Any]:
    region = getattr(message.author, "region", "") or ""
    return {
        "type": "support.card",
        "room": message.room.slug,
        "message_seq": message.seq,
        "title": SUPPORT_CARD_TITLE,
        "text": SUPPORT_CARD_TEXT,
        "helplines": selectors.support_card_helplines(region),
    }


def do_record_decision(message: Message, decision: Decision, *, source: str) -> Flag | None:
    """Turn a non-allow decision into a queue item, merging with an existing flag on the same
    message. Risk escalates: the sender gets a support card and moderators an urgent alert, once.
    Must run inside the message's transaction (or its own)."""
    if decision.action == "allow":
        return None
    priority = Priority.from_name(decision.priority)
    escalate = decision.action == "escalate"
    with transaction.atomic():
        flag = Flag.objects.select_for_update().filter(message=message).first()
        newly_escalated = escalate and (flag is None or not flag.escalated)
        if flag is None:
            flag = Flag.objects.create(
                message=message,
                category=decision.category,
                priority=priority,
                source=source,
                sources=[source],
                escalated=escalate,
                scores=decision.scores,
                reasons=decision.reasons,
                created_at=timezone.now(),
            )
        else:
            if priority < flag.priority:
                flag.priority = priority
                flag.category = decision.category
            flag.escalated = flag.escalated or escalate
            if source not in flag.sources:
                flag.sources = [*flag.sources, source]
            flag.scores = decision.scores or flag.scores
            flag.reasons = [*flag.reasons, *[r for r in decision.reasons if r not in flag.reasons]]
            if flag.state == FlagState.RESOLVED and escalate:
                flag.state = FlagState.OPEN
            flag.save()
        if newly_escalated and message.author_id:
            send_event_on_commit(user_group(message.author_id), {"type": "user.notice", "frame": _support_card(message)})
        send_event_on_commit(
            MODERATORS_GROUP,
            {"type": "moderation.flag", "flag_id": flag.pk, "urgent": newly_escalated or flag.escalated},
        )
    return flag


def _auto_hold(message: Message) -> None:
    """A hold that needed the model's scores: the message was shown, so it is taken down from
    every open client at once, pending review."""
    if message.state != MessageState.VISIBLE:
        return
    message.state = MessageState.HELD
    message.save(update_fields=["state"])
    send_event_on_commit(
        room_group(message.room_id), {"type": "chat.message_updated", "message": serialize_message(message)}
    )


def do_record_assessment(
    *, message_id: int, scores: dict[str, float] | None, classifier: str, worker: str
) -> Assessment | None:
    """Store the model-stage assessment of a message exactly once.

    Re-reads the row under the transaction: if the message is no longer pending, or another worker
    holds its lease, nothing is written and None is returned. The Assessment's one-to-one key is
    the last line of defence against a double assessment.
    """
    from moderation.classifiers import Scores

    with transaction.atomic():
        claimed = Message.objects.filter(
            pk=message_id, assessment_state=AssessmentState.PENDING, assessment_worker=worker
        ).update(assessment_state=AssessmentState.DONE, assessment_lease_until=None)
        if claimed != 1:
            return None
        message = Message.objects.select_related("author", "room").get(pk=message_id)
        signals = rules.rule_signals(message.body)
        state = selectors.member_state(message.author, message.room, exclude_message_id=message.pk) if message.author else None
        from moderation.policy import MemberState

        decision = decide(
            signals,
            Scores.from_mapping(scores) if scores is not None else None,
            state or MemberState(),
            selectors.thresholds_for(message.room),
        )
        try:
            with transaction.atomic():
                assessment = Assessment.objects.create(
                    message=message,
                    classifier=classifier,
                    scores=scores or {},
                    action=decision.action,
                    category=decision.category,
                    priority=Priority.from_name(decision.priority),
                    reasons=decision.reasons,
                    worker=worker,
                )
        except IntegrityError:
            return None
        if decision.action == "hold":
            _auto_hold(message)
        if decision.action != "allow":
            do_record_decision(message, decision, source=FlagSource.MODEL if scores is not None else FlagSource.RULE)
    return assessment


class ReportError(ValueError):
    pass


def do_report_message(*, reporter, message: Message, reason: str = "") -> Flag:  # noqa: ANN001
    """A member reports a message. Several reports of one message merge into one flag."""
    reason = " ".join((reason or "").split())[:500]
    if message.author_id == reporter.pk:
        raise ReportError("You can't report your own message.")
    with transaction.atomic():
        flag = Flag.objects.select_for_update().filter(message=message).first()
        if flag is None:
            flag = Flag.objects.create(
                message=message,
                category="insensitive",
                priority=Priority.NORMAL,
                source=FlagSource.REPORT,
                sources=[FlagSource.REPORT],
                reasons=[{"rule": "member.report"}],
                created_at=timezone.now(),
            )
        _, created = Report.objects.get_or_create(flag=flag, reporter=reporter, defaults={"reason": reason})
        if created:
            flag.report_count += 1
            if FlagSource.REPORT not in flag.sources:
                flag.sources = [*flag.sources, FlagSource.REPORT]
            if flag.state == FlagState.RESOLVED:
                flag.state = FlagState.OPEN
            flag.save()
            send_event_on_commit(MODERATORS_GROUP, {"type": "moderation.flag", "flag_id": flag.pk, "urgent": flag.escalated})
    return flag


def do_update_room_policy(*, room: Room, values: dict[str, float], acting_user, reason: str = "") -> RoomPolicy:  # noqa: ANN001
    """Change a room's thresholds. Every change is audited with before and after values."""
    for name, value in values.items():
        if name not in RoomPolicy.THRESHOLD_FIELDS:
            raise ValueError(f"Unknown threshold {name!r}")
        if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.01:
            raise ValueError(f"{name} must be between 0 and 1.01 (1.01 switches the rule off)")
    with transaction.atomic():
        policy, _ = RoomPolicy.objects.select_for_update().get_or_create(room=room)
        before = policy.values()
        for name, value in values.items():
            setattr(policy, name, float(value))
        policy.save()
        after = policy.values()
        record_audit(
            action="room.thresholds_changed",
            acting_user=acting_user,
            room=room,
            before={k: v for k, v in before.items() if before[k] != after[k]},
            after={k: v for k, v in after.items() if before[k] != after[k]},
            reason=reason,
        )
    return policy


def do_set_on_duty(*, moderator, on_duty: bool) -> None:  # noqa: ANN001
    """A moderator marks herself on or off duty. With nobody on duty the policy tightens
    (docs/moderation.md, "When no moderator is on duty")."""
    from moderation.models import ModeratorDuty

    if not moderator.is_moderator:
        raise PermissionError("Only moderators go on duty.")
    now = timezone.now()
    with transaction.atomic():
        open_duty = ModeratorDuty.objects.select_for_update().filter(moderator=moderator, ended_at__isnull=True).first()
        if on_duty and open_duty is None:
            ModeratorDuty.objects.create(moderator=moderator, started_at=now)
            record_audit(action="moderator.on_duty", acting_user=moderator, target_user=moderator)
        elif not on_duty and open_duty is not None:
            open_duty.ended_at = now
            open_duty.save(update_fields=["ended_at"])
            record_audit(action="moderator.off_duty", acting_user=moderator, target_user=moderator,
                         after={"minutes_on_duty": round((now - open_duty.started_at).total_seconds() / 60, 1)})
