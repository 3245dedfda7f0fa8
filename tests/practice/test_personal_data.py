"""Her training record is in her data export and goes when her account is erased."""

from __future__ import annotations

import pytest

from accounts.actions import do_erase_account, do_export_member_data
from accounts.models import Role
from moderation.actions import do_change_user_role
from moderation.practice import actions
from moderation.practice.models import PracticeAttempt, TraineeRecord

pytestmark = pytest.mark.django_db


def test_her_training_is_in_her_export_and_erased_with_her_account(
    trainee, supervisor, small_pass_mark
) -> None:
    item = actions.do_fill_practice_queue(trainee)[0]
    actions.do_practice_action(trainee, item.pk, "claim")
    actions.do_practice_action(
        trainee, item.pk, "note", data=actions.ActionInput(text="my own practice note")
    )

    data = do_export_member_data(trainee, acting_user=trainee)
    training = data["moderator_training"]
    assert training["record"]["started_at"]
    decision = next(
        d for d in training["practice_decisions"] if d["scenario"] == item.scenario.title
    )
    assert [a["action"] for a in decision["actions"]] == ["claim", "note"]
    assert decision["actions"][1]["detail"] == "my own practice note"

    do_change_user_role(trainee, Role.MEMBER, acting_user=supervisor, reason="stopping training")
    trainee.refresh_from_db()
    do_erase_account(trainee, acting_user=trainee)
    assert not PracticeAttempt.objects.filter(user=trainee).exists()
    assert not TraineeRecord.objects.filter(user=trainee).exists()


def test_a_member_who_never_trained_has_no_training_section(member) -> None:
    assert "moderator_training" not in do_export_member_data(member, acting_user=member)
