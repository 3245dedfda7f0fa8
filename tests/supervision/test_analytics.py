"""Analytics numbers (pure functions) and the page a supervisor reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from moderation.models import ModeratorDuty, Priority, SecondReview
from moderation.supervision import analytics

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=LONDON)  # a Monday


def test_percentiles_interpolate_like_numpy() -> None:
    assert analytics.percentile([], 50) is None
    assert analytics.percentile([1, 2, 3, 4], 50) == 2.5
    assert analytics.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)


def test_response_times_count_late_and_still_waiting_items_as_breaches() -> None:
    now = T0 + timedelta(hours=2)
    rows = analytics.response_times(
        [
            ("urgent", T0, T0 + timedelta(minutes=2)),
            ("urgent", T0, T0 + timedelta(minutes=10)),  # late
            ("urgent", T0 + timedelta(hours=1), None),  # still waiting, past 5 minutes
            ("low", T0, None),  # waiting 2 h of a 4 h target: not a breach
        ],
        now=now,
        targets={"urgent": 300, "low": 14400},
    )
    urgent, low = rows
    assert (urgent.items, urgent.actioned, urgent.breaches) == (3, 2, 2)
    assert urgent.median_minutes == 6.0
    assert (low.breaches, low.median_minutes) == (0, None)


def test_queue_size_over_time() -> None:
    intervals = [(T0, T0 + timedelta(hours=2)), (T0 + timedelta(hours=1), None)]
    samples = [T0 + timedelta(minutes=30), T0 + timedelta(minutes=90), T0 + timedelta(hours=3)]
    assert analytics.queue_sizes(intervals, samples) == [1, 2, 1]


def test_classifier_agreement_counts_actions_against_dismissals() -> None:
    rows = analytics.classifier_agreement(
        [
            ("toxic", "detoxify", "hidden"),
            ("toxic", "detoxify", "dismissed"),
            ("toxic", "detoxify", "warned"),
            ("insensitive", "safety rules", "approved"),
            ("toxic", "detoxify", "account_erased"),
        ]
    )
    toxic = next(r for r in rows if r.category == "toxic")
    assert (toxic.agreed, toxic.disagreed) == (2, 1)
    assert next(r for r in rows if r.category == "insensitive").rate == 0.0


def test_coverage_by_hour_of_week_finds_the_gaps() -> None:
    # Two weeks; a moderator on duty Monday 09:00–12:00 both weeks.
    duties = [
        (T0 + timedelta(hours=9), T0 + timedelta(hours=12)),
        (T0 + timedelta(days=7, hours=9), T0 + timedelta(days=7, hours=12)),
    ]
    end = T0 + timedelta(days=14)
    grid = analytics.coverage_by_hour_of_week(duties, start=T0, end=end, now=end, tz=LONDON)
    assert grid[0][9:12] == [1.0, 1.0, 1.0]
    assert grid[0][12] == 0.0 and grid[1][9] == 0.0
    demand = analytics.demand_by_hour_of_week(
        [T0 + timedelta(hours=10), T0 + timedelta(hours=3), T0 + timedelta(hours=3, minutes=5)],
        LONDON,
    )
    gaps = analytics.coverage_gaps(grid, demand)
    assert [g.label for g in gaps] == ["Mon 03:00–04:00"] and gaps[0].items == 2


def test_charts_are_plain_geometry() -> None:
    chart = analytics.stacked_bars(
        "t", "d", ["a", "b"], {"toxic": [1, 0], "risk": [2, 3]}, analytics.CATEGORY_COLOURS
    )
    assert len(chart.rects) == 3 and not chart.empty
    assert analytics.stacked_bars("t", "d", ["a"], {"toxic": [0]}, {}).empty


@pytest.mark.django_db
def test_analytics_page_shows_what_happened(
    supervisor, moderator, member, newborn_room, make_message, make_flag, client_for
) -> None:  # noqa: ANN001
    now = timezone.now()
    for i in range(3):
        m = make_message(
            newborn_room, member, f"message {i}", created_at=now - timedelta(hours=5 - i)
        )
        make_flag(
            m,
            category="toxic",
            priority=Priority.URGENT if i == 0 else Priority.NORMAL,
            state="resolved",
            first_action_at=m.created_at + timedelta(minutes=20 if i == 0 else 3),
            resolved_at=m.created_at + timedelta(minutes=30),
            resolution="dismissed" if i == 2 else "hidden",
            resolved_by=moderator,
            sources=["model"],
        )
    ModeratorDuty.objects.create(
        moderator=moderator, started_at=now - timedelta(hours=3), ended_at=now - timedelta(hours=1)
    )
    SecondReview.objects.create(flag=m.flag, supervisor=supervisor, agrees=False)

    page = client_for(supervisor).get("/supervisor/analytics/").content.decode()
    assert page.count("<svg") >= 6
    assert '1 </span> <span class="stat-label">urgent items missed' in page.replace(
        "1</span>", "1 </span>"
    )
    assert "Morgan" in page  # workload and second-review agreement
    assert "67% of 3" in page  # moderators acted on 2 of the 3 items the classifier raised
    assert " style=" not in page and "<script>" not in page


@pytest.mark.django_db
def test_invalid_filters_never_widen_an_export(supervisor, client_for) -> None:  # noqa: ANN001
    from moderation.models import AuditEntry

    response = client_for(supervisor).get("/supervisor/messages/export.csv?member=nobody-at-all")
    assert response.status_code == 400
    assert not AuditEntry.objects.filter(action="export.messages").exists()
    page = client_for(supervisor).get("/supervisor/messages/?member=nobody-at-all")
    assert page.status_code == 400 and "Nobody has that display name" in page.content.decode()
