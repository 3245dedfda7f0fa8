"""The practice console's JSON API: the real console's shapes (docs/moderation-api.md), fed by
practice scenarios only. Thin: parse, call an action, answer; every refusal is a typed error."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from moderation.api import _body, _body_errors_typed, _error, _int, _run, _str
from moderation.practice import actions, selectors
from moderation.practice.access import practitioner_required
from moderation.practice.models import PracticeAttempt


def _item(user, attempt_id: int) -> PracticeAttempt:  # noqa: ANN001
    attempt = (
        PracticeAttempt.objects.select_related("scenario", "user")
        .filter(pk=attempt_id, user=user)
        .first()
    )
    if attempt is None:
        raise actions.ModerationError("not_found", "No such practice item.")
    return attempt


@require_GET
@practitioner_required
def queue(request: HttpRequest) -> JsonResponse:
    """GET /api/practice/queue: her practice items (topped up), her progress and refresher."""

    def go() -> JsonResponse:
        actions.do_fill_practice_queue(request.user)
        now = timezone.now()
        refresher = selectors.open_refresher(request.user)
        return JsonResponse(
            {
                "items": [
                    selectors.serialize_attempt(a, now=now)
                    for a in selectors.open_items(request.user)
                ],
                "progress": selectors.progress_json(selectors.progress(request.user)),
                "refresher": None
                if refresher is None
                else {
                    "reason": refresher.reason,
                    "due_by": refresher.due_by.isoformat() if refresher.due_by else None,
                    "scenarios": refresher.scenarios.count(),
                },
                "role": request.user.role,
            }
        )

    return _run(go, request)


@require_GET
@practitioner_required
def item_detail(request: HttpRequest, attempt_id: int) -> JsonResponse:
    def go() -> JsonResponse:
        attempt = _item(request.user, attempt_id)
        return JsonResponse(
            {
                "flag": selectors.serialize_attempt(attempt),
                "context": selectors.attempt_context(attempt),
            }
        )

    return _run(go, request)


@_body_errors_typed
@require_POST
@practitioner_required
def item_action(request: HttpRequest, attempt_id: int, action: str) -> JsonResponse:
    if action not in actions.CONSOLE_ACTIONS:
        return _error("not_found", f"Unknown action {action[:40]!r}.", 404)

    def go() -> JsonResponse:
        data = _body(request)
        minutes = _int(data, "minutes") if action == "mute" else None
        attempt = actions.do_practice_action(
            request.user,
            attempt_id,
            action,
            data=actions.ActionInput(
                reason=_str(data, "reason", 500),
                text=_str(data, "text"),
                note=_str(data, "note"),
                minutes=minutes,
            ),
        )
        attempt = _item(request.user, attempt.pk)
        return JsonResponse(
            {
                "ok": True,
                "flag": selectors.serialize_attempt(attempt),
                "progress": selectors.progress_json(selectors.progress(request.user)),
            }
        )

    return _run(go, request)
