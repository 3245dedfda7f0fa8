"""The gate a message passes through before it is stored. chat asks; other apps answer.

chat knows nothing of moderation (docs/architecture.md): an app that wants a say over what is
stored implements `MessageGate` and registers it from its AppConfig.ready (moderation registers
its inline rules, `moderation.pipeline.InlineGate`). With no gate registered every message is
stored visible and nobody is refused.

Every send and every edit runs through here, so the calls are plain loops over a tuple that is
built once at registration: no lookups, no signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chat.models import MessageState

if TYPE_CHECKING:
    from accounts.models import User
    from chat.models import Message, Room


class GateVerdict(Protocol):
    """What one gate decided about a message. chat reads only `state`; the rest is the gate's own
    and is handed back to it in `after_stored`."""

    state: str  # MessageState.VISIBLE, or MessageState.HELD to keep it from the room


class MessageGate(Protocol):
    def check_may_post(self, *, author: User, room: Room) -> None:
        """Before anything is written for a new message: raise ChatError to refuse it (its code
        and message reach her as an `error` frame, e.g. `muted`)."""

    def assess(self, *, author: User, room: Room, body: str, may_post_checked: bool) -> GateVerdict:
        """Inside the message's transaction, with the room row locked, before the row is written
        (a new message, or an edit's new text). Runs on every send: it must be quick and must not
        run models. `may_post_checked`: `check_may_post` has just passed for this author and room
        in this send, so what it looked up need not be looked up again."""

    def after_stored(self, message: Message, verdict: Any) -> None:
        """In the same transaction, once the row is written with the state the gates decided:
        record what was decided (e.g. a queue item). Pushes only after commit."""


@dataclass(slots=True)
class Assessment:
    """Every registered gate's verdict on one message, and the state they add up to: held if any
    gate holds it."""

    state: str
    verdicts: tuple[tuple[MessageGate, Any], ...]


# Plain strings, looked up once: the enum's attribute access costs more than the rest of a call.
VISIBLE, HELD = str(MessageState.VISIBLE.value), str(MessageState.HELD.value)

_named: dict[str, MessageGate] = {}
_gates: tuple[MessageGate, ...] = ()


def register(name: str, gate: MessageGate) -> None:
    """Add `gate` (from an AppConfig.ready). Gates run in the order they were first registered;
    registering a name again replaces that gate in place."""
    global _gates
    _named[name] = gate
    _gates = tuple(_named.values())


def unregister(name: str) -> MessageGate | None:
    global _gates
    gate = _named.pop(name, None)
    _gates = tuple(_named.values())
    return gate


def registered() -> dict[str, MessageGate]:
    return dict(_named)


def check_may_post(*, author: User, room: Room) -> None:
    """Every gate may refuse a new message before anything is written (raises ChatError)."""
    for gate in _gates:
        gate.check_may_post(author=author, room=room)


def assess(*, author: User, room: Room, body: str, may_post_checked: bool = False) -> Assessment:
    """Called inside the message's transaction, before its row is written."""
    state = VISIBLE
    verdicts = []
    for gate in _gates:
        verdict = gate.assess(
            author=author, room=room, body=body, may_post_checked=may_post_checked
        )
        if verdict.state == HELD:
            state = HELD
        verdicts.append((gate, verdict))
    return Assessment(state, tuple(verdicts))


def after_stored(message: Message, assessment: Assessment) -> None:
    """Called in the same transaction once the row is written: each gate records its verdict."""
    for gate, verdict in assessment.verdicts:
        gate.after_stored(message, verdict)
