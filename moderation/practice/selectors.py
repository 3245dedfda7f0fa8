"""Reads for the practice console, a trainee's record and the supervisors' training view.

The practice console's JSON has the real console's shape (moderation.selectors.serialize_flag
and flag_context) so it renders with the same code; it is built from scenarios only.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Role, User
from moderation.practice import scoring
from moderation.practice.models import (
    RESOLVING_ACTIONS,
    AttemptState,
    PracticeAction,
    PracticeAttempt,
    Refresher,
    Scenario,
    ScenarioKind,
    TraineeRecord,
    TrainingPolicy,
)

RISK_TARGET_SECONDS = 5 * 60  # moderation.selectors.TARGET_SECONDS[Priority.URGENT]
TARGET_SECONDS = {"urgent": 5 * 60, "high": 30 * 60, "normal": 60 * 60, "low": 4 * 60 * 60}


def may_practise(user: Any) -> bool:  # noqa: ANN401
    return bool(
        getattr(user, "is_authenticated", False)
        and user.role in (Role.TRAINEE, Role.MODERATOR, Role.SUPERVISOR)
        and not user.is_suspended
    )


def policy() -> TrainingPolicy:
    """The pass mark; its defaults until a supervisor first saves it."""
    return TrainingPolicy.objects.filter(pk=1).first() or TrainingPolicy(pk=1)


def is_signed_off(user: User) -> bool:
    return TraineeRecord.objects.filter(user=user, signed_off_at__isnull=False).exists()


def open_refresher(user: User) -> Refresher | None:
    return (
        Refresher.objects.filter(user=user, completed_at__isnull=True)
        .order_by("created_at")
        .first()
    )


def _kind_mix(scenarios: list[Scenario]) -> list[Scenario]:
    """Scenarios in supervisors' order, dealt out a kind at a time so a queue is a mix."""
    by_kind: dict[str, list[Scenario]] = {}
    for s in scenarios:
        by_kind.setdefault(s.kind, []).append(s)
    order = [k for k in ScenarioKind.values if k in by_kind]
    out: list[Scenario] = []
    while any(by_kind.values()):
        for kind in order:
            if by_kind[kind]:
                out.append(by_kind[kind].pop(0))
    return out


def next_scenarios(user: User, *, refresher: Refresher | None, exclude: set[int]) -> list[Scenario]:
    """What to put in her queue next: her refresher's scenarios not yet right since it was set;
    otherwise scenarios never tried, then those she has not yet got right."""
    if refresher is not None:
        right = set(
            PracticeAttempt.objects.filter(
                user=user, refresher=refresher, correct=True
            ).values_list("scenario_id", flat=True)
        )
        pool = [
            s for s in refresher.scenarios.filter(is_active=True) if s.pk not in right | exclude
        ]
        return _kind_mix(pool)
    latest = _latest_by_scenario(user)
    active = [s for s in Scenario.objects.filter(is_active=True) if s.pk not in exclude]
    fresh = [s for s in active if s.pk not in latest]
    missed = [s for s in active if s.pk in latest and not latest[s.pk].correct]
    return _kind_mix(fresh) + _kind_mix(missed)


def refresher_done(refresher: Refresher) -> bool:
    right = set(
        PracticeAttempt.objects.filter(
            user=refresher.user, refresher=refresher, correct=True
        ).values_list("scenario_id", flat=True)
    )
    wanted = set(refresher.scenarios.filter(is_active=True).values_list("pk", flat=True))
    return bool(wanted) and wanted <= right


def _latest_by_scenario(user: User) -> dict[int, PracticeAttempt]:
    latest: dict[int, PracticeAttempt] = {}
    for a in (
        PracticeAttempt.objects.filter(user=user, state=AttemptState.DECIDED)
        .select_related("scenario")
        .order_by("decided_at", "pk")
    ):
        latest[a.scenario_id] = a
    return latest


# --- Her record ----------------------------------------------------------------------------------


@dataclass
class KindRow:
    kind: str
    label: str
    attempts: int = 0
    correct: int = 0

    @property
    def accuracy_pct(self) -> int | None:
        return round(100 * self.correct / self.attempts) if self.attempts else None


@dataclass
class Progress:
    attempts: int
    correct: int
    accuracy_pct: int | None
    scenarios_done: int
    scenarios_needed: int
    by_kind: list[KindRow]
    risk_seconds: list[float]
    risk_within_target: int
    risk_scenarios_wrong: list[str]
    missed: list[dict[str, Any]]
    meets_pass_mark: bool
    unmet: list[str] = field(default_factory=list)

    @property
    def risk_median_seconds(self) -> float | None:
        return statistics.median(self.risk_seconds) if self.risk_seconds else None

    @property
    def risk_slowest_seconds(self) -> float | None:
        return max(self.risk_seconds) if self.risk_seconds else None


def progress(user: User, *, pass_mark: TrainingPolicy | None = None) -> Progress:
    """Her training so far against the pass mark: accuracy over every decision (retries count
    too), per kind; time to escalate risk against the 5-minute target; the scenarios she missed
    and whether she has since got them right. Refresher practice is not counted here."""
    pass_mark = pass_mark or policy()
    decided = list(
        PracticeAttempt.objects.filter(
            user=user, state=AttemptState.DECIDED, refresher__isnull=True
        )
        .select_related("scenario")
        .order_by("decided_at", "pk")
    )
    rows = {k: KindRow(k, label) for k, label in ScenarioKind.choices}
    latest: dict[int, PracticeAttempt] = {}
    wrong_ever: dict[int, PracticeAttempt] = {}
    for a in decided:
        row = rows[a.scenario.kind]
        row.attempts += 1
        row.correct += bool(a.correct)
        latest[a.scenario_id] = a
        if not a.correct:
            wrong_ever.setdefault(a.scenario_id, a)
    correct = sum(bool(a.correct) for a in decided)
    accuracy = round(100 * correct / len(decided)) if decided else None
    risk_latest = [a for a in latest.values() if a.scenario.is_risk]
    risk_seconds = [
        a.seconds_to_act for a in risk_latest if a.correct and a.seconds_to_act is not None
    ]
    within = sum(s <= RISK_TARGET_SECONDS for s in risk_seconds)
    risk_wrong = [a.scenario.title for a in risk_latest if not a.correct]
    active_count = Scenario.objects.filter(is_active=True).count()
    needed = min(pass_mark.min_scenarios, active_count) if active_count else pass_mark.min_scenarios
    missed = [
        {
            "scenario": first.scenario,
            "title": first.scenario.title,
            "kind": first.scenario.get_kind_display(),
            "first_wrong_at": first.decided_at,
            "since_right": bool(latest[sid].correct),
        }
        for sid, first in wrong_ever.items()
    ]
    unmet = []
    if len(latest) < needed:
        unmet.append(f"{len(latest)} of {needed} scenarios done")
    if accuracy is None or accuracy < pass_mark.pass_accuracy_pct:
        unmet.append(
            f"accuracy {accuracy if accuracy is not None else 0}% (pass mark {pass_mark.pass_accuracy_pct}%)"
        )
    if pass_mark.all_risk_correct:
        if not risk_latest:
            unmet.append("no risk scenario done yet")
        elif risk_wrong:
            unmet.append(f"{len(risk_wrong)} risk scenario(s) not yet escalated correctly")
    if pass_mark.risk_within_target and len(risk_seconds) > within:
        unmet.append(f"{len(risk_seconds) - within} risk decision(s) slower than 5 minutes")
    return Progress(
        attempts=len(decided),
        correct=correct,
        accuracy_pct=accuracy,
        scenarios_done=len(latest),
        scenarios_needed=needed,
        by_kind=[r for r in rows.values() if r.attempts],
        risk_seconds=risk_seconds,
        risk_within_target=within,
        risk_scenarios_wrong=risk_wrong,
        missed=missed,
        meets_pass_mark=not unmet,
        unmet=unmet,
    )


def progress_json(p: Progress) -> dict[str, Any]:
    return {
        "attempts": p.attempts,
        "correct": p.correct,
        "accuracy_pct": p.accuracy_pct,
        "scenarios_done": p.scenarios_done,
        "scenarios_needed": p.scenarios_needed,
        "by_kind": [
            {
                "kind": r.kind,
                "label": r.label,
                "attempts": r.attempts,
                "correct": r.correct,
                "accuracy_pct": r.accuracy_pct,
            }
            for r in p.by_kind
        ],
        "risk": {
            "decisions": len(p.risk_seconds),
            "within_target": p.risk_within_target,
            "median_seconds": p.risk_median_seconds,
            "slowest_seconds": p.risk_slowest_seconds,
            "target_seconds": RISK_TARGET_SECONDS,
        },
        "missed": [
            {"title": m["title"], "kind": m["kind"], "since_right": m["since_right"]}
            for m in p.missed
        ],
        "meets_pass_mark": p.meets_pass_mark,
        "unmet": p.unmet,
    }


# --- The practice console's JSON ----------------------------------------------------------------


def open_items(user: User) -> list[PracticeAttempt]:
    return list(
        PracticeAttempt.objects.filter(user=user)
        .exclude(state=AttemptState.DECIDED)
        .select_related("scenario")
        .order_by("served_at", "pk")
    )


RESOLUTION_WORDS = {
    "hide": "hidden",
    "approve": "approved",
    "dismiss": "dismissed",
    "warn": "warned",
    "mute": "muted",
    "suspend": "suspended",
}


def _state(attempt: PracticeAttempt) -> tuple[str, str]:
    taken = [a["action"] for a in attempt.actions]
    resolutions = [RESOLUTION_WORDS[a] for a in taken if a in RESOLVING_ACTIONS]
    if resolutions:
        return "resolved", resolutions[0]
    if attempt.state == AttemptState.DECIDED:
        return "resolved", "escalated" if "escalate" in taken else ""
    return attempt.state, ""


def serialize_attempt(attempt: PracticeAttempt, *, now: Any = None) -> dict[str, Any]:
    """One practice item in the shape of moderation.selectors.serialize_flag."""
    now = now or timezone.now()
    s = attempt.scenario
    state, resolution = _state(attempt)
    waited = ((attempt.decided_at or now) - attempt.served_at).total_seconds()
    target = TARGET_SECONDS.get(s.priority, TARGET_SECONDS["normal"])
    out = {
        "id": attempt.pk,
        "practice": True,
        "category": s.category,
        "priority": s.priority,
        "escalated": s.escalated,
        "source": (s.sources or ["rule"])[0],
        "sources": s.sources,
        "state": state,
        "report_count": len(s.reports),
        "reasons": s.reasons,
        "created_at": attempt.served_at.isoformat(),
        "waiting_seconds": int(waited),
        "target_seconds": target,
        "target_missed": waited > target,
        "claimed_by": attempt.user.display_name
        if attempt.state != AttemptState.OPEN or state == "resolved"
        else None,
        "resolution": resolution,
        "actions_taken": [
            a["action"] for a in attempt.actions if a["action"] in PracticeAction.values
        ],
        "decided": attempt.state == AttemptState.DECIDED,
        "message": {
            "id": attempt.pk,
            "seq": len(s.before) + 1,
            "room": "practice",
            "room_name": s.room_name,
            "state": attempt.message_state,
            "body": s.body,
            "author": {"display_name": s.author_name},
            "created_at": attempt.served_at.isoformat(),
        },
    }
    if attempt.state == AttemptState.DECIDED:
        out["feedback"] = feedback(attempt)
    return out


def feedback(attempt: PracticeAttempt) -> dict[str, Any]:
    """What she did, what was expected and why. Only ever sent after her decision, so the
    practice cannot be read off the page before she decides."""
    s = attempt.scenario
    taken = [a["action"] for a in attempt.actions if a["action"] in PracticeAction.values]
    allowed = scoring.allowed_actions(s.expected, s.acceptable)
    out = {
        "correct": bool(attempt.correct),
        "title": s.title,
        "kind": s.get_kind_display(),
        "you_did": scoring.describe_option(taken) or "nothing yet",
        "wrong": [scoring.ACTION_WORDS.get(a, a) for a in taken if a not in allowed],
        "expected": scoring.describe_expected(s.expected),
        "explanation": s.explanation,
        "seconds_to_act": attempt.seconds_to_act,
        "is_risk": s.is_risk,
        "risk_target_seconds": RISK_TARGET_SECONDS,
    }
    return out


def attempt_context(attempt: PracticeAttempt) -> dict[str, Any]:
    """The conversation and history around a practice item, shaped like
    moderation.selectors.flag_context: made-up members only."""
    s = attempt.scenario
    at = attempt.served_at.isoformat()

    def brief(i: int, m: dict[str, Any], flagged: bool = False) -> dict[str, Any]:
        return {
            "seq": i,
            "room": "practice",
            "author": m.get("author", ""),
            "body": m.get("text", ""),
            "state": "visible",
            "created_at": at,
            "is_flagged_message": flagged,
        }

    n = len(s.before)
    taken = [a["action"] for a in attempt.actions]
    notes = [
        {
            "kind": x.get("kind", "note"),
            "by": x.get("by", ""),
            "text": x.get("text", ""),
            "created_at": at,
        }
        for x in s.notes
    ]
    notes += [
        {
            "kind": "note",
            "by": attempt.user.display_name,
            "text": a.get("detail", ""),
            "created_at": a["at"],
        }
        for a in attempt.actions
        if a["action"] == "note"
    ]
    return {
        "before": [brief(i + 1, m) for i, m in enumerate(s.before)],
        "message": {
            **brief(n + 1, {"author": s.author_name, "text": s.body}, True),
            "state": attempt.message_state,
        },
        "after": [brief(n + 2 + i, m) for i, m in enumerate(s.after)],
        "author_elsewhere": [],
        "earlier_flags": [
            {
                "id": i,
                "category": h.get("category", "none"),
                "state": "resolved",
                "resolution": h.get("resolution", ""),
                "created_at": at,
                "body": h.get("text", ""),
            }
            for i, h in enumerate(s.history)
        ],
        "notes": notes,
        "active_mutes": [],
        "reports": [
            {"by": r.get("by", ""), "reason": r.get("reason", ""), "created_at": at}
            for r in s.reports
        ],
        "author_suspended": "suspend" in taken,
    }


# --- Supervisors' training view -------------------------------------------------------------------


def review_agreement() -> dict[int, dict[str, Any]]:
    """Second-review agreement per moderator (moderation.SecondReview), by user id."""
    from moderation.models import SecondReview

    out: dict[int, dict[str, Any]] = {}
    for row in (
        SecondReview.objects.filter(flag__resolved_by__isnull=False)
        .values("flag__resolved_by")
        .annotate(n=Count("pk"), agreed=Count("pk", filter=Q(agrees=True)))
    ):
        n = row["n"]
        out[row["flag__resolved_by"]] = {
            "reviews": n,
            "agreed": row["agreed"],
            "agreement_pct": round(100 * row["agreed"] / n) if n else None,
        }
    return out


def training_overview() -> dict[str, Any]:
    """Trainees with their progress and pass dates, moderators with their second-review
    agreement and training record, refreshers due."""
    pass_mark = policy()
    records = {r.user_id: r for r in TraineeRecord.objects.select_related("signed_off_by")}
    trainees = []
    for user in User.objects.filter(role=Role.TRAINEE, is_active=True).order_by("display_name"):
        trainees.append(
            {
                "user": user,
                "record": records.get(user.pk),
                "progress": progress(user, pass_mark=pass_mark),
            }
        )
    agreement = review_agreement()
    moderators = [
        {
            "user": user,
            "record": records.get(user.pk),
            "agreement": agreement.get(user.pk),
            "refresher": open_refresher(user),
        }
        for user in User.objects.filter(
            role__in=[Role.MODERATOR, Role.SUPERVISOR], is_active=True
        ).order_by("display_name")
    ]
    today = timezone.localdate()
    refreshers = list(
        Refresher.objects.filter(completed_at__isnull=True)
        .select_related("user", "created_by")
        .annotate(n=Count("scenarios"))
        .order_by("due_by", "created_at")
    )
    for r in refreshers:
        r.overdue = bool(r.due_by and r.due_by < today)
    return {
        "pass_mark": pass_mark,
        "trainees": trainees,
        "moderators": moderators,
        "refreshers": refreshers,
        "scenario_count": Scenario.objects.filter(is_active=True).count(),
    }


def person_record(user: User) -> dict[str, Any]:
    return {
        "person": user,
        "record": TraineeRecord.objects.filter(user=user).select_related("signed_off_by").first(),
        "progress": progress(user),
        "agreement": review_agreement().get(user.pk),
        "refreshers": list(
            Refresher.objects.filter(user=user)
            .select_related("created_by")
            .annotate(n=Count("scenarios"))
        ),
        "recent": list(
            PracticeAttempt.objects.filter(user=user, state=AttemptState.DECIDED)
            .select_related("scenario")
            .order_by("-decided_at")[:30]
        ),
        "scenarios": list(Scenario.objects.filter(is_active=True)),
        "pass_mark": policy(),
    }
