from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxLengthValidator, MinLengthValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower


class Role(models.TextChoices):
    MEMBER = "member", "Member"
    # A volunteer learning to moderate: she practises in the practice console (moderation.practice)
    # and sees no real member's flagged message until a supervisor signs her off.
    TRAINEE = "trainee", "Trainee"
    MODERATOR = "moderator", "Moderator"
    SUPERVISOR = "supervisor", "Supervisor"


class Stage(models.TextChoices):
    PREGNANT = "pregnant", "Pregnant"
    NEWBORN = "newborn", "Newborn (0–3 months)"
    BABY = "baby", "Baby (3–12 months)"
    TODDLER = "toddler", "Toddler (1–3 years)"


display_name_validators = [
    MinLengthValidator(3),
    MaxLengthValidator(30),
    RegexValidator(
        r"^[\w][\w .'-]*[\w.]$",
        "Use letters, numbers, spaces, dots, apostrophes, hyphens or underscores.",
    ),
]


def default_collapse_topics() -> list[str]:
    """Every content-note topic: a new account reads a noted message only after a tap."""
    return list(settings.CONTENT_NOTE_TOPICS)


class User(AbstractUser):
    """A Kindred account. Members are known only by a pseudonymous display name.

    `first_name`/`last_name`/`email` from AbstractUser are never asked for; the username is the
    private login name, the display name is what others see.
    """

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    display_name = models.CharField(max_length=30, validators=display_name_validators)
    stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    region = models.CharField(max_length=64, blank=True)
    adult_confirmed_at = models.DateTimeField(null=True, blank=True)
    guidelines_accepted_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    # Content-note topics collapsed by default for this member (settings.CONTENT_NOTE_TOPICS). Every
    # topic folds until she chooses otherwise in Settings: the composer promises others "see the
    # note first and choose when to read".
    collapse_topics = models.JSONField(default=default_collapse_topics, blank=True)

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("display_name"), name="unique_display_name_ci"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.SUPERVISOR)

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_trainee(self) -> bool:
        return self.role == Role.TRAINEE

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class RecoveryCode(models.Model):
    """One of her single-use recovery codes: what lets her set a new password when she has
    forgotten it, without Kindred ever holding her email (accounts.actions.do_issue_recovery_codes,
    do_recover_with_code). Only a salted SHA-256 of the code is kept: the codes are 80 random bits,
    so a slow password hash would add nothing but seconds to each check."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "used_at"], name="recovery_code_user_idx")]
