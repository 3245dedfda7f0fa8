"""Moderators' live feed: new and changed queue items, pushed after commit."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.models import User
from chat.events import MODERATORS_GROUP, session_group, user_group
from moderation import selectors

logger = logging.getLogger("kindred.access")


@database_sync_to_async
def _fresh_user(pk: int) -> User:
    return User.objects.get(pk=pk)


@database_sync_to_async
def _open_console(user: User, channel_name: str) -> None:
    from moderation.actions import do_open_console

    do_open_console(moderator=user, channel_name=channel_name)


@database_sync_to_async
def _close_console(channel_name: str) -> None:
    from moderation.actions import do_close_console

    do_close_console(channel_name=channel_name)


@database_sync_to_async
def _release_claims_of_absent_moderators() -> None:
    from moderation.actions import do_release_claims_of_absent_moderators

    do_release_claims_of_absent_moderators()


# Timers for claim releases; kept here so a timer outlives the consumer that started it (a
# closed console is exactly when one is needed).
_claim_timers: set[asyncio.Task] = set()


def _release_claims_after_grace() -> None:
    """When the grace has passed, release the claims of moderators who left (idempotent; the
    moderation worker's sweep is the backstop when this process is gone)."""

    async def later() -> None:
        await asyncio.sleep(settings.MODERATION_CLAIM_GRACE_SECONDS + 0.5)
        try:
            await _release_claims_of_absent_moderators()
        except Exception:  # noqa: BLE001 - the worker's sweep will try again
            logger.exception("releasing the claims of absent moderators failed")

    task = asyncio.get_running_loop().create_task(later())
    _claim_timers.add(task)
    task.add_done_callback(_claim_timers.discard)


@database_sync_to_async
def _flag(flag_id: int) -> dict[str, Any] | None:
    flag = selectors.open_queue().filter(pk=flag_id).first()
    return selectors.serialize_flag(flag) if flag else None


class ModerationConsumer(AsyncWebsocketConsumer):
    joined = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self._refuse(4401, "not_authenticated", "Please log in first.")
            return
        user = await _fresh_user(user.pk)
        if not user.is_moderator or user.is_suspended:
            logger.warning("refused moderation socket to user %s (role %s)", user.pk, user.role)
            await self._refuse(4403, "forbidden", "Moderators only.")
            return
        self.groups_joined = [MODERATORS_GROUP, user_group(user.pk)] + (
            ["supervisors"] if user.is_supervisor else []
        )
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            self.groups_joined.append(session_group(session_key))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = True
        # Her claims are kept while a console of hers is open (and for a grace after the last
        # one closes: moderation.actions.do_release_claims_of_absent_moderators).
        await _open_console(user, self.channel_name)
        await self.send(text_data=json.dumps({"type": "moderation.ready"}))

    async def _refuse(self, code: int, error: str, message: str) -> None:
        await self.send(text_data=json.dumps({"type": "error", "code": error, "message": message}))
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        if self.joined:
            for group in self.groups_joined:
                await self.channel_layer.group_discard(group, self.channel_name)
            await _close_console(self.channel_name)
            _release_claims_after_grace()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # The feed is read-only for now; actions go through the HTTP API.
        await self.send(
            text_data=json.dumps(
                {"type": "error", "code": "unknown_type", "message": "This socket only sends."}
            )
        )

    async def user_notice(self, event: dict[str, Any]) -> None:
        """Private frames for this moderator (e.g. facilitator prompts) reach her here too."""
        await self.send(text_data=json.dumps(event["frame"]))

    async def user_filters_changed(self, event: dict[str, Any]) -> None:
        return None

    async def user_changed(self, event: dict[str, Any]) -> None:
        """Her role changed: a moderator taken off the roster loses the feed at once."""
        user = await _fresh_user(self.scope["user"].pk)
        if not user.is_moderator or user.is_suspended:
            logger.warning(
                "closing moderation socket of user %s: role is now %s", user.pk, user.role
            )
            await self._refuse(4403, "forbidden", "Moderators only.")

    async def user_disconnect(self, event: dict[str, Any]) -> None:
        await self.send(
            text_data=json.dumps(
                {
                    "type": "error",
                    "code": event.get("code", "forbidden"),
                    "message": event["message"],
                }
            )
        )
        await self.close(code=event.get("close_code", 4410))

    async def moderation_claims_check(self, event: dict[str, Any]) -> None:
        """A moderator went off duty: time the release of her claims."""
        _release_claims_after_grace()

    async def moderation_flag(self, event: dict[str, Any]) -> None:
        flag = await _flag(event["flag_id"])
        if flag is None:
            await self.send(
                text_data=json.dumps({"type": "flag.resolved", "flag_id": event["flag_id"]})
            )
            return
        kind = (
            "flag.changed"
            if event.get("changed")
            else ("flag.urgent" if event.get("urgent") else "flag.new")
        )
        await self.send(text_data=json.dumps({"type": kind, "flag": flag}))
