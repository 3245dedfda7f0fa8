"""The rate search and the rows it feeds: it must bracket the figure from either side, bisect it to
5 %, never probe an overloaded server again and again far above its capacity, and say so when its
figure sits at one of its bounds; a bounded figure must never decide a target."""

from __future__ import annotations

import pytest

from bench.scenarios import Ascend, Search, median_bound, ratio_bound_of, row, within_resolution


def _run(policy, capacity: float, *, report_kept_up: bool = False) -> list[tuple[float, bool]]:
    """Drive a policy against a server that passes every rate up to `capacity` (and, overloaded,
    keeps up with `capacity`)."""
    probed, rate = [], policy.first()
    while rate is not None and len(probed) < 40:
        passed = rate <= capacity
        probed.append((rate, passed))
        rate = policy.next(rate, passed, min(rate, capacity) if report_kept_up else None)
    return probed


def _bracket(probed: list[tuple[float, bool]]) -> tuple[float, float]:
    best = max(r for r, ok in probed if ok)
    fail = min(r for r, ok in probed if not ok)
    return best, fail


def test_search_brackets_by_doubling_then_bisects_to_five_percent() -> None:
    s = Search(100, factor=2, resolution=1.05, hi=10_000)
    probed = _run(s, capacity=1000)
    # Bracketing: doubling until the first failure.
    assert [r for r, _ in probed[:5]] == [100, 200, 400, 800, 1600]
    assert [ok for _, ok in probed[:5]] == [True, True, True, True, False]
    # Bisection: every later probe is the geometric middle of the bracket so far.
    for i in range(5, len(probed)):
        best, fail = _bracket(probed[:i])
        assert probed[i][0] == pytest.approx((best * fail) ** 0.5)
    best, fail = _bracket(probed)
    assert fail / best <= 1.05 * 1.0001
    assert best <= 1000 < fail
    # 2× bracket to ≤ 5 %: four halvings of the log-interval, not more.
    assert len(probed) == 5 + 4
    assert s.result() == (best, None)
    # The old √2 reading could only say 800 here (0.80 of the true figure); this is within 5 %.
    assert best >= 1000 / 1.05


def test_search_brackets_downwards_when_the_start_fails() -> None:
    s = Search(1000, factor=2, resolution=1.05, lo=10)
    probed = _run(s, capacity=150)
    assert [r for r, _ in probed[:4]] == [1000, 500, 250, 125]
    assert [ok for _, ok in probed[:4]] == [False, False, False, True]
    best, fail = _bracket(probed)
    assert best <= 150 < fail and fail / best <= 1.05 * 1.0001
    assert s.result() == (best, None)


@pytest.mark.parametrize("capacity", [3.0, 47.0, 333.0, 999.0, 1234.5])
def test_search_finds_any_capacity_within_its_resolution(capacity: float) -> None:
    s = Search(100, factor=2, resolution=1.05, lo=1, hi=5000)
    _run(s, capacity=capacity)
    figure, bound = s.result()
    assert bound is None
    assert capacity / 1.05 <= figure <= capacity


def test_an_overloaded_server_is_probed_next_just_below_what_it_kept_up_with() -> None:
    probed = _run(Search(5000, factor=2, resolution=1.05, lo=10), capacity=300, report_kept_up=True)
    assert probed[0] == (5000, False) and probed[1] == (270, True)
    best, fail = _bracket(probed)
    assert best <= 300 < fail and fail / best <= 1.05 * 1.0001
    # Never more than a factor above a passing rate.
    for i in range(2, len(probed)):
        assert probed[i][0] <= 2 * max(r for r, ok in probed[:i] if ok) + 1e-9


def test_a_search_that_passes_its_ceiling_reports_a_lower_bound() -> None:
    s = Search(100, factor=2, hi=1000)
    probed = _run(s, capacity=1e9)
    # It clamps its last climb to the ceiling and probes the ceiling itself, then stops.
    assert [r for r, _ in probed] == [100, 200, 400, 800, 1000]
    assert s.result() == (1000, "lower")


def test_a_search_that_fails_its_floor_reports_an_upper_bound() -> None:
    s = Search(100, factor=2, lo=10)
    probed = _run(s, capacity=5)
    assert [r for r, _ in probed] == [100, 50, 25, 12.5, 10]
    assert s.result() == (10, "upper")


def test_a_pass_above_a_failure_is_not_believed() -> None:
    s = Search(100, factor=2, resolution=1.05)
    s.next(100, True)
    s.next(200, False)
    s.next(141, True)
    s.next(168, True)
    s.next(300, True)  # noise: passes above the lowest failure
    assert s.best == 168 and s.fail == 200 and s.inconsistent
    assert s.result() == (168, None)


def test_ascend_stops_at_the_first_failure_and_says_when_it_ran_out_of_ladder() -> None:
    a = Ascend([1, 2, 4, 8, 16])
    assert _run(a, capacity=5) == [(1, True), (2, True), (4, True), (8, False)]
    assert a.result() == (4, None)
    top = Ascend([20, 40])
    _run(top, capacity=1000)
    assert top.result() == (40, "lower")
    bottom = Ascend([20, 40])
    _run(bottom, capacity=1)
    assert bottom.result() == (20, "upper")


# --- bounds in the rows ----------------------------------------------------------------------


def test_a_bounded_figure_never_decides_a_target() -> None:
    r = row(
        "fan-out",
        "room of 10",
        2000.0,
        64000.0,
        2000 / 64000,
        "≥ 0.33× baseline",
        False,
        "n",
        baseline_bound="lower",
    )
    assert r["met"] is None and r["ratio_bound"] == "upper" and r["baseline_bound"] == "lower"
    assert r["note"].startswith("undecided")
    r = row(
        "moderation cost",
        "x",
        500.0,
        500.0,
        1.0,
        "≥ 0.90",
        True,
        kindred_bound="lower",
        baseline_bound="lower",
    )
    assert r["met"] is None and r["ratio"] is None and r["ratio_bound"] == "unknown"
    r = row(
        "fan-out",
        "room of 500",
        100.0,
        30000.0,
        0.0033,
        "≥ 0.33× baseline",
        False,
        kindred_bound="upper",
    )
    assert r["met"] is None and r["ratio_bound"] == "upper"
    exact = row("fan-out", "room of 10", 2000.0, 6000.0, 1 / 3, "≥ 0.33× baseline", True)
    assert exact["met"] is True and exact["ratio_bound"] is None


def test_ratio_bounds() -> None:
    assert ratio_bound_of(None, None) is None
    assert ratio_bound_of("lower", None) == "lower"
    assert ratio_bound_of(None, "lower") == "upper"
    assert ratio_bound_of(None, "upper") == "lower"
    assert ratio_bound_of("upper", "lower") == "upper"
    assert ratio_bound_of("lower", "lower") == "unknown"


def test_the_median_of_repetitions_keeps_their_bound() -> None:
    assert median_bound([(1.0, None), (2.0, None), (3.0, None)]) == (2.0, None)
    assert median_bound([(1.0, None), (2.0, None), (3.0, "lower")]) == (2.0, "lower")
    assert median_bound([(1.0, "upper"), (2.0, None), (3.0, "lower")]) == (2.0, "unknown")
    assert median_bound([(None, None)]) == (None, None)


def test_a_ratio_within_the_search_resolution_of_its_target_is_undecided() -> None:
    cfg = {"search": {"resolution": 1.05}}
    assert within_resolution(0.92, 0.90, cfg) and within_resolution(0.88, 0.90, cfg)
    assert not within_resolution(0.96, 0.90, cfg) and not within_resolution(0.84, 0.90, cfg)
    assert not within_resolution(0.91, 0.90, {})
