from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection

from accounts.actions import do_create_account
from accounts.models import Role, Stage, User

ORIGIN = b"http://127.0.0.1:8000"

# The product keeps a database connection per thread (CONN_MAX_AGE); the suite closes them after
# each use so that no thread-pool thread holds the test database open when it is dropped.
settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


def pytest_report_header(config) -> list[str]:  # noqa: ANN001
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"kindred: database={engine} channel_layer={layer}"]


@pytest.fixture(scope="session", autouse=True)
def _services_are_real(django_db_setup, django_db_blocker) -> None:  # noqa: ANN001
    """In CI the suite must run against PostgreSQL and Redis: refuse to pass on the embedded
    defaults there, so a misconfigured CI cannot go green by quietly testing less."""
    if os.environ.get("KINDRED_REQUIRE_SERVICES") != "1":
        return
    with django_db_blocker.unblock():
        assert connection.vendor == "postgresql", "CI must run against PostgreSQL (DATABASE_URL)"
    assert "redis" in settings.CHANNEL_LAYERS["default"]["BACKEND"].lower(), "CI must use Redis"


@pytest.fixture(autouse=True)
def _isolated_cache(settings) -> None:  # noqa: ANN001
    """Rate-limit and login-failure counters live in the cache (Redis in CI); a fresh key prefix
    per test keeps one test's counters out of the next without flushing a shared Redis."""
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


_counter = iter(range(1, 10**9))


@pytest.fixture
def make_user() -> Callable[..., User]:
    def make(
        role: str = Role.MEMBER,
        stage: str = Stage.NEWBORN,
        display_name: str | None = None,
        **kw: Any,
    ) -> User:
        n = next(_counter)
        name = display_name or f"{role.title()}{n:04d}"
        return do_create_account(
            username=f"user{n}-{uuid.uuid4().hex[:6]}",
            password="a-long-test-password-1",
            display_name=name,
            role=role,
            stage=stage if role == Role.MEMBER else kw.pop("stage_override", ""),
            adult_confirmed=True,
            guidelines_accepted=True,
            validate_password_strength=False,
        )

    return make


@pytest.fixture
def member(make_user) -> User:  # noqa: ANN001
    return make_user(display_name="Amara")


@pytest.fixture
def other_member(make_user) -> User:  # noqa: ANN001
    return make_user(display_name="Bea")


@pytest.fixture
def pregnant_member(make_user) -> User:  # noqa: ANN001
    return make_user(stage=Stage.PREGNANT, display_name="Cleo")


@pytest.fixture
def moderator(make_user) -> User:  # noqa: ANN001
    return make_user(role=Role.MODERATOR, display_name="Morgan")


@pytest.fixture
def supervisor(make_user) -> User:  # noqa: ANN001
    return make_user(role=Role.SUPERVISOR, display_name="Sam")


@pytest.fixture
def newborn_room():  # noqa: ANN201
    from chat.models import Room

    return Room.objects.get(slug="newborn")


def _session_cookie(user: User) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user, backend="accounts.backends.KindredBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def open_socket(
    user: User | None,
    path: str,
    *,
    origin: bytes | None = ORIGIN,
    application: Any = None,
) -> WebsocketCommunicator:
    """A connected communicator authenticated as `user` through the real session middleware."""
    from config.asgi import application as default_app

    headers = [(b"host", b"127.0.0.1:8000")]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None:
        cookie = await sync_to_async(_session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application or default_app, path, headers=headers)
    return communicator


async def receive_until(
    communicator: WebsocketCommunicator, frame_type: str, timeout: float = 3
) -> dict:
    """Skip frames (presence, typing…) until one of `frame_type` arrives."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == frame_type:
            return frame


async def drain(communicator: WebsocketCommunicator, timeout: float = 0.2) -> list[dict]:
    frames = []
    while not await communicator.receive_nothing(timeout=timeout):
        frames.append(await communicator.receive_json_from(timeout=timeout))
    return frames


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> None:
    """Each test gets a new channel-layer instance: the in-memory layer keeps groups between
    tests, and the Redis layer's locks and pools belong to the event loop that first used them
    (every async test has its own loop). Synchronous on purpose, so it never starts a loop of
    its own under Playwright's sync API."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _default_rooms(request) -> None:  # noqa: ANN001
    """Transactional tests flush every table, including the rooms and helplines data migrations made;
    put them back so every test starts from what a fresh install has."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    request.getfixturevalue("transactional_db" if transactional else "db")
    import importlib

    from django.apps import apps

    from chat.models import Room
    from moderation.models import Helpline

    if not Room.objects.exists():
        importlib.import_module("chat.migrations.0002_rooms").create_rooms(apps, None)
    if not Helpline.objects.exists():
        importlib.import_module("moderation.migrations.0004_helplines_from_data").load(apps, None)


@pytest.fixture(autouse=True)
def _safety_model_off_unless_asked(settings, request) -> None:  # noqa: ANN001
    """Most tests check rules, actions and sockets; they run without Kindred's safety model so
    that what they assert does not depend on a trained model's scores. Tests of the model and of
    the moderation stage as members get it opt in with the ``safety_model_on`` fixture (and the
    browser tests' servers run the real committed model)."""
    from moderation import selectors

    if "safety_model_on" not in request.fixturenames:
        settings.MODERATION_SAFETY_MODEL = "off"
    selectors.forget_safety_model_ready()


@pytest.fixture
def safety_model_on(settings):  # noqa: ANN001, ANN201
    """The committed safety model is live for this test (loaded once per test process)."""
    from moderation.safety_model import load_safety_model

    settings.MODERATION_SAFETY_MODEL = settings.MODERATION_SAFETY_MODEL_DEFAULT
    model = load_safety_model(settings.MODERATION_SAFETY_MODEL)
    assert model is not None, "the committed safety model must load offline"
    return model
