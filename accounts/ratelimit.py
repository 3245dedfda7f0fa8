"""Failed-login throttling, kept in the shared cache (Redis in production) so that every web
process counts the same failures."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    return f"login-fail:{kind}:{digest}"


def _keys(username: str, ip: str) -> list[str]:
    return [_key("user", username), _key("ip", ip)]


def is_login_blocked(username: str, ip: str) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    user_fails = cache.get(_key("user", username), 0)
    # An IP gets more room than one username: several mothers may share a household or clinic wifi.
    ip_fails = cache.get(_key("ip", ip), 0)
    return user_fails >= limit or ip_fails >= limit * 4


def note_login_failure(username: str, ip: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in _keys(username, ip):
        if cache.add(key, 1, timeout=window):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=window)


def clear_login_failures(username: str) -> None:
    cache.delete(_key("user", username))
