"""Inline safety rules: fast, explainable signals computed before a message is delivered.

``rule_signals(text)`` runs every pattern in ``moderation/rule_patterns.py`` over a normalised copy
of the text and returns what matched, with the rule's comment so moderators see *why*. It costs
tens of microseconds per chat message (measured in ``docs/moderation-quality.md``), so it runs
inline in the consumer path; the model runs afterwards in the worker.

Pure: no Django, no ORM, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from moderation.rule_patterns import IDIOMS, RULES, RulePattern

Addressee = Literal["self", "other", "none"]

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
                              "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})

# Contractions and text-speak, expanded so patterns only spell each phrase one way. "ill", "its",
# "id", "were", "wed" are deliberately absent: without an apostrophe they are ordinary words.
_EXPANSIONS: dict[str, str] = {
    "i'm": "i am", "im": "i am", "i'am": "i am", "i've": "i have", "ive": "i have", "i'd": "i would",
    "i'll": "i will", "you're": "you are", "youre": "you are", "you've": "you have", "youve": "you have",
    "you'd": "you would", "you'll": "you will", "youll": "you will", "u": "you", "ur": "your", "r": "are",
    "he's": "he is", "she's": "she is", "he'll": "he will", "she'll": "she will", "he'd": "he would",
    "she'd": "she would", "they're": "they are", "they'll": "they will", "they'd": "they would",
    "we're": "we are", "we've": "we have", "we'll": "we will", "it's": "it is", "that's": "that is",
    "thats": "that is", "there's": "there is", "what's": "what is", "whats": "what is", "who's": "who is",
    "let's": "let us", "everyone's": "everyone is", "everybody's": "everybody is",
    "don't": "do not", "dont": "do not", "doesn't": "does not", "doesnt": "does not", "didn't": "did not",
    "didnt": "did not", "can't": "cannot", "cant": "cannot", "won't": "will not", "wont": "will not",
    "wouldn't": "would not", "wouldnt": "would not", "couldn't": "could not", "couldnt": "could not",
    "shouldn't": "should not", "shouldnt": "should not", "isn't": "is not", "isnt": "is not",
    "aren't": "are not", "arent": "are not", "wasn't": "was not", "wasnt": "was not",
    "weren't": "were not", "haven't": "have not", "havent": "have not", "hasn't": "has not",
    "hadn't": "had not", "ain't": "is not", "gonna": "going to", "wanna": "want to", "gotta": "got to",
    "cannot": "cannot", "coz": "because", "cos": "because", "bc": "because", "ppl": "people",
    "mums": "mums", "mom's": "mums", "anymore": "any more", "nobodys": "nobody is",
    "myslef": "myself", "mysef": "myself", "mself": "myself", "urself": "yourself",
}
_TOKEN_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
_REPEATS_RE = re.compile(r"([a-z])\1{2,}")
_HYPHEN_RE = re.compile(r"(?<=[a-z])[-_/](?=[a-z])")
_SPACE_RE = re.compile(r"\s+")
# "hurt my self", "my slef": rejoin the common split of "myself".
_MYSELF_RE = re.compile(r"\bmy ?s[le]{2}f\b")


def normalise(text: str) -> str:
    """Lower-case, straighten apostrophes, expand contractions, squash letter repeats."""
    t = text.translate(_APOSTROPHES).lower()
    t = _REPEATS_RE.sub(r"\1", t)
    t = _HYPHEN_RE.sub(" ", t)
    t = _TOKEN_RE.sub(lambda m: _EXPANSIONS.get(m.group(0), m.group(0)), t)
    t = t.replace("'s ", "s ").replace("'", " ")
    t = _MYSELF_RE.sub("myself", t)
    return _SPACE_RE.sub(" ", t).strip()


# --------------------------------------------------------------------------------------------
# Who is a clause about?
# --------------------------------------------------------------------------------------------

_CLAUSE_SPLIT_RE = re.compile(r"[.!?;:\n]+|,|\bbut\b|\bthough\b|\bx+\b")
# "we/us/our" count as the writer's side: "we're all shattered" is not aimed at anyone.
_FIRST = frozenset({"i", "me", "my", "myself", "mine", "we", "us", "our", "ourselves"})
_SECOND = frozenset({"you", "your", "yourself", "yours", "yourselves"})
# Second-person words that are politeness or filler, not someone being addressed.
_SECOND_FILLERS = re.compile(
    r"\b(?:thank you|thanks to you|you know|if you like|see you|bless you|love you|mind you|"
    r"are you (?:ok|okay|alright)|how are you|hope you|have you tried|do you|did you|does anyone|"
    r"you guys|you all|all of you|you lot|anyone else)\b"
)


def _addressee_of(clause: str) -> Addressee:
    cleaned = _SECOND_FILLERS.sub(" ", clause)
    words = cleaned.split()
    if any(w in _SECOND for w in words):
        return "other"
    if any(w in _FIRST for w in words):
        return "self"
    return "none"


def addressee(text: str) -> Addressee:
    """Whom the text's words are aimed at: the writer (``self``), someone else (``other``), or
    no one identifiable (``none``).

    Decided per clause: any clause aimed at another person makes the message ``other``
    ("I'm tired, but you're an idiot"); otherwise any first-person clause makes it ``self``.
    Politeness ("thank you", "how are you") does not count as addressing someone.
    """
    clauses = [c for c in _CLAUSE_SPLIT_RE.split(normalise(text)) if c.strip()]
    targets = {_addressee_of(c) for c in clauses}
    if "other" in targets:
        return "other"
    if "self" in targets:
        return "self"
    return "none"


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleMatch:
    id: str
    category: str
    subcategory: str
    span: str  # the matched words, in normalised form
    comment: str
    negated: bool = False  # matched, but cancelled by a preceding negation ("I'd never …")
    addressee: Addressee = "none"  # of the clause the match sits in

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.id, "category": self.category, "subcategory": self.subcategory,
                "span": self.span, "comment": self.comment, "negated": self.negated,
                "addressee": self.addressee}


@dataclass(frozen=True)
class RuleSignals:
    """Everything the rules saw in one message. ``matches`` excludes negated and self-aimed hits,
    which are kept in ``suppressed`` so a reviewer can see what was considered and dropped."""

    matches: tuple[RuleMatch, ...]
    addressee: Addressee
    suppressed: tuple[RuleMatch, ...] = field(default=())

    def by_category(self, category: str) -> tuple[RuleMatch, ...]:
        return tuple(m for m in self.matches if m.category == category)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(m.category for m in self.matches)

    @property
    def risk(self) -> tuple[RuleMatch, ...]:
        return self.by_category("risk")

    @property
    def distress(self) -> tuple[RuleMatch, ...]:
        return self.by_category("distress")

    @property
    def insensitive(self) -> tuple[RuleMatch, ...]:
        return self.by_category("insensitive")

    @property
    def abuse(self) -> tuple[RuleMatch, ...]:
        return self.by_category("abuse")


# Negation that cancels a negatable rule when it appears in the few words before the match,
# within the same clause. "do not want to" is excluded on purpose (see rule_patterns docstring),
# as are "not sure", "not saying", "not going to lie".
_NEGATION_RE = re.compile(
    r"\b(?:never|not|no|nobody would|no way|nor|without)\b(?! (?:sure|saying|going to lie|gonna lie|just|only|even|"
    r"want to|wanting to|feel|feeling|that|because|knowing|know))"
)
_NEGATION_WINDOW_WORDS = 4


def _negated(prefix: str) -> bool:
    window = " ".join(prefix.split()[-_NEGATION_WINDOW_WORDS:])
    return bool(_NEGATION_RE.search(window))


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[RulePattern, re.Pattern[str]], ...]:
    return tuple((rule, re.compile(rule.pattern)) for rule in RULES)


_IDIOM_RE = re.compile("|".join(f"(?:{pattern})" for pattern, _ in IDIOMS))


def _mask_idioms(text: str) -> str:
    # Same-length blanks keep offsets valid for clause lookup.
    return _IDIOM_RE.sub(lambda m: "_" * len(m.group(0)), text)


def _clause_bounds(text: str, pos: int) -> tuple[int, int]:
    start, end = 0, len(text)
    for m in _CLAUSE_SPLIT_RE.finditer(text):
        if m.end() <= pos:
            start = m.end()
        elif m.start() >= pos:
            end = m.start()
            break
    return start, end


def rule_signals(text: str) -> RuleSignals:
    """Run every rule on ``text``. Pure and deterministic; safe to call from any thread."""
    norm = _mask_idioms(normalise(text))
    matches: list[RuleMatch] = []
    suppressed: list[RuleMatch] = []
    for rule, regex in _compiled():
        for m in regex.finditer(norm):
            c_start, c_end = _clause_bounds(norm, m.start())
            clause = norm[c_start:c_end]
            negated = rule.negatable and _negated(norm[c_start:m.start()])
            who = _addressee_of(clause)
            match = RuleMatch(rule.id, rule.category, rule.subcategory, m.group(0).strip(), rule.comment,
                              negated=negated, addressee=who)
            # An aimed rule in a first-person clause is self-talk ("I'm such a silly cow").
            if negated or (rule.aimed and who == "self"):
                suppressed.append(match)
            else:
                matches.append(match)
                break  # one hit per rule is enough to explain the decision
    return RuleSignals(matches=tuple(matches), addressee=addressee(text), suppressed=tuple(suppressed))
