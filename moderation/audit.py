"""The one way to write an audit record. Call it inside the transaction of the change it records."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def record_audit(
    *,
    action: str,
    acting_user: Any,
    target_user: Any = None,
    room: Any = None,
    message: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> AuditEntry:  # noqa: F821
    from moderation.models import AuditEntry

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_audit must run inside the transaction of the change it records")
    return AuditEntry.objects.create(
        action=action,
        actor=acting_user if getattr(acting_user, "pk", None) else None,
        target_user=target_user,
        room=room,
        message=message,
        before=before or {},
        after=after or {},
        reason=reason,
    )
