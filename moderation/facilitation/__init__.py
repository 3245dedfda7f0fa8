"""Facilitator prompt engine: pure, deterministic suggestions for a facilitated session.

No ORM and no network. The live integration builds one FacilitationEngine per session and feeds it
messages, flags and ticks with ``t`` in seconds since the session's start.
"""

from moderation.facilitation.engine import (
    UNTHROTTLED_SIGNALS,
    EngineSettings,
    FacilitationEngine,
    Prompt,
    SessionInfo,
)
from moderation.facilitation.library import (
    SIGNALS,
    PromptLibrary,
    PromptLibraryError,
    default_library,
)

__all__ = [
    "SIGNALS",
    "UNTHROTTLED_SIGNALS",
    "EngineSettings",
    "FacilitationEngine",
    "Prompt",
    "PromptLibrary",
    "PromptLibraryError",
    "SessionInfo",
    "default_library",
]
