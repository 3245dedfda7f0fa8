"""{% load facilitation %}: moderation's template helpers. `{% upcoming_sessions room %}` renders a
room's facilitated sessions under way or coming up in moderation's own pages; chat's pages get the
same fragment through their `room.sessions` slot (moderation.chat_hooks.upcoming_sessions)."""

from __future__ import annotations

from typing import Any

from django import template

from moderation.facilitation.selectors import upcoming_sessions as select_upcoming

register = template.Library()


@register.inclusion_tag("facilitation/upcoming.html")
def upcoming_sessions(room: Any, limit: int = 2) -> dict[str, Any]:
    return {"sessions": select_upcoming(room, limit=limit)}


@register.filter
def describe_reason(reason: object) -> str:
    """One moderation reason in words: which rule matched which words, or which score passed
    which threshold (the same wording as the moderator console)."""
    if not isinstance(reason, dict):
        return str(reason)
    if reason.get("rule"):
        text = str(reason["rule"])
        if reason.get("span"):
            text += f": “{reason['span']}”"
        if reason.get("note"):
            text += f" ({reason['note']})"
        return text
    if reason.get("score"):
        return f"{reason['score']} {reason.get('value')} ≥ {reason.get('threshold')}"
    return ", ".join(f"{k}: {v}" for k, v in reason.items())
