from __future__ import annotations

from django import template

from chat.notifications import push
from chat.notifications.models import NotificationKind

register = template.Library()


@register.inclusion_tag("notifications/settings_section.html", takes_context=True)
def notification_settings(context) -> dict:  # noqa: ANN001
    """The Notifications part of her Settings page."""
    return {
        "configured": push.is_configured(),
        "public_key": push.public_key(),
        "kinds": NotificationKind.choices,
        "csrf_token": context.get("csrf_token"),
    }
