"""The socket of one private check-in (/ws/checkins/<id>/), for the member and the moderators.

Thin: parse, authorise, call an action, relay events. Every frame is validated and every refusal
is a typed `error` frame (docs/checkins.md). A client that reconnects passes the last sequence
number it has (`?after_seq=`, or a `resume` frame) and gets only what came after.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.models import User
from chat.errors import ChatError
from chat.events import deferring_pushes, session_group
from config.text import INVALID_TEXT, lone_surrogate_path
from moderation.checkins import actions, selectors

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16_000


def _db(fn):  # noqa: ANN001, ANN202
    """In a worker thread, with the pushes it commits sent from the event loop afterwards."""
    return deferring_pushes(lambda f: database_sync_to_async(f, thread_sensitive=False), fn)


@_db
def _join(user: User, checkin_id: int, after_seq: int) -> dict[str, Any]:
    user = User.objects.get(pk=user.pk)
    checkin = selectors.access_checkin(user, checkin_id)
    return {
        "user": user,
        "checkin": selectors.serialize_checkin(checkin),
        "messages": selectors.messages_after(checkin, after_seq),
    }


@_db
def _send(user_id: int, checkin_id: int, frame: dict[str, Any]) -> tuple[dict, bool]:
    user = User.objects.get(pk=user_id)
    checkin = selectors.access_checkin(user, checkin_id)
    return actions.check_send_checkin_message(
        checkin=checkin, author=user, client_id=frame.get("client_id"), body=frame.get("body")
    )


@_db
def _close(user_id: int, checkin_id: int) -> None:
    user = User.objects.get(pk=user_id)
    actions.do_close_checkin(checkin=selectors.access_checkin(user, checkin_id), acting_user=user)


@_db
def _resume(user_id: int, checkin_id: int, after_seq: int) -> list[dict[str, Any]]:
    user = User.objects.get(pk=user_id)
    return selectors.messages_after(selectors.access_checkin(user, checkin_id), after_seq)


def _seq(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**53:
        raise ChatError("validation", f"{field} must be a whole number ≥ 0.", field=field)
    return value


class CheckInConsumer(AsyncWebsocketConsumer):
    checkin_id: int | None = None
    groups_joined: list[str] = []  # noqa: RUF012

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(4401, "not_authenticated", "Please log in first.")
            return
        checkin_id = self.scope["url_route"]["kwargs"]["checkin_id"]
        query = parse_qs((self.scope.get("query_string") or b"").decode("latin-1"))
        try:
            after = int((query.get("after_seq") or ["0"])[0])
        except ValueError:
            after = 0
        try:
            joined = await _join(user, checkin_id, max(0, after))
        except ChatError as exc:
            await self._refuse(4404 if exc.code == "not_found" else 4403, exc.code, exc.message)
            return
        self.user = joined["user"]
        self.checkin_id = checkin_id
        self.groups_joined = [selectors.checkin_group(checkin_id)]
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            self.groups_joined.append(session_group(session_key))
        try:
            for group in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
        except Exception:  # noqa: BLE001
            logger.warning("channel layer unavailable for check-in %s; client retries", checkin_id)
            await self._refuse(4013, "unavailable", "Reconnecting: the chat service is restarting.")
            return
        await self._send_json(
            {
                "type": "checkin.joined",
                "checkin": joined["checkin"],
                "you": {
                    "id": self.user.pk,
                    "is_member": self.user.pk == joined["checkin"]["member"]["id"],
                },
                "after_seq": after,
                "messages": joined["messages"],
            }
        )

    async def _refuse(self, code: int, error: str, message: str) -> None:
        await self._send_json({"type": "error", "code": error, "message": message})
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # noqa: BLE001
                logger.warning("could not leave %s on disconnect", group)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.checkin_id is None:
            return
        try:
            frame = self._parse(text_data)
            await self._dispatch(frame)
        except ChatError as exc:
            await self._send_json(exc.as_frame())
        except Exception:  # noqa: BLE001
            logger.exception("unhandled error in check-in consumer")
            await self._send_json(
                {
                    "type": "error",
                    "code": "server_error",
                    "message": "Something went wrong on our side; please try again.",
                }
            )

    def _parse(self, text_data: str | None) -> dict[str, Any]:
        if text_data is None:
            raise ChatError("bad_frame", "Frames must be JSON text, not binary.")
        if len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            raise ChatError("frame_too_large", f"Frames can be at most {MAX_FRAME_BYTES} bytes.")
        try:
            frame = json.loads(text_data)
        except (ValueError, RecursionError) as exc:
            raise ChatError("bad_json", "That frame was not valid JSON.") from exc
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise ChatError("validation", "A frame must be a JSON object with a string 'type'.")
        bad = lone_surrogate_path(frame)
        if bad:
            raise ChatError("validation", INVALID_TEXT, field=bad)
        return frame

    async def _dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "checkin.send":
            client_id = frame.get("client_id")
            try:
                message, created = await _send(self.user.pk, self.checkin_id, frame)
            except ChatError as exc:
                if isinstance(client_id, str):
                    exc.extra.setdefault("client_id", client_id[:64])
                raise
            await self._send_json(
                {
                    "type": "checkin.ack",
                    "client_id": message["client_id"],
                    "created": created,
                    "message": message,
                }
            )
        elif kind == "resume":
            after = _seq(frame.get("after_seq"), "after_seq")
            messages = await _resume(self.user.pk, self.checkin_id, after)
            await self._send_json(
                {"type": "checkin.batch", "after_seq": after, "messages": messages}
            )
        elif kind == "checkin.close":
            await _close(self.user.pk, self.checkin_id)
        elif kind == "ping":
            await self._send_json({"type": "pong"})
        else:
            raise ChatError("unknown_type", f"Unknown frame type {kind[:40]!r}.")

    # --- channel-layer events --------------------------------------------------------------

    async def checkin_message(self, event: dict[str, Any]) -> None:
        await self._send_json({"type": "checkin.message", "message": event["message"]})

    async def checkin_closed(self, event: dict[str, Any]) -> None:
        frame = {k: v for k, v in event.items() if not k.startswith("_")}
        await self._send_json(frame)

    async def user_disconnect(self, event: dict[str, Any]) -> None:
        """Logged out (session group): this conversation closes with her other sockets."""
        await self._refuse(
            event.get("close_code", 4410), event.get("code", "forbidden"), event["message"]
        )

    async def _send_json(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, ensure_ascii=False))
