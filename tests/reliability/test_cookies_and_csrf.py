"""Attack: session and CSRF hygiene. Cookies are Secure (production profile), HttpOnly (session)
and SameSite; every <form method=post> on every page (enumerated from the URLconf and rendered as
each role) carries a CSRF token, and posting it without the token is refused with 403.
(`check --deploy` on the production profile is tests/test_deploy.py.)"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import Role
from tests.reliability.test_role_matrix import url_routes, world  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parents[2]


def test_production_profile_cookie_flags() -> None:
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "kindred.example.org",
        "DEBUG": "",
    }
    code = (
        "import json; from django.conf import settings as s; print('COOKIES ' + json.dumps({k: getattr(s, k) for k in "
        "['SESSION_COOKIE_SECURE','SESSION_COOKIE_HTTPONLY','SESSION_COOKIE_SAMESITE','CSRF_COOKIE_SECURE',"
        "'CSRF_COOKIE_SAMESITE','SECURE_SSL_REDIRECT','SECURE_HSTS_SECONDS','DEBUG']}))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    flags = json.loads(
        next(
            line for line in result.stdout.splitlines() if line.startswith("COOKIES ")
        ).removeprefix("COOKIES ")
    )
    assert flags["SESSION_COOKIE_SECURE"] and flags["CSRF_COOKIE_SECURE"], flags
    assert flags["SESSION_COOKIE_HTTPONLY"], flags
    assert flags["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict") and flags[
        "CSRF_COOKIE_SAMESITE"
    ] in ("Lax", "Strict"), flags
    assert (
        flags["SECURE_SSL_REDIRECT"]
        and flags["SECURE_HSTS_SECONDS"] >= 31536000
        and not flags["DEBUG"]
    ), flags


@pytest.mark.django_db
def test_login_sets_an_httponly_samesite_session_cookie(make_user) -> None:  # noqa: ANN001
    user = make_user(display_name="Cookie")
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": "a-long-test-password-1"}
    )
    assert response.status_code == 302, response.status_code
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"].lower() in ("lax", "strict"), (
        session.output()
    )
    page = client.get("/rooms/")
    csrf = page.cookies.get("csrftoken") or client.cookies.get("csrftoken")
    assert csrf is not None and csrf["samesite"].lower() in ("lax", "strict"), csrf


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self._current = {
                "method": (a.get("method") or "get").lower(),
                "action": a.get("action"),
                "fields": {},
            }
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "textarea", "button"):
            if a.get("name"):
                self._current["fields"][a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _get_pages(objects: dict) -> list[str]:
    pages = []
    for route, _callback in url_routes():
        if (
            route.startswith(("/admin", "/api/"))
            or route.startswith("/healthz")
            or "export." in route
        ):
            continue
        path = re.sub(
            r"<(?:(\w+):)?(\w+)>",
            lambda m: (
                str(objects.get(m.group(2), objects["default_int"]))
                if m.group(1) == "int"
                else "newborn"
            ),
            route,
        )
        pages.append(path)
    return sorted(set(pages))


@pytest.mark.django_db
def test_every_post_form_carries_a_csrf_token_and_is_refused_without_it(world) -> None:  # noqa: ANN001, F811
    from django.contrib.auth import get_user_model

    users = {
        "anonymous": None,
        "member": world["bea"],
        "moderator": world["morgan"],
        "supervisor": world["sam"],
    }
    found, missing_token, accepted_without_token = [], [], []
    for role, user in users.items():
        client = Client()
        strict = Client(enforce_csrf_checks=True)
        if user is not None:
            client.force_login(user, backend="accounts.backends.KindredBackend")
            strict.force_login(user, backend="accounts.backends.KindredBackend")
        for path in _get_pages(world["objects"]):
            response = client.get(path)
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            parser = _Forms()
            parser.feed(response.content.decode())
            for form in parser.forms:
                if form["method"] != "post":
                    continue
                action = form["action"] or path
                found.append((role, path, action))
                if "csrfmiddlewaretoken" not in form["fields"]:
                    missing_token.append((role, path, action))
                data = {k: v for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"}
                refused = strict.post(action, data)
                if refused.status_code != 403:
                    accepted_without_token.append((role, path, action, refused.status_code))
    actions = {a for _, _, a in found}
    assert {"/accounts/login/", "/accounts/logout/", "/accounts/signup/"} <= actions, sorted(
        actions
    )
    assert missing_token == [], missing_token
    assert accepted_without_token == [], accepted_without_token
    assert get_user_model().objects.filter(pk=world["bea"].pk, role=Role.MEMBER).exists()


@pytest.mark.django_db
def test_json_api_posts_without_the_csrf_header_are_refused(world) -> None:  # noqa: ANN001, F811
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world["morgan"], backend="accounts.backends.KindredBackend")
    flag = world["objects"]["flag_id"]
    for path in (
        "/api/moderation/duty",
        f"/api/moderation/flags/{flag}/claim",
        f"/api/moderation/members/{world['amara'].pk}/note",
    ):
        response = strict.post(
            path, json.dumps({"on_duty": False, "text": "x"}), content_type="application/json"
        )
        assert response.status_code == 403, (path, response.status_code)
