"""Fixtures for supervisor oversight tests: messages at chosen times, flags in chosen states."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from chat.models import Message, MessageState, Room
from chat.rendering import render_body
from moderation.models import Flag, FlagState, Priority


@pytest.fixture
def make_message() -> Callable[..., Message]:
    """A stored message with the room's next sequence number, at `created_at` (default now)."""

    def make(
        room: Room,
        author,
        body: str,
        *,
        created_at: datetime | None = None,  # noqa: ANN001
        state: str = MessageState.VISIBLE,
    ) -> Message:
        Room.objects.filter(pk=room.pk).update(last_seq=F("last_seq") + 1)
        seq = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
        return Message.objects.create(
            room=room,
            seq=seq,
            author=author,
            client_id=uuid.uuid4().hex,
            body=body,
            html=render_body(body),
            created_at=created_at or timezone.now(),
            state=state,
            assessment_state="done",
        )

    return make


@pytest.fixture
def make_flag() -> Callable[..., Flag]:
    def make(
        message: Message,
        *,
        category: str = "toxic",
        priority: int = Priority.NORMAL,
        state: str = FlagState.OPEN,
        created_at: datetime | None = None,
        first_action_at: datetime | None = None,
        resolved_at: datetime | None = None,
        resolution: str = "",
        resolved_by=None,  # noqa: ANN001
        sources: list[str] | None = None,
        span: str | None = None,
    ) -> Flag:
        reasons = [
            {
                "rule": "abuse.insult",
                "category": category,
                "span": span or message.body[:40],
                "comment": "test",
            }
        ]
        return Flag.objects.create(
            message=message,
            category=category,
            priority=priority,
            source=(sources or ["rule"])[0],
            sources=sources or ["rule"],
            reasons=reasons,
            state=state,
            created_at=created_at or message.created_at,
            first_action_at=first_action_at,
            resolved_at=resolved_at,
            resolution=resolution,
            resolved_by=resolved_by,
        )

    return make


@pytest.fixture
def client_for() -> Callable[..., Client]:
    def make(user) -> Client:  # noqa: ANN001
        client = Client()
        client.force_login(user, backend="accounts.backends.KindredBackend")
        return client

    return make
