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


class NoStoreWhenSignedInMiddleware:
    """Every answer to a signed-in request is `Cache-Control: no-store`: the browser keeps no copy
    of her pages, so after Quick exit (which ends the session) Back cannot show a room from the
    cache or the back/forward cache, and a shared phone's history opens nothing without a login.
    A view that set its own Cache-Control keeps it. Placed after AuthenticationMiddleware; the
    user is read before the view runs, because logging out replaces request.user."""

    def __init__(self, get_response) -> None:  # noqa: ANN001
        self.get_response = get_response

    def __call__(self, request):  # noqa: ANN001, ANN204
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        response = self.get_response(request)
        if signed_in and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store, private"
        return response
