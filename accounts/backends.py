from django.contrib.auth.backends import ModelBackend


class KindredBackend(ModelBackend):
    """Suspended accounts cannot log in, and existing sessions stop authenticating."""

    def user_can_authenticate(self, user) -> bool:  # noqa: ANN001
        return super().user_can_authenticate(user) and getattr(user, "suspended_at", None) is None
