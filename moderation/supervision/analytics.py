"""Pure aggregation and chart geometry for the supervisor analytics page. No ORM, no I/O: the
selectors fetch plain rows and pass them in, so every number here is unit-testable.

Charts are data (rectangles, lines, labels) that one template (`supervisor/_chart.html`) draws
as inline SVG with presentation attributes only: a strict CSP forbids inline scripts and style
attributes, and nothing is fetched from another service.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

DAY = timedelta(days=1)
_UTC = UTC
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CATEGORY_COLOURS = {
    "risk": "#1b5fa8",
    "toxic": "#a3262b",
    "insensitive": "#8a4b00",
    "distress": "#1d5a4c",
    "none": "#8c8076",
}
ACTIONED = frozenset({"hidden", "warned", "muted", "suspended"})
# "approved" releases a held message: the hold was a false alarm, like a dismissal.
NOT_ACTIONED = frozenset({"dismissed", "approved"})


# --- numbers ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0–100) by linear interpolation between closest ranks (as numpy's
    default), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    label: str


def buckets(start: datetime, end: datetime) -> list[Bucket]:
    """Days for ranges up to nine weeks, weeks (from `start`) beyond, so a year stays legible
    on a phone. `start` and `end` are aware local midnights."""
    step = DAY if (end - start) <= timedelta(days=63) else 7 * DAY
    out = []
    t = start
    while t < end:
        nxt = min(t + step, end)
        out.append(Bucket(t, nxt, f"{t:%-d %b}"))
        t = nxt
    return out


def _bucket_index(edges: list[Bucket], when: datetime) -> int | None:
    lo, hi = 0, len(edges) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if when < edges[mid].start:
            hi = mid - 1
        elif when >= edges[mid].end:
            lo = mid + 1
        else:
            return mid
    return None


def counts_per_bucket(
    rows: Iterable[tuple[datetime, str]], edges: list[Bucket], keys: Sequence[str]
) -> dict[str, list[int]]:
    """rows of (time, key) → {key: [count per bucket]}."""
    series = {k: [0] * len(edges) for k in keys}
    for when, key in rows:
        i = _bucket_index(edges, when)
        if i is not None and key in series:
            series[key][i] += 1
    return series


def queue_sizes(
    intervals: Iterable[tuple[datetime, datetime | None]], samples: Sequence[datetime]
) -> list[int]:
    """How many items were waiting (created, not yet resolved) at each sample time."""
    events: list[tuple[datetime, int]] = []
    for created, resolved in intervals:
        events.append((created, 1))
        if resolved is not None:
            events.append((resolved, -1))
    events.sort(key=lambda e: (e[0], e[1]))
    out, size, i = [], 0, 0
    for t in samples:
        while i < len(events) and events[i][0] <= t:
            size += events[i][1]
            i += 1
        out.append(size)
    return out


@dataclass
class ResponseRow:
    priority: str
    target_minutes: float
    items: int = 0
    actioned: int = 0
    median_minutes: float | None = None
    p95_minutes: float | None = None
    breaches: int = 0

    @property
    def breach_rate(self) -> float:
        return self.breaches / self.items if self.items else 0.0

    @property
    def breach_percent(self) -> int:
        return round(self.breach_rate * 100)


def response_times(
    flags: Iterable[tuple[str, datetime, datetime | None]],
    *,
    now: datetime,
    targets: dict[str, int],
) -> list[ResponseRow]:
    """Per priority: median and 95th percentile of the time to a moderator's first action, and
    how many items missed their target (acted on late, or still waiting past it)."""
    rows = {name: ResponseRow(name, seconds / 60) for name, seconds in targets.items()}
    waits: dict[str, list[float]] = defaultdict(list)
    for priority, created, first_action in flags:
        row = rows[priority]
        row.items += 1
        waited = ((first_action or now) - created).total_seconds()
        if first_action is not None:
            row.actioned += 1
            waits[priority].append(waited / 60)
        if waited > targets[priority]:
            row.breaches += 1
    for name, row in rows.items():
        row.median_minutes = percentile(waits[name], 50)
        row.p95_minutes = percentile(waits[name], 95)
    return list(rows.values())


@dataclass
class AgreementRow:
    label: str
    category: str = ""
    agreed: int = 0
    disagreed: int = 0

    @property
    def total(self) -> int:
        return self.agreed + self.disagreed

    @property
    def rate(self) -> float | None:
        return self.agreed / self.total if self.total else None


def classifier_agreement(rows: Iterable[tuple[str, str, str]]) -> list[AgreementRow]:
    """rows of (category, detector, resolution) for resolved items → per category and detector,
    how often moderators acted (agreed with the detector) versus dismissed. An item raised by
    several detectors counts once for each."""
    table: dict[tuple[str, str], AgreementRow] = {}
    for category, detector, resolution in rows:
        if resolution not in ACTIONED and resolution not in NOT_ACTIONED:
            continue
        row = table.setdefault((category, detector), AgreementRow(detector, category))
        if resolution in ACTIONED:
            row.agreed += 1
        else:
            row.disagreed += 1
    return sorted(table.values(), key=lambda r: (r.category, r.label))


def review_agreement(rows: Iterable[tuple[str, bool]]) -> list[AgreementRow]:
    """rows of (moderator, supervisor agrees) → agreement per moderator."""
    table: dict[str, AgreementRow] = {}
    for moderator, agrees in rows:
        row = table.setdefault(moderator, AgreementRow(moderator))
        if agrees:
            row.agreed += 1
        else:
            row.disagreed += 1
    return sorted(table.values(), key=lambda r: r.label.lower())


def hour_of_week(when: datetime, tz: tzinfo) -> tuple[int, int]:
    local = when.astimezone(tz)
    return local.weekday(), local.hour


def coverage_by_hour_of_week(
    duties: Iterable[tuple[datetime, datetime | None]],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    tz: tzinfo,
) -> list[list[float]]:
    """For each weekday and local hour: the share of those hours in [start, end) in which at
    least one moderator was on duty for some of the hour. 7 rows (Mon…Sun) × 24 columns."""
    covered: set[datetime] = set()
    for started, ended in duties:
        s, e = max(started, start), min(ended or now, end)
        t = _hour_floor(s, tz)
        while t < e:
            covered.add(t)
            t = _next_hour(t, tz)
    total = [[0] * 24 for _ in range(7)]
    hit = [[0] * 24 for _ in range(7)]
    t = _hour_floor(start, tz)
    while t < end:
        d, h = hour_of_week(t, tz)
        total[d][h] += 1
        if t in covered:
            hit[d][h] += 1
        t = _next_hour(t, tz)
    return [
        [(hit[d][h] / total[d][h]) if total[d][h] else 0.0 for h in range(24)] for d in range(7)
    ]


def _hour_floor(when: datetime, tz: tzinfo) -> datetime:
    local = when.astimezone(tz)
    return local.replace(minute=0, second=0, microsecond=0)


def _next_hour(when: datetime, tz: tzinfo) -> datetime:
    # Step in UTC so the clock change neither repeats nor skips an hour.
    return (when.astimezone(_UTC) + timedelta(hours=1)).astimezone(tz)


def demand_by_hour_of_week(times: Iterable[datetime], tz: tzinfo) -> list[list[int]]:
    grid = [[0] * 24 for _ in range(7)]
    for t in times:
        d, h = hour_of_week(t, tz)
        grid[d][h] += 1
    return grid


@dataclass(frozen=True)
class Gap:
    weekday: str
    hour: int
    coverage: float
    items: int

    @property
    def coverage_percent(self) -> int:
        return round(self.coverage * 100)

    @property
    def label(self) -> str:
        return f"{self.weekday} {self.hour:02d}:00–{(self.hour + 1) % 24:02d}:00"


def coverage_gaps(
    coverage: list[list[float]], demand: list[list[int]], *, limit: int = 8
) -> list[Gap]:
    """Hours of the week with queue items arriving and the least cover, worst first."""
    gaps = [
        Gap(WEEKDAYS[d], h, coverage[d][h], demand[d][h])
        for d in range(7)
        for h in range(24)
        if demand[d][h] and coverage[d][h] < 0.5
    ]
    gaps.sort(key=lambda g: (g.coverage, -g.items))
    return gaps[:limit]


# --- chart geometry ----------------------------------------------------------------------------


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str = ""


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = "#ddd2c5"
    dash: str = ""


@dataclass
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"
    size: int = 13
    fill: str = "#5c534c"


@dataclass
class Chart:
    """Everything `supervisor/_chart.html` needs to draw one SVG chart."""

    title: str
    description: str
    width: int = 400
    height: int = 220
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    polylines: list[dict[str, Any]] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    empty: bool = False
    kind: str = "svg"
    bars: list[dict[str, Any]] = field(default_factory=list)


PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 36, 6, 10, 30


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if value <= m * exp:
            return m * exp
    return 10 * exp


def _fmt(value: float) -> str:
    return f"{value:g}" if value < 1000 else f"{value / 1000:g}k"


def _axes(
    chart: Chart, top_value: float, x_labels: Sequence[str], plot_w: float, plot_h: float
) -> None:
    for i in range(5):
        v = top_value * i / 4
        y = PLOT_TOP + plot_h - plot_h * i / 4
        chart.lines.append(Line(PLOT_LEFT, y, PLOT_LEFT + plot_w, y))
        chart.labels.append(Label(PLOT_LEFT - 4, y + 5, _fmt(round(v, 2)), "end", 14))
    n = len(x_labels)
    if n:
        every = max(1, math.ceil(n / 4))
        slot = plot_w / n
        for i in range(0, n, every):
            chart.labels.append(
                Label(PLOT_LEFT + slot * (i + 0.5), chart.height - 8, x_labels[i], "middle", 14)
            )


def stacked_bars(
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: dict[str, list[int]],
    colours: dict[str, str],
    *,
    height: int = 220,
) -> Chart:
    chart = Chart(title, description, height=height)
    chart.legend = [(name, colours.get(name, "#8c8076")) for name in series]
    totals = [sum(values[i] for values in series.values()) for i in range(len(x_labels))]
    if not any(totals):
        chart.empty = True
        return chart
    top = _nice_max(max(totals))
    plot_w = chart.width - PLOT_LEFT - PLOT_RIGHT
    plot_h = chart.height - PLOT_TOP - PLOT_BOTTOM
    _axes(chart, top, x_labels, plot_w, plot_h)
    slot = plot_w / len(x_labels)
    bar_w = max(1.0, slot * 0.75)
    for i, label in enumerate(x_labels):
        y = PLOT_TOP + plot_h
        for name, values in series.items():
            if not values[i]:
                continue
            h = plot_h * values[i] / top
            y -= h
            chart.rects.append(
                Rect(
                    round(PLOT_LEFT + slot * i + (slot - bar_w) / 2, 2),
                    round(y, 2),
                    round(bar_w, 2),
                    round(h, 2),
                    colours.get(name, "#8c8076"),
                    f"{label}: {values[i]} {name}",
                )
            )
    return chart


def line_chart(
    title: str,
    description: str,
    x_labels: Sequence[str],
    values: Sequence[float],
    *,
    stroke: str = "#7a3558",
    height: int = 200,
) -> Chart:
    chart = Chart(title, description, height=height)
    if not values or not any(values):
        chart.empty = True
        return chart
    top = _nice_max(max(values))
    plot_w = chart.width - PLOT_LEFT - PLOT_RIGHT
    plot_h = chart.height - PLOT_TOP - PLOT_BOTTOM
    _axes(chart, top, x_labels, plot_w, plot_h)
    slot = plot_w / len(values)
    points = [
        (PLOT_LEFT + slot * (i + 0.5), PLOT_TOP + plot_h - plot_h * v / top)
        for i, v in enumerate(values)
    ]
    chart.polylines.append(
        {"points": " ".join(f"{x:.1f},{y:.1f}" for x, y in points), "stroke": stroke}
    )
    return chart


def horizontal_bars(
    title: str,
    description: str,
    rows: Sequence[tuple[str, float, str]],
    *,
    maximum: float | None = None,
    fill: str = "#7a3558",
    percent: bool = False,
) -> Chart:
    """rows of (label, value, value text), drawn as HTML text with one thin SVG bar per row
    (`chart.bars`), so labels keep the page's text size on a phone and on a desktop."""
    chart = Chart(title, description, kind="bars")
    if not rows:
        chart.empty = True
        return chart
    top = maximum or _nice_max(max(v for _, v, _ in rows) or 1)
    chart.bars = [
        {
            "label": label,
            "width": round(100 * max(0.0, min(value, top)) / top, 1),
            "text": text,
            "fill": fill,
        }
        for label, value, text in rows
    ]
    return chart


HEAT_STEPS = ("#fbeaea", "#f2c9c9", "#cde5d9", "#7fbf9f", "#1d6b45")


def heat_colour(value: float) -> str:
    """Red-ish for no cover, green for full cover. Cells also carry their value in a title and the
    table below the chart, so colour is never the only signal."""
    if value <= 0:
        return HEAT_STEPS[0]
    if value < 0.25:
        return HEAT_STEPS[1]
    if value < 0.5:
        return HEAT_STEPS[2]
    if value < 0.9:
        return HEAT_STEPS[3]
    return HEAT_STEPS[4]


def heatmap(
    title: str, description: str, grid: list[list[float]], demand: list[list[int]] | None = None
) -> Chart:
    cell, left, top_pad = 14, 36, 18
    chart = Chart(title, description, width=left + 24 * cell + 4, height=top_pad + 7 * cell + 4)
    for h in range(0, 24, 3):
        chart.labels.append(Label(left + h * cell + 1, 13, f"{h:02d}", "start", 13))
    for d in range(7):
        chart.labels.append(Label(0, top_pad + d * cell + 11, WEEKDAYS[d], "start", 13))
        for h in range(24):
            value = grid[d][h]
            items = f", {demand[d][h]} item(s) arrived" if demand else ""
            chart.rects.append(
                Rect(
                    left + h * cell,
                    top_pad + d * cell,
                    cell - 2,
                    cell - 2,
                    heat_colour(value),
                    f"{WEEKDAYS[d]} {h:02d}:00: covered {value:.0%} of the time{items}",
                )
            )
    chart.legend = [
        ("no cover", HEAT_STEPS[0]),
        ("< 25%", HEAT_STEPS[1]),
        ("< 50%", HEAT_STEPS[2]),
        ("< 90%", HEAT_STEPS[3]),
        ("90%+", HEAT_STEPS[4]),
    ]
    return chart


def day_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
