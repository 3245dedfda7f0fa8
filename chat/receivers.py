"""chat's answers to what accounts announces (accounts.signals): it closes or refreshes her open
room sockets. Connected in ChatConfig.ready, so that accounts never imports chat."""

from __future__ import annotations

from typing import Any

from chat.events import send_event_on_commit, session_group, user_group


def refresh_her_sockets(sender: Any, *, user: Any, **kwargs: Any) -> None:
    """Her open room sockets reload her and leave rooms she may no longer be in."""
    send_event_on_commit(user_group(user.pk), {"type": "user.changed"})


def keep_history_of_left_rooms(sender: Any, *, user: Any, **kwargs: Any) -> None:
    """Her stage changed: stage rooms she leaves stay readable up to now (chat.actions)."""
    from chat.actions import do_settle_memberships_after_stage_change

    do_settle_memberships_after_stage_change(user)


def close_erased_sockets(sender: Any, *, user: Any, **kwargs: Any) -> None:
    send_event_on_commit(
        user_group(user.pk),
        {
            "type": "user.disconnect",
            "code": "erased",
            "message": "This account has been erased.",
            "close_code": 4410,
        },
    )


def close_session_sockets(sender: Any, *, session_key: str, **kwargs: Any) -> None:
    """Every socket this login session opened closes (her other devices stay in)."""
    send_event_on_commit(
        session_group(session_key),
        {
            "type": "user.disconnect",
            "code": "not_authenticated",
            "message": "You have logged out.",
            "close_code": 4401,
        },
    )


def connect() -> None:
    from accounts.signals import account_changed, account_erased, login_session_ended

    account_changed.connect(refresh_her_sockets, dispatch_uid="chat.refresh_her_sockets")
    account_changed.connect(
        keep_history_of_left_rooms, dispatch_uid="chat.keep_history_of_left_rooms"
    )
    account_erased.connect(close_erased_sockets, dispatch_uid="chat.close_erased_sockets")
    login_session_ended.connect(close_session_sockets, dispatch_uid="chat.close_session_sockets")
