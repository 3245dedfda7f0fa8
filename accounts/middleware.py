from django.contrib.auth import logout


class ActiveAccountMiddleware:
    """Log out a suspended account on its next request, whatever session it still holds."""

    def __init__(self, get_response) -> None:  # noqa: ANN001
        self.get_response = get_response

    def __call__(self, request):  # noqa: ANN001, ANN204
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.suspended_at is not None:
            logout(request)
        return self.get_response(request)
