from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from accounts.models import Role
from chat.actions import do_send_message
from chat.models import Room
from moderation import actions as moderation_actions
from moderation.models import Flag
from moderation.policy import Decision
from moderation.practice.actions import do_set_pass_mark


@pytest.fixture(autouse=True)
def _starter_scenarios(request) -> None:  # noqa: ANN001
    """Transactional tests flush every table, the scenarios the data migration seeded too: put
    the starter set back so every test starts from what a fresh install has."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.core.management import call_command

    from moderation.practice.models import Scenario

    if not Scenario.objects.exists():
        call_command("seed_practice_scenarios", stdout=io.StringIO())


@pytest.fixture
def volunteer(make_user):  # noqa: ANN001, ANN201
    return make_user(display_name="Vera")


@pytest.fixture
def trainee(volunteer, supervisor):  # noqa: ANN001, ANN201
    """A member a supervisor made a trainee, through the one role-changing action."""
    moderation_actions.do_change_user_role(volunteer, Role.TRAINEE, acting_user=supervisor)
    volunteer.refresh_from_db()
    return volunteer


@pytest.fixture
def small_pass_mark(supervisor):  # noqa: ANN001, ANN201
    """Six scenarios, 80%, every risk scenario escalated within 5 minutes."""
    return do_set_pass_mark(
        acting_user=supervisor,
        pass_accuracy_pct=80,
        min_scenarios=6,
        queue_size=6,
        all_risk_correct=True,
        risk_within_target=True,
    )


@pytest.fixture
def real_flag(member, moderator):  # noqa: ANN001, ANN201
    """A real member's message in the real queue."""
    moderation_actions.do_set_on_duty(moderator=moderator, on_duty=True)
    room = Room.objects.get(slug="newborn")
    message = do_send_message(
        author=member, room=room, client_id="real-01", body="Honestly nobody here cares, shut up"
    )
    flag = Flag.objects.filter(message=message).first() or moderation_actions.do_record_decision(
        message, Decision("flag", "toxic", "high", [{"rule": "test"}]), source="rule"
    )
    return Flag.objects.select_related("message").get(pk=flag.pk)


def client_for(user) -> Client:  # noqa: ANN001
    client = Client()
    if user is not None:
        client.force_login(user, backend="accounts.backends.KindredBackend")
    return client


def post(user, path: str, data: dict | None = None):  # noqa: ANN001, ANN201
    return client_for(user).post(path, json.dumps(data or {}), content_type="application/json")
