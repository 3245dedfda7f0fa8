"""Reads for the supervisor pages. No writes here; every query is bounded by a date range, a
page or a streaming iterator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Role, User
from chat.models import Message, MessageRevision, Room
from moderation.models import (
    Assessment,
    AuditEntry,
    DailyCount,
    Flag,
    FlagState,
    Helpline,
    ModeratorDuty,
    Priority,
    RoomPolicy,
    SecondReview,
)
from moderation.selectors import TARGET_SECONDS
from moderation.supervision import analytics

HELPLINE_VERIFY_EVERY = timedelta(days=90)


@dataclass(frozen=True)
class DateRange:
    """[start, end) as aware local midnights, from the first to the last day inclusive."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, datetime.min.time()))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(
            datetime.combine(self.last + timedelta(days=1), datetime.min.time())
        )

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None) -> DateRange:
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)


# --- audit log ---------------------------------------------------------------------------------


def audit_entries(
    *,
    actor: User | None = None,
    target: User | None = None,
    room: Room | None = None,
    action: str = "",
    period: DateRange | None = None,
) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.select_related(
        "actor", "target_user", "room", "message", "message__room"
    )
    if actor is not None:
        qs = qs.filter(actor=actor)
    if target is not None:
        qs = qs.filter(target_user=target)
    if room is not None:
        qs = qs.filter(Q(room=room) | Q(message__room=room))
    if action:
        qs = (
            qs.filter(action__startswith=action)
            if action.endswith(".")
            else qs.filter(action=action)
        )
    if period is not None:
        qs = qs.filter(created_at__gte=period.start, created_at__lt=period.end)
    return qs.order_by("-created_at", "-id")


def audit_actions() -> list[str]:
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())


def find_person(name: str) -> User | None:
    """A person by display name (case-insensitive, unique) or login name."""
    name = " ".join((name or "").split())
    if not name:
        return None
    return User.objects.filter(Q(display_name__iexact=name) | Q(username__iexact=name)).first()


# --- message logs ------------------------------------------------------------------------------


def message_log(
    *,
    room: Room | None = None,
    author: User | None = None,
    category: str = "",
    flag_state: str = "",
    state: str = "",
    edited: bool = False,
    text: str = "",
    period: DateRange | None = None,
) -> QuerySet[Message]:
    """Every message, whatever its state, newest first. `flag_state` is a FlagState value or
    "none" (never flagged)."""
    qs = Message.objects.select_related("room", "author", "flag", "flag__resolved_by")
    if room is not None:
        qs = qs.filter(room=room)
    if author is not None:
        qs = qs.filter(author=author)
    if category:
        qs = qs.filter(flag__category=category)
    if flag_state == "none":
        qs = qs.filter(flag__isnull=True)
    elif flag_state:
        qs = qs.filter(flag__state=flag_state)
    if state:
        qs = qs.filter(state=state)
    if edited:
        qs = qs.filter(edited_at__isnull=False)
    if text:
        qs = qs.filter(Q(body__icontains=text) | Q(revisions__body__icontains=text)).distinct()
    if period is not None:
        qs = qs.filter(created_at__gte=period.start, created_at__lt=period.end)
    return qs.order_by("-created_at", "-id")


def with_revisions(qs: QuerySet[Message]) -> QuerySet[Message]:
    return qs.prefetch_related(
        Prefetch("revisions", queryset=MessageRevision.objects.order_by("revision"))
    )


def message_history(message_id: int) -> dict[str, Any] | None:
    """One message with everything that happened to it: earlier versions, its queue item,
    reports, assessments and the audit trail."""
    message = (
        with_revisions(
            Message.objects.select_related("room", "author", "reply_to", "reply_to__author")
        )
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return None
    flag = Flag.objects.select_related("claimed_by", "resolved_by").filter(message=message).first()
    return {
        "message": message,
        "revisions": list(message.revisions.all()),
        "flag": flag,
        "reports": list(flag.reports.select_related("reporter")) if flag else [],
        "reviews": list(flag.second_reviews.select_related("supervisor")) if flag else [],
        "assessments": list(Assessment.objects.filter(message=message).order_by("revision")),
        "audit": list(
            AuditEntry.objects.filter(message=message)
            .select_related("actor")
            .order_by("created_at", "id")
        ),
        "purged": message.body == "" and message.author_id is None,
    }


# --- second reviews ----------------------------------------------------------------------------


def second_review_sample(supervisor: User, *, limit: int = 10, within_days: int = 30) -> list[Flag]:
    """A random sample of recently resolved items this supervisor has not reviewed and did not
    resolve herself."""
    since = timezone.now() - timedelta(days=within_days)
    reviewed = SecondReview.objects.filter(flag=OuterRef("pk"), supervisor=supervisor)
    return list(
        Flag.objects.filter(state=FlagState.RESOLVED, resolved_at__gte=since)
        .exclude(resolved_by=supervisor)
        .exclude(resolution="account_erased")
        .exclude(Exists(reviewed))
        .select_related("message", "message__room", "message__author", "resolved_by")
        .order_by("?")[:limit]
    )


# --- configuration -----------------------------------------------------------------------------


def rooms_for_supervisors() -> list[Room]:
    return list(
        Room.objects.select_related("policy")
        .annotate(members=Count("memberships"))
        .order_by("is_archived", "position", "name")
    )


def room_policy_values(room: Room) -> dict[str, float]:
    policy = RoomPolicy.objects.filter(room=room).first()
    return (policy or RoomPolicy(room=room)).values()


def helplines_for_supervisors(*, today: date | None = None) -> list[dict[str, Any]]:
    today = today or timezone.localdate()
    return [
        {
            "helpline": h,
            "overdue": h.last_verified is None or (today - h.last_verified) > HELPLINE_VERIFY_EVERY,
        }
        for h in Helpline.objects.order_by("-is_active", "position", "name")
    ]


def roster() -> list[User]:
    return list(
        User.objects.filter(role__in=[Role.MODERATOR, Role.SUPERVISOR]).order_by(
            "role", "display_name"
        )
    )


def people_matching(text: str, *, limit: int = 20) -> list[User]:
    text = " ".join((text or "").split())
    if not text:
        return []
    return list(
        User.objects.filter(Q(display_name__icontains=text) | Q(username__iexact=text)).order_by(
            "display_name"
        )[:limit]
    )


def overview(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    waiting = Flag.objects.exclude(state=FlagState.RESOLVED)
    oldest = waiting.order_by("created_at").values_list("created_at", flat=True).first()
    last_purge = (
        AuditEntry.objects.filter(action="retention.purged").order_by("-created_at").first()
    )
    return {
        "waiting": waiting.count(),
        "escalated": waiting.filter(escalated_to_supervisors_at__isnull=False).count(),
        "oldest_minutes": round((now - oldest).total_seconds() / 60) if oldest else None,
        "on_duty": ModeratorDuty.objects.filter(ended_at__isnull=True).count(),
        "helplines_overdue": sum(
            1 for row in helplines_for_supervisors() if row["overdue"] and row["helpline"].is_active
        ),
        "last_purge": last_purge,
    }


# --- analytics ---------------------------------------------------------------------------------

PRIORITY_NAMES = {p.value: p.name.lower() for p in Priority}
TARGETS_BY_NAME = {p.name.lower(): seconds for p, seconds in TARGET_SECONDS.items()}
DETECTOR_LABELS = {"rule": "safety rules", "report": "member reports"}


def _detectors(flag: dict[str, Any], classifier_of: dict[int, str]) -> list[str]:
    labels = []
    for source in flag["sources"] or [flag["source"]]:
        if source != "model":
            labels.append(DETECTOR_LABELS.get(source, source))
            continue
        scores = [
            r.get("score", "")
            for r in flag["reasons"] or []
            if isinstance(r, dict) and r.get("score")
        ]
        if any(s.startswith("kindred_") for s in scores):
            labels.append("safety model")
        if not scores or any(not s.startswith("kindred_") for s in scores):
            labels.append(classifier_of.get(flag["message_id"], "classifier"))
    return labels


def analytics_report(period: DateRange, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything on the analytics page for one date range, as numbers and chart geometry."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    start, end = period.start, period.end
    edges = analytics.buckets(start, end)
    labels = [b.label for b in edges]
    flags_in_range = Flag.objects.filter(created_at__gte=start, created_at__lt=end)

    # Flags per category over time.
    categories = ["risk", "toxic", "insensitive", "distress"]
    per_category = analytics.counts_per_bucket(
        flags_in_range.values_list("created_at", "category"), edges, categories
    )
    flags_chart = analytics.stacked_bars(
        "Queue items per category",
        f"Stacked bars: queue items raised per {'day' if len(edges) == (period.last - period.first).days + 1 else 'week'}, by category.",
        labels,
        per_category,
        analytics.CATEGORY_COLOURS,
    )

    # Time to first action by priority.
    response = analytics.response_times(
        (
            (PRIORITY_NAMES[p], c, f)
            for p, c, f in flags_in_range.values_list("priority", "created_at", "first_action_at")
        ),
        now=min(now, end) if end < now else now,
        targets=TARGETS_BY_NAME,
    )
    response_chart = analytics.horizontal_bars(
        "Items that missed their response target",
        "Share of queue items per priority acted on later than the target, or still waiting past it.",
        [
            (
                f"{r.priority.title()} (target {r.target_minutes:g} min)",
                r.breach_rate,
                f"{r.breach_rate:.0%} of {r.items}",
            )
            for r in response
        ],
        maximum=1.0,
        fill="#a3262b",
    )

    # Queue size over time.
    span = end - start
    step = max(timedelta(hours=1), span / 120)
    samples = []
    t = start + step
    while t <= end and t <= now + step:
        samples.append(min(t, now))
        t += step
    intervals = Flag.objects.filter(created_at__lt=end).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=start)
    )
    sizes = analytics.queue_sizes(intervals.values_list("created_at", "resolved_at"), samples)
    queue_chart = analytics.line_chart(
        "Items waiting in the queue",
        "Line: how many queue items were open or claimed at each moment.",
        [f"{timezone.localtime(s):%-d %b}" for s in samples],
        sizes,
    )

    # Classifier quality: moderators' verdicts on what each detector raised.
    resolved = list(
        Flag.objects.filter(
            state=FlagState.RESOLVED, resolved_at__gte=start, resolved_at__lt=end
        ).values("message_id", "category", "source", "sources", "reasons", "resolution")
    )
    classifier_of: dict[int, str] = {}
    for message_id, classifier in (
        Assessment.objects.filter(message_id__in=[f["message_id"] for f in resolved])
        .order_by("revision")
        .values_list("message_id", "classifier")
    ):
        classifier_of[message_id] = classifier.split(" ")[0] or "classifier"
    quality = analytics.classifier_agreement(
        (f["category"], label, f["resolution"])
        for f in resolved
        for label in _detectors(f, classifier_of)
    )
    quality_chart = analytics.horizontal_bars(
        "Moderators agreed with the detector",
        "Share of resolved items, per category and detector, that a moderator acted on rather than dismissed.",
        [
            (f"{q.category}: {q.label}", q.rate or 0.0, f"{q.rate:.0%} of {q.total}")
            for q in quality
            if q.total
        ],
        maximum=1.0,
        fill="#1d5a4c",
    )

    # Second reviews: agreement per moderator.
    reviews = analytics.review_agreement(
        (r.flag.resolved_by.display_name if r.flag.resolved_by else "unknown", r.agrees)
        for r in SecondReview.objects.filter(
            created_at__gte=start, created_at__lt=end
        ).select_related("flag__resolved_by")
    )
    review_chart = analytics.horizontal_bars(
        "Second reviews: supervisor agreed",
        "Share of each moderator's reviewed decisions a supervisor would have made too.",
        [(r.label, r.rate or 0.0, f"{r.rate:.0%} of {r.total}") for r in reviews],
        maximum=1.0,
        fill="#1b5fa8",
    )

    # Workload and on-duty cover.
    duties = list(
        ModeratorDuty.objects.filter(started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .select_related("moderator")
    )
    coverage = analytics.coverage_by_hour_of_week(
        ((d.started_at, d.ended_at) for d in duties), start=start, end=min(end, now), now=now, tz=tz
    )
    demand = analytics.demand_by_hour_of_week(
        flags_in_range.values_list("created_at", flat=True), tz
    )
    coverage_chart = analytics.heatmap(
        "On-duty cover by hour of the week",
        "Grid of weekdays by hour: the share of those hours with a moderator on duty.",
        coverage,
        demand,
    )
    gaps = analytics.coverage_gaps(coverage, demand)
    workload = _workload(period, duties, now=now)

    rooms = _room_activity(period)
    rooms_chart = analytics.horizontal_bars(
        "Messages per room",
        "Bars: messages posted in each room in this period.",
        [(r["room"].name, r["messages"], str(r["messages"])) for r in rooms],
    )

    return {
        "period": period,
        "flags_chart": flags_chart,
        "flags_table": [
            (labels[i], {c: per_category[c][i] for c in categories}) for i in range(len(labels))
        ],
        "categories": categories,
        "flags_total": flags_in_range.count(),
        "response": response,
        "response_chart": response_chart,
        "queue_chart": queue_chart,
        "queue_peak": max(sizes) if sizes else 0,
        "queue_now": sizes[-1] if sizes else 0,
        "quality": quality,
        "quality_chart": quality_chart,
        "reviews": reviews,
        "review_chart": review_chart,
        "coverage_chart": coverage_chart,
        "coverage": [
            (analytics.WEEKDAYS[d], [round(v * 100) for v in coverage[d]]) for d in range(7)
        ],
        "gaps": gaps,
        "hours": [f"{h:02d}" for h in range(24)],
        "workload": workload,
        "rooms": rooms,
        "rooms_chart": rooms_chart,
        "prompts": facilitation_prompt_stats(period),
    }


def _workload(
    period: DateRange, duties: list[ModeratorDuty], *, now: datetime
) -> list[dict[str, Any]]:
    hours: dict[int, float] = {}
    people: dict[int, User] = {}
    for d in duties:
        s, e = max(d.started_at, period.start), min(d.ended_at or now, period.end)
        if e > s:
            hours[d.moderator_id] = hours.get(d.moderator_id, 0.0) + (e - s).total_seconds() / 3600
            people[d.moderator_id] = d.moderator
    resolved = dict(
        Flag.objects.filter(
            resolved_at__gte=period.start, resolved_at__lt=period.end, resolved_by__isnull=False
        )
        .values_list("resolved_by")
        .annotate(n=Count("id"))
        .values_list("resolved_by", "n")
    )
    actions = dict(
        AuditEntry.objects.filter(
            created_at__gte=period.start,
            created_at__lt=period.end,
            actor__role__in=[Role.MODERATOR, Role.SUPERVISOR],
        )
        .values_list("actor")
        .annotate(n=Count("id"))
        .values_list("actor", "n")
    )
    ids = set(hours) | set(resolved) | set(actions)
    people.update({u.pk: u for u in User.objects.filter(pk__in=ids - set(people))})
    rows = [
        {
            "person": people[pk],
            "hours": round(hours.get(pk, 0.0), 1),
            "resolved": resolved.get(pk, 0),
            "actions": actions.get(pk, 0),
            "per_hour": round(resolved.get(pk, 0) / hours[pk], 1) if hours.get(pk) else None,
        }
        for pk in ids
        if pk in people
    ]
    return sorted(rows, key=lambda r: (-r["resolved"], -r["hours"], r["person"].display_name))


def _room_activity(period: DateRange) -> list[dict[str, Any]]:
    """Messages and queue items per room, and the average number of members posting per day.
    Days past the retention period no longer know who posted; their counts come from
    DailyCount, written by the purge before the authors were removed."""
    tz = timezone.get_current_timezone()
    in_range = Message.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    counts = {
        row["room"]: row
        for row in in_range.values("room").annotate(
            messages=Count("id"),
            flags=Count("flag"),
            held=Count("id", filter=Q(state="held")),
            hidden=Count("id", filter=Q(state="hidden")),
        )
    }
    kept = {
        (c.room_id, c.day): c.authors
        for c in DailyCount.objects.filter(day__gte=period.first, day__lte=period.last)
    }
    live = (
        in_range.filter(author__isnull=False)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("room", "day")
        .annotate(n=Count("author", distinct=True))
    )
    posters: dict[tuple[int, date], int] = dict(kept)
    for row in live:
        posters.setdefault((row["room"], row["day"]), row["n"])
    days = (period.last - period.first).days + 1
    rows = []
    for room in Room.objects.order_by("position", "name"):
        row = counts.get(room.pk, {})
        posting = sum(n for (room_id, _), n in posters.items() if room_id == room.pk)
        if not row and not posting and room.is_archived:
            continue
        rows.append(
            {
                "room": room,
                "messages": row.get("messages", 0),
                "flags": row.get("flags", 0),
                "held": row.get("held", 0),
                "hidden": row.get("hidden", 0),
                "posters_per_day": round(posting / days, 1),
            }
        )
    return sorted(rows, key=lambda r: -r["messages"])


def facilitation_prompt_stats(period: DateRange) -> dict[str, Any] | None:
    """Facilitator prompts shown, sent and dismissed, per signal; None when facilitation is not
    part of this build."""
    try:
        from moderation.facilitation.models import PromptRecord
    except (ImportError, LookupError):
        return None
    rows = (
        PromptRecord.objects.filter(shown_at__gte=period.start, shown_at__lt=period.end)
        .values("signal", "state")
        .annotate(n=Count("id"))
    )
    table: dict[str, dict[str, int]] = {}
    for row in rows:
        entry = table.setdefault(row["signal"], {"shown": 0, "sent": 0, "dismissed": 0})
        entry["shown"] += row["n"]  # every prompt was shown; some were then sent or dismissed
        if row["state"] in ("sent", "dismissed"):
            entry[row["state"]] += row["n"]
    totals = {k: sum(e[k] for e in table.values()) for k in ("shown", "sent", "dismissed")}
    return {"signals": sorted(table.items()), "totals": totals}


# --- Kindred's safety model: live, shadow, comparison ---------------------------------------------

#: how far back the shadow comparison looks
SHADOW_WINDOW = timedelta(days=14)
_ACTED = ("risk", "toxic", "insensitive")


def _card_summary(version: str | None) -> dict[str, Any] | None:
    """What a supervisor needs from a model's card: its measured quality on the held-out test split."""
    if not version:
        return None
    from moderation.safety_model import MODELS_ROOT, read_card

    try:
        card = read_card(MODELS_ROOT / version)
    except (OSError, ValueError):
        return {"version": version, "missing": True}
    test = (card.get("evaluation") or {}).get("test") or {}
    rows = []
    for key, label in (
        ("risk_escalated", "Risk escalated"),
        ("distress_escalated", "Distress escalated"),
        ("toxic_flagged", "Toxic flagged"),
        ("insensitive_flagged", "Insensitive flagged"),
        ("distress_flagged", "Distress flagged as toxic/insensitive"),
        ("ok_flagged", "Ordinary messages flagged"),
        ("narratives_flagged", "Stories about services flagged"),
    ):
        fig = test.get(key)
        if fig and fig.get("n"):
            rows.append(
                {
                    "label": label,
                    "rate": fig["rate"],
                    "k": fig["k"],
                    "n": fig["n"],
                    "lo": fig["ci95"][0],
                    "hi": fig["ci95"][1],
                }
            )
    weakest = sorted(
        ((f, v) for f, v in (test.get("risk_by_family") or {}).items() if v.get("n")),
        key=lambda kv: kv[1]["rate"],
    )[:3]
    return {
        "version": version,
        "missing": False,
        "figures": rows,
        "test_messages": test.get("messages"),
        "weakest_families": [
            {"family": f.replace("_", " "), "rate": v["rate"], "k": v["k"], "n": v["n"]}
            for f, v in weakest
        ],
        "thresholds": card.get("thresholds", {}),
    }


def safety_model_overview(*, now: datetime | None = None) -> dict[str, Any]:
    """The supervisor's safety-model page: live and shadow models with their measured quality, the
    versions on disk, and where the shadow model disagrees with the live one on recent traffic."""
    from moderation.models import SafetyModelRelease, ShadowAssessment
    from moderation.safety_model import available_versions
    from moderation.selectors import safety_model_versions

    now = now or timezone.now()
    live, shadow = safety_model_versions()
    states = dict(SafetyModelRelease.objects.values_list("version", "state"))
    versions = [
        {"version": v, "state": "live" if v == live else states.get(v, "available")}
        for v in available_versions()
    ]
    comparison = None
    if shadow:
        recent = ShadowAssessment.objects.filter(
            version=shadow, created_at__gte=now - SHADOW_WINDOW
        )
        pairs = list(recent.values_list("live_verdict", "verdict"))
        matrix: dict[tuple[str, str], int] = {}
        for lv, sv in pairs:
            matrix[(lv or "none", sv)] = matrix.get((lv or "none", sv), 0) + 1
        disagreements = (
            recent.exclude(verdict=F("live_verdict"))
            .select_related("message", "message__room")
            .order_by("-created_at")[:50]
        )
        verdicts = ["none", "distress", "insensitive", "toxic", "risk"]
        comparison = {
            "total": len(pairs),
            "agree": sum(1 for lv, sv in pairs if (lv or "none") == sv),
            "more_risk": sum(1 for lv, sv in pairs if sv == "risk" and lv != "risk"),
            "less_risk": sum(1 for lv, sv in pairs if lv == "risk" and sv != "risk"),
            "more_flags": sum(1 for lv, sv in pairs if sv in _ACTED and lv not in _ACTED),
            "fewer_flags": sum(1 for lv, sv in pairs if lv in _ACTED and sv not in _ACTED),
            "verdicts": verdicts,
            "matrix": [
                {"live": lv, "cells": [matrix.get((lv, sv), 0) for sv in verdicts]}
                for lv in verdicts
            ],
            "disagreements": [
                {
                    "message": d.message,
                    "live": d.live_verdict or "none",
                    "shadow": d.verdict,
                    "at": d.created_at,
                }
                for d in disagreements
            ],
            "days": SHADOW_WINDOW.days,
        }
    return {
        "live": _card_summary(live),
        "shadow": _card_summary(shadow),
        "versions": versions,
        "comparison": comparison,
    }
