"""Print a new VAPID key pair for Web Push, as the environment lines Kindred reads."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_vapid_keys() -> tuple[str, str]:
    """(private, public): the raw 32-byte private scalar and the uncompressed public point,
    base64url without padding (the form browsers' applicationServerKey and pywebpush take)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(private), _b64url(public)


class Command(BaseCommand):
    help = "Print a new VAPID key pair for Web Push notifications (put them in the environment)."

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        private, public = new_vapid_keys()
        self.stdout.write(
            f"WEBPUSH_VAPID_PRIVATE_KEY={private}\nWEBPUSH_VAPID_PUBLIC_KEY={public}\n"
        )
