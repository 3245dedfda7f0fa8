"""The Content-Security-Policy: a page may open sockets to its own site only, so script that
slipped past escaping could not send a member's words to another host over a WebSocket."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse


def connect_sources(response) -> list[str]:  # noqa: ANN001
    directives = dict(
        (part.split()[0], part.split()[1:])
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    )
    return directives["connect-src"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("host", "secure", "expected"),
    [
        ("127.0.0.1:8000", False, ["'self'", "ws://127.0.0.1:8000"]),  # `make run`
        (
            "localhost:41234",
            False,
            ["'self'", "ws://localhost:41234"],
        ),  # a live server's random port
        ("localhost", True, ["'self'", "wss://localhost"]),  # over https: secure sockets only
    ],
)
def test_sockets_may_connect_to_the_site_itself_only(
    member, host: str, secure: bool, expected: list[str]
) -> None:  # noqa: ANN001
    client = Client()
    client.force_login(member)
    response = client.get(reverse("rooms"), HTTP_HOST=host, secure=secure)
    assert response.status_code == 200
    assert connect_sources(response) == expected


@pytest.mark.django_db
def test_the_login_page_has_the_same_policy(client) -> None:  # noqa: ANN001
    response = client.get(reverse("login"), HTTP_HOST="127.0.0.1:8000")
    assert connect_sources(response) == ["'self'", "ws://127.0.0.1:8000"]
