"""Every write of the training app: the practice queue, her decisions, retries, the pass mark,
scenarios, sign-off and refreshers.

Practice decisions touch practice rows only: no message, flag, notice, mute or account of a
real member is read or changed here, and nothing is pushed to a room. Supervisors' changes
(scenarios, the pass mark, sign-off, refreshers) are audited; a trainee's practice clicks are
kept on her attempts instead (they are her record, and no member is affected by them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from moderation.actions import ModerationError
from moderation.audit import record_audit
from moderation.practice import scoring, selectors
from moderation.practice.models import (
    RESOLVING_ACTIONS,
    AttemptState,
    PracticeAction,
    PracticeAttempt,
    Refresher,
    RiskFamily,
    Scenario,
    ScenarioKind,
    TraineeRecord,
    TrainingPolicy,
)

# An item nobody touched for this long is put back at the top of the clock when she returns,
# so a practice session left overnight does not count as a missed 5-minute target.
STALE_AFTER = timedelta(hours=1)
MUTE_MINUTES = (15, 60, 24 * 60, 7 * 24 * 60)
CONSOLE_ACTIONS = ("claim", "release", "finish", "retry", *PracticeAction.values)


def _require_practitioner(user: User) -> None:
    if not selectors.may_practise(user):
        raise ModerationError("forbidden", "Trainees, moderators and supervisors only.")


def _require_supervisor(user: User) -> None:
    if not getattr(user, "is_authenticated", False) or not user.is_supervisor or user.is_suspended:
        raise ModerationError("forbidden", "Supervisors only.")


def _ensure_record(user: User) -> TraineeRecord | None:
    if user.role != Role.TRAINEE:
        return TraineeRecord.objects.filter(user=user).first()
    return TraineeRecord.objects.get_or_create(user=user)[0]


# --- The practice queue ---------------------------------------------------------------------------


def do_fill_practice_queue(user: User, *, now: Any = None) -> list[PracticeAttempt]:
    """Her practice queue, topped up to the pass mark's queue size: the scenarios of her open
    refresher first, otherwise those she has not yet got right (a mix of kinds, in the order
    supervisors set). Idempotent; returns the open items."""
    _require_practitioner(user)
    now = now or timezone.now()
    policy = selectors.policy()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one fill at a time
        _ensure_record(user)
        open_items = list(
            PracticeAttempt.objects.filter(user=user).exclude(state=AttemptState.DECIDED)
        )
        for item in open_items:
            if (
                not item.actions
                and item.state == AttemptState.OPEN
                and now - item.served_at > STALE_AFTER
            ):
                item.served_at = now
                item.save(update_fields=["served_at"])
        refresher = selectors.open_refresher(user)
        wanted = max(1, policy.queue_size) - len(open_items)
        if wanted > 0:
            busy = {i.scenario_id for i in open_items}
            for scenario in selectors.next_scenarios(user, refresher=refresher, exclude=busy)[
                :wanted
            ]:
                try:
                    with transaction.atomic():
                        open_items.append(
                            PracticeAttempt.objects.create(
                                user=user,
                                scenario=scenario,
                                refresher=refresher,
                                served_at=now,
                                message_state="held" if scenario.held else "visible",
                            )
                        )
                except IntegrityError:  # already open (a second tab filled it first)
                    continue
    return open_items


def _lock_attempt(user: User, attempt_id: int) -> PracticeAttempt:
    attempt = (
        PracticeAttempt.objects.select_for_update()
        .select_related("scenario")
        .filter(pk=attempt_id, user=user)
        .first()
    )
    if attempt is None:  # someone else's practice item looks exactly like a missing one
        raise ModerationError("not_found", "No such practice item.")
    return attempt


def _taken(attempt: PracticeAttempt) -> list[str]:
    return [a["action"] for a in attempt.actions if a["action"] in PracticeAction.values]


@dataclass(frozen=True)
class ActionInput:
    reason: str = ""
    text: str = ""
    note: str = ""
    minutes: int | None = None


def do_practice_action(
    user: User, attempt_id: int, action: str, *, data: ActionInput | None = None, now: Any = None
) -> PracticeAttempt:
    """One console action on one of her practice items, checked as the real console checks it
    (claim first; approve only a held message…), then judged (moderation.practice.scoring).

    `retry` after a missed item puts the same scenario back in her queue and returns the new
    item. Raises ModerationError with a code the API maps to a status."""
    _require_practitioner(user)
    if action not in CONSOLE_ACTIONS:
        raise ModerationError("not_found", f"Unknown action {action[:40]!r}.")
    data = data or ActionInput()
    now = now or timezone.now()
    with transaction.atomic():
        attempt = _lock_attempt(user, attempt_id)
        if action == "retry":
            return _retry(user, attempt, now=now)
        if attempt.state == AttemptState.DECIDED:
            raise ModerationError(
                "conflict", "You've already finished this one: the feedback is below."
            )
        resolved = any(a in RESOLVING_ACTIONS for a in _taken(attempt))
        if action == "claim":
            if attempt.state == AttemptState.CLAIMED:
                return attempt
            attempt.state = AttemptState.CLAIMED
            attempt.claimed_at = attempt.claimed_at or now
            _log(attempt, "claim", now)
            attempt.save()
            return attempt
        if action == "release":
            if resolved:
                raise ModerationError("conflict", "This item has already been resolved.")
            attempt.state = AttemptState.OPEN
            _log(attempt, "release", now)
            attempt.save()
            return attempt
        if action == "note":
            text = " ".join((data.text or "").split())
            if not text:
                raise ModerationError("validation", "Write the note first.")
            if len(text) > 2000:
                raise ModerationError("validation", "A note can be at most 2000 characters.")
            _log(attempt, "note", now, detail=text)
        elif action == "finish":
            if not resolved:
                raise ModerationError(
                    "conflict", "Decide about the item first (hide, approve, dismiss, warn…)."
                )
            verdict = scoring.judge(
                _taken(attempt),
                attempt.scenario.expected,
                attempt.scenario.acceptable,
                finished=True,
            )
            _decide(attempt, verdict, now)
            attempt.save()
            _after_decision(user, attempt, now)
            return attempt
        else:
            if attempt.state != AttemptState.CLAIMED:
                raise ModerationError("not_claimed", "Claim this item before acting on it.")
            detail = _check_decision(attempt, action, data, resolved=resolved)
            _log(attempt, action, now, detail=detail)
            if action == "hide":
                attempt.message_state = "hidden"
            elif action == "approve":
                attempt.message_state = "visible"
        verdict = scoring.judge(
            _taken(attempt), attempt.scenario.expected, attempt.scenario.acceptable
        )
        if verdict.decided:
            _decide(attempt, verdict, now)
        attempt.save()
        if verdict.decided:
            _after_decision(user, attempt, now)
    return attempt


def _check_decision(
    attempt: PracticeAttempt, action: str, data: ActionInput, *, resolved: bool
) -> str:
    """The real console's own refusals, so practice teaches the same habits. Returns what is
    kept about the decision (the escalation note, the mute length)."""
    taken = _taken(attempt)
    if action in ("hide", "approve", "dismiss") and resolved:
        raise ModerationError("conflict", "This item has already been resolved.")
    if action == "hide" and attempt.message_state == "hidden":
        raise ModerationError("conflict", "This message is already hidden.")
    if action == "approve" and attempt.message_state != "held":
        raise ModerationError("conflict", "Only a held message can be approved.")
    if action in ("warn", "mute", "suspend", "escalate") and action in taken:
        raise ModerationError("conflict", "You've already done that for this item.")
    if action == "escalate":
        note = " ".join((data.note or "").split())
        if not note:
            raise ModerationError("validation", "Say in a sentence why you are escalating.")
        if len(note) > 2000:
            raise ModerationError("validation", "A note can be at most 2000 characters.")
        return note
    if action == "mute":
        if data.minutes not in MUTE_MINUTES:
            raise ModerationError("validation", "Choose how long the mute lasts.")
        return str(data.minutes)
    if action == "warn":
        text = data.text or ""
        if len(text) > 2000:
            raise ModerationError("validation", "text can be at most 2000 characters.")
        return ""
    return ""


def _log(attempt: PracticeAttempt, action: str, now: Any, *, detail: str = "") -> None:
    entry = {"action": action, "at": now.isoformat()}
    if detail:
        entry["detail"] = detail[:2000]
    attempt.actions = [*attempt.actions, entry]


def _decide(attempt: PracticeAttempt, verdict: scoring.Verdict, now: Any) -> None:
    attempt.state = AttemptState.DECIDED
    attempt.decided_at = now
    attempt.correct = bool(verdict.correct)
    attempt.seconds_to_act = max(0.0, (now - attempt.served_at).total_seconds())


def _after_decision(user: User, attempt: PracticeAttempt, now: Any) -> None:
    """A trainee who now meets the pass mark is marked as passed (a supervisor still signs her
    off); a refresher whose scenarios are all now right is complete."""
    if user.role == Role.TRAINEE:
        record = _ensure_record(user)
        if record.passed_at is None and selectors.progress(user).meets_pass_mark:
            record.passed_at = now
            record.save(update_fields=["passed_at"])
            record_audit(
                action="practice.pass_mark_met",
                acting_user=user,
                target_user=user,
                after={"record": record.pk},
            )
    if attempt.refresher_id:
        refresher = Refresher.objects.select_for_update().get(pk=attempt.refresher_id)
        if refresher.completed_at is None and selectors.refresher_done(refresher):
            refresher.completed_at = now
            refresher.save(update_fields=["completed_at"])
            record_audit(
                action="practice.refresher_completed",
                acting_user=user,
                target_user=user,
                after={"refresher": refresher.pk},
            )


def _retry(user: User, attempt: PracticeAttempt, *, now: Any) -> PracticeAttempt:
    if attempt.state != AttemptState.DECIDED:
        raise ModerationError("conflict", "Finish this item first.")
    existing = (
        PracticeAttempt.objects.filter(user=user, scenario=attempt.scenario)
        .exclude(state=AttemptState.DECIDED)
        .first()
    )
    if existing is not None:
        return existing
    return PracticeAttempt.objects.create(
        user=user,
        scenario=attempt.scenario,
        refresher=attempt.refresher
        if attempt.refresher and not attempt.refresher.completed_at
        else None,
        served_at=now,
        message_state="held" if attempt.scenario.held else "visible",
    )


# --- Supervisors ------------------------------------------------------------------------------------


POLICY_FIELDS = (
    "pass_accuracy_pct",
    "all_risk_correct",
    "risk_within_target",
    "min_scenarios",
    "queue_size",
)


def do_set_pass_mark(*, acting_user: User, reason: str = "", **fields: Any) -> TrainingPolicy:
    """Change the pass mark (supervisors only). Audited with the old and new values."""
    _require_supervisor(acting_user)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ModerationError("validation", f"Unknown setting: {', '.join(sorted(unknown))}.")
    pct = fields.get("pass_accuracy_pct")
    if pct is not None and not 50 <= int(pct) <= 100:
        raise ModerationError("validation", "The pass mark must be between 50% and 100%.")
    if fields.get("min_scenarios") is not None and not 1 <= int(fields["min_scenarios"]) <= 500:
        raise ModerationError("validation", "Scenarios needed must be between 1 and 500.")
    if fields.get("queue_size") is not None and not 1 <= int(fields["queue_size"]) <= 20:
        raise ModerationError("validation", "Items in the queue at once must be between 1 and 20.")
    with transaction.atomic():
        policy, _ = TrainingPolicy.objects.select_for_update().get_or_create(pk=1)
        before = {f: getattr(policy, f) for f in POLICY_FIELDS}
        for name, value in fields.items():
            setattr(policy, name, value)
        after = {f: getattr(policy, f) for f in POLICY_FIELDS}
        if before == after:
            return policy
        policy.updated_by = acting_user
        policy.save()
        record_audit(
            action="practice.pass_mark_changed",
            acting_user=acting_user,
            before=before,
            after=after,
            reason=reason,
        )
    return policy


SCENARIO_FIELDS = (
    "title",
    "kind",
    "risk_family",
    "category",
    "priority",
    "escalated",
    "room_name",
    "author_name",
    "body",
    "held",
    "before",
    "after",
    "reasons",
    "sources",
    "reports",
    "history",
    "notes",
    "expected",
    "acceptable",
    "explanation",
    "is_active",
    "position",
)
CATEGORIES = ("none", "toxic", "insensitive", "distress", "risk")
PRIORITIES = ("urgent", "high", "normal", "low")


def check_scenario_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate a scenario as a supervisor wrote it; raises ModerationError('validation')."""
    if fields.get("kind") not in ScenarioKind.values:
        raise ModerationError("validation", "Choose what the scenario trains.")
    if fields.get("risk_family", "") not in RiskFamily.values:
        raise ModerationError("validation", "Choose a risk family.")
    if fields.get("category") not in CATEGORIES:
        raise ModerationError("validation", "Choose the queue category.")
    if fields.get("priority") not in PRIORITIES:
        raise ModerationError("validation", "Choose a priority.")
    for name in ("title", "room_name", "author_name", "body", "explanation"):
        if not str(fields.get(name, "")).strip():
            raise ModerationError(
                "validation", f"{name.replace('_', ' ').capitalize()} is required."
            )
    expected = fields.get("expected")
    if (
        not isinstance(expected, list)
        or not expected
        or not all(
            isinstance(o, list) and o and set(o) <= set(PracticeAction.values) for o in expected
        )
    ):
        raise ModerationError("validation", "Give at least one set of expected actions.")
    if not set(fields.get("acceptable") or []) <= set(PracticeAction.values):
        raise ModerationError("validation", "Acceptable actions must be console actions.")
    if fields.get("kind") == ScenarioKind.RISK and not fields.get("risk_family"):
        raise ModerationError("validation", "A risk scenario needs its risk family.")
    return fields


def do_save_scenario(
    *, scenario_id: int | None, fields: dict[str, Any], acting_user: User, reason: str = ""
) -> Scenario:
    """Create or edit a practice scenario (supervisors only); audited with what changed."""
    _require_supervisor(acting_user)
    fields = check_scenario_fields({k: v for k, v in fields.items() if k in SCENARIO_FIELDS})
    with transaction.atomic():
        if scenario_id is None:
            from django.utils.text import slugify

            base = slugify(fields["title"])[:60] or "scenario"
            slug, n = base, 1
            while Scenario.objects.filter(slug=slug).exists():
                n += 1
                slug = f"{base}-{n}"
            scenario = Scenario.objects.create(slug=slug, **fields)
            before: dict[str, Any] = {}
        else:
            scenario = Scenario.objects.select_for_update().filter(pk=scenario_id).first()
            if scenario is None:
                raise ModerationError("not_found", "No such scenario.")
            before = {f: getattr(scenario, f) for f in fields}
            for name, value in fields.items():
                setattr(scenario, name, value)
            scenario.save()
        after = {f: getattr(scenario, f) for f in fields}
        changed = sorted(f for f in after if before.get(f) != after[f]) if before else sorted(after)
        if before and not changed:
            return scenario
        record_audit(
            action="practice.scenario_created" if not before else "practice.scenario_updated",
            acting_user=acting_user,
            before={"id": scenario.pk, **{f: before[f] for f in changed if f in before}},
            after={"id": scenario.pk, **{f: after[f] for f in changed}},
            reason=reason,
        )
    return scenario


def do_sign_off_trainee(user: User, *, acting_user: User, note: str = "") -> TraineeRecord:
    """A supervisor who has reviewed a trainee's record grants her the moderator role. Refused
    unless she is a trainee who meets the pass mark now. Audited as practice.signed_off, and
    the role change as account.role_changed (do_change_user_role)."""
    from moderation.actions import do_change_user_role

    _require_supervisor(acting_user)
    note = (note or "").strip()
    if len(note) > 2000:
        raise ModerationError("validation", "A note can be at most 2000 characters.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.role != Role.TRAINEE:
            raise ModerationError("conflict", f"{user.display_name} is not a trainee.")
        progress = selectors.progress(user)
        if not progress.meets_pass_mark:
            raise ModerationError(
                "conflict",
                f"{user.display_name} has not met the pass mark yet: {'; '.join(progress.unmet)}.",
            )
        record = TraineeRecord.objects.select_for_update().get_or_create(user=user)[0]
        now = timezone.now()
        record.passed_at = record.passed_at or now
        record.signed_off_at = now
        record.signed_off_by = acting_user
        record.sign_off_note = note
        record.save()
        record_audit(
            action="practice.signed_off",
            acting_user=acting_user,
            target_user=user,
            after={
                "record": record.pk,
                "accuracy_pct": progress.accuracy_pct,
                "scenarios": progress.scenarios_done,
            },
            reason=note,
        )
        do_change_user_role(
            user, Role.MODERATOR, acting_user=acting_user, reason="signed off after training"
        )
    return record


def do_require_refresher(
    user: User,
    *,
    scenario_ids: list[int],
    reason: str,
    acting_user: User,
    due_by: date | None = None,
) -> Refresher:
    """Ask a moderator to practise a set of scenarios again (e.g. after second reviews disagreed
    with her). Supervisors only; audited as practice.refresher_required."""
    _require_supervisor(acting_user)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ModerationError("validation", "Say why the refresher is needed.")
    if len(reason) > 2000:
        raise ModerationError("validation", "A reason can be at most 2000 characters.")
    if not user.is_moderator or user.pk == acting_user.pk:
        raise ModerationError("conflict", "Refreshers are for moderators (and not yourself).")
    scenarios = list(Scenario.objects.filter(pk__in=scenario_ids, is_active=True))
    if not scenarios:
        raise ModerationError("validation", "Choose at least one scenario.")
    with transaction.atomic():
        refresher = Refresher.objects.create(
            user=user, reason=reason, due_by=due_by, created_by=acting_user
        )
        refresher.scenarios.set(scenarios)
        record_audit(
            action="practice.refresher_required",
            acting_user=acting_user,
            target_user=user,
            after={
                "refresher": refresher.pk,
                "scenarios": sorted(s.pk for s in scenarios),
                "due_by": due_by.isoformat() if due_by else None,
            },
            reason=reason,
        )
    return refresher
