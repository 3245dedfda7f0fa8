"""How the apps below moderation write an audit record without importing it (docs/architecture.md).

The audit table (moderation.AuditEntry) lives in moderation, above chat and its notifications,
which audit their own writes too. They call `record_audit` here; moderation plugs in its writer,
`moderation.audit.record_audit`, from its AppConfig.ready, and that writer enforces the rules:
called inside the transaction of the change it records, no free text about a member.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

AuditWriter = Callable[..., Any]

_writer: AuditWriter | None = None


def set_writer(writer: AuditWriter) -> None:
    global _writer
    _writer = writer


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
) -> Any:
    """Write one audit record through the registered writer (same arguments as
    moderation.audit.record_audit). A change that must be audited is refused rather than left
    unaudited: without a writer this raises, and the caller's transaction rolls back."""
    if _writer is None:
        raise RuntimeError(
            "no audit writer is registered (moderation sets one in its AppConfig.ready)"
        )
    return _writer(
        action=action,
        acting_user=acting_user,
        target_user=target_user,
        room=room,
        message=message,
        before=before,
        after=after,
        reason=reason,
    )
