"""Every notifications write, and `notify_member`, the one way other code asks for a notification.

Consent: nothing is sent to a member who did not turn notifications on in Settings on that
device (a PushSubscription exists only then), and only for the kinds she kept ticked.
Discretion: a notification never carries message text, names or room names, only a neutral line
and the Kindred page to open, so nothing private shows on a lock screen (and the push service
never holds her words, even encrypted)."""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from accounts.audit import record_audit
from accounts.models import User
from chat.notifications import push
from chat.notifications.models import NotificationKind, PushSubscription

logger = logging.getLogger(__name__)

# What each kind says. Deliberately the same few neutral words for everyone.
WORDING: dict[str, dict[str, str]] = {
    NotificationKind.REPLY: {"title": "New reply", "body": "Someone replied to you."},
    NotificationKind.CHECKIN: {
        "title": "New private message",
        "body": "You have a new private message.",
    },
    NotificationKind.SESSION: {
        "title": "Starting now",
        "body": "A group session is starting in one of your rooms.",
    },
}
MAX_FAILURES = 5
MAX_SUBSCRIPTIONS_PER_USER = 10


class NotificationError(ValueError):
    """A typed, user-facing reason a subscription was refused."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _b64url(value: object, *, length: int, what: str) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise NotificationError("validation", f"{what} must be a base64url string.")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise NotificationError("validation", f"{what} must be a base64url string.") from exc
    if len(raw) != length:
        raise NotificationError("validation", f"{what} has the wrong length.")
    return value


def check_endpoint(endpoint: object) -> str:
    """Only the push services browsers use (settings.WEBPUSH_ALLOWED_HOSTS, host suffixes), over
    https: the server POSTs to this URL, so it must never be one a visitor chose to point at
    something inside our network."""
    if not isinstance(endpoint, str) or not 10 <= len(endpoint) <= 1000:
        raise NotificationError("validation", "endpoint must be the push service's URL.")
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    allowed = any(
        host == suffix.lstrip(".") or host.endswith("." + suffix.lstrip("."))
        for suffix in settings.WEBPUSH_ALLOWED_HOSTS
    )
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and host in settings.WEBPUSH_INSECURE_TEST_HOSTS
    )
    if not host or not allowed or not secure or parts.username or parts.password:
        raise NotificationError("validation", "That push service is not one Kindred sends to.")
    return endpoint


def check_kinds(kinds: object) -> list[str]:
    if kinds is None:
        return list(NotificationKind.values)
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise NotificationError("validation", "kinds must be a list.")
    unknown = sorted(set(kinds) - set(NotificationKind.values))
    if unknown:
        raise NotificationError("validation", f"Unknown notification kind: {', '.join(unknown)}.")
    return [k for k in NotificationKind.values if k in set(kinds)]


def do_save_subscription(
    user: User, *, endpoint: object, p256dh: object, auth: object, kinds: object, acting_user: User
) -> PushSubscription:
    """She turned notifications on (or changed which kinds) on this device. The same browser
    signed in to another account moves to this one. Audited as notifications.subscribed (the
    kinds, never the endpoint)."""
    if acting_user is None or acting_user.pk != user.pk:
        raise NotificationError("forbidden", "Only she can turn on her notifications.")
    if not push.is_configured():
        raise NotificationError("not_configured", "Notifications are not set up on this server.")
    endpoint = check_endpoint(endpoint)
    # An uncompressed P-256 point and a 16-byte secret (RFC 8291).
    p256dh = _b64url(p256dh, length=65, what="keys.p256dh")
    auth = _b64url(auth, length=16, what="keys.auth")
    chosen = check_kinds(kinds)
    with transaction.atomic():
        if (
            PushSubscription.objects.filter(user=user).exclude(endpoint=endpoint).count()
            >= MAX_SUBSCRIPTIONS_PER_USER
        ):
            raise NotificationError(
                "limit", "Notifications are on for too many devices; turn one off first."
            )
        subscription, _ = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={"user": user, "p256dh": p256dh, "auth": auth, "kinds": chosen, "failures": 0},
        )
        record_audit(
            action="notifications.subscribed",
            acting_user=acting_user,
            target_user=user,
            after={"kinds": chosen},
        )
    return subscription


def do_remove_subscription(user: User, *, endpoint: object, acting_user: User) -> bool:
    if acting_user is None or acting_user.pk != user.pk:
        raise NotificationError("forbidden", "Only she can turn off her notifications.")
    if not isinstance(endpoint, str):
        raise NotificationError("validation", "endpoint must be the push service's URL.")
    with transaction.atomic():
        removed = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()[0]
        if removed:
            record_audit(
                action="notifications.unsubscribed", acting_user=acting_user, target_user=user
            )
    return bool(removed)


# --- Sending --------------------------------------------------------------------------------

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _background() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="webpush")
        return _executor


def notify_member(user: User | int, kind: str, url: str, *, urgency: str = "normal") -> None:
    """Ask for a notification to her devices that agreed to this `kind`, opening `url` (a path
    on this site) when tapped. Safe to call from any action: nothing is looked up or sent until
    the surrounding transaction commits, and delivery happens off the request (a push service
    can take seconds); if push is not configured, or she has no subscription for this kind, it
    does nothing. The words are the kind's fixed, discreet wording (WORDING)."""
    if kind not in WORDING:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
        raise ValueError("url must be a path on this site")
    if not push.is_configured():
        return
    user_id = user if isinstance(user, int) else user.pk
    payload = {**WORDING[kind], "url": url, "tag": f"kindred-{kind}", "kind": kind}

    def later() -> None:
        if settings.WEBPUSH_DELIVERY == "inline":
            deliver(user_id, kind, payload, urgency=urgency)
        else:
            _background().submit(_deliver_in_thread, user_id, kind, payload, urgency)

    transaction.on_commit(later)


def _deliver_in_thread(user_id: int, kind: str, payload: dict[str, Any], urgency: str) -> None:
    close_old_connections()
    try:
        deliver(user_id, kind, payload, urgency=urgency)
    except Exception:  # noqa: BLE001
        logger.exception("notification delivery to user %s failed", user_id)
    finally:
        close_old_connections()


def deliver(user_id: int, kind: str, payload: dict[str, Any], *, urgency: str = "normal") -> int:
    """Send now to each of her subscriptions that agreed to `kind`; returns how many the push
    services accepted. A subscription the service says is gone is forgotten, and so is one that
    failed MAX_FAILURES times in a row."""
    sent = 0
    for sub in list(PushSubscription.objects.filter(user_id=user_id)):
        if kind not in (sub.kinds or []):
            continue
        outcome = push.send(
            endpoint=sub.endpoint,
            p256dh=sub.p256dh,
            auth=sub.auth,
            payload=payload,
            urgency=urgency,
        )
        if 200 <= outcome.status < 300:
            sent += 1
            PushSubscription.objects.filter(pk=sub.pk).update(
                last_sent_at=timezone.now(), failures=0
            )
        elif outcome.gone or sub.failures + 1 >= MAX_FAILURES:
            PushSubscription.objects.filter(pk=sub.pk).delete()
        else:
            PushSubscription.objects.filter(pk=sub.pk).update(failures=sub.failures + 1)
    return sent


def notify_reply(message: Any) -> None:
    """A member's message replies to someone else's: tell the one replied to, unless she is in
    that room right now, has muted or blocked the writer, or the reply is not visible yet (held
    for review: she would open the room to nothing). Called inside the message's transaction."""
    from datetime import timedelta

    from chat.models import MemberFilter, MessageState, Presence
    from chat.selectors import PRESENCE_STALE_SECONDS

    parent = message.reply_to
    if parent is None or parent.author_id is None or message.author_id is None:
        return
    if parent.author_id == message.author_id or message.state != MessageState.VISIBLE:
        return
    if MemberFilter.objects.filter(owner_id=parent.author_id, other_id=message.author_id).exists():
        return
    cutoff = timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS)
    if Presence.objects.filter(
        user_id=parent.author_id, room_id=message.room_id, last_seen__gte=cutoff
    ).exists():
        return
    notify_member(parent.author_id, NotificationKind.REPLY, f"/rooms/{message.room.slug}/")


def notify_session_start(session: Any) -> None:
    """A facilitated session has started: tell the room's members who are not in it now."""
    from datetime import timedelta

    from chat.models import Membership, Presence
    from chat.selectors import PRESENCE_STALE_SECONDS

    if not push.is_configured():
        return
    cutoff = timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS)
    present = Presence.objects.filter(room_id=session.room_id, last_seen__gte=cutoff).values(
        "user_id"
    )
    subscribed = PushSubscription.objects.values("user_id")
    members = (
        Membership.objects.filter(room_id=session.room_id, user_id__in=subscribed)
        .exclude(user_id__in=present)
        .values_list("user_id", flat=True)
    )
    url = f"/rooms/{session.room.slug}/"
    for user_id in members:
        notify_member(user_id, NotificationKind.SESSION, url)


# --- Her data (accounts.personal_data) -------------------------------------------------------


def export_member_data(user: User, data: dict) -> None:
    data["notification_devices"] = [
        {
            "kinds": s.kinds,
            "created_at": s.created_at.isoformat(),
            "last_sent_at": s.last_sent_at.isoformat() if s.last_sent_at else None,
        }
        for s in PushSubscription.objects.filter(user=user).order_by("created_at", "pk")
    ]


def erase_member_data(erasure) -> dict:  # noqa: ANN001
    return {"notification_devices": PushSubscription.objects.filter(user=erasure.user).delete()[0]}
