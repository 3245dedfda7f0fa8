from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


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

    body = {"status": "ok" if db_ok else "degraded", "database": db_ok, **moderation_status.summary()}
    return JsonResponse(body, status=200 if db_ok else 503)
