from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):  # noqa: ANN003
        raise PermissionError("Audit entries are append-only")

    def delete(self):
        raise PermissionError("Audit entries are append-only")


class AuditEntry(models.Model):
    """Append-only record of every moderator, supervisor and account action.

    The model refuses updates and deletes; on PostgreSQL a trigger refuses them too, so not even
    raw SQL from the application can rewrite history.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    room = models.ForeignKey(
        "chat.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.ForeignKey(
        "chat.Message", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def save(self, *args, **kwargs):  # noqa: ANN002, ANN003
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("Audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # noqa: ANN002, ANN003
        raise PermissionError("Audit entries are append-only")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class Category(models.TextChoices):
    NONE = "none", "None"
    TOXIC = "toxic", "Toxic"
    INSENSITIVE = "insensitive", "Insensitive"
    DISTRESS = "distress", "Distress"
    RISK = "risk", "Risk"


class Priority(models.IntegerChoices):
    # Integers so the queue sorts by them; escalations (risk) always come first.
    URGENT = 0, "Urgent"
    HIGH = 1, "High"
    NORMAL = 2, "Normal"
    LOW = 3, "Low"

    @classmethod
    def from_name(cls, name: str) -> Priority:
        return {"urgent": cls.URGENT, "high": cls.HIGH, "normal": cls.NORMAL, "low": cls.LOW}[name]


class RoomPolicy(models.Model):
    """Per-room thresholds for the classifier. Defaults come from moderation.policy.Thresholds;
    supervisors change them (every change is audited by moderation.actions)."""

    room = models.OneToOneField("chat.Room", on_delete=models.CASCADE, related_name="policy")
    toxicity_flag = models.FloatField(default=0.80)
    insult_flag = models.FloatField(default=0.70)
    identity_attack_flag = models.FloatField(default=0.50)
    severe_toxicity_hold = models.FloatField(default=0.50)
    threat_hold = models.FloatField(default=0.60)
    insensitive_priority_toxicity = models.FloatField(default=0.40)
    updated_at = models.DateTimeField(auto_now=True)

    THRESHOLD_FIELDS = (
        "toxicity_flag",
        "insult_flag",
        "identity_attack_flag",
        "severe_toxicity_hold",
        "threat_hold",
        "insensitive_priority_toxicity",
    )

    class Meta:
        verbose_name_plural = "room policies"

    def __str__(self) -> str:
        return f"Thresholds for {self.room}"

    def values(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.THRESHOLD_FIELDS}


class Assessment(models.Model):
    """The model-stage assessment of one message revision. One per revision, enforced by the
    database: this is what "assessed exactly once" means (an edit is a new revision)."""

    message = models.ForeignKey(
        "chat.Message", on_delete=models.CASCADE, related_name="assessments"
    )
    revision = models.PositiveIntegerField(default=0)
    classifier = models.CharField(max_length=120)
    scores = models.JSONField(default=dict)
    action = models.CharField(max_length=10)
    category = models.CharField(max_length=12, choices=Category.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    reasons = models.JSONField(default=list)
    worker = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "revision"], name="one_assessment_per_revision"
            ),
        ]


class FlagState(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    RESOLVED = "resolved", "Resolved"


class FlagSource(models.TextChoices):
    RULE = "rule", "Safety rule"
    MODEL = "model", "Classifier"
    REPORT = "report", "Member report"


class Flag(models.Model):
    """One moderation queue item per message. Later signals about the same message (the model
    after a rule, several member reports) merge into it."""

    message = models.OneToOneField("chat.Message", on_delete=models.CASCADE, related_name="flag")
    category = models.CharField(max_length=12, choices=Category.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, db_index=True)
    source = models.CharField(max_length=8, choices=FlagSource.choices)
    sources = models.JSONField(default=list)
    escalated = models.BooleanField(default=False)
    scores = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    report_count = models.PositiveIntegerField(default=0)
    state = models.CharField(
        max_length=8, choices=FlagState.choices, default=FlagState.OPEN, db_index=True
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=32, blank=True)
    resolution_note = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    first_action_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    supervisor_note = models.TextField(blank=True)
    escalated_to_supervisors_at = models.DateTimeField(null=True, blank=True)
    target_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "created_at"]

    def __str__(self) -> str:
        return f"{self.get_category_display()} flag on {self.message_id}"


class Report(models.Model):
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    outcome_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flag", "reporter"], name="one_report_per_member")
        ]


class Mute(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes"
    )
    room = models.ForeignKey("chat.Room", on_delete=models.CASCADE, related_name="mutes")
    until = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)


class ModeratorDuty(models.Model):
    """A moderator's stretch on duty. Open while ended_at is null."""

    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="duties"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)


class ConsoleConnection(models.Model):
    """One open moderator console (its live-feed socket). Closed while closed_at is set; her
    claims go back to the queue once none is open for MODERATION_CLAIM_GRACE_SECONDS
    (moderation.actions.do_release_claims_of_absent_moderators)."""

    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_connections"
    )
    channel_name = models.CharField(max_length=200, unique=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)


class WorkerHeartbeat(models.Model):
    """Each moderation worker says here, every few seconds, that it is alive and which
    classifier it runs, so /healthz and the moderator pages can tell the truth about it."""

    name = models.CharField(max_length=100, unique=True)
    classifier_status = models.TextField()
    classifier_available = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    last_beat = models.DateTimeField(db_index=True)
    assessed = models.PositiveBigIntegerField(default=0)
    #: Kindred's safety model as this worker runs it ("kindred-safety v1", or why it is off).
    safety_model_status = models.TextField(blank=True, default="")
    safety_model_available = models.BooleanField(default=False)
    shadow_model_status = models.TextField(blank=True, default="")


class SafetyModelState(models.TextChoices):
    LIVE = "live", "Live"
    SHADOW = "shadow", "Shadow (scored, not acted on)"
    REJECTED = "rejected", "Rejected"
    RETIRED = "retired", "Retired"


class SafetyModelRelease(models.Model):
    """Which trained safety model (an artefact under ``moderation/safety_models/<version>/``) is
    live, which one runs in shadow beside it, and which were rejected or retired. At most one live
    and one shadow; changes go through ``moderation.actions`` and are audited. With no live row,
    ``settings.MODERATION_SAFETY_MODEL`` names the live model."""

    version = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=8, choices=SafetyModelState.choices)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["state"], condition=models.Q(state="live"), name="one_live_safety_model"
            ),
            models.UniqueConstraint(
                fields=["state"], condition=models.Q(state="shadow"), name="one_shadow_safety_model"
            ),
        ]


class ShadowAssessment(models.Model):
    """What a shadow safety model would have decided on a live message. Never acted on; read by
    supervisors to compare it with the live model before promoting it."""

    message = models.ForeignKey("chat.Message", on_delete=models.CASCADE, related_name="+")
    revision = models.PositiveIntegerField(default=0)
    version = models.CharField(max_length=64)
    verdict = models.CharField(max_length=16)
    live_version = models.CharField(max_length=64, blank=True)
    live_verdict = models.CharField(max_length=16, blank=True)
    scores = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "revision", "version"], name="one_shadow_per_revision"
            )
        ]


class ResourceKind(models.TextChoices):
    HELPLINE = "helpline", "Helpline"
    SERVICE = "service", "Local or NHS service"
    GROUP = "group", "Peer support group"
    INFORMATION = "information", "Information"


class Helpline(models.Model):
    """A support service shown on the support card and the resources page. Editable data:
    numbers change, so each entry carries the date someone last checked it."""

    name = models.CharField(max_length=120)
    contact = models.CharField(max_length=120)
    when = models.CharField(max_length=240, help_text="When to use it, in a mother's words")
    hours = models.CharField(max_length=60, blank=True)
    url = models.URLField(blank=True)
    region = models.CharField(max_length=64, blank=True, help_text="Blank for national services")
    show_on_support_card = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    last_verified = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    kind = models.CharField(
        max_length=16, choices=ResourceKind.choices, default=ResourceKind.HELPLINE
    )
    # Stages this service is for (accounts.Stage values); empty means every stage.
    stages = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def as_card(self) -> dict:
        return {
            "id": self.pk,
            "name": self.name,
            "contact": self.contact,
            "when": self.when,
            "hours": self.hours,
            "url": self.url,
            "kind": self.kind,
        }


class ModeratorNote(models.Model):
    """A private note by a moderator about a member, or a record of a warning sent to her."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        WARNING = "warning", "Warning sent"

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderator_notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.NOTE)
    text = models.TextField()
    flag = models.ForeignKey(
        Flag, null=True, blank=True, on_delete=models.SET_NULL, related_name="notes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class Notice(models.Model):
    """A private message from the service to one member (a warning, a report outcome, a mute).
    Pushed at once when she is connected, and kept so she sees it on her next visit if not."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=32)
    title = models.CharField(max_length=120)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class ModeratorPreference(models.Model):
    """Care for moderators: what to blur by default and when to suggest a break."""

    moderator = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderator_preference"
    )
    blur_categories = models.JSONField(default=list, blank=True)
    break_after_items = models.PositiveSmallIntegerField(default=25)
    break_after_minutes = models.PositiveSmallIntegerField(default=90)


from moderation.facilitation.models import *  # noqa: E402,F401,F403

# --- Supervisor oversight ---------------------------------------------------------------------


class SecondReview(models.Model):
    """A supervisor's second look at a resolved queue item: would she have decided the same?
    Agreement per moderator is shown on the analytics page. One review per item and supervisor."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="second_reviews")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agrees = models.BooleanField()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["flag", "supervisor"], name="one_second_review_per_supervisor"
            ),
        ]


class DailyCount(models.Model):
    """Anonymous per-room, per-day counts written by the retention purge before it removes
    message text and authors, so analytics keep working after the text is gone.

    `day` is the local (Europe/London) date. `authors` is the number of distinct members who
    posted that day in that room, counted once, when the day was first purged (while every
    message of the day still had its author)."""

    day = models.DateField()
    room = models.ForeignKey("chat.Room", on_delete=models.CASCADE, related_name="+")
    messages = models.PositiveIntegerField(default=0)
    authors = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    hidden = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    purged_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "room"]
        constraints = [
            models.UniqueConstraint(fields=["day", "room"], name="one_daily_count_per_room_day")
        ]
