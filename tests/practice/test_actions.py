"""Practice actions: the rows, the audit records, and what the trainee would notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from moderation.actions import ModerationError, do_change_user_role
from moderation.models import AuditEntry, ModeratorDuty
from moderation.practice import actions, selectors
from moderation.practice.models import AttemptState, PracticeAttempt, Scenario

pytestmark = pytest.mark.django_db

ANSWERS = {  # a right answer per kind, as a trainee who knows would act
    "risk": [("escalate", {"note": "She says she wants to die"})],
    "distress": [("dismiss", {})],
    "insensitive": [("warn", {})],
    "abuse": [("hide", {}), ("warn", {})],
    "idiom": [("dismiss", {})],
    "grudge": [("dismiss", {})],
    "unkind_under_risk": [("hide", {}), ("warn", {})],
    "returning": [("approve", {})],
}


def act(user, attempt, action, **data):  # noqa: ANN001, ANN003, ANN201
    return actions.do_practice_action(user, attempt.pk, action, data=actions.ActionInput(**data))


def answer_right(user, attempt) -> PracticeAttempt:  # noqa: ANN001
    scenario = attempt.scenario
    act(user, attempt, "claim")
    steps = ANSWERS[scenario.kind]
    if scenario.kind in ("distress", "idiom") and scenario.held:
        steps = [("approve", {})]
    if scenario.kind == "abuse" and ["hide", "warn"] not in scenario.expected:
        steps = [("hide", {}), ("mute", {"minutes": 60})]
    if scenario.kind == "returning" and not any(o == ["approve"] for o in scenario.expected):
        steps = [("hide", {}), ("mute", {"minutes": 60})]
    for action, data in steps:
        attempt = act(user, attempt, action, **data)
    assert attempt.state == AttemptState.DECIDED and attempt.correct, scenario.slug
    return attempt


def test_the_starter_set_has_every_kind_and_each_risk_family_with_and_without_alarming_words() -> (
    None
):
    scenarios = list(Scenario.objects.filter(is_active=True))
    assert len(scenarios) >= 40
    kinds = {s.kind for s in scenarios}
    assert kinds == set(ANSWERS)
    families = {}
    for s in scenarios:
        if s.kind == "risk":
            alarming = any("rule" in r and r["rule"].startswith("risk.") for r in s.reasons)
            families.setdefault(s.risk_family, set()).add(alarming)
    assert set(families) == {
        "suicidal_thoughts",
        "plans_and_means",
        "self_harm",
        "harm_to_baby",
        "danger_at_home",
    }
    assert all(v == {True, False} for v in families.values()), families
    assert all(s.explanation and s.expected for s in scenarios)


def test_her_queue_is_a_mix_of_practice_items_topped_up_to_the_pass_mark(
    trainee, small_pass_mark
) -> None:
    items = actions.do_fill_practice_queue(trainee)
    assert len(items) == 6
    assert len({i.scenario.kind for i in items}) == 6
    # Idempotent: reloading the page does not deal more.
    assert len(actions.do_fill_practice_queue(trainee)) == 6
    assert selectors.TraineeRecord.objects.filter(user=trainee).exists()


def test_a_risk_item_escalated_is_right_and_timed(trainee, small_pass_mark) -> None:
    item = next(i for i in actions.do_fill_practice_queue(trainee) if i.scenario.kind == "risk")
    with pytest.raises(ModerationError) as refused:
        act(trainee, item, "escalate", note="worried")
    assert refused.value.code == "not_claimed"
    act(trainee, item, "claim")
    with pytest.raises(ModerationError):
        act(trainee, item, "escalate", note="   ")  # a reason is required, as on duty
    done = act(trainee, item, "escalate", note="She is thinking of ending her life")
    assert done.correct is True and done.state == AttemptState.DECIDED
    assert 0 <= done.seconds_to_act < 300
    feedback = selectors.feedback(done)
    assert feedback["correct"] and feedback["expected"] == "Escalate to supervisors."
    with pytest.raises(ModerationError) as again:
        act(trainee, done, "hide")
    assert again.value.code == "conflict"


def test_hiding_a_risk_item_is_missed_with_kind_feedback_and_comes_back_on_retry(
    trainee, small_pass_mark
) -> None:
    item = next(i for i in actions.do_fill_practice_queue(trainee) if i.scenario.kind == "risk")
    act(trainee, item, "claim")
    missed = act(trainee, item, "hide")
    assert missed.correct is False
    feedback = selectors.feedback(missed)
    assert feedback["wrong"] == ["hide the message"]
    assert "Escalate" in feedback["expected"] and feedback["explanation"]
    retry = act(trainee, missed, "retry")
    assert retry.pk != missed.pk and retry.scenario_id == missed.scenario_id
    assert retry.state == AttemptState.OPEN
    progress = selectors.progress(trainee)
    assert progress.missed[0]["title"] == item.scenario.title
    assert not progress.missed[0]["since_right"]


def test_hide_without_the_warning_waits_for_a_follow_up_then_counts_as_missed(
    trainee, small_pass_mark
) -> None:
    item = next(i for i in actions.do_fill_practice_queue(trainee) if i.scenario.kind == "abuse")
    act(trainee, item, "claim")
    half = act(trainee, item, "hide")
    assert half.state != AttemptState.DECIDED
    with pytest.raises(ModerationError):
        act(trainee, half, "hide")
    done = act(trainee, half, "finish")
    assert done.correct is False


def test_approve_only_for_a_held_message(trainee, small_pass_mark) -> None:
    item = next(i for i in actions.do_fill_practice_queue(trainee) if not i.scenario.held)
    act(trainee, item, "claim")
    with pytest.raises(ModerationError) as refused:
        act(trainee, item, "approve")
    assert refused.value.message == "Only a held message can be approved."


def test_she_cannot_touch_another_trainees_item(
    trainee, make_user, supervisor, small_pass_mark
) -> None:
    other = make_user(display_name="Wynn")
    do_change_user_role(other, Role.TRAINEE, acting_user=supervisor)
    other.refresh_from_db()
    theirs = actions.do_fill_practice_queue(other)[0]
    with pytest.raises(ModerationError) as refused:
        actions.do_practice_action(trainee, theirs.pk, "claim")
    assert refused.value.code == "not_found"


def test_members_cannot_practise(member) -> None:
    with pytest.raises(ModerationError) as refused:
        actions.do_fill_practice_queue(member)
    assert refused.value.code == "forbidden"


def test_a_stale_untouched_item_restarts_its_clock(trainee, small_pass_mark) -> None:
    first = actions.do_fill_practice_queue(trainee)[0]
    later = timezone.now() + timedelta(hours=3)
    again = {i.pk: i for i in actions.do_fill_practice_queue(trainee, now=later)}
    assert again[first.pk].served_at == later


def test_pass_then_sign_off_makes_her_a_moderator_audited(
    trainee, supervisor, small_pass_mark
) -> None:
    # Without sign-off, a supervisor cannot simply make her a moderator.
    with pytest.raises(ModerationError) as refused:
        do_change_user_role(trainee, Role.MODERATOR, acting_user=supervisor)
    assert "signed off" in refused.value.message
    with pytest.raises(ModerationError):
        actions.do_sign_off_trainee(trainee, acting_user=supervisor)

    items = actions.do_fill_practice_queue(trainee)
    risk = next(i for i in items if i.scenario.kind == "risk")
    act(trainee, risk, "claim")
    act(trainee, risk, "dismiss")  # fails a risk scenario
    retry = act(trainee, risk, "retry")
    answer_right(trainee, retry)
    for item in items:
        if item.scenario.kind != "risk":
            answer_right(trainee, item)
    progress = selectors.progress(trainee)
    assert progress.scenarios_done == 6 and progress.accuracy_pct == 86  # 6 of 7
    assert progress.meets_pass_mark, progress.unmet
    record = selectors.TraineeRecord.objects.get(user=trainee)
    assert record.passed_at is not None
    assert AuditEntry.objects.filter(action="practice.pass_mark_met", target_user=trainee).exists()
    assert trainee.role == Role.TRAINEE  # passing is not sign-off

    actions.do_sign_off_trainee(trainee, acting_user=supervisor, note="Calm and careful with risk")
    trainee.refresh_from_db()
    assert trainee.role == Role.MODERATOR
    signed = AuditEntry.objects.get(action="practice.signed_off")
    assert (signed.actor, signed.target_user, signed.reason) == (
        supervisor,
        trainee,
        "Calm and careful with risk",
    )
    role = AuditEntry.objects.get(action="account.role_changed", after={"role": "moderator"})
    assert role.before == {"role": "trainee"} and role.actor == supervisor


def test_moderators_cannot_sign_off_or_change_the_pass_mark(trainee, moderator) -> None:
    with pytest.raises(ModerationError):
        actions.do_sign_off_trainee(trainee, acting_user=moderator)
    with pytest.raises(ModerationError):
        actions.do_set_pass_mark(acting_user=moderator, pass_accuracy_pct=50)


def test_the_pass_mark_change_is_audited(supervisor) -> None:
    actions.do_set_pass_mark(acting_user=supervisor, pass_accuracy_pct=90, reason="after review")
    entry = AuditEntry.objects.get(action="practice.pass_mark_changed")
    assert entry.before["pass_accuracy_pct"] == 85 and entry.after["pass_accuracy_pct"] == 90
    assert selectors.policy().pass_accuracy_pct == 90
    with pytest.raises(ModerationError):
        actions.do_set_pass_mark(acting_user=supervisor, pass_accuracy_pct=20)


def test_a_refresher_feeds_her_queue_and_completes(moderator, supervisor) -> None:
    risk = list(Scenario.objects.filter(kind="risk")[:2])
    refresher = actions.do_require_refresher(
        moderator,
        scenario_ids=[s.pk for s in risk],
        reason="Second reviews disagreed twice",
        acting_user=supervisor,
    )
    assert AuditEntry.objects.filter(
        action="practice.refresher_required", target_user=moderator
    ).exists()
    items = actions.do_fill_practice_queue(moderator)
    assert {i.scenario_id for i in items} == {s.pk for s in risk}
    for item in items:
        answer_right(moderator, item)
    refresher.refresh_from_db()
    assert refresher.completed_at is not None
    assert AuditEntry.objects.filter(action="practice.refresher_completed").exists()


def test_a_trainee_is_never_on_duty(trainee) -> None:
    with pytest.raises(PermissionError):
        from moderation.actions import do_set_on_duty

        do_set_on_duty(moderator=trainee, on_duty=True)


def test_a_moderator_made_trainee_goes_off_duty(moderator, supervisor) -> None:
    from moderation.actions import do_set_on_duty

    do_set_on_duty(moderator=moderator, on_duty=True)
    do_change_user_role(moderator, Role.TRAINEE, acting_user=supervisor)
    assert not ModeratorDuty.objects.filter(moderator=moderator, ended_at__isnull=True).exists()


def test_a_supervisor_edits_a_scenario_audited(supervisor) -> None:
    scenario = Scenario.objects.get(slug="idiom-shoot-me")
    actions.do_save_scenario(
        scenario_id=scenario.pk,
        fields={
            **{f: getattr(scenario, f) for f in actions.SCENARIO_FIELDS},
            "explanation": "Soft play humour. Dismiss.",
        },
        acting_user=supervisor,
        reason="shorter",
    )
    entry = AuditEntry.objects.get(action="practice.scenario_updated")
    assert entry.after == {"id": scenario.pk, "explanation": "Soft play humour. Dismiss."}
    with pytest.raises(ModerationError):
        actions.do_save_scenario(
            scenario_id=scenario.pk,
            fields={
                **{f: getattr(scenario, f) for f in actions.SCENARIO_FIELDS},
                "expected": [["shout"]],
            },
            acting_user=supervisor,
        )
