"""Every write to accounts happens here."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import personal_data
from accounts.audit import record_audit
from accounts.display_names import (
    has_invisible_letters,
    is_reserved_display_name,
    names_look_alike,
    normalise_display_name,
)
from accounts.models import Role, Stage, User, display_name_validators
from accounts.signals import account_changed, account_erased


class AccountError(ValueError):
    """A typed, user-facing reason why an account could not be created or changed."""


STAFF_ROLES = (Role.MODERATOR, Role.SUPERVISOR)


def check_display_name(
    display_name: str, *, role: str = Role.MEMBER, exclude_user: User | None = None
) -> str:
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
        raise AccountError(
            "Display names starting “Former member” are kept for erased accounts; please choose another."
        )
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
                raise AccountError(
                    "That display name looks like a moderator's name; please choose another."
                )
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
    email: str = "",
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
    # Optional, only for a password reset link (docs/data-protection.md); validated by the form.
    user.email = User.objects.normalize_email(email.strip())
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
        # Her open pages reload her (chat: her room sockets leave rooms she may no longer be in).
        account_changed.send(sender=User, user=user)
    return user


# --- Data rights (docs/data-protection.md) ----------------------------------------------------


def _may_act_for(user: User, acting_user: User) -> None:
    if acting_user is None or not (acting_user.pk == user.pk or acting_user.is_supervisor):
        raise AccountError("Only the member herself or a supervisor can do this.")


def do_export_member_data(user: User, *, acting_user: User) -> dict:
    """Everything Kindred holds about a member that she gave us or that is about her, as one
    JSON-ready dict: her account, then each app's sections (accounts.personal_data: her
    messages with their earlier versions, reactions, reports, notices, mutes, and what
    moderators did about her messages). Audited as account.data_exported.

    Moderators' private notes are included: they are about her, and UK GDPR gives her a right to
    them. Other members' messages are not (they are theirs)."""
    _may_act_for(user, acting_user)
    data = {"format": "kindred-member-data/1", "generated_at": timezone.now().isoformat()}
    with transaction.atomic():
        personal_data.export_member_data(user, data)
        record_audit(
            action="account.data_exported",
            acting_user=acting_user,
            target_user=user,
            after={"messages": len(data.get("messages", []))},
        )
    return data


def erased_display_name(user: User) -> str:
    return f"Former member {user.pk}"


def do_erase_account(user: User, *, acting_user: User, reason: str = "") -> None:
    """Erase a member's account: her words go from every table, her pseudonym is replaced, and she
    is logged out everywhere and cannot log in again.

    Each app erases its own tables (its handler in accounts.personal_data, run in order inside
    this transaction); the account row itself goes last, since the others may still need her
    old pseudonym. What stays: the rows that make the service accountable and the statistics
    honest, with no text of hers in them: her messages as empty placeholders (so room sequence
    numbers and the audit trail still line up), queue items about them (reasons without quoted
    words), and the audit rows, which by design never held her words
    (docs/data-protection.md). Audited as account.erased. Moderators' and supervisors' accounts
    cannot be erased here: change the role first (their actions must stay attributable while
    they hold the role)."""
    _may_act_for(user, acting_user)
    if user.role != Role.MEMBER:
        raise AccountError(
            "Staff accounts are erased after a supervisor changes the role to member."
        )
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.username.startswith("erased-"):
            raise AccountError("This account has already been erased.")
        new_name = erased_display_name(user)
        counts = personal_data.erase_member_data(
            personal_data.Erasure(
                user=user,
                acting_user=acting_user,
                old_display_name=user.display_name,
                new_display_name=new_name,
            )
        )
        erase_account_row(user, new_display_name=new_name)
        record_audit(
            action="account.erased",
            acting_user=acting_user,
            target_user=user,
            after=counts,
            reason=reason,
        )
        account_erased.send(sender=User, user=user)


# Her own rows (registered in AccountsConfig.ready).


def export_account(user: User, data: dict) -> None:
    """The account section of her export."""

    def when(value):  # noqa: ANN001, ANN202
        return value.isoformat() if value else None

    data["account"] = {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "stage": user.stage,
        "region": user.region,
        "joined": when(user.date_joined),
        "adult_confirmed_at": when(user.adult_confirmed_at),
        "guidelines_accepted_at": when(user.guidelines_accepted_at),
        "suspended_at": when(user.suspended_at),
        "collapsed_topics": user.collapse_topics,
        "email": user.email,
    }


def erase_account_row(user: User, *, new_display_name: str) -> None:
    """After every app's erase handler (they may still need her old pseudonym): the admin log's
    copies of her name, the account's own fields, and every login session she holds."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.hashers import make_password
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=new_display_name, change_message="")
    user.username = f"erased-{user.pk}"
    user.display_name = new_display_name
    user.first_name = user.last_name = user.email = ""
    user.stage = user.region = ""
    user.collapse_topics = []
    user.adult_confirmed_at = user.guidelines_accepted_at = user.last_login = None
    user.password = make_password(None)
    user.is_active = False
    user.save()
    end_login_sessions(user)


def end_login_sessions(user: User) -> None:
    """Delete every unexpired login session of hers, so each device is logged out on its next
    request. Sessions are signed blobs keyed by id, so hers are found by decoding: fine at this
    scale, and only run on erasure."""
    from django.contrib.sessions.models import Session

    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()


# --- Reading preferences ---------------------------------------------------------------------


def do_set_collapse_topics(user: User, topics: object, *, acting_user: User) -> User:
    """Choose which content-note topics stay collapsed for her until she taps them.

    `topics` must be a list of settings.CONTENT_NOTE_TOPICS keys; it is stored deduplicated, in
    the order the setting lists them. The audit row says that it changed and how many topics, but
    not which: audit rows are append-only and outlive erasure, and which subjects a mother would
    rather not read about is health information she told nobody."""
    TOPICS = settings.CONTENT_NOTE_TOPICS  # noqa: N806

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


# --- Recovery codes: getting back in without an email (issue 21) --------------------------------

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: she may copy a code by hand from paper. 31 symbols, 16 of them: 79 bits.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 16


def _new_recovery_code() -> str:
    import secrets

    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4))


def normalise_recovery_code(text: str) -> str:
    """What she typed, as the code is stored: lower case, without spaces or hyphens."""
    return "".join(ch for ch in str(text).lower() if ch.isalnum())


def _hash_recovery_code(code: str, *, salt: str) -> str:
    import hashlib

    digest = hashlib.sha256(f"{salt}${normalise_recovery_code(code)}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def _recovery_code_matches(code: str, stored: str) -> bool:
    import hmac

    try:
        _algorithm, salt, _digest = stored.split("$", 2)
    except ValueError:
        return False
    return hmac.compare_digest(_hash_recovery_code(code, salt=salt), stored)


def do_issue_recovery_codes(user: User, *, acting_user: User) -> list[str]:
    """Make her a new set of single-use recovery codes and return them, the only time they exist
    in clear: the caller shows them to her once. Any earlier unused codes stop working. Audited
    as account.recovery_codes_issued (how many, never the codes)."""
    import secrets

    from accounts.models import RecoveryCode

    if acting_user is None or acting_user.pk != user.pk:
        raise AccountError("Only she can make her own recovery codes.")
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        replaced = RecoveryCode.objects.filter(user=user, used_at__isnull=True).delete()[0]
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, code_hash=_hash_recovery_code(c, salt=secrets.token_hex(8)))
            for c in codes
        )
        record_audit(
            action="account.recovery_codes_issued",
            acting_user=acting_user,
            target_user=user,
            after={"count": len(codes), "replaced_unused": replaced},
        )
    return codes


def unused_recovery_codes(user: User) -> int:
    from accounts.models import RecoveryCode

    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def do_recover_with_code(*, username: str, code: str, new_password: str) -> User:
    """She forgot her password: one of her recovery codes lets her set a new one. The code is used
    up; every login session she had ends (whoever else had her password is logged out). Raises
    AccountError with one message for every wrong username or code, so the form tells nobody which
    usernames exist. The caller throttles attempts (accounts.ratelimit, as for logins). Audited as
    account.recovered_with_code."""
    from accounts.models import RecoveryCode

    code = normalise_recovery_code(code)
    wrong = AccountError("That username and recovery code don't match.")
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(username=username.strip(), is_active=True)
            .first()
        )
        candidates = (
            list(RecoveryCode.objects.filter(user=user, used_at__isnull=True)) if user else []
        )
        match = next((c for c in candidates if _recovery_code_matches(code, c.code_hash)), None)
        if user is None or match is None or len(code) != _RECOVERY_LENGTH:
            raise wrong
        if user.suspended_at is not None:
            raise AccountError("This account is suspended.")
        try:
            validate_password(new_password, user)
        except ValidationError as exc:
            raise AccountError("New password: " + " ".join(exc.messages)) from exc
        match.used_at = timezone.now()
        match.save(update_fields=["used_at"])
        user.set_password(new_password)
        user.save(update_fields=["password"])
        end_login_sessions(user)
        left = len(candidates) - 1
        record_audit(
            action="account.recovered_with_code",
            acting_user=user,
            target_user=user,
            after={"codes_left": left},
        )
    return user


def export_recovery_codes(user: User, data: dict) -> None:
    """Her export lists when her codes were made and used, never the codes (only hashes exist)."""
    from accounts.models import RecoveryCode

    data["recovery_codes"] = [
        {
            "created_at": c.created_at.isoformat(),
            "used_at": c.used_at.isoformat() if c.used_at else None,
        }
        for c in RecoveryCode.objects.filter(user=user).order_by("created_at", "pk")
    ]


def erase_recovery_codes(erasure) -> dict:  # noqa: ANN001
    from accounts.models import RecoveryCode

    return {"recovery_codes": RecoveryCode.objects.filter(user=erasure.user).delete()[0]}
