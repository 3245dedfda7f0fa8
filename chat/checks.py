"""System checks for chat's extension points (`manage.py check`, which `make run`, the web
process and the worker's start-up run)."""

from __future__ import annotations

from typing import Any

from django.core import checks

from chat import gate


@checks.register()
def check_a_message_gate_is_registered(app_configs: Any = None, **kwargs: Any) -> list:  # noqa: ARG001
    """chat works with no gate (every message is stored visible), but Kindred must never run that
    way by accident: it would mean moderation's rules and mutes are not in the send path."""
    if gate.registered():
        return []
    return [
        checks.Warning(
            "No message gate is registered (chat.gate): messages are stored visible with no "
            "inline rules and mutes are not enforced.",
            hint="Keep 'moderation' in INSTALLED_APPS; it registers its gate in AppConfig.ready.",
            id="chat.W001",
        )
    ]
