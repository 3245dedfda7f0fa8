from django.core.exceptions import DisallowedHost


class ContentSecurityPolicyMiddleware:
    """Only our own scripts, styles and sockets. No inline script anywhere in Kindred, so a stored
    XSS that slipped past escaping still could not run, nor open a socket to another host."""

    POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src {connect}; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )

    def __init__(self, get_response) -> None:  # noqa: ANN001
        self.get_response = get_response

    def __call__(self, request):  # noqa: ANN001, ANN204
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault(
                "Content-Security-Policy", self.POLICY.format(connect=self.connect_src(request))
            )
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response

    @staticmethod
    def connect_src(request) -> str:  # noqa: ANN001
        """'self' plus this site's own socket origin, the one the chat client builds from
        `location` (ws on an http page, wss on https). CSP Level 3 lets 'self' cover ws/wss to the
        same host, but older Safari does not; naming the origin works everywhere. get_host() has
        checked the host against ALLOWED_HOSTS and its syntax (no spaces or ';' can get in)."""
        try:
            host = request.get_host()
        except DisallowedHost:  # the error page for a bad Host: no sockets for it
            return "'self'"
        return f"'self' {'wss' if request.is_secure() else 'ws'}://{host}"
