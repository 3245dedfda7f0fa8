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
