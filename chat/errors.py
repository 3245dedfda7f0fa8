from __future__ import annotations


class ChatError(Exception):
    """A typed, user-facing refusal. `code` is one of the error codes in docs/protocol.md."""

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    def as_frame(self) -> dict:
        frame = {"type": "error", "code": self.code, "message": self.message}
        frame.update(self.extra)
        return frame


class RoomNotFound(ChatError):
    def __init__(self) -> None:
        super().__init__("not_found", "There is no such room.")


class RoomForbidden(ChatError):
    def __init__(self, message: str = "This room is not open to you.") -> None:
        super().__init__("forbidden", message)
