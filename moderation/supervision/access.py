from __future__ import annotations

import logging
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

logger = logging.getLogger("kindred.access")


def supervisor_required(view):  # noqa: ANN001, ANN201
    """Supervisors only, checked on the server on every request (a role change or suspension
    takes effect on the next click); refusals are 403 and logged so probing shows up."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # noqa: ANN002, ANN003
        user = request.user
        if not user.is_authenticated:
            return redirect(f"/accounts/login/?next={request.path}")
        if not user.is_supervisor or user.is_suspended:
            logger.warning(
                "refused %s %s to user %s (role %s)",
                request.method,
                request.path,
                user.pk,
                user.role,
            )
            return render(request, "frontend/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
