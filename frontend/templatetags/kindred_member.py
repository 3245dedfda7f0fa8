"""{% load kindred_member %}: small read-only helpers for member templates."""

from __future__ import annotations

from django import template

from chat.content_notes import TOPICS

register = template.Library()


@register.simple_tag
def content_note_topics() -> list[tuple[str, str]]:
    """(value, label) pairs for the composer's content-note picker and the settings page."""
    return list(TOPICS.items())
