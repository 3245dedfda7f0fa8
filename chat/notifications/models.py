from __future__ import annotations

from django.conf import settings
from django.db import models


class NotificationKind(models.TextChoices):
    REPLY = "reply", "Someone replies to you"
    CHECKIN = "checkin", "A moderator messages you privately"
    SESSION = "session", "A group session starts in one of your rooms"


def default_kinds() -> list[str]:
    return list(NotificationKind.values)


class PushSubscription(models.Model):
    """One browser on one device that agreed to receive her notifications (the Push API's
    subscription: the push service's endpoint URL and the keys payloads are encrypted with).
    Made only when she turns notifications on in Settings; gone when she turns them off, when
    the push service says the subscription has expired, or when her account is erased."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    kinds = models.JSONField(default=default_kinds)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"push subscription {self.pk} of user {self.user_id}"
