"""The training card on the supervisors' analytics page (supervisor/analytics.html)."""

from __future__ import annotations

from typing import Any

from django import template

from moderation.practice import selectors

register = template.Library()


@register.inclusion_tag("practice/_analytics_card.html")
def training_card() -> dict[str, Any]:
    overview = selectors.training_overview()
    return {
        "trainees": overview["trainees"],
        "refreshers": overview["refreshers"],
        "reviewed": [m for m in overview["moderators"] if m["agreement"]],
    }
