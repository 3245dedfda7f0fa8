"""Judging a practice decision: pure functions, no ORM.

A scenario's `expected` is a list of action sets, any one of which is right; `acceptable` are
actions that are not wrong beside them. A trainee's decision is judged as she acts, the way a
supervisor watching over her shoulder would:

* an action outside every expected set and the acceptable list is a mistake at once (hiding a
  risk message, warning a mother for her distress);
* doing every action of one expected set is right at once (escalating a risk message; hiding
  *and* warning an insult, in either order);
* an item she closed without completing a set (she hid an insult and did not warn) waits for a
  follow-up, as the real console allows, until she says she has finished: then it is a miss.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from moderation.practice.models import NEUTRAL_ACTIONS


@dataclass(frozen=True)
class Verdict:
    decided: bool
    correct: bool | None
    wrong_actions: tuple[str, ...] = ()
    matched: tuple[str, ...] = ()


def allowed_actions(expected: Sequence[Sequence[str]], acceptable: Iterable[str]) -> set[str]:
    allowed = set(acceptable) | set(NEUTRAL_ACTIONS)
    for option in expected:
        allowed.update(option)
    return allowed


def judge(
    taken: Sequence[str],
    expected: Sequence[Sequence[str]],
    acceptable: Iterable[str],
    *,
    finished: bool = False,
) -> Verdict:
    """`taken`: her decisions so far, in order (no claims or releases)."""
    allowed = allowed_actions(expected, acceptable)
    wrong = tuple(a for a in taken if a not in allowed)
    if wrong:
        return Verdict(decided=True, correct=False, wrong_actions=wrong)
    done = set(taken)
    for option in expected:
        if option and set(option) <= done:
            return Verdict(decided=True, correct=True, matched=tuple(option))
    if finished:
        return Verdict(decided=True, correct=False)
    return Verdict(decided=False, correct=None)


ACTION_WORDS = {
    "hide": "hide the message",
    "approve": "approve it",
    "dismiss": "dismiss the item",
    "warn": "send a warning",
    "mute": "mute her",
    "escalate": "escalate to supervisors",
    "suspend": "suspend the account",
    "note": "add a note",
}


def describe_option(option: Sequence[str]) -> str:
    """["hide", "warn"] → "hide the message and send a warning"."""
    words = [ACTION_WORDS.get(a, a) for a in option]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def describe_expected(expected: Sequence[Sequence[str]]) -> str:
    options = [describe_option(o) for o in expected if o]
    if not options:
        return ""
    if len(options) == 1:
        return options[0].capitalize() + "."
    return options[0].capitalize() + "; or " + "; or ".join(options[1:]) + "."
