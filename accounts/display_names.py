"""What makes two display names look the same to a reader. Pure functions, no ORM: the checks
that use them against stored names are `accounts.actions.check_display_name`.

A member who can call herself `Мorgan` (Cyrillic М), `ｍｏｒｇａｎ` (full-width) or `Morgan.`
beside moderator Morgan can speak with a moderator's authority in a room of vulnerable people.
Two steps stop that:

- `normalise_display_name` stores every name in NFKC with single spaces, so compatibility forms
  (full-width letters, ligatures, superscripts) become the ordinary letters they stand for and
  the case-insensitive uniqueness constraint sees them;
- `names_look_alike` compares skeletons: NFKC, casefolded, accents, punctuation and spaces
  dropped, then Unicode's confusables (TR39 data plus common ASCII tricks such as `rn` for `m`
  and `0` for `o`) through the `confusables` library, which handles many-to-one sequences that a
  character-by-character table misses.
"""

from __future__ import annotations

import unicodedata

import confusables

# Letters (category Lo, so `\w` accepts them) that render as nothing: `Morgan` followed by one of
# these looks exactly like `Morgan`.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")

# The pseudonym an erased account is given (accounts.actions.erased_display_name). Nobody may
# choose it: it would pass for an erased member, and would make that member's erasure collide
# with the unique display-name constraint.
RESERVED_PREFIXES = ("formermember",)


def normalise_display_name(name: str) -> str:
    """NFKC with runs of whitespace made one space and the ends trimmed: the form we store."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def display_name_skeleton(name: str) -> str:
    """Casefolded letters and digits only, without accents: `Mörgan .` and `MORGAN` → `morgan`.
    Confusables are not folded here (see `names_look_alike`)."""
    folded = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", name).casefold())
    return "".join(ch for ch in folded if ch.isalnum() and ch not in INVISIBLE_LETTERS)


def names_look_alike(a: str, b: str) -> bool:
    """True when a reader could take one name for the other."""
    skeleton_a, skeleton_b = display_name_skeleton(a), display_name_skeleton(b)
    if not skeleton_a or not skeleton_b:
        return False
    return skeleton_a == skeleton_b or confusables.is_confusable(skeleton_a, skeleton_b)


def is_reserved_display_name(name: str) -> bool:
    """Names that begin like a reserved one (`Former member 12`, `Formerrnember 12`)."""
    skeleton = display_name_skeleton(name)
    # A look-alike prefix may be a character or two longer or shorter (`rn` for `m`).
    return any(
        confusables.is_confusable(skeleton[:length], prefix)
        for prefix in RESERVED_PREFIXES
        for length in range(len(prefix) - 2, len(prefix) + 3)
    )


def has_invisible_letters(name: str) -> bool:
    return any(ch in INVISIBLE_LETTERS for ch in unicodedata.normalize("NFKC", name))
