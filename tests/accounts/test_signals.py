"""accounts tells chat through accounts.signals; chat (chat.receivers) pushes to her sockets after
the change commits, and not if it rolls back."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction

from accounts.actions import do_change_stage


@pytest.mark.django_db
def test_a_stage_change_refreshes_her_room_sockets_after_commit(
    member, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    new_stage = "pregnant" if member.stage != "pregnant" else "newborn"
    with (
        mock.patch("chat.events._send_now") as pushed,
        django_capture_on_commit_callbacks(execute=True),
    ):
        do_change_stage(member, new_stage, acting_user=member)
    pushed.assert_called_once_with(f"user-{member.pk}", {"type": "user.changed"})


@pytest.mark.django_db
def test_a_stage_change_rolled_back_pushes_nothing(
    member, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    new_stage = "pregnant" if member.stage != "pregnant" else "newborn"
    with (
        mock.patch("chat.events._send_now") as pushed,
        django_capture_on_commit_callbacks(execute=True),
    ):
        with pytest.raises(RuntimeError), transaction.atomic():
            do_change_stage(member, new_stage, acting_user=member)
            raise RuntimeError("rolled back")
    pushed.assert_not_called()
