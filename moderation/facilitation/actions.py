"""Every write for facilitated sessions: scheduling (supervisors), acting on prompts (facilitators),
and recording what the engine offered (the runtime). Audited inside the transaction; pushes only
after commit, through chat.events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from chat.actions import check_send_message
from chat.errors import ChatError
from chat.events import room_group, send_event_on_commit, user_group
from chat.models import Room
from moderation.audit import record_audit
from moderation.facilitation.engine import Prompt
from moderation.facilitation.library import PromptLibrary, PromptLibraryError
from moderation.facilitation.models import (
    FacilitatedSession,
    PromptRecord,
    PromptState,
    PromptTemplate,
    SessionCancellation,
    SessionOccurrence,
)
from moderation.models import Notice

# A session longer than this is almost certainly a typo (10pm instead of 10am the next day); it
# would also let a weekly series overlap itself.
MAX_SESSION_LENGTH = timedelta(hours=4)
MIN_SESSION_LENGTH = timedelta(minutes=10)


class FacilitationError(Exception):
    """A refused facilitation action, with a message fit to show the person who tried it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _require_supervisor(user: Any) -> None:
    if not getattr(user, "is_authenticated", False) or not user.is_supervisor or user.is_suspended:
        raise FacilitationError("forbidden", "Only supervisors can schedule sessions.")


def _check_facilitators(facilitators: Iterable[User]) -> list[User]:
    people = list(dict.fromkeys(facilitators))
    if not people:
        raise FacilitationError("validation", "A session needs at least one facilitator.")
    for person in people:
        if person.role not in (Role.MODERATOR, Role.SUPERVISOR) or person.is_suspended:
            raise FacilitationError(
                "validation", f"{person.display_name} is not a moderator, so cannot facilitate."
            )
    return people


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise FacilitationError("validation", "Start and end need a time zone.")
    length = ends_at - starts_at
    if length < MIN_SESSION_LENGTH:
        raise FacilitationError(
            "validation", "A session must end at least 10 minutes after it starts."
        )
    if length > MAX_SESSION_LENGTH:
        raise FacilitationError("validation", "A session can last at most 4 hours.")


def _snapshot(session: FacilitatedSession) -> dict[str, Any]:
    return {
        "room": session.room.slug,
        "title": session.title,
        "focus": session.focus,
        "topic": session.topic,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "weekly": session.weekly,
        "repeat_until": session.repeat_until.isoformat() if session.repeat_until else None,
        "facilitators": sorted(session.facilitators.values_list("pk", flat=True)),
    }


@dataclass(frozen=True)
class SessionFields:
    """What a supervisor sets on a session (the create and edit forms produce one)."""

    room: Room
    title: str
    focus: str
    starts_at: datetime
    ends_at: datetime
    facilitators: Sequence[User]
    topic: str = ""
    weekly: bool = False
    repeat_until: date | None = None


def _clean(fields: SessionFields) -> tuple[str, str, list[User]]:
    title = " ".join(fields.title.split())
    focus = " ".join(fields.focus.split())
    if not title:
        raise FacilitationError("validation", "A session needs a title.")
    if not focus:
        raise FacilitationError(
            "validation", "A session needs a focus: a sentence or two on what it is about."
        )
    if fields.room.is_archived:
        raise FacilitationError("validation", "That room is archived.")
    _check_times(fields.starts_at, fields.ends_at)
    if (
        fields.repeat_until is not None
        and fields.repeat_until < timezone.localtime(fields.starts_at).date()
    ):
        raise FacilitationError("validation", "“Repeat until” is before the first session.")
    return title, focus, _check_facilitators(fields.facilitators)


def do_create_session(fields: SessionFields, *, acting_user: User) -> FacilitatedSession:
    """Schedule a session. Supervisors only; audited as ``session.create``."""
    _require_supervisor(acting_user)
    title, focus, facilitators = _clean(fields)
    with transaction.atomic():
        session = FacilitatedSession.objects.create(
            room=fields.room,
            title=title,
            focus=focus,
            topic=fields.topic,
            starts_at=fields.starts_at,
            ends_at=fields.ends_at,
            weekly=fields.weekly,
            repeat_until=fields.repeat_until if fields.weekly else None,
            created_by=acting_user,
        )
        session.facilitators.set(facilitators)
        record_audit(
            action="session.create",
            acting_user=acting_user,
            room=session.room,
            after=_snapshot(session),
        )
    return session


def _lock_session(session_id: int) -> FacilitatedSession:
    try:
        return (
            FacilitatedSession.objects.select_for_update(of=("self",))
            .select_related("room")
            .get(pk=session_id)
        )
    except FacilitatedSession.DoesNotExist as exc:
        raise FacilitationError("not_found", "There is no such session.") from exc


def do_update_session(
    session_id: int, fields: SessionFields, *, acting_user: User
) -> FacilitatedSession:
    """Change a session. Supervisors only; audited as ``session.update`` with before and after.

    A change to a session under way takes effect at its next occurrence for the engine (which has
    already been told the focus and length), but the schedule members see changes at once.
    """
    _require_supervisor(acting_user)
    title, focus, facilitators = _clean(fields)
    with transaction.atomic():
        session = _lock_session(session_id)
        if session.cancelled_at is not None:
            raise FacilitationError("conflict", "This session has been cancelled.")
        before = _snapshot(session)
        session.room = fields.room
        session.title = title
        session.focus = focus
        session.topic = fields.topic
        session.starts_at = fields.starts_at
        session.ends_at = fields.ends_at
        session.weekly = fields.weekly
        session.repeat_until = fields.repeat_until if fields.weekly else None
        session.save()
        session.facilitators.set(facilitators)
        after = _snapshot(session)
        if after != before:
            record_audit(
                action="session.update",
                acting_user=acting_user,
                room=session.room,
                before=before,
                after=after,
            )
    return session


def do_cancel_session(
    session_id: int, *, acting_user: User, on_date: date | None = None, reason: str = ""
) -> FacilitatedSession:
    """Cancel one meeting (``on_date``, local date) or, without a date, the whole series.
    Supervisors only; audited as ``session.cancel`` / ``session.cancel_occurrence``. Idempotent."""
    _require_supervisor(acting_user)
    reason = reason.strip()[:300]
    with transaction.atomic():
        session = _lock_session(session_id)
        now = timezone.now()
        if on_date is None:
            if session.cancelled_at is None:
                session.cancelled_at = now
                session.save(update_fields=["cancelled_at", "updated_at"])
                record_audit(
                    action="session.cancel",
                    acting_user=acting_user,
                    room=session.room,
                    before={"cancelled_at": None},
                    after={"cancelled_at": now.isoformat(), "title": session.title},
                    reason=reason,
                )
            return session
        meets_that_day = any(
            o.local_date == on_date
            for o in session.occurrences(
                after=_local_midnight(on_date) - timedelta(days=1),
                before=_local_midnight(on_date + timedelta(days=1)),
            )
        )
        if not meets_that_day:
            raise FacilitationError(
                "validation", f"This session does not meet on {on_date:%A %-d %B %Y}."
            )
        _, created = SessionCancellation.objects.get_or_create(
            session=session,
            date=on_date,
            defaults={"reason": reason, "cancelled_by": acting_user, "cancelled_at": now},
        )
        if created:
            record_audit(
                action="session.cancel_occurrence",
                acting_user=acting_user,
                room=session.room,
                after={"date": on_date.isoformat(), "title": session.title},
                reason=reason,
            )
    return session


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day))


# --- the runtime's writes --------------------------------------------------------------------------


def serialize_prompt(record: PromptRecord) -> dict[str, Any]:
    session = record.session
    return {
        "id": record.pk,
        "session": {"id": session.pk, "title": session.title, "room": session.room.slug},
        "signal": record.signal,
        "text": record.text,
        "reason": record.reason,
        "target": record.target or None,
        "private": record.is_private,
        "shown_at": record.shown_at.isoformat(),
        "state": record.state,
    }


def _facilitator_ids(session: FacilitatedSession) -> list[int]:
    return list(session.facilitators.filter(suspended_at__isnull=True).values_list("pk", flat=True))


def _push_to_facilitators(session: FacilitatedSession, frame: dict[str, Any]) -> None:
    # Only the session's facilitators, through their private groups; never the room group.
    for user_id in _facilitator_ids(session):
        send_event_on_commit(user_group(user_id), {"type": "user.notice", "frame": frame})


def do_record_prompts(
    *,
    session: FacilitatedSession,
    occurrence_start: datetime,
    prompts: Sequence[Prompt],
    worker: str,
    now: datetime,
    targets: dict[str, int] | None = None,
) -> list[PromptRecord]:
    """Store the prompts the engine offered and push each to the session's facilitators after
    commit. Skips a prompt already recorded (same signal, t and target for this occurrence: a
    second runtime, or this one rebuilt after a restart). Returns the records created."""
    created: list[PromptRecord] = []
    targets = targets or {}
    with transaction.atomic():
        for prompt in prompts:
            try:
                with transaction.atomic():
                    record = PromptRecord.objects.create(
                        session=session,
                        occurrence_start=occurrence_start,
                        t=prompt.t,
                        signal=prompt.signal,
                        text=prompt.text,
                        reason=prompt.reason,
                        target=(prompt.target or "")[:30],
                        target_user_id=targets.get(prompt.target or ""),
                        shown_at=now,
                        worker=worker,
                    )
            except IntegrityError:
                continue
            created.append(record)
            _push_to_facilitators(
                session, {"type": "facilitator.prompt", "prompt": serialize_prompt(record)}
            )
    return created


def do_announce_session(
    *,
    session: FacilitatedSession,
    starts_at: datetime,
    ends_at: datetime,
    event: str,
    now: datetime,
) -> bool:
    """Tell the room that a session has started or ended (``event`` is "started" or "ended"), once
    per occurrence. Returns whether this call made the announcement."""
    assert event in ("started", "ended")
    field = f"{event}_announced_at"
    with transaction.atomic():
        run, _ = SessionOccurrence.objects.get_or_create(
            session=session, starts_at=starts_at, defaults={"ends_at": ends_at}
        )
        updated = SessionOccurrence.objects.filter(pk=run.pk, **{f"{field}__isnull": True}).update(
            **{field: now}
        )
        if not updated:
            return False
        if event == "started":
            # Members of the room who turned on session notifications, and are not in it now.
            from chat.notifications.actions import notify_session_start

            notify_session_start(session)
        send_event_on_commit(
            room_group(session.room_id),
            {
                "type": "chat.session",
                "frame": {
                    "type": f"session.{event}",
                    "session": {
                        "id": session.pk,
                        "title": session.title,
                        "focus": session.focus,
                        "starts_at": starts_at.isoformat(),
                        "ends_at": ends_at.isoformat(),
                        "facilitators": list(
                            session.facilitators.values_list("display_name", flat=True)
                        ),
                    },
                },
            },
        )
    return True


# --- the facilitator's writes ------------------------------------------------------------------------


def _lock_prompt(prompt_id: int, acting_user: User) -> PromptRecord:
    try:
        record = (
            # of=("self",): PostgreSQL cannot lock the nullable side of the join to target_user.
            PromptRecord.objects.select_for_update(of=("self",))
            .select_related("session", "session__room", "target_user")
            .get(pk=prompt_id)
        )
    except PromptRecord.DoesNotExist as exc:
        raise FacilitationError("not_found", "There is no such prompt.") from exc
    if (
        not getattr(acting_user, "is_authenticated", False)
        or not acting_user.is_moderator
        or acting_user.is_suspended
        or not record.session.facilitators.filter(pk=acting_user.pk).exists()
    ):
        raise FacilitationError(
            "forbidden", "Only a facilitator of this session can act on its prompts."
        )
    if record.state != PromptState.SHOWN:
        who = record.acted_by.display_name if record.acted_by else "Someone"
        raise FacilitationError("conflict", f"{who} has already {record.state} this prompt.")
    return record


def _closed_frame(record: PromptRecord) -> dict[str, Any]:
    return {
        "type": "facilitator.prompt_closed",
        "prompt": {
            "id": record.pk,
            "state": record.state,
            "acted_by": record.acted_by.display_name if record.acted_by else None,
        },
    }


def do_send_prompt(prompt_id: int, text: str | None = None, *, acting_user: User) -> PromptRecord:
    """Send a prompt, as offered or edited, as the facilitator.

    A room prompt is posted into the room through chat.actions.check_send_message, so it is stored,
    sequenced, moderated and rate-limited like any message (client_id ``prompt-<id>`` makes a double
    click harmless). A ``check_in`` prompt is about one member who may be struggling, so it never
    goes to the room: it is delivered to her alone as a private notice from the facilitator.
    Audited as ``facilitation.prompt_sent`` with the offered and the sent text.
    """
    with transaction.atomic():
        record = _lock_prompt(prompt_id, acting_user)
        body = record.text if text is None or not str(text).strip() else str(text)
        message = None
        if record.is_private:
            if record.target_user is None:
                raise FacilitationError(
                    "conflict",
                    "This check-in has no member to go to; please message her another way.",
                )
            notice = Notice.objects.create(
                user=record.target_user,
                kind="check_in",
                title=f"A message from {acting_user.display_name}",
                text=body.strip(),
            )
            send_event_on_commit(
                user_group(record.target_user_id),
                {
                    "type": "user.notice",
                    "frame": {
                        "type": "notice",
                        "id": notice.pk,
                        "kind": notice.kind,
                        "title": notice.title,
                        "text": notice.text,
                    },
                },
            )
        else:
            try:
                message, _ = check_send_message(
                    author=acting_user,
                    room=record.session.room,
                    client_id=f"prompt-{record.pk:06d}",
                    body=body,
                )
            except ChatError as exc:
                raise FacilitationError(exc.code, exc.message) from exc
            body = message.body
        now = timezone.now()
        record.state = PromptState.SENT
        record.sent_text = body.strip()
        record.acted_by = acting_user
        record.acted_at = now
        record.message = message
        record.save(update_fields=["state", "sent_text", "acted_by", "acted_at", "message"])
        record_audit(
            action="facilitation.prompt_sent",
            acting_user=acting_user,
            target_user=record.target_user,
            room=record.session.room,
            message=message,
            # Ids, not text: a prompt can name a member, and audit rows can never be erased
            # (docs/data-protection.md). The text lives on the PromptRecord and the message.
            before={"prompt": record.pk, "signal": record.signal},
            after={"edited": record.edited, "private": record.is_private},
        )
        _push_to_facilitators(record.session, _closed_frame(record))
    return record


def do_dismiss_prompt(prompt_id: int, *, acting_user: User) -> PromptRecord:
    """The facilitator chose not to use a prompt. Recorded on the prompt and audited."""
    with transaction.atomic():
        record = _lock_prompt(prompt_id, acting_user)
        record.state = PromptState.DISMISSED
        record.acted_by = acting_user
        record.acted_at = timezone.now()
        record.save(update_fields=["state", "acted_by", "acted_at"])
        record_audit(
            action="facilitation.prompt_dismissed",
            acting_user=acting_user,
            target_user=record.target_user,
            room=record.session.room,
            before={"prompt": record.pk, "signal": record.signal},
        )
        _push_to_facilitators(record.session, _closed_frame(record))
    return record


# --- the prompt library -------------------------------------------------------------------------


def check_prompt_library(rows: Iterable[tuple[str, str, str]]) -> PromptLibrary:
    """Build the library from (signal, topic, text) rows in order, filling any signal without
    default rows from the shipped file. Raises PromptLibraryError naming the bad template."""
    from moderation.facilitation.library import default_library

    signals: dict[str, list[str]] = {}
    topics: dict[str, dict[str, list[str]]] = {}
    for signal, topic, text in rows:
        if topic:
            topics.setdefault(topic, {}).setdefault(signal, []).append(text)
        else:
            signals.setdefault(signal, []).append(text)
    fallback = default_library()
    for signal, texts in fallback.templates.items():
        signals.setdefault(signal, list(texts))
    return PromptLibrary.from_mapping({"signals": signals, "topics": topics})


def _active_rows(exclude_pk: int | None = None) -> list[tuple[str, str, str]]:
    qs = PromptTemplate.objects.filter(is_active=True)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return list(
        qs.order_by("signal", "topic", "position", "pk").values_list("signal", "topic", "text")
    )


def do_save_prompt_template(
    *,
    template_id: int | None,
    signal: str,
    topic: str,
    text: str,
    position: int,
    is_active: bool,
    acting_user: User,
) -> PromptTemplate:
    """Add or change one prompt text. Supervisors only. The whole library is rebuilt with the
    change before it is saved, so a typo such as ``{nmae}`` is refused here, never mid-session."""
    _require_supervisor(acting_user)
    text = text.strip()
    rows = _active_rows(exclude_pk=template_id)
    if is_active:
        rows.append((signal, topic, text))
    try:
        check_prompt_library(rows)
    except PromptLibraryError as exc:
        raise FacilitationError("validation", str(exc)) from exc
    with transaction.atomic():
        if template_id is None:
            template = PromptTemplate(signal=signal)
            before: dict[str, Any] = {}
        else:
            try:
                template = PromptTemplate.objects.select_for_update().get(pk=template_id)
            except PromptTemplate.DoesNotExist as exc:
                raise FacilitationError("not_found", "There is no such prompt text.") from exc
            before = {
                "signal": template.signal,
                "topic": template.topic,
                "text": template.text,
                "position": template.position,
                "is_active": template.is_active,
            }
        template.signal = signal
        template.topic = topic
        template.text = text
        template.position = position
        template.is_active = is_active
        template.updated_by = acting_user
        template.save()
        record_audit(
            action="facilitation.prompt_template_saved",
            acting_user=acting_user,
            before=before,
            after={
                "id": template.pk,
                "signal": signal,
                "topic": topic,
                "text": text,
                "position": position,
                "is_active": is_active,
            },
        )
    return template
