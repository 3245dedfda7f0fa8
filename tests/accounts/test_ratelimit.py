"""Login throttling (accounts/ratelimit.py; issue 17, item 7): the address is the one our own
proxies saw, failures slow down the (username, address) pair that made them instead of locking
the username, and guessing spread over many addresses is stopped without locking her out of the
places she logs in from."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts import ratelimit
from accounts.ratelimit import login_source_address

PASSWORD = "a-long-test-password-1"  # conftest's make_user


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:  # noqa: ANN001
    fake = FakeClock()
    monkeypatch.setattr(ratelimit, "clock", fake)
    return fake


@pytest.fixture(autouse=True)
def throttle(settings) -> None:  # noqa: ANN001
    """The shipped defaults, pinned so that a change of default does not pass unnoticed here."""
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_BACKOFF_BASE_SECONDS = 5
    settings.LOGIN_BACKOFF_MAX_SECONDS = 300
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 20
    settings.LOGIN_USERNAME_FAILURE_LIMIT = 30
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 900
    settings.TRUSTED_PROXY_COUNT = 0


def log_in(
    client: Client, username: str, password: str, address: str, forwarded: str | None = None
):  # noqa: ANN201
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


# --- The address --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        # No proxy: the header is the client's own text and is ignored.
        (0, "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        # One proxy appended the client it saw; what the client put before it does not count.
        (1, "10.0.0.2", "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.2", "203.0.113.7", "203.0.113.7"),
        # Two proxies: the second appended the first's address, the first appended the client's.
        (2, "10.0.0.3", "198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        # Fewer entries than proxies: the request did not come through them all.
        (2, "10.0.0.3", "203.0.113.7", "10.0.0.3"),
        (1, "10.0.0.2", None, "10.0.0.2"),
        (1, "10.0.0.2", "  ", "10.0.0.2"),
        # Ports, brackets and IPv4-mapped IPv6 spell one client one way; IPv6 counts per /64.
        (1, "10.0.0.2", "203.0.113.7:51234", "203.0.113.7"),
        (1, "10.0.0.2", "[2001:db8:1:2::99]:443", "2001:db8:1:2::/64"),
        (0, "::ffff:203.0.113.7", None, "203.0.113.7"),
        (0, "2001:db8:1:2:aaaa::1", None, "2001:db8:1:2::/64"),
    ],
)
def test_the_address_is_the_one_the_trusted_proxies_saw(
    settings, trusted, remote, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = trusted
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    assert login_source_address(RequestFactory().post("/accounts/login/", **extra)) == expected


def test_trusted_proxy_count_comes_from_the_environment():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = "from django.conf import settings; print('TPC', settings.TRUSTED_PROXY_COUNT)"
    repo = Path(__file__).resolve().parents[2]
    run = lambda value: subprocess.run(  # noqa: E731
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TRUSTED_PROXY_COUNT": value},
    )
    assert "TPC 2" in run("2").stdout
    assert "TPC 0" in run("").stdout
    refused = run("-1")
    assert refused.returncode != 0 and "TRUSTED_PROXY_COUNT must be 0 or more" in refused.stderr


@pytest.mark.django_db
def test_a_spoofed_first_forwarded_entry_does_not_escape_the_address_limit(
    client, settings, make_user
):
    """Behind one proxy, `serve --proxy-headers` hands Django the first X-Forwarded-For entry as
    REMOTE_ADDR, and the client writes that entry. Spraying usernames from one real address while
    inventing a new first entry each time must still be counted against that address."""
    settings.TRUSTED_PROXY_COUNT = 1
    target = make_user()
    for n in range(20):
        spoofed = f"198.51.100.{n + 1}"
        response = log_in(
            client, f"someone-{n}", "guess-1234", spoofed, forwarded=f"{spoofed}, 203.0.113.7"
        )
        assert response.status_code == 400, n
    spoofed = "198.51.100.99"
    blocked = log_in(
        client, target.username, PASSWORD, spoofed, forwarded=f"{spoofed}, 203.0.113.7"
    )
    assert blocked.status_code == 429
    assert "Too many attempts from here; try again in 5 seconds." in blocked.content.decode()
    # Another client behind the same proxy is not affected.
    other = log_in(
        Client(), target.username, PASSWORD, "198.51.100.99", forwarded="198.51.100.99, 203.0.113.8"
    )
    assert other.status_code == 302


# --- Backing off instead of locking -------------------------------------------------------------


@pytest.mark.django_db
def test_a_stranger_cannot_lock_a_moderator_out(moderator):
    """Five wrong passwords from anywhere used to lock the username for 15 minutes."""
    stranger = Client()
    for _ in range(12):
        log_in(stranger, moderator.username, "guess-1234", "198.51.100.66")
    assert log_in(stranger, moderator.username, PASSWORD, "198.51.100.66").status_code == 429
    at_work = log_in(Client(), moderator.username, PASSWORD, "203.0.113.7")
    assert at_work.status_code == 302 and at_work.url == reverse("rooms")


@pytest.mark.django_db
def test_the_wait_grows_with_each_failure_and_ends(client, clock, member):
    here = "203.0.113.7"
    for _ in range(5):
        assert log_in(client, member.username, "guess-1234", here).status_code == 400
    for wait in (5, 10, 20, 40):
        refused = log_in(client, member.username, PASSWORD, here)
        assert refused.status_code == 429
        assert f"try again in {wait} seconds" in refused.content.decode()
        assert refused["Retry-After"] == str(wait)
        clock.advance(wait - 1)
        assert log_in(client, member.username, PASSWORD, here).status_code == 429  # not yet
        clock.advance(1)
        assert (
            log_in(client, member.username, "guess-1234", here).status_code == 400
        )  # heard, and wrong
    clock.advance(80)
    assert log_in(client, member.username, PASSWORD, here).status_code == 302


@pytest.mark.django_db
def test_the_wait_stops_growing_at_the_cap(client, clock, member):
    here = "203.0.113.7"
    for _ in range(5):
        log_in(client, member.username, "guess-1234", here)
    waits = []
    for _ in range(9):
        refused = log_in(client, member.username, "guess-1234", here)
        waits.append(int(refused["Retry-After"]))
        clock.advance(waits[-1])
        log_in(client, member.username, "guess-1234", here)
    assert waits == [5, 10, 20, 40, 80, 160, 300, 300, 300]


@pytest.mark.django_db
def test_logging_in_forgives_her_own_earlier_mistakes(client, clock, member):
    here = "203.0.113.7"
    for _ in range(4):
        log_in(client, member.username, "guess-1234", here)
    assert log_in(client, member.username, PASSWORD, here).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        assert log_in(client, member.username, "guess-1234", here).status_code == 400
    assert log_in(client, member.username, PASSWORD, here).status_code == 302


# --- Guessing from many addresses ---------------------------------------------------------------


@pytest.mark.django_db
def test_guessing_from_many_addresses_is_stopped_but_not_where_she_logs_in(
    settings, clock, moderator
):
    settings.LOGIN_USERNAME_FAILURE_LIMIT = 6
    phone = Client()
    assert log_in(phone, moderator.username, PASSWORD, "203.0.113.7").status_code == 302  # at home
    phone.post(reverse("logout"))

    for n in range(6):  # a botnet, one guess per address
        assert (
            log_in(Client(), moderator.username, "guess-1234", f"198.51.100.{n + 1}").status_code
            == 400
        )
    refused = log_in(Client(), moderator.username, PASSWORD, "198.51.100.50")  # even a right guess
    assert refused.status_code == 429
    assert (
        "Too many attempts on this account from elsewhere; try again in 900 seconds"
        in refused.content.decode()
    )

    # From home, in any browser: the address is one she logged in from.
    assert log_in(Client(), moderator.username, PASSWORD, "203.0.113.7").status_code == 302
    # Her phone on a new network: the browser is one she logged in from.
    assert log_in(phone, moderator.username, PASSWORD, "192.0.2.44").status_code == 302

    # Refused attempts keep new addresses out while the guessing goes on; then it ends.
    clock.advance(600)
    assert log_in(Client(), moderator.username, "guess-1234", "198.51.100.51").status_code == 429
    clock.advance(600)
    assert log_in(Client(), moderator.username, "guess-1234", "198.51.100.52").status_code == 429
    clock.advance(901)
    assert log_in(Client(), moderator.username, PASSWORD, "198.51.100.53").status_code == 302


@pytest.mark.django_db
def test_the_known_device_cookie_names_no_account_and_is_for_that_account_only(settings, make_user):
    settings.LOGIN_USERNAME_FAILURE_LIMIT = 3
    mine, theirs = make_user(), make_user()
    phone = Client()
    response = log_in(phone, mine.username, PASSWORD, "203.0.113.7")
    cookie = response.cookies[ratelimit.KNOWN_DEVICE_COOKIE]
    assert mine.username not in cookie.value
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == reverse("login")
    phone.post(reverse("logout"))
    for n in range(3):
        log_in(Client(), theirs.username, "guess-1234", f"198.51.100.{n + 1}")
    assert log_in(phone, theirs.username, PASSWORD, "192.0.2.44").status_code == 429
    # A forged cookie counts for nothing.
    forger = Client()
    forger.cookies[ratelimit.KNOWN_DEVICE_COOKIE] = cookie.value.replace(cookie.value[-4:], "AAAA")
    assert log_in(forger, theirs.username, PASSWORD, "192.0.2.45").status_code == 429
