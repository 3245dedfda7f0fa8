from __future__ import annotations

import pytest

from moderation.facilitation.library import (
    PLACEHOLDERS,
    SIGNALS,
    PromptLibrary,
    PromptLibraryError,
    default_library,
)


def test_every_shipped_template_renders() -> None:
    library = default_library()
    values = {name: f"<{name}>" for names in PLACEHOLDERS.values() for name in names}
    topics = [None, *library.topics]
    for signal in SIGNALS:
        for topic in topics:
            for i, _ in enumerate(library.variants(signal, topic)):
                text = library.render(signal, variant=i, values=values, topic=topic)
                assert "{" not in text and len(text) < 400
        assert len(library.variants(signal)) >= 2  # rotation needs variants


def test_typo_in_a_placeholder_is_rejected_with_the_signal_named() -> None:
    data = {"signals": {s: ["Hello"] for s in SIGNALS}}
    data["signals"]["newcomer"] = ["Welcome {nmae}!"]
    with pytest.raises(PromptLibraryError, match=r"newcomer.*nmae"):
        PromptLibrary.from_mapping(data)


def test_placeholder_from_another_signal_is_rejected() -> None:
    data = {"signals": {s: ["Hello"] for s in SIGNALS}}
    data["signals"]["closing"] = ["Bye {name}"]  # closing is to the room, not a person
    with pytest.raises(PromptLibraryError, match="closing"):
        PromptLibrary.from_mapping(data)


def test_attribute_access_is_rejected() -> None:
    data = {"signals": {s: ["Hello"] for s in SIGNALS}}
    data["signals"]["drift"] = ["{focus.__class__}"]
    with pytest.raises(PromptLibraryError, match="unsupported"):
        PromptLibrary.from_mapping(data)


def test_every_signal_needs_defaults() -> None:
    with pytest.raises(PromptLibraryError, match="check_in"):
        PromptLibrary.from_mapping({"signals": {s: ["Hi"] for s in SIGNALS if s != "check_in"}})


def test_topic_override_replaces_only_its_signal() -> None:
    library = PromptLibrary.from_mapping(
        {
            "signals": {s: [f"default {s}"] for s in SIGNALS},
            "topics": {"sleep": {"silence": ["zzz"]}},
        }
    )
    assert library.render("silence", variant=0, values={}, topic="sleep") == "zzz"
    assert library.render("drift", variant=0, values={}, topic="sleep") == "default drift"
    assert library.render("silence", variant=0, values={}, topic="work") == "default silence"


@pytest.mark.parametrize(
    ("focus", "phrase"),
    [
        ("How nights are going.", "how nights are going"),
        ("Sleep, naps and night feeds! Bring your questions.", "sleep, naps and night feeds"),
        ("NICU stays", "NICU stays"),
        ("Christmas with a newborn", "Christmas with a newborn"),
        ("I feel lost", "I feel lost"),
        ("\u201cReturning to work\u201d", "returning to work"),
        ("what helps on hard days?", "what helps on hard days"),
    ],
)
def test_the_focus_reads_naturally_mid_sentence(focus: str, phrase: str) -> None:
    from moderation.facilitation.library import focus_phrase

    assert focus_phrase(focus) == phrase
    # As a facilitator's prompt would say it.
    assert f"we're talking about {focus_phrase(focus)}." in (
        f"Today we're talking about {focus_phrase(focus)}."
    )
