"""What the moderation side is doing right now, for /healthz and the moderator pages."""

from __future__ import annotations

from typing import Any

from chat.models import AssessmentState, Message
from moderation.selectors import classifier_health


def summary() -> dict[str, Any]:
    backlog = Message.objects.filter(assessment_state=AssessmentState.PENDING).count()
    return {"moderation_backlog": backlog, **classifier_health()}


def for_console(user) -> dict[str, Any]:  # noqa: ANN001
    """The checks' state as the console shows it. Volunteers get one friendly line (what it means
    for them, never a path or a command); supervisors also get the workers' own words, to fix it.
    The detail is left out of the volunteer's answer altogether, not merely hidden on screen."""
    state = summary()
    models_up = [state["safety_model_available"], state["classifier_available"]]
    backlog = state["moderation_backlog"]
    if all(models_up):
        ok, line = True, "✓ Automatic safety checks are running."
    elif any(models_up):
        ok, line = True, "✓ Automatic safety checks are running (some with reduced accuracy)."
    else:
        ok, line = (
            False,
            "⚠ Only the safety rules are checking messages right now, so please read new "
            "messages with extra care. The supervisors can see why.",
        )
    if backlog:
        line += f" {backlog} message{'s' if backlog != 1 else ''} waiting to be checked."
    result: dict[str, Any] = {"checks_ok": ok, "checks_line": line, "moderation_backlog": backlog}
    if getattr(user, "is_supervisor", False):
        result.update(
            {
                key: state[key]
                for key in (
                    "classifier",
                    "classifier_available",
                    "safety_model",
                    "safety_model_available",
                    "shadow_model",
                    "workers",
                )
            }
        )
    return result
