"""Failed-login throttling, kept in the shared cache (Redis in production) so that every web
process counts the same failures.

Three counters, each remembered until LOGIN_FAILURE_WINDOW_SECONDS after its last failure:

- per (username, source address) pair: LOGIN_FAILURE_LIMIT failures are free, then each further
  failure makes that pair wait LOGIN_BACKOFF_BASE_SECONDS, doubling up to LOGIN_BACKOFF_MAX_SECONDS.
  Only this pair waits: a stranger guessing a moderator's password from elsewhere slows down
  himself, never her (it used to lock the username for 15 minutes after five wrong passwords,
  which anyone who knew a username could do to anyone).
- per source address, whatever the username: LOGIN_ADDRESS_FAILURE_LIMIT failures, then the
  same growing delays; it slows one address trying many usernames. It is looser than the pair
  limit because mothers share household and clinic networks.
- per username, whatever the address: a backstop against guessing spread over many addresses.
  After LOGIN_USERNAME_FAILURE_LIMIT failures, attempts for that username are refused for
  LOGIN_FAILURE_WINDOW_SECONDS, re-armed by every refused attempt, except from a source she
  has logged in from: an address she logged in from in the last KNOWN_SOURCE_DAYS days, or a
  browser holding the known-device cookie set when she logged in (phones change address
  often). So an attacker can close new doors to an account, never the ones she uses.

The source address is the one the configured number of trusted proxies saw
(`login_source_address`), with IPv6 addresses taken per /64, which one host can walk through.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.crypto import salted_hmac

# The time source; tests replace it to step through the delays.
clock: Callable[[], float] = time.time

KNOWN_SOURCE_DAYS = 90
KNOWN_DEVICE_COOKIE = "kindred_known_login"
_KNOWN_DEVICE_SALT = "kindred.accounts.known-device"
# A shared family tablet may be used for a few accounts; the cookie remembers the latest ones.
_KNOWN_DEVICE_MAX_ACCOUNTS = 5


@dataclass(frozen=True)
class LoginRefusal:
    """Why a login attempt is refused before its password is checked, and for how long."""

    retry_after: int  # whole seconds, at least 1
    account_wide: bool  # the username backstop, rather than this source's own failures

    @property
    def message(self) -> str:
        if self.account_wide:
            return (
                f"Too many attempts on this account from elsewhere; try again in {self.retry_after} seconds, "
                "or log in from a phone, computer or network you have used Kindred on before."
            )
        return f"Too many attempts from here; try again in {self.retry_after} seconds."


# --- Where a request comes from ---------------------------------------------------------------


def login_source_address(request: HttpRequest | None) -> str:
    """The client address that the last of TRUSTED_PROXY_COUNT proxies saw.

    Each proxy appends the address it received the request from to X-Forwarded-For; everything
    to the left of what our own proxies wrote is whatever the client chose to send. So with N
    trusted proxies the client is the Nth entry from the right, and with 0 it is the socket's
    peer (REMOTE_ADDR). A header with fewer than N entries did not come through all our proxies;
    then REMOTE_ADDR is all we know.

    `manage.py serve --proxy-headers` makes Daphne put the *first* entry in REMOTE_ADDR, so
    behind a proxy TRUSTED_PROXY_COUNT must be set for this to be the real client."""
    if request is None:
        return "unknown"
    meta = request.META
    address = meta.get("REMOTE_ADDR") or ""
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if trusted > 0 and forwarded.strip():
        entries = [entry.strip() for entry in forwarded.split(",")]
        if len(entries) >= trusted and entries[-trusted]:
            address = entries[-trusted]
    return _canonical_address(address) or "unknown"


def _canonical_address(raw: str) -> str:
    """One spelling per client: ports and brackets dropped, IPv4-mapped IPv6 as IPv4, other IPv6
    as its /64 (a host is usually given a whole /64)."""
    text = raw.strip()
    host = text
    if text.startswith("[") and "]" in text:
        host = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4 with a port
        host = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return text[:100]  # not an address (a proxy's obfuscated identifier): use it as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


# --- Known devices (a signed cookie naming, by keyed hash, the accounts that logged in there) ---


def _device_token(username: str) -> str:
    return salted_hmac(_KNOWN_DEVICE_SALT, username.lower()).hexdigest()[:20]


def _known_device_tokens(request: HttpRequest | None) -> list[str]:
    raw = request.COOKIES.get(KNOWN_DEVICE_COOKIE) if request is not None else None
    if not raw:
        return []
    try:
        tokens = signing.loads(raw, salt=_KNOWN_DEVICE_SALT, max_age=KNOWN_SOURCE_DAYS * 86400)
    except signing.BadSignature:
        return []
    return [t for t in tokens if isinstance(t, str)] if isinstance(tokens, list) else []


def is_known_device(request: HttpRequest | None, username: str) -> bool:
    return _device_token(username) in _known_device_tokens(request)


def remember_known_device(request: HttpRequest, response: HttpResponse, username: str) -> None:
    """After a successful login: this browser may log in to this account during an attack on it.
    The cookie holds keyed hashes, not usernames (someone else may look at her phone), and is
    sent only to the login page."""
    token = _device_token(username)
    tokens = [t for t in _known_device_tokens(request) if t != token][
        -(_KNOWN_DEVICE_MAX_ACCOUNTS - 1) :
    ]
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        signing.dumps([*tokens, token], salt=_KNOWN_DEVICE_SALT),
        max_age=KNOWN_SOURCE_DAYS * 86400,
        path=reverse("login"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


# --- Counters ---------------------------------------------------------------------------------


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
    return f"login-fail:{kind}:{digest}"


def _pair(username: str, address: str) -> tuple[str, str]:
    return username.lower(), address


def _count_failure(key: str) -> int:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1
    cache.touch(key, window)
    return count


def _wait_until(key: str, until: float, now: float) -> None:
    cache.set(key, until, timeout=math.ceil(until - now) + 1)


def _remaining(key: str, now: float) -> int:
    until = cache.get(key)
    if until is None or until <= now:
        return 0
    return max(1, math.ceil(until - now))


def _backoff(failures: int, free: int) -> float:
    """0 while failures are under the free allowance, then base, 2×base, 4×base… up to the cap."""
    if failures < free:
        return 0.0
    doublings = min(failures - free, 30)
    return float(
        min(settings.LOGIN_BACKOFF_BASE_SECONDS * 2**doublings, settings.LOGIN_BACKOFF_MAX_SECONDS)
    )


def _is_known_address(username: str, address: str) -> bool:
    return cache.get(_key("known", *_pair(username, address))) is not None


def check_login_allowed(
    username: str, address: str, *, known_device: bool = False, now: float | None = None
) -> LoginRefusal | None:
    """Whether this attempt may have its password checked. A refusal applies whatever the
    password: answering a right guess differently while waiting would let guessing go on."""
    now = clock() if now is None else now
    wait = max(
        _remaining(_key("pair-wait", *_pair(username, address)), now),
        _remaining(_key("ip-wait", address), now),
    )
    if wait:
        return LoginRefusal(retry_after=wait, account_wide=False)
    user_key = _key("user-wait", username.lower())
    if _remaining(user_key, now) and not known_device and not _is_known_address(username, address):
        # Every attempt while the account is under attack keeps new sources out a while longer.
        window = settings.LOGIN_FAILURE_WINDOW_SECONDS
        _wait_until(user_key, now + window, now)
        return LoginRefusal(retry_after=window, account_wide=True)
    return None


def note_login_failure(username: str, address: str, *, now: float | None = None) -> None:
    """A wrong password (or no such account) for `username` from `address`."""
    now = clock() if now is None else now
    pair = _pair(username, address)
    delay = _backoff(_count_failure(_key("pair", *pair)), settings.LOGIN_FAILURE_LIMIT)
    if delay:
        _wait_until(_key("pair-wait", *pair), now + delay, now)
    delay = _backoff(_count_failure(_key("ip", address)), settings.LOGIN_ADDRESS_FAILURE_LIMIT)
    if delay:
        _wait_until(_key("ip-wait", address), now + delay, now)
    if _count_failure(_key("user", username.lower())) >= settings.LOGIN_USERNAME_FAILURE_LIMIT:
        _wait_until(
            _key("user-wait", username.lower()), now + settings.LOGIN_FAILURE_WINDOW_SECONDS, now
        )


def note_login_success(username: str, address: str) -> None:
    """Her own earlier mistakes from here are forgiven, and this address becomes one she can use
    while the account is under attack. Failures counted for the address and the username stay:
    one good login must not wipe out someone else's guessing."""
    pair = _pair(username, address)
    cache.delete_many([_key("pair", *pair), _key("pair-wait", *pair)])
    cache.set(_key("known", *pair), 1, timeout=KNOWN_SOURCE_DAYS * 86400)
