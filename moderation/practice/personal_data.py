"""A trainee's training record in her export, and gone when her account is erased
(accounts.personal_data; registered in PracticeConfig.ready).

What is hers: when she trained and was signed off (and the supervisor's sign-off note, which is
about her), each practice decision she made with the notes she typed, and the refreshers a
supervisor asked of her with their reasons. The scenarios themselves are made-up training
material, not anyone's data, and stay."""

from __future__ import annotations

from typing import Any

from moderation.practice.models import PracticeAttempt, Refresher, TraineeRecord

MODELS = ["practice.TraineeRecord", "practice.PracticeAttempt", "practice.Refresher"]


def export_member_data(user, data: dict[str, Any]) -> None:  # noqa: ANN001
    def when(value):  # noqa: ANN001, ANN202
        return value.isoformat() if value else None

    record = TraineeRecord.objects.filter(user=user).first()
    attempts = PracticeAttempt.objects.filter(user=user).select_related("scenario")
    refreshers = Refresher.objects.filter(user=user)
    if record is None and not attempts.exists() and not refreshers.exists():
        return
    data["moderator_training"] = {
        "record": None
        if record is None
        else {
            "started_at": when(record.started_at),
            "passed_at": when(record.passed_at),
            "signed_off_at": when(record.signed_off_at),
            "sign_off_note": record.sign_off_note,
        },
        "practice_decisions": [
            {
                "scenario": a.scenario.title,
                "served_at": when(a.served_at),
                "decided_at": when(a.decided_at),
                "correct": a.correct,
                "seconds_to_act": a.seconds_to_act,
                "actions": a.actions,
            }
            for a in attempts.order_by("served_at", "pk")
        ],
        "refreshers": [
            {
                "reason": r.reason,
                "due_by": r.due_by.isoformat() if r.due_by else None,
                "created_at": when(r.created_at),
                "completed_at": when(r.completed_at),
            }
            for r in refreshers
        ],
    }


def erase_member_data(erasure) -> dict[str, Any]:  # noqa: ANN001
    user = erasure.user
    attempts, _ = PracticeAttempt.objects.filter(user=user).delete()
    Refresher.objects.filter(user=user).delete()
    TraineeRecord.objects.filter(user=user).delete()
    return {"practice_attempts": attempts}


def register() -> None:
    try:
        from accounts import personal_data
    except ImportError:  # a build without the registry: nothing to register with
        return
    personal_data.register(
        "moderation.practice",
        models=MODELS,
        export=export_member_data,
        erase=erase_member_data,
        order=50,
    )
