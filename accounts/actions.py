"""Every write to accounts happens here."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.display_names import (
    has_invisible_letters,
    is_reserved_display_name,
    names_look_alike,
    normalise_display_name,
)
from accounts.models import Role, Stage, User, display_name_validators
from moderation.audit import record_audit


class AccountError(ValueError):
    """A typed, user-facing reason why an account could not be created or changed."""


STAFF_ROLES = (Role.MODERATOR, Role.SUPERVISOR)


def check_display_name(display_name: str, *, role: str = Role.MEMBER, exclude_user: User | None = None) -> str:
    """The one check for every display name that is set or that changes role: returns the name
    to store (NFKC, single spaces) or raises AccountError with a reason she can act on.

    Beyond the format and case-insensitive uniqueness, a name must not look like a staff
    member's (`Мorgan`, `ｍｏｒｇａｎ`, `Morgan.` beside moderator Morgan), and a staff
    member's must not look like anyone else's, so that nobody in a room can pass for a
    moderator and no moderator can pass for a member (accounts.display_names). `role` is the
    role the account will have; `exclude_user` is the account itself when it already exists.

    Staff names are few, so a member's name is compared with each of them; a staff name is
    compared with every account's, which is linear in the members but happens only when an
    account is made staff."""
    name = normalise_display_name(display_name)
    for validator in display_name_validators:
        try:
            validator(name)
        except ValidationError as exc:
            raise AccountError(f"Display name: {' '.join(exc.messages)}") from exc
    if has_invisible_letters(name):
        raise AccountError("Display name: use visible letters only.")
    if is_reserved_display_name(name):
        raise AccountError("Display names starting “Former member” are kept for erased accounts; please choose another.")
    others = User.objects.all()
    if exclude_user is not None:
        others = others.exclude(pk=exclude_user.pk)
    if others.filter(display_name__iexact=name).exists():
        raise AccountError("That display name is taken; please choose another.")
    if role in STAFF_ROLES:
        for other in others.values_list("display_name", flat=True).iterator(chunk_size=2000):
            if names_look_alike(name, other):
                raise AccountError(
                    f"That display name looks like “{other}”, another account's name; "
                    "staff names must be unmistakable, so please choose another."
                )
    else:
        for other in others.filter(role__in=STAFF_ROLES).values_list("display_name", flat=True):
            if names_look_alike(name, other):
                raise AccountError("That display name looks like a moderator's name; please choose another.")
    return name


def do_create_account(
    *,
    username: str,
    password: str,
    display_name: str,
    role: str = Role.MEMBER,
    stage: str = "",
    region: str = "",
    adult_confirmed: bool = False,
    guidelines_accepted: bool = False,
    acting_user: User | None = None,
    validate_password_strength: bool = True,
) -> User:
    """Create an account after validating every field; raises AccountError with a clear reason."""
    username = username.strip()
    if not username or len(username) > 150:
        raise AccountError("Username must be 1–150 characters.")
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"An account with username {username!r} already exists.")
    if role not in Role.values:
        raise AccountError(f"Role must be one of: {', '.join(Role.values)}.")
    if stage and stage not in Stage.values:
        raise AccountError(f"Stage must be one of: {', '.join(Stage.values)}.")
    if role == Role.MEMBER and not stage:
        raise AccountError("Members need a stage so they can join the right room.")
    name = check_display_name(display_name or username, role=role)
    user = User(username=username, display_name=name, role=role, stage=stage, region=region.strip())
    if validate_password_strength:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise AccountError("Password: " + " ".join(exc.messages)) from exc
    elif not password:
        raise AccountError("Password must not be empty.")
    user.set_password(password)
    now = timezone.now()
    user.adult_confirmed_at = now if adult_confirmed else None
    user.guidelines_accepted_at = now if guidelines_accepted else None
    with transaction.atomic():
        user.save()
        record_audit(
            action="account.created",
            acting_user=acting_user,
            target_user=user,
            # No display name: the pseudonym is replaced on erasure and audit rows cannot be
            # rewritten; the target_user link shows the current one (docs/data-protection.md).
            after={"role": role, "stage": stage},
        )
    return user


def do_change_stage(user: User, stage: str, *, acting_user: User) -> User:
    if stage not in Stage.values:
        raise AccountError(f"Stage must be one of: {', '.join(Stage.values)}.")
    before = user.stage
    if before == stage:
        return user
    with transaction.atomic():
        user.stage = stage
        user.save(update_fields=["stage"])
        record_audit(
            action="account.stage_changed",
            acting_user=acting_user,
            target_user=user,
            before={"stage": before},
            after={"stage": stage},
        )
        _push_user_changed(user)
    return user


def _push_user_changed(user: User) -> None:
    """Her open room sockets reload her and leave rooms she may no longer be in."""
    from chat.events import send_event_on_commit, user_group

    send_event_on_commit(user_group(user.pk), {"type": "user.changed"})


# --- Data rights (docs/data-protection.md) ----------------------------------------------------


def _may_act_for(user: User, acting_user: User) -> None:
    if acting_user is None or not (acting_user.pk == user.pk or acting_user.is_supervisor):
        raise AccountError("Only the member herself or a supervisor can do this.")


def do_export_member_data(user: User, *, acting_user: User) -> dict:
    """Everything Kindred holds about a member that she gave us or that is about her, as one
    JSON-ready dict: her account, her messages with their earlier versions, reactions, reports,
    notices, mutes, and what moderators did about her messages. Audited as account.data_exported.

    Moderators' private notes are included: they are about her, and UK GDPR gives her a right to
    them. Other members' messages are not (they are theirs)."""
    from chat.models import MemberFilter, Membership, Message, Reaction
    from moderation.models import Flag, ModeratorNote, Mute, Notice, Report

    _may_act_for(user, acting_user)

    def when(value):  # noqa: ANN001, ANN202
        return value.isoformat() if value else None

    messages = []
    for m in Message.objects.filter(author=user).select_related("room").prefetch_related("revisions").order_by("created_at", "pk"):
        flag = Flag.objects.filter(message=m).first()
        messages.append({
            "room": m.room.slug, "seq": m.seq, "created_at": when(m.created_at), "text": m.body,
            "content_note": m.content_note, "state": m.state, "edited_at": when(m.edited_at),
            "earlier_versions": [{"revision": r.revision, "text": r.body, "replaced_at": when(r.replaced_at)} for r in m.revisions.all()],
            "moderation": None if flag is None else {
                "category": flag.category, "state": flag.state, "resolution": flag.resolution,
                "created_at": when(flag.created_at), "resolved_at": when(flag.resolved_at),
            },
        })
    data = {
        "format": "kindred-member-data/1",
        "generated_at": timezone.now().isoformat(),
        "account": {
            "username": user.username, "display_name": user.display_name, "role": user.role,
            "stage": user.stage, "region": user.region, "joined": when(user.date_joined),
            "adult_confirmed_at": when(user.adult_confirmed_at),
            "guidelines_accepted_at": when(user.guidelines_accepted_at),
            "suspended_at": when(user.suspended_at), "collapsed_topics": user.collapse_topics,
        },
        "rooms": [{"room": ms.room.slug, "joined_at": when(ms.joined_at)} for ms in Membership.objects.filter(user=user).select_related("room")],
        "messages": messages,
        "reactions": [{"room": r.message.room.slug, "seq": r.message.seq, "kind": r.kind, "created_at": when(r.created_at)}
                      for r in Reaction.objects.filter(user=user).select_related("message__room")],
        "reports_made": [{"room": r.flag.message.room.slug, "seq": r.flag.message.seq, "reason": r.reason, "created_at": when(r.created_at)}
                         for r in Report.objects.filter(reporter=user).select_related("flag__message__room")],
        "muted_or_blocked": [{"display_name": f.other.display_name, "kind": f.kind, "created_at": when(f.created_at)}
                             for f in MemberFilter.objects.filter(owner=user).select_related("other")],
        "notices": [{"kind": n.kind, "title": n.title, "text": n.text, "created_at": when(n.created_at)}
                    for n in Notice.objects.filter(user=user)],
        "posting_pauses": [{"room": mu.room.slug, "until": when(mu.until), "lifted_at": when(mu.lifted_at), "created_at": when(mu.created_at)}
                           for mu in Mute.objects.filter(user=user).select_related("room")],
        "moderator_notes": [{"kind": n.kind, "text": n.text, "created_at": when(n.created_at)}
                            for n in ModeratorNote.objects.filter(member=user)],
    }
    with transaction.atomic():
        record_audit(action="account.data_exported", acting_user=acting_user, target_user=user,
                     after={"messages": len(messages)})
    return data


def erased_display_name(user: User) -> str:
    return f"Former member {user.pk}"


def do_erase_account(user: User, *, acting_user: User, reason: str = "") -> None:
    """Erase a member's account: her words go from every table, her pseudonym is replaced, and she
    is logged out everywhere and cannot log in again.

    What stays: the rows that make the service accountable and the statistics honest, with no
    text of hers in them: her messages as empty placeholders (so room sequence numbers and the
    audit trail still line up), queue items about them (reasons without quoted words), and the
    audit rows, which by design never held her words (docs/data-protection.md). Audited as
    account.erased. Moderators' and supervisors' accounts cannot be erased here: change the role
    first (their actions must stay attributable while they hold the role)."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.hashers import make_password
    from django.contrib.contenttypes.models import ContentType

    from chat.events import send_event_on_commit, user_group
    from chat.models import MemberFilter, Membership, Message, Presence, Reaction
    from moderation.actions import _end_sessions, scrub_message_text
    from moderation.models import Flag, FlagState, ModeratorNote, Notice, Report, SecondReview

    _may_act_for(user, acting_user)
    if user.role != Role.MEMBER:
        raise AccountError("Staff accounts are erased after a supervisor changes the role to member.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.username.startswith("erased-"):
            raise AccountError("This account has already been erased.")
        old_name = user.display_name
        new_name = erased_display_name(user)
        message_ids = list(Message.objects.filter(author=user).values_list("pk", flat=True))
        scrub_message_text(message_ids)
        # Her messages stay as empty "deleted" placeholders so room sequence numbers have no gaps.
        Message.objects.filter(pk__in=message_ids).update(state="deleted", client_id=_erased_client_id())
        flags = Flag.objects.filter(message_id__in=message_ids)
        flags.update(resolution_note="", supervisor_note="")
        flags.exclude(state=FlagState.RESOLVED).update(
            state=FlagState.RESOLVED, resolution="account_erased", resolved_at=timezone.now(), claimed_by=None
        )
        SecondReview.objects.filter(flag__message_id__in=message_ids).update(note="")
        Report.objects.filter(reporter=user).update(reason="")
        Notice.objects.filter(user=user).delete()
        ModeratorNote.objects.filter(member=user).delete()
        Reaction.objects.filter(user=user).delete()
        MemberFilter.objects.filter(owner=user).delete()
        MemberFilter.objects.filter(other=user).delete()
        Membership.objects.filter(user=user).delete()
        Presence.objects.filter(user=user).delete()
        _scrub_facilitation(user, old_name, new_name)
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).update(
            object_repr=new_name, change_message=""
        )
        user.username = f"erased-{user.pk}"
        user.display_name = new_name
        user.first_name = user.last_name = user.email = ""
        user.stage = user.region = ""
        user.collapse_topics = []
        user.adult_confirmed_at = user.guidelines_accepted_at = user.last_login = None
        user.password = make_password(None)
        user.is_active = False
        user.save()
        record_audit(action="account.erased", acting_user=acting_user,
                     target_user=user, after={"messages": len(message_ids)}, reason=reason)
        _end_sessions(user)
        send_event_on_commit(user_group(user.pk), {"type": "user.disconnect", "code": "erased",
                                                    "message": "This account has been erased.", "close_code": 4410})


def _erased_client_id():  # noqa: ANN202
    """A per-row client id computed in SQL, replacing the one her device made up."""
    from django.db.models import CharField, F, Value
    from django.db.models.functions import Cast, Concat

    return Concat(Value("erased-"), Cast(F("pk"), output_field=CharField()))


def _scrub_facilitation(user: User, old_name: str, new_name: str) -> None:
    """Facilitator prompts name the member they are about; replace her pseudonym there. Guarded:
    facilitation may not be installed in every build."""
    try:
        from moderation.facilitation.models import PromptRecord
    except ImportError:
        return
    from django.utils.html import escape

    from chat.models import Message

    for record in PromptRecord.objects.filter(target_user=user).select_related("message"):
        if record.message is not None:
            # The facilitator's message that carried the prompt names her.
            Message.objects.filter(pk=record.message.pk).update(
                body=record.message.body.replace(old_name, new_name),
                html=record.message.html.replace(escape(old_name), escape(new_name)),
            )
        record.text = record.text.replace(old_name, new_name)
        record.sent_text = record.sent_text.replace(old_name, new_name)
        record.target = new_name[:30]
        record.save(update_fields=["text", "sent_text", "target"])


# --- Reading preferences ---------------------------------------------------------------------


def do_set_collapse_topics(user: User, topics: object, *, acting_user: User) -> User:
    """Choose which content-note topics stay collapsed for her until she taps them.

    `topics` must be a list of chat.content_notes.TOPICS keys; it is stored deduplicated, in the
    order TOPICS lists them. The audit row says that it changed and how many topics, but not
    which: audit rows are append-only and outlive erasure, and which subjects a mother would
    rather not read about is health information she told nobody."""
    from chat.content_notes import TOPICS

    _may_act_for(user, acting_user)
    if not isinstance(topics, (list, tuple)) or not all(isinstance(t, str) for t in topics):
        raise AccountError("Content-note topics must be a list.")
    unknown = sorted(set(topics) - set(TOPICS))
    if unknown:
        raise AccountError(f"Unknown content-note topic: {', '.join(unknown)}.")
    chosen = [t for t in TOPICS if t in set(topics)]
    before = list(user.collapse_topics or [])
    if before == chosen:
        return user
    with transaction.atomic():
        user.collapse_topics = chosen
        user.save(update_fields=["collapse_topics"])
        record_audit(
            action="account.collapse_topics_changed",
            acting_user=acting_user,
            target_user=user,
            before={"count": len(before)},
            after={"count": len(chosen)},
        )
    return user
