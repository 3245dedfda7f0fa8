"""{% load chat_slots %}{% slot "room.sessions" room %}: what other apps render at that place in a
chat page (chat.page_context.register_slot), without chat's templates loading their tag
libraries. Nothing when no app fills the slot."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from chat import page_context

register = template.Library()


@register.simple_tag(takes_context=True)
def slot(context: template.Context, name: str, obj: Any = None) -> SafeString:
    return page_context.render_slot(name, context.get("request"), obj)
