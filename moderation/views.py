from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from moderation import selectors
from moderation.access import moderator_required


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus the facts an operator needs first: database reachable, which classifier."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        db_ok = True
    except Exception:  # noqa: BLE001
        db_ok = False
    from moderation import status as moderation_status

    body = {"status": "ok" if db_ok else "degraded", "database": db_ok}
    if db_ok:
        body.update(moderation_status.summary())
    return JsonResponse(body, status=200 if db_ok else 503)


@require_GET
def resources_api(request: HttpRequest) -> JsonResponse:
    """GET /api/resources?stage=&region=&kind=: the resources directory (public information)."""
    stage = request.GET.get("stage", "")[:16]
    region = request.GET.get("region", "")[:64]
    kind = request.GET.get("kind", "")[:16]
    return JsonResponse(
        {"resources": selectors.resources_for(stage=stage, region=region, kind=kind)}
    )


@require_GET
@moderator_required
def queue_api(request: HttpRequest) -> JsonResponse:
    """GET /api/moderation/queue — documented in docs/moderation-api.md."""
    now = timezone.now()
    items = [selectors.serialize_flag(f, now=now) for f in selectors.open_queue()[:200]]
    from moderation import status as moderation_status

    return JsonResponse({"items": items, **moderation_status.for_console(request.user)})


@require_GET
@moderator_required
def queue_page(request: HttpRequest) -> HttpResponse:
    from moderation import status as moderation_status

    return render(
        request, "moderation/queue.html", {"status": moderation_status.for_console(request.user)}
    )
