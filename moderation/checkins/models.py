"""A private check-in: a one-to-one conversation between the moderators and one member.

It never appears in a room. Each message takes the check-in's next sequence number inside its own
transaction (as a room's messages do), so a client that reconnects asks for what came after the
last number it has and misses nothing. At most one check-in per member is open at a time: a second
moderator who opens one joins the conversation already running.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CheckIn(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkins"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The queue item it was opened from, if any (a risk item, a linked unkind reply).
    flag = models.ForeignKey(
        "moderation.Flag",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="checkins",
    )
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(closed_at__isnull=True),
                name="one_open_checkin_per_member",
            )
        ]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def __str__(self) -> str:
        return f"check-in {self.pk} with {self.member_id}"


class CheckInMessage(models.Model):
    """One line of a check-in, stored before either side sees it. `client_id` makes a resend from
    the same author idempotent."""

    checkin = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveBigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_id = models.CharField(max_length=64)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["checkin", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["checkin", "seq"], name="unique_checkin_seq"),
            models.UniqueConstraint(
                fields=["checkin", "author", "client_id"], name="unique_checkin_client_id"
            ),
        ]
