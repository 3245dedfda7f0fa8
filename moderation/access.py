from __future__ import annotations

import logging
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect, render

logger = logging.getLogger("kindred.access")


def moderator_required(view):  # noqa: ANN001, ANN201
    """Moderators and supervisors only, checked on the server for every request; refusals are
    logged so supervisors can see probing."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        user = request.user
        is_api = request.path.startswith("/api/")
        if not user.is_authenticated:
            if is_api:
                return JsonResponse(
                    {"error": {"code": "not_authenticated", "message": "Please log in first."}},
                    status=401,
                )
            return redirect(f"/accounts/login/?next={request.path}")
        if not user.is_moderator:
            logger.warning(
                "refused %s %s to user %s (role %s)",
                request.method,
                request.path,
                user.pk,
                user.role,
            )
            if is_api:
                return JsonResponse(
                    {"error": {"code": "forbidden", "message": "Moderators only."}}, status=403
                )
            return render(request, "frontend/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
