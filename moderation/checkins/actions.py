"""Every check-in write: open, send, close. Each is audited when a moderator acts, and pushed to
the conversation's sockets only after commit (chat.events)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from chat.actions import check_action_rate, check_client_id, check_message_body
from chat.errors import ChatError
from chat.events import send_event_on_commit, user_group
from moderation.audit import record_audit
from moderation.checkins import selectors
from moderation.checkins.models import CheckIn, CheckInMessage


def _require_staff(user: User) -> None:
    if not getattr(user, "is_authenticated", False) or not user.is_moderator or user.is_suspended:
        raise ChatError("forbidden", "Only moderators can open a private check-in.")


def do_open_checkin(
    *,
    member: User,
    acting_user: User,
    flag=None,
    text: str = "",  # noqa: ANN001 - a moderation.Flag
) -> tuple[CheckIn, bool]:
    """A moderator opens a private conversation with a member, or joins the one already open
    with her (one per member). `text`, if given, is the first message. Returns (check-in,
    created). Audited as checkin.opened; the member's open pages are told after commit."""
    _require_staff(acting_user)
    if member.role != Role.MEMBER:
        raise ChatError("validation", "Check-ins are with members.")
    if member.is_suspended or not member.is_active:
        raise ChatError("validation", "This account is suspended or closed: she can't read it.")
    first = check_message_body(text) if text else ""
    created = False
    with transaction.atomic():
        checkin = selectors.open_checkin_for(member)
        if checkin is None:
            try:
                with transaction.atomic():
                    checkin = CheckIn.objects.create(
                        member=member, opened_by=acting_user, flag=flag, opened_at=timezone.now()
                    )
                created = True
            except IntegrityError:
                # Another moderator opened one with her a moment ago: join it.
                checkin = selectors.open_checkin_for(member)
        if created:
            record_audit(
                action="checkin.opened",
                acting_user=acting_user,
                target_user=member,
                after={"checkin": checkin.pk, "flag": flag.pk if flag is not None else None},
            )
        elif flag is not None and checkin.flag_id is None:
            checkin.flag = flag
            checkin.save(update_fields=["flag"])
        checkin = CheckIn.objects.select_related("member", "opened_by", "closed_by").get(
            pk=checkin.pk
        )
        if first:
            _send(checkin=checkin, author=acting_user, client_id=None, body=first)
        if created:
            send_event_on_commit(
                user_group(member.pk),
                {"type": "user.notice", "frame": selectors.opened_frame(checkin)},
            )
    return checkin, created


def check_send_checkin_message(
    *, checkin: CheckIn, author: User, client_id: object, body: object
) -> tuple[dict, bool]:
    """Validate and send one line. Idempotent on (check-in, author, client_id): a resend returns
    the stored line and creates nothing. Returns (serialized line, created)."""
    client_id = check_client_id(client_id)
    existing = (
        CheckInMessage.objects.select_related("author")
        .filter(checkin=checkin, author=author, client_id=client_id)
        .first()
    )
    if existing is not None:
        return selectors.serialize_message(existing, checkin), False
    text = check_message_body(body)
    if not selectors.may_see(author, checkin):
        raise ChatError("forbidden", "You can't write in this conversation.")
    check_action_rate(author)
    try:
        with transaction.atomic():
            message = _send(checkin=checkin, author=author, client_id=client_id, body=text)
    except IntegrityError:
        existing = CheckInMessage.objects.filter(
            checkin=checkin, author=author, client_id=client_id
        ).first()
        if existing is None:
            raise
        return selectors.serialize_message(existing, checkin), False
    return selectors.serialize_message(message, checkin), True


def _send(*, checkin: CheckIn, author: User, client_id: str | None, body: str) -> CheckInMessage:
    """Store the line with the check-in's next number under a lock on the check-in row (so two
    senders queue, a closed conversation takes nothing more, and numbers have no gaps), then push
    it after commit. Lines written by a moderator are audited (without their words: the audit is
    append-only and must never hold anything an erasure has to remove)."""
    locked = CheckIn.objects.select_for_update().get(pk=checkin.pk)
    if locked.closed_at is not None:
        raise ChatError("closed", "This conversation has been closed.")
    locked.last_seq += 1
    locked.save(update_fields=["last_seq"])
    checkin.last_seq = locked.last_seq
    message = CheckInMessage.objects.create(
        checkin=checkin,
        seq=locked.last_seq,
        author=author,
        client_id=client_id or f"srv-{checkin.pk}-{locked.last_seq}",
        body=body,
        created_at=timezone.now(),
    )
    if author.pk != checkin.member_id:
        record_audit(
            action="checkin.message_sent",
            acting_user=author,
            target_user=checkin.member,
            after={"checkin": checkin.pk, "seq": message.seq},
        )
        # A notification on her devices, if she turned them on ("You have a new private
        # message.", never the words); sent after commit (chat/notifications).
        from chat.notifications.actions import notify_member

        notify_member(checkin.member_id, "checkin", f"/checkins/{checkin.pk}/")
    frame = selectors.serialize_message(message, checkin)
    send_event_on_commit(
        selectors.checkin_group(checkin.pk), {"type": "checkin.message", "message": frame}
    )
    if author.pk == checkin.member_id and checkin.opened_by_id:
        # The moderator who opened it hears of her reply wherever her console is open.
        send_event_on_commit(
            user_group(checkin.opened_by_id),
            {
                "type": "user.notice",
                "frame": {
                    "type": "checkin.reply",
                    "checkin_id": checkin.pk,
                    "member": checkin.member.display_name,
                    "url": f"/checkins/{checkin.pk}/",
                },
            },
        )
    return message


def do_close_checkin(*, checkin: CheckIn, acting_user: User) -> CheckIn:
    """Either side ends the conversation; nothing more can be written in it (a moderator can open
    a new one). Audited as checkin.closed, whoever closed it. Closing a closed one changes
    nothing."""
    if not selectors.may_see(acting_user, checkin):
        raise ChatError("forbidden", "You can't close this conversation.")
    with transaction.atomic():
        locked = CheckIn.objects.select_for_update().get(pk=checkin.pk)
        if locked.closed_at is not None:
            return locked
        locked.closed_at = timezone.now()
        locked.closed_by = acting_user
        locked.save(update_fields=["closed_at", "closed_by"])
        by_member = acting_user.pk == locked.member_id
        record_audit(
            action="checkin.closed",
            acting_user=acting_user,
            target_user=checkin.member,
            after={"checkin": locked.pk, "closed_by": "member" if by_member else "moderator"},
        )
        send_event_on_commit(
            selectors.checkin_group(locked.pk),
            {
                "type": "checkin.closed",
                "closed_at": locked.closed_at.isoformat(),
                "closed_by": acting_user.display_name,
                "by_member": by_member,
            },
        )
    return locked
