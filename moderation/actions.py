"""Every moderation write: flags, assessments, reports, thresholds. Pushes only after commit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from chat import actions as chat_actions
from chat.errors import ChatError, RoomForbidden
from chat.events import MODERATORS_GROUP, room_group, send_event_on_commit, user_group
from chat.models import AssessmentState, Message, MessageState, Room
from chat.selectors import serialize_message
from moderation import care, rules, selectors
from moderation.audit import record_audit
from moderation.models import (
    Assessment,
    Flag,
    FlagSource,
    FlagState,
    Helpline,
    ModeratorNote,
    Mute,
    Notice,
    Priority,
    Report,
    RoomPolicy,
)
from moderation.policy import Decision, decide, decide_inline

if TYPE_CHECKING:
    from moderation.safety_model import SafetyScores

logger = logging.getLogger("kindred.moderation")

SUPPORT_CARD_TITLE = "You're not on your own"
# The card says what will really happen next (issue 21): with a moderator on duty, a private
# check-in (moderation/checkins) on this page; with nobody on duty, that nobody is, and the
# services that can talk now come first. Each service shows its own hours.
SUPPORT_CARD_TEXT = (
    "Thank you for telling us how you're feeling. What you wrote sounds really hard, and you "
    "deserve support right now. A moderator will message you privately here, on this page. "
    "If you might act on these thoughts, or you or your baby are in danger, please call 999 now. "
    "You can also talk to these services:"
)
SUPPORT_CARD_TEXT_NOBODY_ON_DUTY = (
    "Thank you for telling us how you're feeling. What you wrote sounds really hard, and you "
    "deserve support right now. No moderator is on duty at the moment, so please don't wait for "
    "one: the services above can talk with you now. If you might act on these thoughts, or you or "
    "your baby are in danger, please call 999 now. Your message is saved and others here will "
    "see it."
)


# Someone at home may be reading her screen (the rules catch "he reads all my messages"): the
# card for danger at home names no abuse in its title or text, and points at Quick exit.
DISCREET_CARD_TITLE = "Support is here"
DISCREET_CARD_TEXT = (
    "Thank you for sharing that. A moderator will message you privately here. If you are in "
    "danger right now, call 999 (if you can't speak, press 55 when asked). You can leave this page "
    "at once with Quick exit. These services are free and confidential:"
)
DISCREET_CARD_TEXT_NOBODY_ON_DUTY = (
    "Thank you for sharing that. No moderator is on duty right now: the services above are free, "
    "confidential and can talk with you now. If you are in danger right now, call 999 (if you "
    "can't speak, press 55 when asked). You can leave this page at once with Quick exit."
)


def _support_card(message: Message, decision: Decision | None = None) -> dict[str, Any]:
    region = getattr(message.author, "region", "") or ""
    subcategories = {r.get("subcategory") for r in (decision.reasons if decision else [])}
    discreet = "domestic_abuse" in subcategories
    on_duty = selectors.moderator_on_duty()
    if discreet:
        text = DISCREET_CARD_TEXT if on_duty else DISCREET_CARD_TEXT_NOBODY_ON_DUTY
    else:
        text = SUPPORT_CARD_TEXT if on_duty else SUPPORT_CARD_TEXT_NOBODY_ON_DUTY
    return {
        "type": "support.card",
        "room": message.room.slug,
        "message_seq": message.seq,
        "title": DISCREET_CARD_TITLE if discreet else SUPPORT_CARD_TITLE,
        "text": text,
        "discreet": discreet,
        "moderator_on_duty": on_duty,
        # Nobody on duty: the services come before the words, so the first thing she sees is
        # someone she can reach now.
        "lead_with_helplines": not on_duty,
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
            send_event_on_commit(
                user_group(message.author_id),
                {"type": "user.notice", "frame": _support_card(message, decision)},
            )
        if newly_escalated:
            _mark_shows_risk(message)
            care.link_unkind_replies(flag)
        elif not flag.escalated and flag.category in care.UNKIND and not care.is_linked(flag):
            care.link_to_risk(flag)
        if newly_escalated and not selectors.moderator_on_duty():
            # Nobody is watching the queue: the on-call list hears about a risk message at once.
            transaction.on_commit(
                lambda: _email_on_call(
                    "Kindred: urgent risk message and no moderator on duty",
                    f"A message in {message.room.name} shows risk. Open the moderation queue (item {flag.pk}).",
                )
            )
        send_event_on_commit(
            MODERATORS_GROUP,
            {
                "type": "moderation.flag",
                "flag_id": flag.pk,
                "urgent": newly_escalated or flag.escalated,
            },
        )
    return flag


def _mark_shows_risk(message: Message) -> None:
    """A message escalated as risk takes supportive reactions only (docs/moderation.md, "Around a
    message that shows risk"): it says so on its row, and any "me too" already on it goes. A
    message still pending assessment is being sent or edited in this transaction, and its sender
    pushes it afterwards; one already delivered is pushed again so every screen drops "me too"."""
    from chat.models import Reaction, ReactionKind

    message.shows_risk = True
    Message.objects.filter(pk=message.pk).update(shows_risk=True)
    removed, _ = Reaction.objects.filter(message=message, kind=ReactionKind.ME_TOO).delete()
    if message.assessment_state == AssessmentState.DONE or removed:
        _push_message(
            Message.objects.select_related("author", "room", "reply_to", "reply_to__author")
            .prefetch_related("reactions__user")
            .get(pk=message.pk)
        )


def _auto_hold(message: Message) -> None:
    """A hold that needed the model's scores: the message was shown, so it is taken down from
    every open client at once, pending review."""
    if message.state != MessageState.VISIBLE:
        return
    message.state = MessageState.HELD
    message.save(update_fields=["state"])
    send_event_on_commit(
        room_group(message.room_id),
        {"type": "chat.message_updated", "message": serialize_message(message)},
    )


def do_record_assessment(
    *,
    message_id: int,
    scores: dict[str, float] | None,
    classifier: str,
    worker: str,
    revision: int = 0,
    safety: SafetyScores | None = None,
) -> Assessment | None:
    """Store the model-stage assessment of a message exactly once.

    Re-reads the row under the transaction: if the message is no longer pending, or another worker
    holds its lease, nothing is written and None is returned. The Assessment's one-to-one key is
    the last line of defence against a double assessment.
    """
    from moderation.classifiers import Scores

    with transaction.atomic():
        # An edit since the claim bumps the revision and clears the lease, so this matches nothing
        # and the new text is claimed and assessed on its own.
        claimed = Message.objects.filter(
            pk=message_id,
            assessment_state=AssessmentState.PENDING,
            assessment_worker=worker,
            revision=revision,
        ).update(assessment_state=AssessmentState.DONE, assessment_lease_until=None)
        if claimed != 1:
            return None
        message = Message.objects.select_related("author", "room").get(pk=message_id)
        signals = rules.rule_signals(message.body)
        state = selectors.member_state(message.author, message.room) if message.author else None
        from moderation.policy import MemberState

        thresholds = selectors.thresholds_for(message.room)
        decision = decide(
            signals,
            Scores.from_mapping(scores) if scores is not None else None,
            state or MemberState(),
            thresholds,
            safety=safety,
        )
        decision = _unkind_near_risk(message, signals, decision, state or MemberState(), thresholds)
        result = ModelStageResult(message_id, revision, scores, safety)
        try:
            with transaction.atomic():
                assessment = _assessment_row(
                    message, result, decision, classifier=classifier, worker=worker
                )
                assessment.save(force_insert=True)
        except IntegrityError:
            return None
        _act_on_decision(message, result, decision)
    return assessment


@dataclass(frozen=True)
class ModelStageResult:
    """What the worker's model stage made of one claimed message, for :func:`do_record_assessments`."""

    message_id: int
    revision: int
    scores: dict[str, float] | None
    safety: SafetyScores | None = None
    #: the text as claimed: its rule signals are worked out before the write transaction opens
    #: (on SQLite it holds the database's one write lock, which senders wait for)
    body: str | None = None


def do_record_assessments(
    results: Sequence[ModelStageResult], *, classifier: str, worker: str
) -> int:
    """Store a batch's model-stage assessments, each exactly once, in one transaction; returns how
    many were stored. Same outcome as :func:`do_record_assessment` for each in turn, for about a
    fifth of the statements: the batch is read and marked done together, each author's mute and
    each room's thresholds are read once, and the assessments are inserted together.

    If the batch fails as a whole (a message whose decision raises), nothing of it is kept and
    each message is recorded on its own, so one bad message never holds back the others."""
    if not results:
        return 0
    try:
        return _record_batch(results, classifier=classifier, worker=worker)
    except Exception:  # noqa: BLE001
        logger.exception(
            "recording a batch of %d assessments failed; recording them one by one", len(results)
        )
    done = 0
    for r in results:
        try:
            if do_record_assessment(
                message_id=r.message_id,
                revision=r.revision,
                scores=r.scores,
                safety=r.safety,
                classifier=classifier,
                worker=worker,
            ):
                done += 1
        except Exception:  # noqa: BLE001
            # It stays pending under this worker's lease and is claimed again when that lapses.
            logger.exception("recording the assessment of message %s failed", r.message_id)
    return done


def _record_batch(results: Sequence[ModelStageResult], *, classifier: str, worker: str) -> int:
    from moderation.classifiers import Scores
    from moderation.policy import MemberState

    by_id = {r.message_id: r for r in results}
    signals = {r.message_id: rules.rule_signals(r.body) for r in results if r.body is not None}
    with transaction.atomic():
        # Still ours: pending, claimed by this worker, and not edited since the claim (an edit
        # bumps the revision and clears the lease; its new text is claimed on its own). The rows
        # stay locked until commit (PostgreSQL: FOR UPDATE; SQLite: the write transaction), so an
        # edit cannot slip in between this read and the update below.
        claimed = Message.objects.select_related("author", "room").filter(
            pk__in=list(by_id), assessment_state=AssessmentState.PENDING, assessment_worker=worker
        )
        if connection.vendor == "postgresql":
            claimed = claimed.select_for_update(of=("self",))
        messages = [m for m in claimed.order_by("id") if m.revision == by_id[m.pk].revision]
        if not messages:
            return 0
        Message.objects.filter(pk__in=[m.pk for m in messages]).update(
            assessment_state=AssessmentState.DONE, assessment_lease_until=None
        )
        states: dict[tuple[int, int], MemberState] = {}
        thresholds: dict[int, Any] = {}
        decided: list[tuple[Message, ModelStageResult, Decision]] = []
        # Messages of this batch escalated as risk: their flags are written only after every
        # decision is made, so a later message of the batch answering one must be told here.
        escalated: list[Message] = []
        for message in messages:
            message.assessment_state = AssessmentState.DONE
            message.assessment_lease_until = None
            r = by_id[message.pk]
            if message.author is None:
                state = MemberState()
            else:
                key = (message.author_id, message.room_id)
                if key not in states:
                    states[key] = selectors.member_state(message.author, message.room)
                state = states[key]
            if message.room_id not in thresholds:
                thresholds[message.room_id] = selectors.thresholds_for(message.room)
            sig = signals.get(message.pk)
            if sig is None or r.body != message.body:
                sig = rules.rule_signals(message.body)
            decision = decide(
                sig,
                Scores.from_mapping(r.scores) if r.scores is not None else None,
                state,
                thresholds[message.room_id],
                safety=r.safety,
            )
            decision = _unkind_near_risk(
                message, sig, decision, state, thresholds[message.room_id], batch_risk=escalated
            )
            if decision.action == "escalate":
                escalated.append(message)
            decided.append((message, r, decision))

        def row(message: Message, r: ModelStageResult, decision: Decision) -> Assessment:
            return _assessment_row(message, r, decision, classifier=classifier, worker=worker)

        try:
            with transaction.atomic():
                Assessment.objects.bulk_create([row(*d) for d in decided])
        except IntegrityError:
            # One already has an assessment (the one-to-one key, the last line of defence):
            # store the others one by one.
            kept = []
            for d in decided:
                try:
                    with transaction.atomic():
                        row(*d).save(force_insert=True)
                    kept.append(d)
                except IntegrityError:
                    pass
            decided = kept
        for message, r, decision in decided:
            _act_on_decision(message, r, decision)
    return len(decided)


def _unkind_near_risk(
    message: Message,
    signals: Any,
    decision: Decision,
    state: Any,
    thresholds: Any,
    *,
    batch_risk: Sequence[Message] = (),
) -> Decision:
    """Under a message escalated as risk (a reply to it, or within care.RISK_FOLLOW_UP after it,
    by someone else) the model does not overrule the rules' unkind signals: the message is
    decided as the rules alone would ("Stop whining, other people have real problems" straight
    under a suicidal message is flagged, linked and held, care.link_to_risk), whatever the model's
    score. Elsewhere the model decides the rules' uncertain hits as before. ``batch_risk``: the
    messages of the same model batch decided as risk before this one, whose flags do not exist
    yet (they are written, in order, once the whole batch is decided)."""
    if decision.action != "allow" or not (signals.insensitive or signals.abuse):
        return decision
    if not any(care.answers_risk(message, r) for r in batch_risk) and (
        care.risk_flag_near(message) is None
    ):
        return decision
    by_rules = decide_inline(signals, state, thresholds, model_follows=False)
    return by_rules if by_rules.action != "allow" else decision


def _assessment_row(
    message: Message,
    result: ModelStageResult,
    decision: Decision,
    *,
    classifier: str,
    worker: str,
) -> Assessment:
    """The (unsaved) Assessment recording what the model stage decided about one message."""
    safety = result.safety.as_dict() if result.safety is not None else {}
    return Assessment(
        message=message,
        revision=result.revision,
        classifier=classifier,
        scores={**(result.scores or {}), **safety},
        action=decision.action,
        category=decision.category,
        priority=Priority.from_name(decision.priority),
        reasons=decision.reasons,
        worker=worker,
    )


def _act_on_decision(message: Message, result: ModelStageResult, decision: Decision) -> None:
    """Carry out a recorded model-stage decision, inside the caller's transaction: hold what is
    held, show again a risk message the rules held as abuse (risk always wins), and flag anything
    that is not allowed, as the model's flag when a model scored it and the rules' otherwise."""
    if decision.action == "hold":
        _auto_hold(message)
    if decision.action == "escalate" and message.state == MessageState.HELD:
        _release_risk_held_as_abuse(message)
    if decision.action != "allow":
        by_model = result.scores is not None or result.safety is not None
        do_record_decision(
            message, decision, source=FlagSource.MODEL if by_model else FlagSource.RULE
        )


_HOLDS_THAT_STAND = frozenset({"member.muted", "member.probation", "no_moderator_on_duty"})


def _release_risk_held_as_abuse(message: Message) -> None:
    """Risk always wins: a message the rules held before delivery as abuse (a threat she is
    quoting: "he said I'll kill you if you tell anyone") that the model stage reads as risk is
    shown again, so she is not told her disclosure was wrong. Holds for a mute, probation or an
    empty rota stand. Audited, with no acting user (the system decided)."""
    flag = Flag.objects.filter(message=message).first()
    reasons = {r.get("rule") for r in (flag.reasons if flag else []) if isinstance(r, dict)}
    if reasons & _HOLDS_THAT_STAND:
        return
    _set_message_state(
        message,
        MessageState.VISIBLE,
        acting_user=None,
        action="message.released_as_risk",
        reason="held as abuse before delivery; the safety model read it as risk",
    )


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
        _, created = Report.objects.get_or_create(
            flag=flag, reporter=reporter, defaults={"reason": reason}
        )
        if created:
            flag.report_count += 1
            if FlagSource.REPORT not in flag.sources:
                flag.sources = [*flag.sources, FlagSource.REPORT]
            if flag.state == FlagState.RESOLVED:
                flag.state = FlagState.OPEN
            flag.save()
            send_event_on_commit(
                MODERATORS_GROUP,
                {"type": "moderation.flag", "flag_id": flag.pk, "urgent": flag.escalated},
            )
    return flag


def check_share_resource(
    *,
    moderator,  # noqa: ANN001
    room: Room,
    resource_id: object,
    client_id: object,
) -> tuple[Message, bool]:
    """A moderator drops a service from the resources directory into the conversation as a card
    (the study's "peer navigator"): a `resource.share` frame on the room socket
    (moderation.chat_hooks). It is an ordinary message, stored and sequenced like any other
    (chat.actions.do_send_message), with the card attached. Idempotent on client_id."""
    if not moderator.is_moderator:
        raise RoomForbidden("Only moderators can share resource cards.")
    if isinstance(resource_id, bool) or not isinstance(resource_id, int):
        raise ChatError("validation", "resource_id must be a resource's id.", field="resource_id")
    resource = Helpline.objects.filter(pk=resource_id, is_active=True).first()
    if resource is None:
        raise ChatError("not_found", "There is no such resource.")
    client_id = chat_actions.check_client_id(client_id)
    existing = chat_actions.already_sent(moderator, client_id)
    if existing is not None:
        return existing, False
    chat_actions.check_action_rate(moderator)
    body = f"{resource.name}: {resource.when}. {resource.contact}".strip()
    if resource.url:
        body += f" {resource.url}"
    message = chat_actions.do_send_message(
        author=moderator,
        room=room,
        client_id=client_id,
        body=body[: django_settings.CHAT_MAX_BODY_CHARS],
        card=resource,
    )
    return message, True


def do_update_room_policy(
    *, room: Room, values: dict[str, float], acting_user, reason: str = ""
) -> RoomPolicy:  # noqa: ANN001
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
        open_duty = (
            ModeratorDuty.objects.select_for_update()
            .filter(moderator=moderator, ended_at__isnull=True)
            .first()
        )
        if on_duty and open_duty is None:
            ModeratorDuty.objects.create(moderator=moderator, started_at=now)
            record_audit(action="moderator.on_duty", acting_user=moderator, target_user=moderator)
        elif not on_duty and open_duty is not None:
            open_duty.ended_at = now
            open_duty.save(update_fields=["ended_at"])
            record_audit(
                action="moderator.off_duty",
                acting_user=moderator,
                target_user=moderator,
                after={
                    "minutes_on_duty": round((now - open_duty.started_at).total_seconds() / 60, 1)
                },
            )
            # Her claims go back to the queue when the grace ends: the open consoles time it
            # (the worker's sweep is the backstop), so the others see them reopen at once.
            send_event_on_commit(MODERATORS_GROUP, {"type": "moderation.claims_check"})


# --------------------------------------------------------------------------------------------
# Moderator console actions. Each one: checks the actor's role on the server, writes its rows
# and its audit record in one transaction, and pushes to whoever it affects after commit.
# --------------------------------------------------------------------------------------------

CLAIM_TIMEOUT = timedelta(minutes=10)
MUTE_DURATIONS_MINUTES = (15, 60, 24 * 60, 7 * 24 * 60)
WARNING_TEMPLATE = (
    "Hi {name}, one of our volunteer moderators here. Your message in {room} came across as hurtful "
    "to others, and Kindred only works if everyone feels safe to share. We know things are hard. "
    "Please read the community guidelines and keep your messages kind. Thank you."
)


class ModerationError(Exception):
    """A refused console action, with a message fit to show the moderator."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _require_moderator(user) -> None:  # noqa: ANN001
    if not getattr(user, "is_authenticated", False) or not user.is_moderator or user.is_suspended:
        raise ModerationError("forbidden", "Moderators only.")


def _require_supervisor(user) -> None:  # noqa: ANN001
    if not getattr(user, "is_authenticated", False) or not user.is_supervisor:
        raise ModerationError("forbidden", "Supervisors only.")


FOLLOW_UP_WINDOW = timedelta(minutes=30)


def _lock_flag(
    flag_id: int, acting_user, *, need_claim: bool = True, follow_up: bool = False
) -> Flag:  # noqa: ANN001
    """Lock a queue item for an action. `follow_up` lets the moderator who just resolved an item
    also act on it and its author (hide *and* warn *and* mute, in any order) for FOLLOW_UP_WINDOW
    afterwards: the first action resolves the item, the others are audited on their own and leave
    its resolution as it was."""
    try:
        # of=("self",): PostgreSQL cannot lock the nullable side of the outer join to the author.
        flag = (
            Flag.objects.select_for_update(of=("self",))
            .select_related("message", "message__room", "message__author", "claimed_by")
            .get(pk=flag_id)
        )
    except Flag.DoesNotExist as exc:
        raise ModerationError("not_found", "No such queue item.") from exc
    if need_claim:
        if (
            follow_up
            and flag.state == FlagState.RESOLVED
            and flag.resolved_by_id == acting_user.pk
            and flag.resolved_at
            and timezone.now() - flag.resolved_at < FOLLOW_UP_WINDOW
        ):
            return flag
        if flag.state == FlagState.RESOLVED:
            raise ModerationError("conflict", "This item has already been resolved.")
        if flag.state != FlagState.CLAIMED or flag.claimed_by_id != acting_user.pk:
            holder = flag.claimed_by.display_name if flag.claimed_by else None
            raise ModerationError(
                "not_claimed",
                f"{holder} is handling this item."
                if holder and flag.state == FlagState.CLAIMED
                else "Claim this item before acting on it.",
            )
    return flag


def _notify(user, *, kind: str, title: str, text: str) -> Notice:  # noqa: ANN001
    notice = Notice.objects.create(user=user, kind=kind, title=title, text=text)
    send_event_on_commit(
        user_group(user.pk),
        {
            "type": "user.notice",
            "frame": {
                "type": "notice",
                "id": notice.pk,
                "kind": kind,
                "title": title,
                "text": text,
            },
        },
    )
    return notice


def _push_flag_changed(flag: Flag) -> None:
    send_event_on_commit(
        MODERATORS_GROUP,
        {"type": "moderation.flag", "flag_id": flag.pk, "urgent": False, "changed": True},
    )


def _push_message(message: Message) -> None:
    send_event_on_commit(
        room_group(message.room_id),
        {"type": "chat.message_updated", "message": serialize_message(message)},
    )


def _set_message_state(
    message: Message, state: str, *, acting_user, action: str, reason: str = ""
) -> None:  # noqa: ANN001
    before = message.state
    if before == state:
        return
    message.state = state
    message.save(update_fields=["state"])
    record_audit(
        action=action,
        acting_user=acting_user,
        target_user=message.author,
        room=message.room,
        message=message,
        before={"state": before},
        after={"state": state},
        reason=reason,
    )
    _push_message(message)


def _first_action(flag: Flag) -> None:
    if flag.first_action_at is None:
        flag.first_action_at = timezone.now()


def _resolve(flag: Flag, *, acting_user, resolution: str, note: str = "") -> None:  # noqa: ANN001
    now = timezone.now()
    _first_action(flag)
    flag.state = FlagState.RESOLVED
    flag.resolution = resolution
    flag.resolution_note = note
    flag.resolved_at = now
    flag.resolved_by = acting_user
    flag.save()
    outcome = (
        "A moderator looked at the message you reported and took action. Thank you for helping keep Kindred kind."
        if resolution in ("hidden", "warned", "muted", "suspended")
        else "A moderator looked at the message you reported and decided it could stay. Thank you for telling us: it always helps."
    )
    for report in flag.reports.filter(outcome_sent_at__isnull=True).select_related("reporter"):
        _notify(report.reporter, kind="report.outcome", title="About your report", text=outcome)
        report.outcome_sent_at = now
        report.save(update_fields=["outcome_sent_at"])
    _push_flag_changed(flag)


def do_claim_flag(*, flag_id: int, acting_user) -> Flag:  # noqa: ANN001
    """Claim a queue item. Exactly one moderator can hold it; a claim abandoned for
    CLAIM_TIMEOUT can be taken over."""
    _require_moderator(acting_user)
    now = timezone.now()
    with transaction.atomic():
        taken = (
            Flag.objects.filter(pk=flag_id)
            .filter(
                Q(state=FlagState.OPEN)
                | Q(state=FlagState.CLAIMED, claimed_at__lt=now - CLAIM_TIMEOUT)
                | Q(state=FlagState.CLAIMED, claimed_by=acting_user)
            )
            .update(state=FlagState.CLAIMED, claimed_by=acting_user, claimed_at=now)
        )
        flag = Flag.objects.select_related("claimed_by").filter(pk=flag_id).first()
        if flag is None:
            raise ModerationError("not_found", "No such queue item.")
        if taken != 1:
            if flag.state == FlagState.RESOLVED:
                raise ModerationError("conflict", "This item has already been resolved.")
            raise ModerationError(
                "conflict", f"{flag.claimed_by.display_name} is already handling this item."
            )
        record_audit(
            action="flag.claimed",
            acting_user=acting_user,
            message=flag.message,
            target_user=flag.message.author,
        )
        _push_flag_changed(flag)
    return flag


def do_release_flag(*, flag_id: int, acting_user) -> Flag:  # noqa: ANN001
    _require_moderator(acting_user)
    with transaction.atomic():
        flag = _lock_flag(flag_id, acting_user)
        flag.state, flag.claimed_by, flag.claimed_at = FlagState.OPEN, None, None
        flag.save()
        record_audit(action="flag.released", acting_user=acting_user, message=flag.message)
        _push_flag_changed(flag)
    return flag


def do_release_abandoned_claims() -> int:
    cutoff = timezone.now() - CLAIM_TIMEOUT
    with transaction.atomic():
        return Flag.objects.filter(state=FlagState.CLAIMED, claimed_at__lt=cutoff).update(
            state=FlagState.OPEN, claimed_by=None, claimed_at=None
        )


def do_open_console(*, moderator, channel_name: str) -> None:  # noqa: ANN001
    """Her console's live feed connected: while one is open, her claims stay hers."""
    from moderation.models import ConsoleConnection

    with transaction.atomic():
        ConsoleConnection.objects.update_or_create(
            channel_name=channel_name,
            defaults={"moderator": moderator, "opened_at": timezone.now(), "closed_at": None},
        )


def do_close_console(*, channel_name: str) -> None:
    """Her console's live feed disconnected (tab closed, phone locked, network gone). If no
    console of hers reconnects within the grace, the claims she held go back to the queue."""
    from moderation.models import ConsoleConnection

    with transaction.atomic():
        ConsoleConnection.objects.filter(channel_name=channel_name, closed_at__isnull=True).update(
            closed_at=timezone.now()
        )


def _claim_release_cutoff(moderator_id: int, *, now, grace: timedelta) -> tuple[Any, str] | None:  # noqa: ANN001
    """When she stopped handling her claims, if she did so more than `grace` ago: the moment
    she went off duty, or the moment her last console closed. Claims she took after that moment
    are hers (she is evidently working), so the caller releases only claims taken before it."""
    from moderation.models import ConsoleConnection

    cutoffs: list[tuple[Any, str]] = []
    if not ModeratorDuty.objects.filter(moderator_id=moderator_id, ended_at__isnull=True).exists():
        last = (
            ModeratorDuty.objects.filter(moderator_id=moderator_id, ended_at__isnull=False)
            .order_by("-ended_at")
            .values_list("ended_at", flat=True)
            .first()
        )
        if last is not None and last <= now - grace:
            cutoffs.append((last, "went off duty"))
    consoles = ConsoleConnection.objects.filter(moderator_id=moderator_id)
    if not consoles.filter(closed_at__isnull=True).exists():
        last = consoles.order_by("-closed_at").values_list("closed_at", flat=True).first()
        if last is not None and last <= now - grace:
            cutoffs.append((last, "closed the console"))
    return max(cutoffs, key=lambda c: c[0]) if cutoffs else None


def do_release_claims_of_absent_moderators(*, now=None) -> int:  # noqa: ANN001
    """Claims outlive the moderator no longer than the grace (MODERATION_CLAIM_GRACE_SECONDS):
    a moderator who went off duty, or whose consoles all closed and did not come back, loses the
    claims she held then. Each release is audited (by nobody: the system did it, naming her as
    the target) and pushed to every console after commit. Run by the moderation worker every
    couple of seconds; idempotent."""
    from moderation.models import ConsoleConnection

    now = now or timezone.now()
    grace = timedelta(seconds=django_settings.MODERATION_CLAIM_GRACE_SECONDS)
    released = 0
    holders = (
        Flag.objects.filter(state=FlagState.CLAIMED, claimed_by__isnull=False)
        .values_list("claimed_by_id", flat=True)
        .distinct()
    )
    for moderator_id in list(holders):
        cutoff = _claim_release_cutoff(moderator_id, now=now, grace=grace)
        if cutoff is None:
            continue
        since, why = cutoff
        with transaction.atomic():
            flags = list(
                Flag.objects.select_for_update(of=("self",))
                .select_related("message", "message__author", "claimed_by")
                .filter(state=FlagState.CLAIMED, claimed_by_id=moderator_id, claimed_at__lte=since)
            )
            for flag in flags:
                holder = flag.claimed_by
                # Conditional, so two sweeps at once (every console times one) release and
                # audit each claim once, on databases without row locks too.
                changed = Flag.objects.filter(
                    pk=flag.pk, state=FlagState.CLAIMED, claimed_by_id=moderator_id
                ).update(state=FlagState.OPEN, claimed_by=None, claimed_at=None)
                if not changed:
                    continue
                flag.state, flag.claimed_by, flag.claimed_at = FlagState.OPEN, None, None
                released += 1
                record_audit(
                    action="flag.claim_lapsed",
                    acting_user=None,
                    target_user=holder,
                    message=flag.message,
                    after={"state": FlagState.OPEN},
                    reason=f"{holder.display_name} {why} and did not come back within "
                    f"{int(grace.total_seconds())} s.",
                )
                _push_flag_changed(flag)
    # Closed consoles are only needed for the grace; keep a day for anyone looking into it.
    ConsoleConnection.objects.filter(closed_at__lt=now - timedelta(days=1)).delete()
    return released


def do_dismiss_flag(*, flag_id: int, acting_user, reason: str = "") -> Flag:  # noqa: ANN001
    """A false alarm. A message that was held only because of this flag is released."""
    _require_moderator(acting_user)
    with transaction.atomic():
        flag = _lock_flag(flag_id, acting_user)
        if flag.message.state == MessageState.HELD:
            _set_message_state(
                flag.message,
                MessageState.VISIBLE,
                acting_user=acting_user,
                action="message.approved",
                reason=reason,
            )
        record_audit(
            action="flag.dismissed",
            acting_user=acting_user,
            message=flag.message,
            target_user=flag.message.author,
            before={"category": flag.category, "sources": flag.sources},
            reason=reason,
        )
        _resolve(flag, acting_user=acting_user, resolution="dismissed", note=reason)
    return flag


def do_approve_message(*, flag_id: int, acting_user, reason: str = "") -> Flag:  # noqa: ANN001
    """A held message appears for everyone, in its place (same sequence number)."""
    _require_moderator(acting_user)
    with transaction.atomic():
        flag = _lock_flag(flag_id, acting_user)
        if flag.message.state != MessageState.HELD:
            raise ModerationError("conflict", "This message is not held.")
        _set_message_state(
            flag.message,
            MessageState.VISIBLE,
            acting_user=acting_user,
            action="message.approved",
            reason=reason,
        )
        _resolve(flag, acting_user=acting_user, resolution="approved", note=reason)
    return flag


def do_hide_message(*, flag_id: int, acting_user, reason: str = "") -> Flag:  # noqa: ANN001
    """Removed from every open client at once, replaced by "removed by a moderator"."""
    _require_moderator(acting_user)
    with transaction.atomic():
        # A follow-up too: she may warn first and then decide the message should go as well.
        flag = _lock_flag(flag_id, acting_user, follow_up=True)
        if flag.message.state == MessageState.HIDDEN:
            raise ModerationError("conflict", "This message is already hidden.")
        _set_message_state(
            flag.message,
            MessageState.HIDDEN,
            acting_user=acting_user,
            action="message.hidden",
            reason=reason,
        )
        if flag.state != FlagState.RESOLVED:
            _resolve(flag, acting_user=acting_user, resolution="hidden", note=reason)
        else:
            _push_flag_changed(flag)
    return flag


def do_restore_message(*, message_id: int, acting_user, reason: str = "") -> Message:  # noqa: ANN001
    """Undo for hide: the message is shown again in its place."""
    _require_moderator(acting_user)
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("room", "author")
            .get(pk=message_id)
        )
        if message.state != MessageState.HIDDEN:
            raise ModerationError("conflict", "This message is not hidden.")
        _set_message_state(
            message,
            MessageState.VISIBLE,
            acting_user=acting_user,
            action="message.restored",
            reason=reason,
        )
    return message


def do_warn_member(*, flag_id: int, acting_user, text: str = "") -> Flag:  # noqa: ANN001
    _require_moderator(acting_user)
    with transaction.atomic():
        flag = _lock_flag(flag_id, acting_user, follow_up=True)
        author = flag.message.author
        if author is None:
            raise ModerationError("conflict", "This member's account no longer exists.")
        body = " ".join((text or "").split()) or WARNING_TEMPLATE.format(
            name=author.display_name, room=flag.message.room.name
        )
        if len(body) > 2000:
            raise ModerationError("validation", "A warning can be at most 2000 characters.")
        _notify(author, kind="moderation.warning", title="A note from the moderators", text=body)
        note = ModeratorNote.objects.create(
            member=author, author=acting_user, kind=ModeratorNote.Kind.WARNING, text=body, flag=flag
        )
        # The text lives in the (erasable) note, not in the append-only audit row: the default
        # template names the member, and a moderator may quote her (docs/data-protection.md).
        record_audit(
            action="member.warned",
            acting_user=acting_user,
            target_user=author,
            message=flag.message,
            room=flag.message.room,
            after={"note": note.pk, "template": not (text or "").strip()},
        )
        if flag.state != FlagState.RESOLVED:
            _resolve(flag, acting_user=acting_user, resolution="warned")
    return flag


def do_mute_member(
    *, member, room: Room, minutes: int, acting_user, reason: str = "", flag_id: int | None = None
) -> Mute:  # noqa: ANN001
    _require_moderator(acting_user)
    if minutes not in MUTE_DURATIONS_MINUTES:
        raise ModerationError(
            "validation", f"Mute for one of {', '.join(map(str, MUTE_DURATIONS_MINUTES))} minutes."
        )
    if member.is_moderator:
        raise ModerationError("forbidden", "Moderators cannot be muted; talk to a supervisor.")
    until = timezone.now() + timedelta(minutes=minutes)
    with transaction.atomic():
        mute = Mute.objects.create(user=member, room=room, until=until, created_by=acting_user)
        record_audit(
            action="member.muted",
            acting_user=acting_user,
            target_user=member,
            room=room,
            after={"until": until.isoformat(), "minutes": minutes},
            reason=reason,
        )
        _notify(
            member,
            kind="moderation.muted",
            title="Posting paused",
            text=f"A moderator has paused your posting in {room.name} until {timezone.localtime(until):%H:%M on %d %b}. You can still read. If you need help now, use Get help.",
        )
        if flag_id is not None:
            flag = _lock_flag(flag_id, acting_user, follow_up=True)
            if flag.state != FlagState.RESOLVED:
                _resolve(flag, acting_user=acting_user, resolution="muted", note=reason)
    return mute


def do_unmute_member(*, mute_id: int, acting_user, reason: str = "") -> Mute:  # noqa: ANN001
    """Undo for mute."""
    _require_moderator(acting_user)
    with transaction.atomic():
        mute = Mute.objects.select_for_update().select_related("user", "room").get(pk=mute_id)
        if mute.lifted_at is not None:
            raise ModerationError("conflict", "This mute was already lifted.")
        mute.lifted_at = timezone.now()
        mute.save(update_fields=["lifted_at"])
        record_audit(
            action="member.unmuted",
            acting_user=acting_user,
            target_user=mute.user,
            room=mute.room,
            reason=reason,
        )
        _notify(
            mute.user,
            kind="moderation.unmuted",
            title="You can post again",
            text=f"You can post in {mute.room.name} again.",
        )
    return mute


def _close_user_sockets(user, *, code: str, message: str, close_code: int) -> None:  # noqa: ANN001
    send_event_on_commit(
        user_group(user.pk),
        {"type": "user.disconnect", "code": code, "message": message, "close_code": close_code},
    )


def do_suspend_member(*, member, acting_user, reason: str = "", flag_id: int | None = None) -> None:  # noqa: ANN001
    """Closes every open socket of the account within seconds and ends its sessions; she cannot
    log in until reinstated."""
    _require_moderator(acting_user)
    if member.is_moderator and not acting_user.is_supervisor:
        raise ModerationError("forbidden", "Only a supervisor can suspend a moderator.")
    if member.pk == acting_user.pk:
        raise ModerationError("forbidden", "You cannot suspend yourself.")
    with transaction.atomic():
        if member.suspended_at is not None:
            raise ModerationError("conflict", "This account is already suspended.")
        member.suspended_at = timezone.now()
        member.save(update_fields=["suspended_at"])
        record_audit(
            action="member.suspended", acting_user=acting_user, target_user=member, reason=reason
        )
        _end_sessions(member)
        _close_user_sockets(
            member, code="suspended", message="This account has been suspended.", close_code=4410
        )
        if flag_id is not None:
            flag = _lock_flag(flag_id, acting_user, follow_up=True)
            if flag.state != FlagState.RESOLVED:
                _resolve(flag, acting_user=acting_user, resolution="suspended", note=reason)


def _end_sessions(user) -> None:  # noqa: ANN001
    # Sessions are signed blobs keyed by id; find the user's by decoding. Fine at this scale and
    # only run on suspension.
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()


def do_reinstate_member(*, member, acting_user, reason: str = "") -> None:  # noqa: ANN001
    _require_moderator(acting_user)
    # --- reliability fix (tests/reliability/test_role_matrix.py): undoing a moderator's
    # suspension is the same power as suspending one, so it is a supervisor's too.
    if member.is_moderator and not acting_user.is_supervisor:
        raise ModerationError("forbidden", "Only a supervisor can reinstate a moderator.")
    # --- end reliability fix
    with transaction.atomic():
        if member.suspended_at is None:
            raise ModerationError("conflict", "This account is not suspended.")
        before = member.suspended_at.isoformat()
        member.suspended_at = None
        member.save(update_fields=["suspended_at"])
        record_audit(
            action="member.reinstated",
            acting_user=acting_user,
            target_user=member,
            before={"suspended_at": before},
            reason=reason,
        )


def do_escalate_flag(*, flag_id: int, acting_user, note: str) -> Flag:  # noqa: ANN001
    """Hand an item to the supervisors with a note (and email the on-call list)."""
    _require_moderator(acting_user)
    note = " ".join((note or "").split())
    if not note:
        raise ModerationError("validation", "Say in a sentence why you are escalating.")
    with transaction.atomic():
        flag = _lock_flag(flag_id, acting_user)
        _first_action(flag)
        flag.escalated_to_supervisors_at = timezone.now()
        flag.supervisor_note = note
        flag.priority = min(flag.priority, Priority.HIGH)
        flag.save()
        record_audit(
            action="flag.escalated",
            acting_user=acting_user,
            message=flag.message,
            target_user=flag.message.author,
            reason=note,
        )
        send_event_on_commit(
            "supervisors", {"type": "moderation.flag", "flag_id": flag.pk, "urgent": True}
        )
        _push_flag_changed(flag)
        transaction.on_commit(
            lambda: _email_on_call(
                f"Kindred: escalation from {acting_user.display_name}",
                f"{note}\n\nOpen the moderation queue, item {flag.pk}.",
            )
        )
    return flag


def do_add_moderator_note(*, member, acting_user, text: str) -> ModeratorNote:  # noqa: ANN001
    _require_moderator(acting_user)
    text = (text or "").strip()
    if not text or len(text) > 2000:
        raise ModerationError("validation", "A note needs 1–2000 characters.")
    with transaction.atomic():
        note = ModeratorNote.objects.create(member=member, author=acting_user, text=text)
        # The note's text stays in the note (erasable); the audit row keeps the fact of it.
        record_audit(
            action="member.note_added",
            acting_user=acting_user,
            target_user=member,
            after={"note": note.pk},
        )
    return note


def _email_on_call(subject: str, body: str) -> None:
    recipients = list(getattr(django_settings, "ONCALL_EMAILS", []))
    if not recipients:
        return
    try:
        send_mail(subject, body, None, recipients, fail_silently=False)
    except Exception:  # noqa: BLE001
        logger.exception("could not email the on-call list")


def do_alert_missed_targets() -> int:
    """Supervisors hear about every queue item that waited past its response target."""
    now = timezone.now()
    alerted = 0
    with transaction.atomic():
        waiting = (
            Flag.objects.select_for_update(skip_locked=True)
            .filter(first_action_at__isnull=True, target_alerted_at__isnull=True)
            .exclude(state=FlagState.RESOLVED)
        )
        for flag in waiting:
            if (now - flag.created_at).total_seconds() <= selectors.TARGET_SECONDS[
                Priority(flag.priority)
            ]:
                continue
            flag.target_alerted_at = now
            flag.save(update_fields=["target_alerted_at"])
            send_event_on_commit(
                "supervisors", {"type": "moderation.flag", "flag_id": flag.pk, "urgent": True}
            )
            alerted += 1
        if alerted:
            transaction.on_commit(
                lambda: _email_on_call(
                    "Kindred: moderation targets missed",
                    f"{alerted} queue item(s) waited past their response target.",
                )
            )
    return alerted


def unread_notice_frames(*, user) -> list[dict]:  # noqa: ANN001
    """Notices she has not dismissed yet, as frames (sent after every room.joined)."""
    unread = Notice.objects.filter(user=user, read_at__isnull=True).order_by("created_at")[:20]
    return [
        {"type": "notice", "id": n.pk, "kind": n.kind, "title": n.title, "text": n.text}
        for n in unread
    ]


def do_mark_notice_read(*, user, notice_id: object) -> None:  # noqa: ANN001
    """She dismissed it. Only her own notices; unknown ids are ignored (idempotent)."""
    if isinstance(notice_id, bool) or not isinstance(notice_id, int):
        raise ModerationError("validation", "id must be a notice id.")
    Notice.objects.filter(pk=notice_id, user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --------------------------------------------------------------------------------------------
# --- Supervisor actions
# Configuration (rooms, thresholds, helplines, roles), second reviews, exports and the
# retention purge. Each checks the role on the server and writes its audit record in the same
# transaction. Free text about a member (message text, notes) never goes into an audit row:
# audit rows are append-only and must survive erasure (docs/data-protection.md).
# --------------------------------------------------------------------------------------------

from dataclasses import dataclass, field  # noqa: E402
from datetime import date  # noqa: E402

from accounts.models import Role  # noqa: E402
from chat.models import MessageRevision, RoomKind  # noqa: E402
from moderation.models import DailyCount, ModeratorDuty, SecondReview  # noqa: E402

ROOM_FIELDS = ("name", "description", "house_rules", "kind", "stage", "position", "is_archived")
HELPLINE_FIELDS = (
    "name",
    "kind",
    "contact",
    "when",
    "hours",
    "url",
    "region",
    "stages",
    "show_on_support_card",
    "position",
    "is_active",
)


def _changed(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def do_save_room(
    *, room_id: int | None, fields: dict[str, Any], acting_user, slug: str = "", reason: str = ""
) -> Room:  # noqa: ANN001
    """Create a room (with `slug`) or change one. Supervisors only; audited with the changed
    fields before and after. Archiving a room keeps its history and closes it to new joins."""
    _require_supervisor(acting_user)
    unknown = set(fields) - set(ROOM_FIELDS)
    if unknown:
        raise ModerationError("validation", f"Unknown room field(s): {', '.join(sorted(unknown))}.")
    if fields.get("kind", RoomKind.TOPIC) == RoomKind.STAGE and not fields.get("stage"):
        raise ModerationError("validation", "A stage room needs a stage.")
    with transaction.atomic():
        if room_id is None:
            if not slug or Room.objects.filter(slug=slug).exists():
                raise ModerationError(
                    "validation", "Choose a web address (slug) no other room uses."
                )
            room = Room(slug=slug)
            before: dict[str, Any] = {}
            action = "room.created"
        else:
            room = Room.objects.select_for_update().filter(pk=room_id).first()
            if room is None:
                raise ModerationError("not_found", "No such room.")
            before = {name: getattr(room, name) for name in ROOM_FIELDS}
            action = "room.updated"
        for name, value in fields.items():
            setattr(room, name, value)
        room.save()
        after = {name: getattr(room, name) for name in ROOM_FIELDS}
        old, new = _changed(before, after)
        if room_id is None:
            new = {"slug": room.slug, **after}
        if old or new:
            record_audit(
                action=action,
                acting_user=acting_user,
                room=room,
                before=old,
                after=new,
                reason=reason,
            )
    return room


def do_set_room_thresholds(
    *, room: Room, values: dict[str, float], acting_user, reason: str = ""
) -> RoomPolicy:  # noqa: ANN001
    """The supervisor page's way to change thresholds: a role check, then do_update_room_policy
    (which audits the before and after values)."""
    _require_supervisor(acting_user)
    try:
        return do_update_room_policy(
            room=room, values=values, acting_user=acting_user, reason=reason
        )
    except ValueError as exc:
        raise ModerationError("validation", str(exc)) from exc


def do_save_helpline(
    *, helpline_id: int | None, fields: dict[str, Any], acting_user, reason: str = ""
) -> Helpline:  # noqa: ANN001
    """Add or change a helpline or resource. Supervisors only; audited with before and after."""
    _require_supervisor(acting_user)
    unknown = set(fields) - set(HELPLINE_FIELDS)
    if unknown:
        raise ModerationError(
            "validation", f"Unknown helpline field(s): {', '.join(sorted(unknown))}."
        )
    with transaction.atomic():
        if helpline_id is None:
            helpline = Helpline()
            before: dict[str, Any] = {}
        else:
            helpline = Helpline.objects.select_for_update().filter(pk=helpline_id).first()
            if helpline is None:
                raise ModerationError("not_found", "No such helpline.")
            before = {name: getattr(helpline, name) for name in HELPLINE_FIELDS}
        for name, value in fields.items():
            setattr(helpline, name, value)
        helpline.save()
        old, new = _changed(before, {name: getattr(helpline, name) for name in HELPLINE_FIELDS})
        if old or new:
            record_audit(
                action="helpline.created" if helpline_id is None else "helpline.updated",
                acting_user=acting_user,
                before=old,
                after={"id": helpline.pk, **new},
                reason=reason,
            )
    return helpline


def do_mark_helpline_verified(*, helpline_id: int, acting_user, on: date | None = None) -> Helpline:  # noqa: ANN001
    """Someone rang the number or checked the website today and it is still right."""
    _require_supervisor(acting_user)
    on = on or timezone.localdate()
    with transaction.atomic():
        helpline = Helpline.objects.select_for_update().filter(pk=helpline_id).first()
        if helpline is None:
            raise ModerationError("not_found", "No such helpline.")
        before = _jsonable(helpline.last_verified)
        helpline.last_verified = on
        helpline.save(update_fields=["last_verified"])
        record_audit(
            action="helpline.verified",
            acting_user=acting_user,
            before={"id": helpline.pk, "last_verified": before},
            after={"id": helpline.pk, "last_verified": on.isoformat()},
        )
    return helpline


def do_change_user_role(user, role: str, *, acting_user, reason: str = "") -> None:  # noqa: ANN001
    """Make someone a member, moderator or supervisor. Supervisors only, never their own role
    (so the last supervisor cannot lock everyone out). A moderator taken off the roster goes off
    duty at once."""
    _require_supervisor(acting_user)
    if role not in Role.values:
        raise ModerationError("validation", f"Role must be one of: {', '.join(Role.values)}.")
    if user.pk == acting_user.pk:
        raise ModerationError("forbidden", "Ask another supervisor to change your own role.")
    with transaction.atomic():
        from accounts.models import User

        user = User.objects.select_for_update().get(pk=user.pk)
        before = user.role
        if before == role:
            return
        from accounts.actions import AccountError, check_display_name

        try:  # a new moderator must not look like a member, nor a member like staff
            check_display_name(user.display_name, role=role, exclude_user=user)
        except AccountError as exc:
            raise ModerationError(
                "conflict", f"{exc} Ask them to choose another display name first."
            ) from exc
        if (
            role == Role.MODERATOR
            and before in (Role.MEMBER, Role.TRAINEE)
            and not _signed_off_after_training(user)
        ):
            raise ModerationError(
                "conflict",
                f"{user.display_name} has not been signed off after training. Make her a "
                "trainee first; when she meets the pass mark, sign her off under "
                "Supervision → Training.",
            )
        user.role = role
        user.save(update_fields=["role"])
        if role not in (Role.MODERATOR, Role.SUPERVISOR):
            now = timezone.now()
            for duty in ModeratorDuty.objects.select_for_update().filter(
                moderator=user, ended_at__isnull=True
            ):
                duty.ended_at = now
                duty.save(update_fields=["ended_at"])
        record_audit(
            action="account.role_changed",
            acting_user=acting_user,
            target_user=user,
            before={"role": before},
            after={"role": role},
            reason=reason,
        )
        send_event_on_commit(user_group(user.pk), {"type": "user.changed"})


def _signed_off_after_training(user) -> bool:  # noqa: ANN001
    """No one triages a real mother's crisis before she has shown she can (issue 19): a member
    or trainee becomes a moderator only through sign-off (moderation.practice)."""
    from moderation.practice.selectors import is_signed_off

    return is_signed_off(user)


def do_record_second_review(
    *, flag_id: int, agrees: bool, acting_user, note: str = ""
) -> SecondReview:  # noqa: ANN001
    """A supervisor's second look at a resolved item. The note stays on the review (it may
    describe the member's words); the audit row keeps the verdict."""
    _require_supervisor(acting_user)
    note = (note or "").strip()
    if len(note) > 2000:
        raise ModerationError("validation", "A note can be at most 2000 characters.")
    with transaction.atomic():
        flag = Flag.objects.select_for_update().select_related("message").filter(pk=flag_id).first()
        if flag is None:
            raise ModerationError("not_found", "No such queue item.")
        if flag.state != FlagState.RESOLVED:
            raise ModerationError("conflict", "Only resolved items can be reviewed.")
        if flag.resolved_by_id == acting_user.pk:
            raise ModerationError("forbidden", "A second review must be by someone else.")
        if SecondReview.objects.filter(flag=flag, supervisor=acting_user).exists():
            raise ModerationError("conflict", "You have already reviewed this item.")
        review = SecondReview.objects.create(
            flag=flag, supervisor=acting_user, agrees=agrees, note=note
        )
        record_audit(
            action="flag.second_review",
            acting_user=acting_user,
            message=flag.message,
            target_user=flag.resolved_by,
            after={
                "review": review.pk,
                "flag": flag.pk,
                "agrees": agrees,
                "resolution": flag.resolution,
            },
        )
    return review


def do_record_export(
    *,
    kind: str,
    fmt: str,
    filters: dict[str, Any],
    acting_user,
    target_user=None,
    room: Room | None = None,
) -> None:  # noqa: ANN001
    """Audit an export before a byte of it is sent. `filters` must hold no free text a member
    wrote (a text search is recorded only as having been used)."""
    _require_supervisor(acting_user)
    with transaction.atomic():
        record_audit(
            action=f"export.{kind}",
            acting_user=acting_user,
            target_user=target_user,
            room=room,
            after={"format": fmt, "filters": filters},
        )


# --- Retention -----------------------------------------------------------------------------


def scrub_reasons(reasons: list[Any]) -> list[Any]:
    """Assessment and flag reasons without the words they quote (`span`), keeping which rule or
    score fired, which is what classifier-quality analytics need."""
    return [
        {k: v for k, v in r.items() if k != "span"} if isinstance(r, dict) else r
        for r in reasons or []
    ]


def scrub_message_text(message_ids: list[int]) -> None:
    """Remove the text of these messages from every place that copies it: the message, its
    earlier revisions, the quoted spans in assessments and flags, and what reporters wrote.
    Call inside a transaction."""
    from moderation.models import Assessment as AssessmentModel

    Message.objects.filter(pk__in=message_ids).update(body="", html="", content_note="")
    MessageRevision.objects.filter(message_id__in=message_ids).delete()
    for model in (AssessmentModel, Flag):
        for row in model.objects.filter(message_id__in=message_ids).only("pk", "reasons"):
            cleaned = scrub_reasons(row.reasons)
            if cleaned != row.reasons:
                model.objects.filter(pk=row.pk).update(reasons=cleaned)
    Report.objects.filter(flag__message_id__in=message_ids).exclude(reason="").update(reason="")


@dataclass
class PurgeResult:
    cutoff: Any
    messages: int = 0
    days: int = 0
    kept_under_review: int = 0
    room_days: list[tuple[str, str, int]] = field(default_factory=list)


def do_purge_expired(
    *, now=None, retention_days: int | None = None, dry_run: bool = False
) -> PurgeResult:  # noqa: ANN001
    """Remove the text and author of every message older than the retention period, except
    messages whose queue item is not yet resolved (they are purged on a later run, once it is).

    Before the text goes, each local day and room is counted into DailyCount, so analytics keep
    their numbers. Each day is its own transaction: a purge interrupted half-way has purged whole
    days and counted exactly those. Idempotent: a purged message has neither text nor author.
    Audited once per run (actor: none, the system)."""
    from datetime import datetime
    from datetime import time as dtime

    from django.db.models import Count
    from django.db.models import Q as DQ

    now = now or timezone.now()
    days = django_settings.MESSAGE_RETENTION_DAYS if retention_days is None else retention_days
    if days < 1:
        raise ValueError("The retention period must be at least one day.")
    cutoff = now - timedelta(days=days)
    unresolved = Flag.objects.exclude(state=FlagState.RESOLVED).values("message_id")
    expired = Message.objects.filter(created_at__lt=cutoff).exclude(body="", author__isnull=True)
    result = PurgeResult(cutoff=cutoff)
    result.kept_under_review = expired.filter(pk__in=unresolved).count()
    candidates = expired.exclude(pk__in=unresolved)
    first = candidates.order_by("created_at").values_list("created_at", flat=True).first()
    if first is None:
        return result
    tz = timezone.get_current_timezone()
    day = timezone.localtime(first, tz).date()
    last_day = timezone.localtime(cutoff, tz).date()
    while day <= last_day:
        start = timezone.make_aware(datetime.combine(day, dtime.min), tz)
        day_end = timezone.make_aware(datetime.combine(day + timedelta(days=1), dtime.min), tz)
        end = min(day_end, cutoff)
        with transaction.atomic():
            todays = candidates.filter(created_at__gte=start, created_at__lt=end)
            per_room = list(
                todays.values("room_id").annotate(
                    n=Count("id"),
                    held=Count("id", filter=DQ(state=MessageState.HELD)),
                    hidden=Count("id", filter=DQ(state=MessageState.HIDDEN)),
                    deleted=Count("id", filter=DQ(state=MessageState.DELETED)),
                    flagged=Count("flag"),
                )
            )
            if per_room:
                result.days += 1
            for row in per_room:
                result.messages += row["n"]
                result.room_days.append((day.isoformat(), str(row["room_id"]), row["n"]))
                if dry_run:
                    continue
                count = (
                    DailyCount.objects.select_for_update()
                    .filter(day=day, room_id=row["room_id"])
                    .first()
                )
                if count is None:
                    # Counted while every message of the day still has its author: the messages
                    # kept under review today are purged later, and their authors are in here.
                    day_window = Message.objects.filter(
                        room_id=row["room_id"],
                        created_at__gte=start,
                        created_at__lt=day_end,
                        author__isnull=False,
                    )
                    count = DailyCount(
                        day=day,
                        room_id=row["room_id"],
                        authors=day_window.values("author_id").distinct().count(),
                    )
                count.messages += row["n"]
                count.held += row["held"]
                count.hidden += row["hidden"]
                count.deleted += row["deleted"]
                count.flagged += row["flagged"]
                count.purged_at = now
                count.save()
            if per_room and not dry_run:
                ids = list(todays.values_list("pk", flat=True))
                scrub_message_text(ids)
                Message.objects.filter(pk__in=ids).update(author=None)
        day += timedelta(days=1)
    if not dry_run and result.messages:
        with transaction.atomic():
            record_audit(
                action="retention.purged",
                acting_user=None,
                after={
                    "messages": result.messages,
                    "days": result.days,
                    "retention_days": days,
                    "cutoff": cutoff.isoformat(),
                    "kept_under_review": result.kept_under_review,
                },
            )
    return result


# --- Kindred's safety model: shadow runs and promotion ------------------------------------------


def do_record_shadow_assessments(
    keys: list[tuple[int, int]],
    shadow: list,
    *,
    version: str,
    live: list,
    live_version: str,  # noqa: ANN001
) -> int:
    """Store what the shadow model would have decided for each (message id, revision). Idempotent:
    a message re-scored after a worker restart keeps its first shadow row."""
    from moderation.models import ShadowAssessment

    now = timezone.now()
    objs = [
        ShadowAssessment(
            message_id=pk,
            revision=revision,
            version=version,
            verdict=sf.verdict,
            live_version=live_version if lv is not None else "",
            live_verdict=lv.verdict if lv is not None else "",
            scores=sf.as_dict(),
            created_at=now,
        )
        for (pk, revision), sf, lv in zip(keys, shadow, live, strict=True)
    ]
    with transaction.atomic():
        created = ShadowAssessment.objects.bulk_create(objs, ignore_conflicts=True)
    return len(created)


class SafetyModelError(ValueError):
    pass


def _check_supervisor(acting_user) -> None:  # noqa: ANN001
    if not getattr(acting_user, "is_supervisor", False):
        raise PermissionError("Only supervisors change which safety model is live.")


def do_start_shadow_model(*, version: str, acting_user, reason: str = "") -> None:  # noqa: ANN001
    """Run ``version`` in shadow beside the live model (replacing any other shadow). Audited."""
    from moderation.models import SafetyModelRelease, SafetyModelState
    from moderation.safety_model import available_versions

    _check_supervisor(acting_user)
    live, _ = selectors.safety_model_versions()
    if version not in available_versions():
        raise SafetyModelError(f"There is no trained model called {version!r}.")
    if version == live:
        raise SafetyModelError(f"{version} is already the live model.")
    with transaction.atomic():
        previous = list(
            SafetyModelRelease.objects.select_for_update()
            .filter(state=SafetyModelState.SHADOW)
            .exclude(version=version)
            .values_list("version", flat=True)
        )
        SafetyModelRelease.objects.filter(version__in=previous).update(
            state=SafetyModelState.RETIRED, changed_at=timezone.now(), changed_by=acting_user
        )
        SafetyModelRelease.objects.update_or_create(
            version=version,
            defaults={
                "state": SafetyModelState.SHADOW,
                "changed_at": timezone.now(),
                "changed_by": acting_user,
            },
        )
        record_audit(
            action="safety_model.shadow_started",
            acting_user=acting_user,
            before={"shadow": previous[0] if previous else None},
            after={"shadow": version, "live": live},
            reason=reason,
        )


def do_promote_safety_model(*, version: str, acting_user, reason: str) -> None:  # noqa: ANN001
    """Make the shadow model ``version`` live; the previous live model is retired. Audited with
    the reason (a supervisor must say why: the comparison she saw)."""
    from moderation.models import SafetyModelRelease, SafetyModelState

    _check_supervisor(acting_user)
    reason = " ".join((reason or "").split())
    if not reason:
        raise SafetyModelError("Say why you are promoting this model (what the comparison showed).")
    with transaction.atomic():
        row = SafetyModelRelease.objects.select_for_update().filter(version=version).first()
        if row is None or row.state != SafetyModelState.SHADOW:
            raise SafetyModelError(
                "Only a model running in shadow can be promoted: start a shadow run first."
            )
        live, _ = selectors.safety_model_versions()
        now = timezone.now()
        SafetyModelRelease.objects.filter(state=SafetyModelState.LIVE).update(
            state=SafetyModelState.RETIRED, changed_at=now, changed_by=acting_user
        )
        if live and live != version:
            SafetyModelRelease.objects.update_or_create(
                version=live,
                defaults={
                    "state": SafetyModelState.RETIRED,
                    "changed_at": now,
                    "changed_by": acting_user,
                },
            )
        row.state, row.changed_at, row.changed_by = SafetyModelState.LIVE, now, acting_user
        row.save()
        record_audit(
            action="safety_model.promoted",
            acting_user=acting_user,
            before={"live": live},
            after={"live": version},
            reason=reason,
        )


def do_reject_safety_model(*, version: str, acting_user, reason: str) -> None:  # noqa: ANN001
    """Stop the shadow run of ``version`` and mark it rejected. Audited."""
    from moderation.models import SafetyModelRelease, SafetyModelState

    _check_supervisor(acting_user)
    reason = " ".join((reason or "").split())
    if not reason:
        raise SafetyModelError("Say why you are rejecting this model.")
    with transaction.atomic():
        row = SafetyModelRelease.objects.select_for_update().filter(version=version).first()
        if row is None or row.state != SafetyModelState.SHADOW:
            raise SafetyModelError("Only a model running in shadow can be rejected.")
        row.state, row.changed_at, row.changed_by = (
            SafetyModelState.REJECTED,
            timezone.now(),
            acting_user,
        )
        row.save()
        record_audit(
            action="safety_model.rejected",
            acting_user=acting_user,
            before={"shadow": version},
            after={"shadow": None},
            reason=reason,
        )
