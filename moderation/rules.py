"""Inline safety rules: fast, explainable signals computed before a message is delivered.

``rule_signals(text)`` runs every pattern in ``moderation/rule_patterns.py`` over a normalised copy
of the text and returns what matched, with the rule's comment so moderators see *why*. It costs
tens of microseconds per chat message (measured in ``docs/moderation-quality.md``), so it runs
inline in the consumer path; the model runs afterwards in the worker.

Pure: no Django, no ORM, no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Literal

import ahocorasick

from moderation.rule_patterns import IDIOMS, RULES, RulePattern

Addressee = Literal["self", "other", "none"]

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
    }
)
_APOSTROPHE_CHARS = tuple(chr(k) for k in _APOSTROPHES)

# Contractions and text-speak, expanded so patterns only spell each phrase one way. "ill", "its",
# "id", "were", "wed" are deliberately absent: without an apostrophe they are ordinary words.
_EXPANSIONS: dict[str, str] = {
    "i'm": "i am",
    "im": "i am",
    "i'am": "i am",
    "i've": "i have",
    "ive": "i have",
    "i'd": "i would",
    "i'll": "i will",
    "you're": "you are",
    "youre": "you are",
    "you've": "you have",
    "youve": "you have",
    "you'd": "you would",
    "you'll": "you will",
    "youll": "you will",
    "u": "you",
    "ur": "your",
    "r": "are",
    "he's": "he is",
    "she's": "she is",
    "he'll": "he will",
    "she'll": "she will",
    "he'd": "he would",
    "she'd": "she would",
    "they're": "they are",
    "they'll": "they will",
    "they'd": "they would",
    "we're": "we are",
    "we've": "we have",
    "we'll": "we will",
    "it's": "it is",
    "that's": "that is",
    "thats": "that is",
    "there's": "there is",
    "what's": "what is",
    "whats": "what is",
    "who's": "who is",
    "let's": "let us",
    "everyone's": "everyone is",
    "everybody's": "everybody is",
    "don't": "do not",
    "dont": "do not",
    "doesn't": "does not",
    "doesnt": "does not",
    "didn't": "did not",
    "didnt": "did not",
    "can't": "cannot",
    "cant": "cannot",
    "won't": "will not",
    "wont": "will not",
    "wouldn't": "would not",
    "wouldnt": "would not",
    "couldn't": "could not",
    "couldnt": "could not",
    "shouldn't": "should not",
    "shouldnt": "should not",
    "isn't": "is not",
    "isnt": "is not",
    "aren't": "are not",
    "arent": "are not",
    "wasn't": "was not",
    "wasnt": "was not",
    "weren't": "were not",
    "haven't": "have not",
    "havent": "have not",
    "hasn't": "has not",
    "hadn't": "had not",
    "ain't": "is not",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
    "cannot": "cannot",
    "coz": "because",
    "cos": "because",
    "bc": "because",
    "ppl": "people",
    "mums": "mums",
    "mom's": "mums",
    "anymore": "any more",
    "nobodys": "nobody is",
    "myslef": "myself",
    "mysef": "myself",
    "mself": "myself",
    "urself": "yourself",
    # Text-speak and dropped letters, common in messages typed in a hurry ("i dnt wanna b alive",
    # "no1 wud care"). "b" is safe to expand: no pattern uses a bare "b".
    "dnt": "do not",
    "wud": "would",
    "wudnt": "would not",
    "cud": "could",
    "cudnt": "could not",
    "shud": "should",
    "b": "be",
    "evry": "every",
    "evryone": "everyone",
    "evrything": "everything",
    "evrybody": "everybody",
    "bein": "being",
    "livin": "living",
    "nothin": "nothing",
    "hurtin": "hurting",
    "cuttin": "cutting",
    "killin": "killing",
    "dyin": "dying",
    "tryin": "trying",
    "goin": "going",
    "doin": "doing",
    "wen": "when",
    "tonite": "tonight",
    "thru": "through",
    "luv": "love",
    "abt": "about",
    "kno": "know",
    "nd": "and",
    "wiv": "with",
}
# Digits inside words/phrases of text-speak. "2" becomes "to" only before a verb or pronoun, so
# "he's 2" and "2 weeks" are untouched.
_TO_VERBS = (
    r"be|b|live|die|go|do|wake|kill|hurt|end|carry|keep|exist|stop|"
    r"take|have|see|me|him|her|them|myself|bed|sleep"
)
# "2" first in the pattern so the regex engine scans for it rather than trying every position;
# (?<!\w2) is the word boundary before it.
_TWO_SPEAK_RE = re.compile(rf"2(?<!\w2)(?= (?:{_TO_VERBS})\b)")
_DIGIT_SPEAK = {
    "any": "anyone",
    "every": "everyone",
    "evry": "everyone",
    "no": "no one",
    "some": "someone",
    "sum": "someone",
}


# "any1" etc. as whole words: found by an automaton (the words end in "1"; none is a suffix of
# another), each kept only with a word boundary on both sides, as \b would.
_ONE_FINDER = ahocorasick.Automaton()
for _word in _DIGIT_SPEAK:
    _ONE_FINDER.add_word(_word + "1", _word + "1")
_ONE_FINDER.make_automaton()


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"  # what re's \w is for str patterns


def _one_speak(t: str) -> str:
    parts, last = [], 0
    for end, word in _ONE_FINDER.iter(t):
        start = end - len(word) + 1
        if (start > 0 and _is_word_char(t[start - 1])) or (
            end + 1 < len(t) and _is_word_char(t[end + 1])
        ):
            continue
        parts += [t[last:start], _DIGIT_SPEAK[word[:-1]]]
        last = end + 1
    return "".join(parts) + t[last:] if parts else t


_TOKEN_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
# A letter three or more times in a row is squashed to one ("sooo" -> "so"), one letter at a
# time and only for the letters whose triple occurs (found in one pass by an Aho–Corasick
# automaton; a regex such as ([a-z])\1{2,} is tried at every position of the text). Runs of
# different letters never touch, so squashing one letter cannot make or break another's run.
_TRIPLES = {c * 3: re.compile(c + "{3,}") for c in "abcdefghijklmnopqrstuvwxyz"}
_TRIPLE_FINDER = ahocorasick.Automaton()
for _triple in _TRIPLES:
    _TRIPLE_FINDER.add_word(_triple, _triple)
_TRIPLE_FINDER.make_automaton()


def _squash_repeats(t: str) -> str:
    for triple in {found for _, found in _TRIPLE_FINDER.iter(t)}:
        t = _TRIPLES[triple].sub(triple[0], t)
    return t


# A separator between two letters. Written separator-first (not lookbehind-first) so the regex
# engine scans for the three characters instead of trying the pattern at every position.
_HYPHEN_RE = re.compile(r"[-_/](?<=[a-z][-_/])(?=[a-z])")
_SPACE_RE = re.compile(r"\s+")
# "hurt my self", "my slef": rejoin the common split of "myself".
_MYSELF_RE = re.compile(r"\bmy ?s[le]{2}f\b")


def _expand_tokens(text: str) -> str:
    # ``split`` with a capturing group alternates [gap, token, gap, token, …, gap]; gaps never
    # contain a-z letters, so only the tokens (odd positions) can be expansion keys.
    parts = _TOKEN_SPLIT_RE.split(text)
    get = _EXPANSIONS.get
    parts[1::2] = [get(p, p) for p in parts[1::2]]
    return "".join(parts)


_TOKEN_SPLIT_RE = re.compile(f"({_TOKEN_RE.pattern})")
_MYSELF_LITERALS = (
    "sllf",
    "slef",
    "self",
    "seef",
)  # every string _MYSELF_RE can match contains one


def normalise(text: str) -> str:
    """Lower-case, straighten apostrophes, expand contractions, squash letter repeats."""
    # translate() walks a non-ASCII text character by character through a dict: skip it when
    # there is no apostrophe to straighten (most messages).
    t = text.translate(_APOSTROPHES) if any(c in text for c in _APOSTROPHE_CHARS) else text
    t = t.lower()
    t = _squash_repeats(t)
    if "1" in t:
        t = _one_speak(t)
    if "2" in t:
        t = _TWO_SPEAK_RE.sub("to", t)
    if "-" in t or "_" in t or "/" in t:
        t = _HYPHEN_RE.sub(" ", t)
    t = _expand_tokens(t)
    t = t.replace("'s ", "s ").replace("'", " ")
    if any(lit in t for lit in _MYSELF_LITERALS):
        t = _MYSELF_RE.sub("myself", t)
    # str.split() and re's \s agree on what whitespace is, so this equals \s+ -> " " and strip().
    return " ".join(t.split())


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
    words = clause.split()
    # Removing fillers only ever removes second-person words, so it is skipped when there are none.
    if not _SECOND.isdisjoint(words):
        words = _SECOND_FILLERS.sub(" ", clause).split()
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
    return _addressee_normalised(normalise(text))


_HAS_SECOND_RE = re.compile(r"\b(?:you|your|yourself|yours|yourselves)\b")
_HAS_FIRST_RE = re.compile(r"\b(?:i|me|my|myself|mine|we|us|our|ourselves)\b")


def _addressee_normalised(norm: str) -> Addressee:
    # Fast path (same answer as the per-clause scan): with no first- or second-person word
    # anywhere, no clause can be "self" or "other".
    if not _HAS_SECOND_RE.search(norm) and not _HAS_FIRST_RE.search(norm):
        return "none"
    # The per-clause scan, done once on the whole text (the same answer, tested against it):
    # "other" if any clause keeps a second-person word once its fillers are gone, else "self" if
    # any clause has a first-person word. Fillers hold no separator and no first-person word, so
    # removing them from the whole text removes exactly what removing them per clause does, and
    # the separators only need to stop sticking to words ("me," is "me").
    words = norm.translate(_SEPARATORS_TO_SPACE).split()
    if not _SECOND.isdisjoint(words):
        unfilled = _SECOND_FILLERS.sub(" ", norm).translate(_SEPARATORS_TO_SPACE).split()
        if not _SECOND.isdisjoint(unfilled):
            return "other"
    return "self" if not _FIRST.isdisjoint(words) else "none"


# The characters _CLAUSE_SPLIT_RE splits on; its word separators ("but", "though", "x") are
# neither first- nor second-person words, so they need no handling.
_SEPARATORS_TO_SPACE = str.maketrans(dict.fromkeys(".!?;:\n,", " "))


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
        return {
            "rule": self.id,
            "category": self.category,
            "subcategory": self.subcategory,
            "span": self.span,
            "comment": self.comment,
            "negated": self.negated,
            "addressee": self.addressee,
        }


@dataclass(frozen=True)
class RuleSignals:
    """Everything the rules saw in one message. ``matches`` excludes negated and self-aimed hits,
    which are kept in ``suppressed`` so a reviewer can see what was considered and dropped."""

    matches: tuple[RuleMatch, ...]
    #: the normalised text (idioms not masked) that ``addressee`` is read from
    normalised: str = field(default="", repr=False)
    suppressed: tuple[RuleMatch, ...] = field(default=())

    @cached_property
    def addressee(self) -> Addressee:
        """Whom the whole message is aimed at (:func:`addressee`). Worked out only when asked:
        the send path's inline decision never needs it, and it is a third of the rules' cost on a
        long message."""
        return _addressee_normalised(self.normalised)

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


# --------------------------------------------------------------------------------------------
# Speed: a literal pre-check per rule
# --------------------------------------------------------------------------------------------
#
# Python's ``re`` tries every alternative of a pattern at every word start, so running ~50 large
# patterns over a 2,000-character message cost ~10–25 ms. Each pattern is therefore analysed once
# (at import) for *required literals*: a small set of strings such that any match must contain at
# least one of them ("suicid", "better off", "myself", ...). The regex only runs when one of them
# occurs in the text, which is a plain substring test. The literals are derived mechanically from
# the parsed pattern, never written by hand, so the pre-check cannot change what a rule matches;
# a rule whose pattern cannot be bounded this way simply always runs.

from re import _constants as _sre_c  # noqa: E402
from re import _parser as _sre_p  # noqa: E402

_ENUM_CAP = 64  # largest exact string set tracked for one run of a pattern
_ZERO_WIDTH = (_sre_c.AT, _sre_c.ASSERT, _sre_c.ASSERT_NOT)
_REPEATS = (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT)


def _cross(a: set[str], b: set[str]) -> set[str] | None:
    out = {x + y for x in a for y in b}
    return out if len(out) <= _ENUM_CAP else None


def _enum_seq(items: list[tuple[object, object]]) -> set[str] | None:
    """Every string a (finite, small) sub-pattern can match; ``None`` if unbounded or too many."""
    out: set[str] | None = {""}
    for op, av in items:
        part = _enum_op(op, av)
        if part is None or out is None:
            return None
        out = _cross(out, part)
    return out


def _enum_op(op: object, av: object) -> set[str] | None:
    if op is _sre_c.LITERAL:
        return {chr(av)}  # type: ignore[arg-type]
    if op in _ZERO_WIDTH:
        return {""}  # assertions consume nothing
    if op is _sre_c.SUBPATTERN:
        return _enum_seq(av[3].data)  # type: ignore[index]
    if op is _sre_c.BRANCH:
        out: set[str] = set()
        for branch in av[1]:  # type: ignore[index]
            part = _enum_seq(branch.data)
            if part is None:
                return None
            out |= part
        return out if len(out) <= _ENUM_CAP else None
    if op is _sre_c.IN:
        if all(o is _sre_c.LITERAL for o, _ in av):  # type: ignore[attr-defined]
            return {chr(a) for _, a in av}  # type: ignore[attr-defined]
        return None
    if op in _REPEATS:
        lo, hi, sub = av  # type: ignore[misc]
        if hi <= 1:
            part = _enum_seq(sub.data)
            if part is None:
                return None
            return part | {""} if lo == 0 else part
    return None


def _better(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    """The more selective of two necessary-literal sets (longer shortest string, then fewer)."""

    def key(c: set[str]) -> tuple[int, int]:
        return (min(min(len(x) for x in c), 8), -len(c))

    usable = [c for c in (a, b) if c and "" not in c]
    return max(usable, key=key) if usable else None


def _required_seq(items: list[tuple[object, object]]) -> set[str] | None:
    """A set of strings at least one of which every match of the sequence contains, or None."""
    best: set[str] | None = None
    run: set[str] = {""}
    for op, av in items:
        part = _enum_op(op, av)
        if part is not None:
            joined = _cross(run, part)
            if joined is not None:
                run = joined
                continue
            best, run = _better(best, run), part
            continue
        best, run = _better(best, run), {""}
        best = _better(best, _required_op(op, av))
    return _better(best, run)


def _required_op(op: object, av: object) -> set[str] | None:
    if op is _sre_c.SUBPATTERN:
        return _required_seq(av[3].data)  # type: ignore[index]
    if op is _sre_c.BRANCH:
        out: set[str] = set()
        for branch in av[1]:  # type: ignore[index]
            part = _required_seq(branch.data)
            if part is None:
                return None
            out |= part
        return out
    if op in _REPEATS and av[0] >= 1:  # type: ignore[index]
        return _required_seq(av[2].data)  # type: ignore[index]
    return None


def required_literals(pattern: str) -> frozenset[str] | None:
    """Strings one of which must occur in any text ``pattern`` matches (``None``: no bound found).

    A literal that contains another one in the set is dropped: the shorter is present whenever the
    longer is, so the condition is unchanged.
    """
    found = _required_seq(_sre_p.parse(pattern).data)
    if not found:
        return None
    return frozenset(a for a in found if not any(b != a and b in a for b in found))


# Sentence ends. A rule that can neither consume one of these nor look ahead across one (nor use
# ``$``) can only match inside one sentence, so it is run only on the sentences that contain one
# of its literals, using ``pattern.finditer(text, start, end)`` (which still lets ``\b`` and
# look-behinds see the real text before ``start``).
_SENTENCE_ENDS = frozenset(".!?\n")
_SENTENCE_END_RE = re.compile(r"[.!?\n]")
_WORD_CATEGORIES = (
    _sre_c.CATEGORY_WORD,
    _sre_c.CATEGORY_DIGIT,
    _sre_c.CATEGORY_UNI_WORD,
    _sre_c.CATEGORY_UNI_DIGIT,
    _sre_c.CATEGORY_LOC_WORD,
)


def _set_can_match_end(items: list[tuple[object, object]]) -> bool:
    for op, av in items:
        if op is _sre_c.NEGATE:
            return True
        if op is _sre_c.LITERAL and chr(av) in _SENTENCE_ENDS:  # type: ignore[arg-type]
            return True
        if op is _sre_c.RANGE and any(av[0] <= ord(c) <= av[1] for c in _SENTENCE_ENDS):  # type: ignore[index]
            return True
        if op is _sre_c.CATEGORY and av not in _WORD_CATEGORIES:
            return True  # \s includes "\n"; anything unusual is treated as crossing
        if op not in (_sre_c.LITERAL, _sre_c.RANGE, _sre_c.CATEGORY):
            return True
    return False


def _may_cross_sentence(items: list[tuple[object, object]]) -> bool:
    """Conservative: True unless the sub-pattern provably stays inside one sentence."""
    for op, av in items:
        if op is _sre_c.LITERAL:
            if chr(av) in _SENTENCE_ENDS:  # type: ignore[arg-type]
                return True
        elif op is _sre_c.IN:
            if _set_can_match_end(av):  # type: ignore[arg-type]
                return True
        elif op is _sre_c.AT:
            if av not in (_sre_c.AT_BOUNDARY, _sre_c.AT_NON_BOUNDARY):
                return True
        elif op is _sre_c.SUBPATTERN:
            if _may_cross_sentence(av[3].data):  # type: ignore[index]
                return True
        elif op is _sre_c.BRANCH:
            if any(_may_cross_sentence(b.data) for b in av[1]):  # type: ignore[index]
                return True
        elif op in _REPEATS:
            if _may_cross_sentence(av[2].data):  # type: ignore[index]
                return True
        elif op in (_sre_c.ASSERT, _sre_c.ASSERT_NOT):
            direction, sub = av  # type: ignore[misc]
            if direction == 1 and _may_cross_sentence(sub.data):  # look-behinds see the real text
                return True
        else:
            return True
    return False


@dataclass(frozen=True)
class _CompiledRule:
    rule: RulePattern
    regex: re.Pattern[str]
    triggers: tuple[str, ...] | None  # None: always run
    per_sentence: bool  # matches can never span a sentence end


# Abuse the rules hold on their own, even while Kindred's safety model follows (policy).
HOLD_ABUSE = frozenset({"threat", "severe"})


def decides_alone(rule: RuleMatch | RulePattern) -> bool:
    """The rules that still decide on their own while the safety model follows: threats and
    severe abuse (held) and distress labels; every other rule is only a hint for the model."""
    return (
        rule.category == "abuse" and rule.subcategory in HOLD_ABUSE
    ) or rule.category == "distress"


Subset = Literal["all", "decisive"]


@lru_cache(maxsize=2)
def _compiled_rules(subset: Subset = "all") -> tuple[_CompiledRule, ...]:
    out = []
    for rule in RULES:
        if subset == "decisive" and not decides_alone(rule):
            continue
        lits = required_literals(rule.pattern)
        triggers = tuple(sorted(lits)) if lits else None
        per_sentence = triggers is not None and not _may_cross_sentence(
            _sre_p.parse(rule.pattern).data
        )
        out.append(_CompiledRule(rule, re.compile(rule.pattern), triggers, per_sentence))
    return tuple(out)


class _Literals:
    """A fixed set of literals, all found in one pass over a text: an Aho–Corasick automaton
    (pyahocorasick), so the cost is the text's length plus the occurrences, not the number of
    literals (thousands). ``present(text)`` is exactly ``{lit for lit in literals if lit in
    text}``; the empty literal (a pattern with no required text) is always present."""

    __slots__ = ("_always", "_automaton")

    def __init__(self, literals: frozenset[str] | set[str]) -> None:
        self._always = frozenset(lit for lit in literals if not lit)
        automaton = ahocorasick.Automaton()
        for lit in sorted(literals):
            if lit:
                automaton.add_word(lit, lit)
        if len(automaton):
            automaton.make_automaton()
            self._automaton = automaton
        else:
            self._automaton = None

    def present(self, text: str) -> set[str]:
        found = set(self._always)
        if self._automaton is not None:
            found.update(lit for _, lit in self._automaton.iter(text))
        return found


@lru_cache(maxsize=2)
def _trigger_table(subset: Subset = "all") -> _Literals:
    """Every distinct literal of the subset's rules once."""
    return _Literals({t for c in _compiled_rules(subset) if c.triggers for t in c.triggers})


def _compiled() -> tuple[tuple[RulePattern, re.Pattern[str]], ...]:
    return tuple((c.rule, c.regex) for c in _compiled_rules())


_IDIOM_RE = re.compile("|".join(f"(?:{pattern})" for pattern, _ in IDIOMS))
# Each idiom's own required literals (None: it has none and is always tried).
_IDIOM_LITERALS = tuple(required_literals(pattern) for pattern, _ in IDIOMS)
_IDIOM_TABLE = _Literals(
    {lit for lits in _IDIOM_LITERALS if lits for lit in lits}
    | ({""} if any(not lits for lits in _IDIOM_LITERALS) else set())
)


@lru_cache(maxsize=512)
def _idiom_regex(indices: tuple[int, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{IDIOMS[i][0]})" for i in indices))


def _mask_idioms(text: str) -> str:
    # Same-length blanks keep offsets valid for clause lookup. Only the idioms whose required
    # text occurs are tried, in their order: an alternative that cannot match anywhere never
    # changes which one matches first, so this masks exactly what _IDIOM_RE would.
    present = _IDIOM_TABLE.present(text)
    indices = tuple(
        i for i, lits in enumerate(_IDIOM_LITERALS) if not lits or not present.isdisjoint(lits)
    )
    if not indices:
        return text
    return _idiom_regex(indices).sub(lambda m: "_" * len(m.group(0)), text)


_CLAUSE_SEPARATOR_CHARS = frozenset(".!?;:\n,")


class _Clauses:
    """Clause boundaries of one normalised text, looked up by bisection. Every sentence end is a
    clause separator, so the clause around a position lies inside its sentence, and only that
    sentence's separators are found (once per sentence) rather than the whole text's."""

    __slots__ = ("_by_sentence", "_ends", "_sentences", "_starts", "_text")

    def __init__(self, text: str, sentences: _Sentences | None = None) -> None:
        self._text = text
        self._sentences = sentences or _Sentences(text)
        self._by_sentence: dict[int, tuple[list[int], list[int]]] = {}
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def bounds(self, pos: int) -> tuple[int, int]:
        """Same result as scanning the whole text's separators: the clause that contains
        ``pos``. (A position on a separator character may belong to a run that crosses the
        sentence end; those few take the whole-text scan.)"""
        if pos < len(self._text) and self._text[pos] not in _CLAUSE_SEPARATOR_CHARS:
            s_start, s_end = self._sentences.around(pos)
            found = self._by_sentence.get(s_start)
            if found is None:
                spans = [m.span() for m in _CLAUSE_SPLIT_RE.finditer(self._text, s_start, s_end)]
                found = ([a for a, _ in spans], [b for _, b in spans])
                self._by_sentence[s_start] = found
            starts, ends = found
            i = bisect_right(ends, pos) - 1
            j = bisect_left(starts, pos)
            return (ends[i] if i >= 0 else s_start), (starts[j] if j < len(starts) else s_end)
        if self._starts is None:
            spans = [m.span() for m in _CLAUSE_SPLIT_RE.finditer(self._text)]
            self._starts = [a for a, _ in spans]
            self._ends = [b for _, b in spans]
        starts, ends = self._starts, self._ends
        # last separator ending at or before pos
        i = bisect_right(ends, pos) - 1
        start = ends[i] if i >= 0 else 0
        # first separator starting at or after pos (separators never overlap, so starts are sorted)
        j = bisect_left(starts, pos)
        end = starts[j] if j < len(starts) else len(self._text)
        return start, end


def _clause_bounds(text: str, pos: int) -> tuple[int, int]:
    return _Clauses(text).bounds(pos)


class _Sentences:
    """Sentence spans of one text, found lazily: the span around any position, by bisection."""

    __slots__ = ("_ends", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._ends: list[int] | None = None

    def around(self, pos: int) -> tuple[int, int]:
        if self._ends is None:
            self._ends = [m.start() for m in _SENTENCE_END_RE.finditer(self._text)]
        i = bisect_left(self._ends, pos)
        start = self._ends[i - 1] + 1 if i > 0 else 0
        end = self._ends[i] if i < len(self._ends) else len(self._text)
        return start, end


def _windows(
    text: str, triggers: tuple[str, ...], present: set[str], sentences: _Sentences
) -> list[tuple[int, int]]:
    spans: set[tuple[int, int]] = set()
    for lit in triggers:
        if lit not in present:
            continue
        pos = text.find(lit)
        while pos != -1:
            span = sentences.around(pos)
            spans.add(span)
            pos = text.find(lit, span[1] + 1) if span[1] < len(text) else -1
    return sorted(spans)


def rule_signals(text: str, subset: Subset = "all") -> RuleSignals:
    """Run the rules on ``text``. Pure and deterministic; safe to call from any thread.

    ``subset="decisive"`` runs only the rules that decide on their own while the safety model
    follows (:func:`decides_alone`); the send path uses it then, since every other rule is only
    a hint that the model stage computes again off the send path. The matches it returns are
    exactly the decisive ones of ``subset="all"``."""
    plain = normalise(text)
    norm = _mask_idioms(plain)
    sentences = _Sentences(norm)
    clauses = _Clauses(norm, sentences)
    present = _trigger_table(subset).present(norm)
    whole = ((0, len(norm)),)
    matches: list[RuleMatch] = []
    suppressed: list[RuleMatch] = []
    for compiled in _compiled_rules(subset):
        triggers = compiled.triggers
        if triggers is None:
            windows: Sequence[tuple[int, int]] = whole
        elif present.isdisjoint(triggers):
            continue
        elif compiled.per_sentence:
            windows = _windows(norm, triggers, present, sentences)
        else:
            windows = whole
        rule = compiled.rule
        hit = False
        for w_start, w_end in windows:
            for m in compiled.regex.finditer(norm, w_start, w_end):
                c_start, c_end = clauses.bounds(m.start())
                clause = norm[c_start:c_end]
                negated = rule.negatable and _negated(norm[c_start : m.start()])
                who = _addressee_of(clause)
                match = RuleMatch(
                    rule.id,
                    rule.category,
                    rule.subcategory,
                    m.group(0).strip(),
                    rule.comment,
                    negated=negated,
                    addressee=who,
                )
                # An aimed rule in a first-person clause is self-talk ("I'm such a silly cow").
                if negated or (rule.aimed and who == "self"):
                    suppressed.append(match)
                else:
                    matches.append(match)
                    hit = True
                    break  # one hit per rule is enough to explain the decision
            if hit:
                break
    return RuleSignals(matches=tuple(matches), normalised=plain, suppressed=tuple(suppressed))
