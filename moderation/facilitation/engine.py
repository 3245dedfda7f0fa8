"""The facilitator prompt engine: watches one session's traffic and suggests what to say next.

Pure and deterministic: no ORM, no network, no wall clock. Every call carries ``t``, seconds since
the session's scheduled start, so the same transcript always yields the same prompts, and the live
room and the replay tool behave identically.

Time-based signals (silence, unanswered, time checks, closing) are evaluated at the exact moment
they become due, not on a polling grid: every call first "advances" the engine through each
threshold crossed since the previous call. A live caller can therefore tick as often or as rarely
as it likes; ticks only decide how soon a due prompt is *delivered*.

One engine per session, driven from one task; it is not thread-safe.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from moderation.facilitation.embeddings import Embedder
from moderation.facilitation.library import SIGNALS, PromptLibrary, focus_phrase
from moderation.facilitation.sentiment import SentimentScorer

Role = Literal["member", "facilitator"]

# These are tied to the session's structure or to someone's safety, so the global rate limit never
# holds them back (and they do not count against it).
UNTHROTTLED_SIGNALS = frozenset({"opening", "time_check", "closing", "check_in"})

# When several discretionary signals are due at once only one is offered (the global rate limit),
# so the order says what matters most: a person before the room, the room's mood before its topic.
_DISCRETIONARY_ORDER = ("newcomer", "unanswered", "negativity", "dominance", "drift", "silence")

DEFAULT_HELPLINE = "Samaritans, free and any time, on 116 123"
DEFAULT_GROUND_RULES = (
    "be kind, keep what's shared here in the room, share your own experience rather than advice, "
    "and it's fine to just read"
)
DEFAULT_NEXT_SESSION = "on the Sessions page"

# A newcomer the caller has not marked is recognised by what she says about herself.
_NEWCOMER_CUES = re.compile(
    r"\b(first time (here|posting|joining|on here)|new here|(just|only) joined|"
    r"never (done|been to) (this|one of these)|my first (session|time|group))\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class SessionInfo:
    """What the engine knows about the session it facilitates."""

    focus: str
    duration_minutes: float = 60.0
    title: str | None = None
    next_session: str | None = None
    # Slug selecting per-topic prompt overrides in the library (e.g. "sleep").
    topic: str | None = None
    helpline: str = DEFAULT_HELPLINE
    ground_rules: str = DEFAULT_GROUND_RULES

    def __post_init__(self) -> None:
        if not self.focus.strip():
            raise ValueError("a facilitated session needs a focus")
        if not self.duration_minutes > 0:
            raise ValueError("duration_minutes must be positive")

    @property
    def end_t(self) -> float:
        return self.duration_minutes * 60.0


@dataclass(frozen=True)
class EngineSettings:
    """Thresholds and cooldowns. The defaults and the measurements behind them are in
    docs/facilitation.md; change them there and here together."""

    # Discretionary prompts (everything not in UNTHROTTLED_SIGNALS) are at least this far apart.
    global_min_gap_s: float = 60.0
    # A restarted engine (t already past this) does not re-open a session that is under way.
    opening_window_s: float = 300.0
    time_check_minutes: tuple[float, ...] = (10.0, 2.0)
    # In the last minutes an icebreaker, a topic nudge or "let's hear from others" is wrong-footed:
    # the room should be saying goodbye.
    wrap_up_s: float = 120.0

    silence_after_s: float = 180.0
    silence_cooldown_s: float = 300.0
    # In a room that stays dead, each further icebreaker waits twice as long (capped), so a quiet
    # session gets a handful of nudges rather than one every five minutes for an hour.
    silence_max_cooldown_s: float = 900.0

    unanswered_after_s: float = 120.0
    # "thanks x" or "lol same" does not need acknowledging.
    unanswered_min_words: int = 4
    # After this long a missed message is old news; bringing it up would feel odd.
    unanswered_expire_s: float = 600.0
    unanswered_target_cooldown_s: float = 300.0

    newcomer_expire_s: float = 300.0

    negativity_window: int = 8
    negativity_min_messages: int = 6
    negativity_threshold: float = -0.35
    # One member describing a hard time is not "the room spiralling": she needs a check-in, not a
    # redirect away from her. A redirect needs low mood from at least this many people.
    negativity_min_authors: int = 2
    negativity_author_threshold: float = -0.05
    negativity_cooldown_s: float = 600.0

    drift_window: int = 6
    drift_min_messages: int = 5
    # Very short messages ("aw", "same!") embed near nothing and would read as drift.
    drift_min_words: int = 4
    drift_threshold: float = 0.16
    # Kindness ("you're not alone, it gets easier") is the point of the room, never drift, but it is
    # as far from a focus like "going back to work" as Bake Off is. A message's relevance is its
    # similarity to the focus or to these, whichever is higher.
    drift_support_anchors: tuple[str, ...] = (
        "Kind words of support and encouragement to another mum",
        "You are not alone, it gets easier, be kind to yourself",
        "Thank you for sharing how you feel",
    )
    # Hellos and small talk at the start are good, not drift.
    drift_grace_s: float = 300.0
    drift_cooldown_s: float = 600.0

    dominance_window: int = 10
    dominance_share: float = 0.6
    dominance_min_participants: int = 3
    dominance_cooldown_s: float = 600.0

    check_in_target_cooldown_s: float = 600.0
    # After someone is flagged or in distress, the room's low mood or change of subject is the
    # room holding her: no redirects, no "let's hear from others" aimed at her, for this long.
    distress_quiet_s: float = 600.0

    def __post_init__(self) -> None:
        for name in ("negativity", "drift", "dominance"):
            if getattr(self, f"{name}_window") < 1:
                raise ValueError(f"{name}_window must be at least 1")
        if self.negativity_min_messages > self.negativity_window:
            raise ValueError("negativity_min_messages cannot exceed negativity_window")
        if self.drift_min_messages > self.drift_window:
            raise ValueError("drift_min_messages cannot exceed drift_window")
        if not 0 < self.dominance_share < 1:
            raise ValueError("dominance_share must be between 0 and 1")


@dataclass(frozen=True)
class Prompt:
    """A suggestion for the facilitator. ``target`` names the member it is about, if any;
    ``check_in`` prompts are meant to be sent privately to the target."""

    t: float
    signal: str
    text: str
    reason: str
    target: str | None = None


@dataclass
class _Message:
    index: int
    t: float
    author: str
    role: Role
    text: str
    words: int
    sentiment: float | None = None
    vector: np.ndarray | None = None
    answered: bool = False
    unanswered_prompted: bool = False


@dataclass
class _Candidate:
    signal: str
    reason: str
    target: str | None = None
    values: dict[str, object] = field(default_factory=dict)
    # The member message an "unanswered" prompt is about.
    message: _Message | None = None


def _fmt_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    minutes, secs = divmod(seconds, 60)
    if minutes and secs:
        return f"{minutes} min {secs} s"
    return f"{minutes} min" if minutes else f"{secs} s"


def _mentions(text: str, name: str) -> bool:
    first = name.split()[0] if name.split() else name
    return any(
        re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text, re.IGNORECASE) for n in {name, first} if n
    )


class FacilitationEngine:
    """Turns one session's messages, flags and clock ticks into facilitator prompts.

    Every public method takes ``t`` (seconds since the session's start, never decreasing across
    calls) and returns the prompts that became due up to and including that moment, oldest first.
    ``embedder`` and ``sentiment`` may be ``None``; drift or negativity is then never suggested.
    """

    def __init__(
        self,
        session: SessionInfo,
        *,
        settings: EngineSettings,
        library: PromptLibrary,
        embedder: Embedder | None,
        sentiment: SentimentScorer | None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.library = library
        self.embedder = embedder
        self.sentiment = sentiment

        self._started = False
        self._start_t = 0.0
        self._now: float | None = None
        self._closed = False
        self._messages: list[_Message] = []
        self._member_messages: list[_Message] = []
        self._members_seen: set[str] = set()
        self._roster: frozenset[str] | None = None
        self._reference_vectors: np.ndarray | None = None

        self._last_message_t: float | None = None
        self._last_fired: dict[str, float] = {}
        self._last_fired_target: dict[tuple[str, str], float] = {}
        self._fired_at_member_count: dict[str, int] = {}
        self._last_discretionary_t: float | None = None
        self._variant_counter: dict[str, int] = {s: 0 for s in SIGNALS}
        self._time_checks_done: set[float] = set()
        self._newcomers_pending: dict[str, float] = {}
        self._newcomers_done: set[str] = set()
        self._last_distress: dict[str, float] = {}
        self._last_unanswered_prompt_t: float | None = None
        self._silence_streak = 0

    # ---------------------------------------------------------------- public API

    def start(self, t: float = 0.0) -> list[Prompt]:
        """Begin the session at ``t``. Offers the opening only if ``t`` is near the scheduled start,
        so an engine rebuilt after a restart does not re-open a session that is under way.
        Idempotent: a second call returns nothing."""
        if self._started:
            return []
        self._check_clock(t)
        self._started = True
        self._start_t = t
        self._now = t
        # Silence counts from the start: an empty room for three minutes deserves an icebreaker.
        self._last_message_t = t
        prompts: list[Prompt] = []
        if t <= self.settings.opening_window_s and t < self.session.end_t:
            prompts.append(
                self._emit(
                    t,
                    _Candidate(
                        "opening",
                        "session is starting: welcome everyone and set the ground rules",
                        values={"minutes": _minutes_str(self.session.duration_minutes)},
                    ),
                )
            )
        # Marks already behind a late start are not announced retroactively.
        for minutes in self.settings.time_check_minutes:
            if self.session.end_t - minutes * 60.0 < t:
                self._time_checks_done.add(minutes)
        return prompts

    def on_tick(self, t: float) -> list[Prompt]:
        """Time passes with no message. Returns every time-based prompt due up to ``t``."""
        prompts = self._ensure_started(t)
        prompts += self._advance(t, inclusive=True)
        return prompts

    def on_message(
        self,
        t: float,
        author: str,
        role: Role,
        text: str,
        *,
        is_newcomer: bool | None = None,
        distress: bool = False,
    ) -> list[Prompt]:
        """A message was posted (after moderation let it through).

        ``is_newcomer``: True if this is the author's first session, False if known not to be,
        None if the caller does not know (the engine then looks for "first time here" and the like).
        ``distress``: a hint from upstream classification that the author may be struggling; it
        leads to a private check-in suggestion exactly as a flag does.
        """
        if role not in ("member", "facilitator"):
            raise ValueError(f"role must be 'member' or 'facilitator', not {role!r}")
        prompts = self._ensure_started(t)
        # A message at the very instant something falls due wins the tie: the room was not silent.
        prompts += self._advance(t, inclusive=False)
        self._now = t
        message = _Message(
            index=len(self._messages),
            t=t,
            author=author,
            role=role,
            text=text,
            words=len(_WORD.findall(text)),
        )
        self._record(message)
        if role == "member":
            if self._is_newcomer(author, text, is_newcomer):
                self._newcomers_pending[author] = t
            if distress:
                prompts += self._check_in(t, author, "distress hint on message")
        prompts += self._evaluate(t)
        return prompts

    def on_flag(self, t: float, author: str, category: str) -> list[Prompt]:
        """A message by ``author`` in this session was flagged, held or escalated (or she was
        otherwise identified as in distress). The engine does not classify; it suggests a private
        check-in and stays off the room's mood and topic for a while."""
        prompts = self._ensure_started(t)
        prompts += self._advance(t, inclusive=False)
        self._now = t
        prompts += self._check_in(t, author, f"a message was flagged ({category})")
        return prompts

    def on_presence(self, t: float, members: Collection[str]) -> list[Prompt]:
        """Optional: who is in the room now (members only, not facilitators). Without it the
        engine counts as present every member who has written in this session."""
        prompts = self._ensure_started(t)
        prompts += self._advance(t, inclusive=False)
        self._now = t
        self._roster = frozenset(members)
        return prompts

    # ---------------------------------------------------------------- bookkeeping

    def _check_clock(self, t: float) -> None:
        if not math.isfinite(t):
            raise ValueError(f"t must be a finite number of seconds, not {t!r}")
        if self._now is not None and t < self._now:
            raise ValueError(f"time went backwards: t={t} after t={self._now}")

    def _ensure_started(self, t: float) -> list[Prompt]:
        self._check_clock(t)
        return [] if self._started else self.start(t)

    def _record(self, message: _Message) -> None:
        for earlier in self._messages:
            # "Answered" = anyone other than the author wrote afterwards (a facilitator included).
            # Simple enough to explain to a facilitator; its blind spot (two members chatting past
            # a third) is discussed in docs/facilitation.md.
            if not earlier.answered and earlier.author != message.author:
                earlier.answered = True
        self._messages.append(message)
        self._last_message_t = message.t
        self._silence_streak = 0
        if message.role == "facilitator":
            for name in list(self._newcomers_pending):
                if _mentions(message.text, name):
                    # She has already welcomed the newcomer herself.
                    del self._newcomers_pending[name]
                    self._newcomers_done.add(name)
            return
        self._member_messages.append(message)
        self._members_seen.add(message.author)
        if self.sentiment is not None:
            message.sentiment = self.sentiment.compound([message.text])[0]

    def _is_newcomer(self, author: str, text: str, hint: bool | None) -> bool:
        if author in self._newcomers_done or author in self._newcomers_pending:
            return False
        if any(m.author == author for m in self._member_messages[:-1]):
            return False  # not her first message in this session
        if hint is None:
            return bool(_NEWCOMER_CUES.search(text))
        return hint

    # ---------------------------------------------------------------- time

    def _due_times(self) -> list[float]:
        """Every future moment at which some condition may change without a new message."""
        s = self.settings
        times = [self.session.end_t]
        times += [self.session.end_t - m * 60.0 for m in s.time_check_minutes]
        times.append(self.session.end_t - s.wrap_up_s)
        if self._last_discretionary_t is not None:
            times.append(self._last_discretionary_t + s.global_min_gap_s)
        times.append(self._silence_since() + s.silence_after_s)
        if "silence" in self._last_fired:
            times.append(self._last_fired["silence"] + self._silence_cooldown())
        for m in self._member_messages:
            if not m.answered and not m.unanswered_prompted:
                times.append(m.t + s.unanswered_after_s)
        for (signal, _target), fired in self._last_fired_target.items():
            if signal == "unanswered":
                times.append(fired + s.unanswered_target_cooldown_s)
        times.append(self._start_t + s.drift_grace_s)
        for signal in ("negativity", "drift", "dominance"):
            if signal in self._last_fired:
                times.append(self._last_fired[signal] + getattr(s, f"{signal}_cooldown_s"))
        for since in self._last_distress.values():
            times.append(since + s.distress_quiet_s)
        return times

    def _advance(self, t: float, *, inclusive: bool) -> list[Prompt]:
        prompts: list[Prompt] = []
        assert self._now is not None
        # Bounded: each step moves strictly forward to the next due time, and there are only
        # finitely many due times before t (each firing pushes the next one at least a gap ahead).
        for _ in range(10_000):
            now = self._now
            upcoming = [
                d for d in self._due_times() if d > now and (d <= t if inclusive else d < t)
            ]
            if not upcoming:
                break
            step = min(upcoming)
            self._now = step
            prompts += self._evaluate(step)
        self._now = t
        if inclusive:
            prompts += self._evaluate(t)
        return prompts

    # ---------------------------------------------------------------- evaluation

    def _evaluate(self, t: float) -> list[Prompt]:
        if self._closed:
            return []
        prompts: list[Prompt] = []
        for candidate in self._structural(t):
            prompts.append(self._emit(t, candidate))
        if self._closed:
            return prompts
        if (
            self._last_discretionary_t is not None
            and t - self._last_discretionary_t < self.settings.global_min_gap_s
        ):
            return prompts
        for signal in _DISCRETIONARY_ORDER:
            candidate = getattr(self, f"_check_{signal}")(t)
            if candidate is not None:
                prompts.append(self._emit(t, candidate))
                break
        return prompts

    def _structural(self, t: float) -> Iterable[_Candidate]:
        end = self.session.end_t
        for minutes in sorted(self.settings.time_check_minutes, reverse=True):
            mark = end - minutes * 60.0
            if minutes not in self._time_checks_done and mark <= t < end:
                self._time_checks_done.add(minutes)
                left = (end - t) / 60.0
                yield _Candidate(
                    "time_check",
                    f"{_minutes_str(left)} minutes of the session left: start wrapping up",
                    values={"minutes": _minutes_str(left)},
                )
        if t >= end:
            self._time_checks_done.update(self.settings.time_check_minutes)
            self._closed = True
            yield _Candidate("closing", "the session's scheduled time is up: close it warmly")

    def _in_wrap_up(self, t: float) -> bool:
        return t >= self.session.end_t - self.settings.wrap_up_s

    def _cooled(self, signal: str, t: float, cooldown: float) -> bool:
        last = self._last_fired.get(signal)
        return last is None or t - last >= cooldown

    def _fresh(self, signal: str, window: int) -> bool:
        # A window that has already prompted must be at least half renewed before it can prompt
        # again; otherwise the same eight messages would keep re-triggering after each cooldown.
        fired_at = self._fired_at_member_count.get(signal)
        return fired_at is None or len(self._member_messages) - fired_at >= max(1, window // 2)

    def _room_in_distress(self, t: float) -> bool:
        return any(
            t - since < self.settings.distress_quiet_s for since in self._last_distress.values()
        )

    def _silence_since(self) -> float:
        # An "acknowledge her" prompt is already a suggestion to speak; silence counts from it so the
        # facilitator is not handed an icebreaker on top of it a minute later.
        since = self._last_message_t if self._last_message_t is not None else self._start_t
        if self._last_unanswered_prompt_t is not None:
            since = max(since, self._last_unanswered_prompt_t)
        return since

    def _check_newcomer(self, t: float) -> _Candidate | None:
        for name, since in list(self._newcomers_pending.items()):
            if t - since > self.settings.newcomer_expire_s:
                del self._newcomers_pending[name]
                self._newcomers_done.add(name)
                continue
            return _Candidate(
                "newcomer",
                f"{name} has posted for the first time: welcome her by name",
                target=name,
                values={"name": name},
            )
        return None

    def _check_unanswered(self, t: float) -> _Candidate | None:
        s = self.settings
        for m in self._member_messages:
            if m.answered or m.unanswered_prompted or m.words < s.unanswered_min_words:
                continue
            waited = t - m.t
            if waited < s.unanswered_after_s:
                continue
            if waited > s.unanswered_expire_s:
                m.unanswered_prompted = True  # too late to bring up now
                continue
            last = self._last_fired_target.get(("unanswered", m.author))
            if last is not None and t - last < s.unanswered_target_cooldown_s:
                continue
            distress = self._last_distress.get(m.author)
            if distress is not None and t - distress < s.distress_quiet_s:
                # A public "does anyone recognise this?" is wrong for someone who may be in
                # crisis; the private check-in already covers her.
                continue
            return _Candidate(
                "unanswered",
                f"{m.author}'s message has had no reply for {_fmt_duration(waited)}: "
                f'"{_excerpt(m.text)}"',
                target=m.author,
                values={"name": m.author},
                message=m,
            )
        return None

    def _silence_cooldown(self) -> float:
        s = self.settings
        if self._silence_streak == 0:
            return s.silence_cooldown_s
        return min(s.silence_cooldown_s * 2 ** (self._silence_streak - 1), s.silence_max_cooldown_s)

    def _conversation_live(self, t: float) -> bool:
        # Mood, topic and balance are judged on a conversation that is happening. Once the room has
        # gone quiet the last few messages are history; silence is the signal then.
        last = self._member_messages[-1].t if self._member_messages else None
        return last is not None and t - last < self.settings.silence_after_s

    def _check_silence(self, t: float) -> _Candidate | None:
        s = self.settings
        quiet = t - self._silence_since()
        if quiet < s.silence_after_s or self._in_wrap_up(t):
            return None
        if self._room_in_distress(t) or not self._cooled("silence", t, self._silence_cooldown()):
            return None
        return _Candidate(
            "silence",
            f"no messages for {_fmt_duration(quiet)} (threshold {_fmt_duration(s.silence_after_s)})",
            values={"minutes": _minutes_str(quiet / 60.0)},
        )

    def _check_negativity(self, t: float) -> _Candidate | None:
        s = self.settings
        if self.sentiment is None or self._room_in_distress(t) or not self._conversation_live(t):
            return None
        window = self._member_messages[-s.negativity_window :]
        if len(window) < s.negativity_min_messages:
            return None
        if not self._cooled("negativity", t, s.negativity_cooldown_s):
            return None
        if not self._fresh("negativity", s.negativity_window):
            return None
        scores = [m.sentiment for m in window if m.sentiment is not None]
        mean = sum(scores) / len(scores)
        low_authors = {
            m.author for m in window if (m.sentiment or 0.0) <= s.negativity_author_threshold
        }
        if mean >= s.negativity_threshold or len(low_authors) < s.negativity_min_authors:
            return None
        return _Candidate(
            "negativity",
            f"mean sentiment of the last {len(window)} messages is {mean:+.2f} "
            f"(threshold {s.negativity_threshold:+.2f}), low mood from {len(low_authors)} people",
        )

    def _check_drift(self, t: float) -> _Candidate | None:
        s = self.settings
        if self.embedder is None or self._in_wrap_up(t) or self._room_in_distress(t):
            return None
        if not self._conversation_live(t):
            return None
        if t - self._start_t < s.drift_grace_s:
            return None
        if not self._cooled("drift", t, s.drift_cooldown_s) or not self._fresh(
            "drift", s.drift_window
        ):
            return None
        settled = self._start_t + s.drift_grace_s
        window = [
            m for m in self._member_messages if m.words >= s.drift_min_words and m.t >= settled
        ][-s.drift_window :]
        if len(window) < s.drift_min_messages:
            return None
        similarity = self._focus_similarity(window)
        if similarity >= s.drift_threshold:
            return None
        return _Candidate(
            "drift",
            f'the last {len(window)} messages are far from the focus "{self.session.focus}" '
            f"(mean similarity {similarity:.2f}, threshold {s.drift_threshold:.2f})",
        )

    def _focus_similarity(self, window: list[_Message]) -> float:
        """Mean over the window of each message's best cosine to the focus or a support anchor."""
        assert self.embedder is not None
        todo = [m for m in window if m.vector is None]
        texts = [m.text for m in todo]
        if self._reference_vectors is None:
            references = [self.session.focus, *self.settings.drift_support_anchors]
            vectors = np.asarray(self.embedder.encode(references + texts), dtype=np.float32)
            self._reference_vectors = vectors[: len(references)]
            vectors = vectors[len(references) :]
        else:
            vectors = np.asarray(self.embedder.encode(texts), dtype=np.float32) if texts else []
        for m, v in zip(todo, vectors, strict=True):
            m.vector = v
        matrix = np.stack([m.vector for m in window])  # type: ignore[misc]
        return float(np.mean((matrix @ self._reference_vectors.T).max(axis=1)))

    def _check_dominance(self, t: float) -> _Candidate | None:
        s = self.settings
        if self._in_wrap_up(t) or not self._conversation_live(t):
            return None
        window = self._member_messages[-s.dominance_window :]
        if len(window) < s.dominance_window:
            return None
        if not self._cooled("dominance", t, s.dominance_cooldown_s):
            return None
        if not self._fresh("dominance", s.dominance_window):
            return None
        present = self._roster if self._roster is not None else self._members_seen
        if len(present | {m.author for m in window}) < s.dominance_min_participants:
            return None
        # most_common breaks ties by first appearance in the window, which keeps this deterministic.
        top, count = Counter(m.author for m in window).most_common(1)[0]
        share = count / len(window)
        if share <= s.dominance_share:
            return None
        since = self._last_distress.get(top)
        if since is not None and t - since < s.distress_quiet_s:
            return None  # she is struggling and the room is letting her talk; that is fine
        return _Candidate(
            "dominance",
            f"{top} wrote {count} of the last {len(window)} messages "
            f"({share:.0%}, threshold {s.dominance_share:.0%}) with {len(present)} members present",
            target=top,
        )

    def _check_in(self, t: float, author: str, why: str) -> list[Prompt]:
        self._last_distress[author] = t
        if self._closed and t - self.session.end_t > self.settings.check_in_target_cooldown_s:
            # Long after the session the facilitator has gone; the moderation queue handles it.
            return []
        last = self._last_fired_target.get(("check_in", author))
        if last is not None and t - last < self.settings.check_in_target_cooldown_s:
            return []
        return [
            self._emit(
                t,
                _Candidate(
                    "check_in",
                    f"{why}: check in with {author} privately",
                    target=author,
                    values={"name": author},
                ),
            )
        ]

    # ---------------------------------------------------------------- output

    def _emit(self, t: float, candidate: _Candidate) -> Prompt:
        session = self.session
        values: dict[str, object] = {
            # Every template puts the focus mid-sentence: it must read as a phrase there.
            "focus": focus_phrase(session.focus),
            "title": session.title or session.focus,
            "next_session": session.next_session or DEFAULT_NEXT_SESSION,
            "helpline": session.helpline,
            "ground_rules": session.ground_rules,
            "minutes": "",
            "name": candidate.target or "",
        }
        values.update(candidate.values)
        signal = candidate.signal
        text = self.library.render(
            signal, variant=self._variant_counter[signal], values=values, topic=session.topic
        )
        self._variant_counter[signal] += 1
        self._last_fired[signal] = t
        self._fired_at_member_count[signal] = len(self._member_messages)
        if candidate.target is not None:
            self._last_fired_target[(signal, candidate.target)] = t
        if signal not in UNTHROTTLED_SIGNALS:
            self._last_discretionary_t = t
        if signal == "newcomer" and candidate.target is not None:
            self._newcomers_pending.pop(candidate.target, None)
            self._newcomers_done.add(candidate.target)
        if signal == "silence":
            self._silence_streak += 1
        if candidate.message is not None:
            candidate.message.unanswered_prompted = True
            self._last_unanswered_prompt_t = t
        return Prompt(
            t=t, signal=signal, text=text, reason=candidate.reason, target=candidate.target
        )


def _minutes_str(minutes: float) -> str:
    rounded = round(minutes)
    return str(max(1, int(rounded)))


def _excerpt(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
