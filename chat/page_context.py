"""What other apps add to the pages chat renders, without chat importing them
(docs/architecture.md). Registered from the app's AppConfig.ready:

    page_context.register(page_context.ROOM_LIST, "moderation.on_duty", lambda request: {...})

Pages and the keys their templates read:

- ROOM_LIST (`chat/rooms.html`): `moderator_on_duty` (moderation: someone is on the rota) and
  `open_checkin` (check-ins: a private check-in waiting for her). A key nobody provides is
  absent, which the template reads as "no".

Slots are places in chat's pages where another app renders a fragment about one object, with
`{% load chat_slots %}{% slot "room.sessions" room %}`:

    page_context.register_slot(page_context.ROOM_SESSIONS, "facilitation.upcoming", render)

where `render(request, room)` returns escaped HTML. A slot nobody fills renders nothing.

- ROOM_SESSIONS (`chat/room.html` header, each room in `chat/rooms.html`): facilitation's
  sessions under way or coming up in the room.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

ROOM_LIST = "rooms"
ROOM_SESSIONS = "room.sessions"

ContextProvider = Callable[[HttpRequest], dict[str, Any]]
SlotRenderer = Callable[[HttpRequest | None, Any], str]

_providers: dict[str, dict[str, ContextProvider]] = {}
_slots: dict[str, dict[str, SlotRenderer]] = {}


def register(page: str, name: str, provider: ContextProvider) -> None:
    """Registering a name again replaces that provider; providers run in registration order and
    a later one's keys win."""
    _providers.setdefault(page, {})[name] = provider


def for_page(page: str, request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for provider in _providers.get(page, {}).values():
        context.update(provider(request))
    return context


def register_slot(slot: str, name: str, renderer: SlotRenderer) -> None:
    """Registering a name again replaces that renderer; renderers run in registration order."""
    _slots.setdefault(slot, {})[name] = renderer


def render_slot(slot: str, request: HttpRequest | None, obj: Any) -> SafeString:
    """Every registered fragment for `obj`, in order. A renderer's output is escaped unless it is
    already marked safe (a rendered template is), so plain text can never inject markup."""
    return mark_safe(  # noqa: S308 - each part is escaped or was rendered by a template
        "".join(
            str(conditional_escape(renderer(request, obj)))
            for renderer in _slots.get(slot, {}).values()
        )
    )
