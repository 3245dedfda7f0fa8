"""Who may use the practice console: trainees, moderators (refreshers, practice) and supervisors
(to see what trainees see). Checked on the server on every request; refusals are logged on
kindred.access like every other role refusal."""

from __future__ import annotations

import logging
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect, render

from moderation.practice.selectors import may_practise

logger = logging.getLogger("kindred.access")


def practitioner_required(view):  # noqa: ANN001, ANN201
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
        if not may_practise(user):
            logger.warning(
                "refused %s %s to user %s (role %s)",
                request.method,
                request.path,
                user.pk,
                user.role,
            )
            if is_api:
                return JsonResponse(
                    {"error": {"code": "forbidden", "message": "Trainees and moderators only."}},
                    status=403,
                )
            return render(request, "frontend/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
