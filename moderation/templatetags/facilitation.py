"""{% load facilitation %}{% upcoming_sessions room %}: a room's facilitated sessions under way or
coming up, for the room list and the room page, without the view having to pass anything."""

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
