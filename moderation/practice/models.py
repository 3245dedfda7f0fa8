"""Practice scenarios, the trainee's attempts at them, her record, the pass mark and refreshers.

Nothing here points at a real member's message, room or flag: a scenario carries its own made-up
conversation, so the practice console cannot show a real mother's words even by mistake.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ScenarioKind(models.TextChoices):
    """What a scenario trains; accuracy is reported per kind."""

    RISK = "risk", "Risk to the member"
    DISTRESS = "distress", "Distress that must not be punished"
    INSENSITIVE = "insensitive", "Insensitive reply to someone struggling"
    ABUSE = "abuse", "Abuse"
    IDIOM = "idiom", "Idiom that looks alarming"
    GRUDGE = "grudge", "A report that is a grudge"
    UNKIND_UNDER_RISK = "unkind_under_risk", "Unkind reply under a risk message"
    RETURNING = "returning", "A muted member comes back"


class RiskFamily(models.TextChoices):
    """The safety rules' risk families (moderation/rule_patterns.py)."""

    NONE = "", "Not a risk scenario"
    SUICIDAL_THOUGHTS = "suicidal_thoughts", "Suicidal thoughts"
    PLANS_AND_MEANS = "plans_and_means", "Plans and means"
    SELF_HARM = "self_harm", "Self-harm"
    HARM_TO_BABY = "harm_to_baby", "Harm to the baby"
    DANGER_AT_HOME = "danger_at_home", "Danger at home"


class PracticeAction(models.TextChoices):
    """The console's decisions (moderation/api.py FLAG_ACTIONS, less claim and release, which are
    how she takes an item, not what she decides about it)."""

    HIDE = "hide", "Hide message"
    APPROVE = "approve", "Approve"
    DISMISS = "dismiss", "Dismiss"
    WARN = "warn", "Send a warning"
    MUTE = "mute", "Mute"
    ESCALATE = "escalate", "Escalate to supervisors"
    SUSPEND = "suspend", "Suspend the account"
    NOTE = "note", "Add a note"


# Decisions that close a queue item in the real console (moderation.actions._resolve).
RESOLVING_ACTIONS = frozenset({"hide", "approve", "dismiss", "warn", "mute", "suspend"})
# Never wrong on their own: a note records, it does not decide.
NEUTRAL_ACTIONS = frozenset({"note"})


class Scenario(models.Model):
    """One practice queue item: a made-up flagged message with the conversation around it, what
    a supervisor expects a moderator to do about it, and why.

    `expected` is a list of action sets; doing every action of any one set is right (e.g.
    [["hide", "warn"], ["hide", "mute"]]). `acceptable` are further actions that are not wrong
    beside them (a note, a warning after hiding). Anything else is a mistake."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ScenarioKind.choices)
    risk_family = models.CharField(
        max_length=20, choices=RiskFamily.choices, blank=True, default=""
    )
    # What the console shows, in the real console's words (moderation.models.Category/Priority).
    category = models.CharField(max_length=12)
    priority = models.CharField(max_length=8, default="normal")
    escalated = models.BooleanField(default=False)
    room_name = models.CharField(max_length=60)
    author_name = models.CharField(max_length=30)
    body = models.TextField()
    held = models.BooleanField(default=False, help_text="Held for review: only the author sees it.")
    before = models.JSONField(default=list, blank=True)  # [{"author", "text"}] oldest first
    after = models.JSONField(default=list, blank=True)
    reasons = models.JSONField(default=list, blank=True)  # shaped like Flag.reasons
    sources = models.JSONField(default=list, blank=True)
    reports = models.JSONField(default=list, blank=True)  # [{"by", "reason"}]
    history = models.JSONField(
        default=list, blank=True
    )  # earlier flags: [{"category", "resolution", "text"}]
    notes = models.JSONField(default=list, blank=True)  # [{"kind", "by", "text"}]
    expected = models.JSONField(default=list)
    acceptable = models.JSONField(default=list, blank=True)
    explanation = models.TextField()
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_risk(self) -> bool:
        return self.kind == ScenarioKind.RISK or self.escalated


class TrainingPolicy(models.Model):
    """The pass mark, one row (pk=1), set by supervisors."""

    pass_accuracy_pct = models.PositiveSmallIntegerField(default=85)
    all_risk_correct = models.BooleanField(default=True)
    risk_within_target = models.BooleanField(default=True)
    min_scenarios = models.PositiveSmallIntegerField(default=40)
    queue_size = models.PositiveSmallIntegerField(default=6)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "training policy"


class TraineeRecord(models.Model):
    """One per person who has trained: when she started, when she first met the pass mark and
    who signed her off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trainee_record"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    passed_at = models.DateTimeField(null=True, blank=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sign_off_note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"training record of {self.user}"


class Refresher(models.Model):
    """A set of scenarios a supervisor asks a moderator to practise again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="refreshers"
    )
    scenarios = models.ManyToManyField(Scenario, related_name="refreshers")
    reason = models.TextField()
    due_by = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class AttemptState(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    DECIDED = "decided", "Decided"


class PracticeAttempt(models.Model):
    """One scenario in one trainee's practice queue, from the moment it appeared there to her
    decision. `actions` lists what she did, in order: [{"action", "at", "detail"}]."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_attempts"
    )
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="attempts")
    refresher = models.ForeignKey(
        Refresher, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    state = models.CharField(max_length=8, choices=AttemptState.choices, default=AttemptState.OPEN)
    served_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    message_state = models.CharField(max_length=8, default="visible")
    actions = models.JSONField(default=list, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    correct = models.BooleanField(null=True)
    # Seconds from appearing in her queue to the decision that was right (risk: the escalation).
    seconds_to_act = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["served_at", "pk"]
        indexes = [models.Index(fields=["user", "state"])]
        constraints = [
            # One open item per scenario in her queue at a time.
            models.UniqueConstraint(
                fields=["user", "scenario"],
                condition=~models.Q(state="decided"),
                name="practice_one_open_attempt_per_scenario",
            )
        ]
