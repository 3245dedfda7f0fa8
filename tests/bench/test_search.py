"""The quick mode's rate search: it must bracket the figure from either side and narrow it to its
resolution, without probing an overloaded server again and again far above its capacity."""

from __future__ import annotations

from bench.scenarios import Ascend, Search


def _run(policy, capacity: float, *, report_kept_up: bool = False) -> list[tuple[float, bool]]:
    """Drive a policy against a server that passes every rate up to `capacity` (and, overloaded,
    keeps up with `capacity`)."""
    probed, rate = [], policy.first()
    while rate is not None and len(probed) < 40:
        passed = rate <= capacity
        probed.append((rate, passed))
        rate = policy.next(rate, passed, min(rate, capacity) if report_kept_up else None)
    return probed


def _best(probed: list[tuple[float, bool]]) -> float:
    return max((r for r, ok in probed if ok), default=0.0)


def test_search_climbs_then_narrows_to_its_resolution() -> None:
    probed = _run(Search(100, factor=2, hi=10_000), capacity=1000)
    assert [r for r, _ in probed[:5]] == [100, 200, 400, 800, 1600]
    assert abs(probed[5][0] - (800 * 1600) ** 0.5) < 1e-6 and len(probed) == 6
    assert 1000 / 2 ** 0.5 <= _best(probed) <= 1000


def test_search_descends_when_the_start_fails() -> None:
    probed = _run(Search(1000, factor=2, lo=10), capacity=150)
    assert [ok for _, ok in probed[:4]] == [False, False, False, True]  # 1000, 500, 250, 125
    assert 150 / 2 ** 0.5 <= _best(probed) <= 150


def test_an_overloaded_server_is_probed_next_just_below_what_it_kept_up_with() -> None:
    probed = _run(Search(5000, factor=2, lo=10), capacity=300, report_kept_up=True)
    assert probed[0] == (5000, False) and probed[1] == (270, True)
    assert len(probed) <= 5 and 300 / 2 ** 0.5 <= _best(probed) <= 300
    # Never more than a factor above a passing rate.
    for (r, _), prev_best in zip(probed[2:], [_best(probed[:i]) for i in range(2, len(probed))]):
        assert r <= 2 * prev_best + 1e-9


def test_search_stops_at_its_bounds() -> None:
    assert _best(_run(Search(100, lo=10, hi=1000), capacity=5)) == 0.0
    probed = _run(Search(100, hi=1000), capacity=1e9)
    assert all(ok for _, ok in probed) and max(r for r, _ in probed) <= 1000


def test_ascend_stops_at_the_first_failure() -> None:
    probed = _run(Ascend([1, 2, 4, 8, 16]), capacity=5)
    assert probed == [(1, True), (2, True), (4, True), (8, False)]
