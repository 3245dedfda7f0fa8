"""Sending one Web Push message (RFC 8030/8291/8292) with pywebpush: the payload is encrypted
for the subscription's keys (aes128gcm) and signed for our VAPID key. No ORM here.

VAPID keys come from the environment (settings.WEBPUSH_VAPID_PRIVATE_KEY / _PUBLIC_KEY /
_SUBJECT; README "Notifications"). Without them push is not configured: the Settings page says
so and nothing is sent."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

# Seconds the push service keeps a message for a phone that is off: a reply or a check-in is
# still worth knowing about the next morning; a day is enough.
TTL_SECONDS = 24 * 3600


def is_configured() -> bool:
    return bool(settings.WEBPUSH_VAPID_PRIVATE_KEY and settings.WEBPUSH_VAPID_PUBLIC_KEY)


def public_key() -> str:
    return settings.WEBPUSH_VAPID_PUBLIC_KEY if is_configured() else ""


@dataclass(frozen=True)
class Outcome:
    status: int  # the push service's HTTP status, 0 when it could not be reached
    gone: bool  # 404/410: the subscription no longer exists, forget it


def send(
    *, endpoint: str, p256dh: str, auth: str, payload: dict[str, Any], urgency: str = "normal"
) -> Outcome:
    """POST one encrypted message to one subscription's push service."""
    from pywebpush import WebPushException, webpush

    if not is_configured():
        raise RuntimeError("Web Push is not configured (WEBPUSH_VAPID_PRIVATE_KEY)")
    parts = urlsplit(endpoint)
    try:
        response = webpush(
            subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=json.dumps(payload, separators=(",", ":")),
            vapid_private_key=settings.WEBPUSH_VAPID_PRIVATE_KEY,
            vapid_claims={
                "sub": settings.WEBPUSH_VAPID_SUBJECT,
                "aud": f"{parts.scheme}://{parts.netloc}",
            },
            ttl=TTL_SECONDS,
            headers={"Urgency": urgency},
            timeout=10,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else 0
        return Outcome(status=status, gone=status in (404, 410))
    except Exception:  # noqa: BLE001 - a push service unreachable must not break anything else
        logger.warning("push service at %s unreachable", parts.netloc, exc_info=True)
        return Outcome(status=0, gone=False)
    return Outcome(status=response.status_code, gone=False)
