"""Replay a scripted session (JSON Lines) through the engine, for calibration, tests and training.

Input: a first line ``{"session": {"focus": ..., "duration_minutes": 60, "title"?, "next_session"?,
"topic"?, "helpline"?, "ground_rules"?}}``, then one line per event:

- a message ``{"t": 95, "author": "Priya", "role": "member", "text": "...",
  "newcomer"?: true, "distress"?: true}``. Without ``"distress"``, a member's message is assessed
  as the live room assesses it (``assess``: rules and the safety model, with her recent messages
  as context): a distress assessment gives the engine its distress hint and a flagged or escalated
  one reaches it as a flag, at the same moment, as in a live session
- ``{"t": 300, "event": "tick"}``: time passes with nothing said
- ``{"t": 410, "event": "flag", "author": "Jo", "category": "self_harm"}``
- ``{"t": 20, "event": "presence", "members": ["Jo", "Priya", "Sam"]}``

The whole input is checked before anything runs, so bad input produces one error naming its line
and no partial output.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from moderation.facilitation.embeddings import CachingEmbedder, Embedder
from moderation.facilitation.engine import EngineSettings, FacilitationEngine, Prompt, SessionInfo
from moderation.facilitation.library import PromptLibrary
from moderation.facilitation.sentiment import SentimentScorer

_SESSION_FIELDS = {
    "focus": str,
    "duration_minutes": (int, float),
    "title": str,
    "next_session": str,
    "topic": str,
    "helpline": str,
    "ground_rules": str,
}


class ReplayInputError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class ReplayEvent:
    line: int
    t: float
    kind: str  # "message" | "tick" | "flag" | "presence"
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ReplayScript:
    session: SessionInfo
    events: tuple[ReplayEvent, ...]

    @property
    def message_texts(self) -> list[str]:
        return [e.data["text"] for e in self.events if e.kind == "message"]


def _require(line: int, obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in obj:
        raise ReplayInputError(line, f'missing "{key}"')
    value = obj[key]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise ReplayInputError(line, f'"{key}" has the wrong type ({type(value).__name__})')
    if isinstance(value, str) and not value.strip():
        raise ReplayInputError(line, f'"{key}" is empty')
    return value


def _parse_session(line: int, obj: Any) -> SessionInfo:
    if not isinstance(obj, dict) or not isinstance(obj.get("session"), dict):
        raise ReplayInputError(line, 'the first line must be {"session": {"focus": ..., ...}}')
    raw = obj["session"]
    unknown = set(raw) - set(_SESSION_FIELDS)
    if unknown:
        raise ReplayInputError(line, f"unknown session field(s): {', '.join(sorted(unknown))}")
    kwargs = {"focus": _require(line, raw, "focus", str)}
    for key, kind in _SESSION_FIELDS.items():
        if key != "focus" and key in raw:
            kwargs[key] = _require(line, raw, key, kind)
    try:
        return SessionInfo(**kwargs)
    except ValueError as exc:
        raise ReplayInputError(line, str(exc)) from exc


def _parse_event(line: int, obj: Any, previous_t: float) -> ReplayEvent:
    if not isinstance(obj, dict):
        raise ReplayInputError(line, "expected a JSON object")
    t = _require(line, obj, "t", (int, float))
    if not math.isfinite(t) or t < 0:
        raise ReplayInputError(line, f'"t" must be a number of seconds >= 0, not {t!r}')
    if t < previous_t:
        raise ReplayInputError(line, f'"t" goes backwards ({t} after {previous_t})')
    kind = obj.get("event", "message")
    if kind == "message":
        if "event" in obj:
            raise ReplayInputError(line, 'a message line has no "event" key')
        data: dict[str, Any] = {
            "author": _require(line, obj, "author", str),
            "role": _require(line, obj, "role", str),
            "text": _require(line, obj, "text", str),
        }
        if data["role"] not in ("member", "facilitator"):
            raise ReplayInputError(
                line, f'"role" must be "member" or "facilitator", not {data["role"]!r}'
            )
        for flag in ("newcomer", "distress"):
            if flag in obj and not isinstance(obj[flag], bool):
                raise ReplayInputError(line, f'"{flag}" must be true or false')
        data["newcomer"] = obj.get("newcomer")
        data["distress"] = obj.get("distress")  # None: leave it to the assessment
    elif kind == "tick":
        data = {}
    elif kind == "flag":
        data = {
            "author": _require(line, obj, "author", str),
            "category": _require(line, obj, "category", str),
        }
    elif kind == "presence":
        members = obj.get("members")
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ReplayInputError(line, '"members" must be a list of names')
        data = {"members": members}
    else:
        raise ReplayInputError(line, f"unknown event {kind!r} (expected tick, flag or presence)")
    return ReplayEvent(line=line, t=float(t), kind=kind, data=data)


def parse_replay(lines: Iterable[str]) -> ReplayScript:
    """Parse and validate a whole transcript. Blank lines are ignored. Raises ReplayInputError."""
    session: SessionInfo | None = None
    events: list[ReplayEvent] = []
    previous_t = 0.0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ReplayInputError(
                number, f"invalid JSON: {exc.msg} (column {exc.colno})"
            ) from None
        if session is None:
            session = _parse_session(number, obj)
            continue
        event = _parse_event(number, obj, previous_t)
        previous_t = event.t
        events.append(event)
    if session is None:
        raise ReplayInputError(1, "empty input: expected a session line")
    return ReplayScript(session=session, events=tuple(events))


def run_replay(
    script: ReplayScript,
    *,
    settings: EngineSettings | None = None,
    library: PromptLibrary,
    embedder: Embedder | None,
    sentiment: SentimentScorer | None,
    until_end: bool = True,
    assess: Callable[[Sequence[str], Sequence[Sequence[str]]], Sequence[Any]] | None = None,
) -> list[Prompt]:
    """Feed the script to a fresh engine starting at t=0 and collect every prompt.

    ``assess(texts, contexts) -> decisions`` (``moderation.policy.Decision``) assesses members'
    messages the way the live worker does; the live runtime gives the engine the same two things
    from the stored assessments and flags.

    With ``until_end`` the clock then runs on to the session's scheduled end, so the time checks
    and the closing appear even when the transcript stops early.
    """
    settings = settings or EngineSettings()
    if embedder is not None:
        embedder = CachingEmbedder(embedder)
        # One batched pass over the transcript instead of one model call per message.
        embedder.prime(
            [script.session.focus, *settings.drift_support_anchors, *script.message_texts]
        )
    engine = FacilitationEngine(
        script.session,
        settings=settings,
        library=library,
        embedder=embedder,
        sentiment=sentiment,
    )
    decisions = _assessments(script, assess) if assess is not None else {}
    prompts = engine.start(0.0)
    last_t = 0.0
    for event in script.events:
        d = event.data
        if event.kind == "message":
            decision = decisions.get(event.line)
            distress = (
                d["distress"]
                if d["distress"] is not None
                else (decision is not None and decision.category == "distress")
            )
            prompts += engine.on_message(
                event.t,
                d["author"],
                d["role"],
                d["text"],
                is_newcomer=d["newcomer"],
                distress=bool(distress),
            )
            if decision is not None and decision.action != "allow":
                prompts += engine.on_flag(event.t, d["author"], decision.category)
        elif event.kind == "tick":
            prompts += engine.on_tick(event.t)
        elif event.kind == "flag":
            prompts += engine.on_flag(event.t, d["author"], d["category"])
        else:
            prompts += engine.on_presence(event.t, d["members"])
        last_t = event.t
    end = max(last_t, script.session.end_t) if until_end else last_t
    prompts += engine.on_tick(end)
    return prompts


#: the live worker's context window (moderation.safety_model.CONTEXT_MESSAGES / CONTEXT_SECONDS)
_CONTEXT_MESSAGES = 3
_CONTEXT_SECONDS = 600.0


def _assessments(script: ReplayScript, assess: Callable[..., Sequence[Any]]) -> dict[int, Any]:
    """Assess every member message without an explicit distress mark, in one batch, each with the
    same author's earlier messages (at most 3, within 10 minutes) as its context."""
    todo: list[tuple[int, str, list[str]]] = []
    history: dict[str, list[tuple[float, str]]] = {}
    for event in script.events:
        if event.kind != "message":
            continue
        d = event.data
        earlier = [
            text for t, text in history.get(d["author"], []) if event.t - t <= _CONTEXT_SECONDS
        ]
        if d["role"] == "member" and d["distress"] is None:
            todo.append((event.line, d["text"], earlier[-_CONTEXT_MESSAGES:]))
        history.setdefault(d["author"], []).append((event.t, d["text"]))
    if not todo:
        return {}
    decisions = assess([text for _, text, _ in todo], [ctx for _, _, ctx in todo])
    return {line: decision for (line, _, _), decision in zip(todo, decisions, strict=True)}


def prompt_to_json(prompt: Prompt) -> dict[str, Any]:
    out: dict[str, Any] = {
        "t": int(prompt.t) if float(prompt.t).is_integer() else round(prompt.t, 3),
        "signal": prompt.signal,
        "text": prompt.text,
        "reason": prompt.reason,
    }
    if prompt.target is not None:
        out["target"] = prompt.target
    return out
