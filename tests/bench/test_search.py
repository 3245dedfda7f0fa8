"""The quick mode's rate search: it must bracket the figure from either side and bisect once."""

from __future__ import annotations

from bench.scenarios import Ascend, Search


def _run(policy, capacity: float) -> list[tuple[float, bool]]:
    """Drive a policy against a server that passes every rate up to `capacity`."""
    probed, rate = [], policy.first()
    while rate is not None and len(probed) < 40:
        passed = rate <= capacity
        probed.append((rate, passed))
        rate = policy.next(rate, passed)
    return probed


def _best(probed: list[tuple[float, bool]]) -> float:
    return max((r for r, ok in probed if ok), default=0.0)


def test_search_climbs_then_bisects() -> None:
    probed = _run(Search(100, factor=2, refine=1, hi=10_000), capacity=1000)
    assert [r for r, _ in probed[:5]] == [100, 200, 400, 800, 1600]
    # One bisection between 800 (passed) and 1600 (failed): √2 resolution.
    assert abs(probed[5][0] - (800 * 1600) ** 0.5) < 1e-6 and len(probed) == 6
    assert 1000 / 2 ** 0.5 <= _best(probed) <= 1000


def test_search_descends_when_the_start_fails() -> None:
    probed = _run(Search(1000, factor=2, refine=1, lo=10), capacity=150)
    assert [ok for _, ok in probed[:4]] == [False, False, False, True]  # 1000, 500, 250, 125
    assert len(probed) == 5 and 150 / 2 ** 0.5 <= _best(probed) <= 150


def test_search_stops_at_its_bounds() -> None:
    assert _best(_run(Search(100, lo=10, hi=1000), capacity=5)) == 0.0
    probed = _run(Search(100, hi=1000), capacity=1e9)
    assert all(ok for _, ok in probed) and max(r for r, _ in probed) <= 1000


def test_ascend_stops_at_the_first_failure() -> None:
    probed = _run(Ascend([1, 2, 4, 8, 16]), capacity=5)
    assert probed == [(1, True), (2, True), (4, True), (8, False)]
