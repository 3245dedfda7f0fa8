"""Every write to accounts happens here."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Stage, User, display_name_validators
from moderation.audit import record_audit


class AccountError(ValueError):
    """A typed, user-facing reason why an account could not be created or changed."""


def check_display_name(display_name: str, *, exclude_user: User | None = None) -> str:
    name = " ".join(display_name.split())
    for validator in display_name_validators:
        try:
            validator(name)
        except ValidationError as exc:
            raise AccountError(f"Display name: {' '.join(exc.messages)}") from exc
    clash = User.objects.filter(display_name__iexact=name)
    if exclude_user is not None:
        clash = clash.exclude(pk=exclude_user.pk)
    if clash.exists():
        raise AccountError("That display name is taken; please choose another.")
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
    name = check_display_name(display_name or username)
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
            after={"role": role, "stage": stage, "display_name": name},
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
    return user
