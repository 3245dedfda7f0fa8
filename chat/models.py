from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from accounts.models import Stage


class RoomKind(models.TextChoices):
    STAGE = "stage", "Stage room"
    TOPIC = "topic", "Topic room"


class Room(models.Model):
    """A chat room. `last_seq` is the room's sequence counter: every message takes the next number
    inside its own transaction, so sequence numbers are gap-free and increasing."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=RoomKind.choices)
    stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    description = models.TextField()
    house_rules = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    is_archived = models.BooleanField(default=False)
    last_seq = models.PositiveBigIntegerField(default=0)
    # Content-note topics a message must carry a note for in this room (see chat.content_notes).
    required_content_notes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(auto_now_add=True)
    last_read_seq = models.PositiveBigIntegerField(default=0)
    # Set when she changes stage and may no longer join this stage room: she keeps reading the
    # conversation up to this message (her past conversations, and the replies she had), but
    # cannot post and sees nothing newer. Cleared if her stage brings her back (issue 21).
    read_only_until_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "room"], name="unique_membership")]


class MessageState(models.TextChoices):
    VISIBLE = "visible", "Visible"
    HELD = "held", "Held for review"
    HIDDEN = "hidden", "Removed by a moderator"
    DELETED = "deleted", "Deleted by its author"


class AssessmentState(models.TextChoices):
    PENDING = "pending", "Waiting for assessment"
    DONE = "done", "Assessed"


class Message(models.Model):
    """A chat message, stored before anyone sees it.

    `body` is the raw text as typed; `html` is its escaped, linkified rendering. `client_id` makes a
    resend from the same author idempotent.
    """

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="messages")
    seq = models.PositiveBigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="messages"
    )
    client_id = models.CharField(max_length=64)
    body = models.TextField()
    html = models.TextField()
    created_at = models.DateTimeField(db_index=True)
    state = models.CharField(
        max_length=8, choices=MessageState.choices, default=MessageState.VISIBLE
    )
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_note = models.CharField(max_length=32, blank=True)
    # A card another app attached to the message (moderation: a service from the resources
    # directory that a moderator shared, the "peer navigator" role). chat knows nothing of what it
    # is: it asks the object for `as_card()` each time it serialises the message, so the card shows
    # the service as it is now (a supervisor may have corrected its number), and none once the
    # object is gone.
    card_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    card_id = models.PositiveBigIntegerField(null=True, blank=True)
    card = GenericForeignKey("card_type", "card_id")
    edited_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every edit; each revision is assessed once (moderation.Assessment is unique on
    # message + revision).
    revision = models.PositiveIntegerField(default=0)
    assessment_state = models.CharField(
        max_length=8, choices=AssessmentState.choices, default=AssessmentState.PENDING
    )
    # A moderation worker's lease on this message while it scores it. A worker killed mid-batch
    # leaves the message pending; once the lease lapses another worker takes it.
    assessment_worker = models.CharField(max_length=100, blank=True)
    assessment_lease_until = models.DateTimeField(null=True, blank=True)
    # Escalated as risk (moderation.actions.do_record_decision). Kept on the row so that every
    # viewer's copy says "supportive reactions only" without a join to the queue.
    shows_risk = models.BooleanField(default=False)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="unique_room_seq"),
            models.UniqueConstraint(fields=["author", "client_id"], name="unique_author_client_id"),
        ]
        indexes = [
            models.Index(
                fields=["assessment_state", "id"],
                name="message_pending_idx",
                condition=models.Q(assessment_state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room.slug}#{self.seq}"


class Presence(models.Model):
    """One open socket in a room. Rows of a process that died are ignored once `last_seen` is
    older than PRESENCE_STALE_SECONDS (clients ping every 25 s), and swept later."""

    channel_name = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="presences")
    connected_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)


class MessageRevision(models.Model):
    """The text a message had before an edit. Members see only the latest text and "edited";
    supervisors see every revision in the message logs."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    body = models.TextField()
    content_note = models.CharField(max_length=32, blank=True)
    replaced_at = models.DateTimeField()

    class Meta:
        ordering = ["message", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["message", "revision"], name="unique_message_revision")
        ]


class ReactionKind(models.TextChoices):
    ME_TOO = "me_too", "Me too"
    HUG = "hug", "Sending a hug"
    THANKS = "thanks", "Thank you"


class Reaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=ReactionKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "kind"], name="one_reaction_of_a_kind"
            )
        ]


class MemberFilter(models.Model):
    """One member's choice about another: mute (their messages are hidden for her) or block
    (hidden, and they no longer see her presence)."""

    class Kind(models.TextChoices):
        MUTE = "mute", "Mute"
        BLOCK = "block", "Block"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_filters"
    )
    other = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "other"], name="one_filter_per_pair")
        ]
