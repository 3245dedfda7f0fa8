from __future__ import annotations

import math

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from chat import actions, content_notes, page_context, selectors
from chat.errors import ChatError


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("rooms" if request.user.is_authenticated else "login")


@login_required
@require_GET
def room_list(request: HttpRequest) -> HttpResponse:
    # Whether a moderator is on duty and any private check-in waiting for her come from the apps
    # that know (chat.page_context: moderation, check-ins).
    return render(
        request,
        "chat/rooms.html",
        {
            "rooms": selectors.room_list_for(request.user),
            **page_context.for_page(page_context.ROOM_LIST, request),
        },
    )


@login_required
@require_GET
def room_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        room = selectors.access_room(request.user, slug)
    except ChatError as exc:
        if exc.code != "not_found":
            try:
                past_room, limit = selectors.access_past_conversation(request.user, slug)
            except ChatError:
                pass
            else:
                return _past_conversation(request, past_room, limit)
        status = 404 if exc.code == "not_found" else 403
        return render(request, "chat/room_refused.html", {"error": exc}, status=status)
    context = {
        "room": room,
        "present": selectors.present_users(room),
        "chat_config": {
            "room": room.slug,
            "roomName": room.name,
            "wsPath": f"/ws/rooms/{room.slug}/",
            "historyUrl": f"/api/rooms/{room.slug}/messages",
            "me": selectors.serialize_user(request.user),
            "maxBody": settings.CHAT_MAX_BODY_CHARS,
            "collapseTopics": list(request.user.collapse_topics or []),
            "editWindowSeconds": settings.CHAT_EDIT_WINDOW_SECONDS,
        },
    }
    return render(request, "chat/room.html", context)


PAST_PAGE_SIZE = 50


def _past_conversation(request: HttpRequest, room, limit: int) -> HttpResponse:  # noqa: ANN001
    """A stage room she has left (she changed stage): the conversation up to when she left, to
    read only, drawn on the server (no socket: nothing live, no presence, no composer). Fifty
    messages a page, newest last; `?before=<seq>` pages back. Content notes she folds stay folded
    (<details>, so it works without JavaScript)."""
    try:
        before = int(request.GET.get("before", "")) if request.GET.get("before") else None
    except ValueError:
        before = None
    upper = limit + 1 if before is None or before < 1 else min(before, limit + 1)
    rows = selectors.messages_before(room, upper, limit=PAST_PAGE_SIZE)
    hidden = selectors.filters_of(request.user)["hidden"]
    folded = set(request.user.collapse_topics or [])
    shown = []
    for m in rows:
        data = selectors.hide_filtered(
            selectors.redact_for(
                selectors.serialize_message(m),
                viewer_id=request.user.pk,
                viewer_is_moderator=request.user.is_moderator,
            ),
            hidden,
        )
        if not data["body"] and not data.get("hidden_for_you"):
            continue  # removed, deleted or held: nothing of it to read
        author = data.get("author") or {}
        shown.append(
            {
                **data,
                "created": m.created_at,
                "mine": author.get("id") == request.user.pk,
                "note_label": content_notes.TOPICS.get(data["content_note"], ""),
                "folded": bool(data["content_note"])
                and data["content_note"] in folded
                and author.get("id") != request.user.pk,
            }
        )
    older = rows[0].seq if rows and rows[0].seq > 1 else None
    return render(
        request,
        "chat/room_past.html",
        {
            "room": room,
            "messages": shown,
            "older": older,
            "stage_label": request.user.get_stage_display(),
        },
    )


def _json_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@require_GET
def history_api(request: HttpRequest, slug: str) -> JsonResponse:
    """GET /api/rooms/<slug>/messages?before=<seq>&limit=<n>: older messages, oldest first."""
    if not request.user.is_authenticated:
        return _json_error("not_authenticated", "Please log in first.", 401)
    past_limit = None
    try:
        room = selectors.access_room(request.user, slug)
    except ChatError as exc:
        try:  # a stage room she has left: read only, up to when she left
            room, past_limit = selectors.access_past_conversation(request.user, slug)
        except ChatError:
            return _json_error(exc.code, exc.message, 404 if exc.code == "not_found" else 403)
    try:
        before = int(request.GET["before"]) if request.GET.get("before") else None
        limit = int(request.GET.get("limit", 50))
    except ValueError:
        return _json_error("validation", "before and limit must be whole numbers.", 400)
    if (before is not None and before < 1) or not 1 <= limit <= 200:
        return _json_error("validation", "before must be ≥ 1 and limit between 1 and 200.", 400)
    try:  # the same read budget as the socket's resume requests
        actions.check_read_rate(request.user)
    except ChatError as exc:
        response = _json_error(exc.code, exc.message, 429)
        response["Retry-After"] = str(max(1, math.ceil(exc.extra.get("retry_after", 1))))
        return response
    if past_limit is not None:
        before = past_limit + 1 if before is None else min(before, past_limit + 1)
    rows = selectors.messages_before(room, before, limit=limit)
    hidden = selectors.filters_of(request.user)["hidden"]
    messages = [
        selectors.hide_filtered(
            selectors.redact_for(
                selectors.serialize_message(m),
                viewer_id=request.user.pk,
                viewer_is_moderator=request.user.is_moderator,
            ),
            hidden,
        )
        for m in rows
    ]
    oldest = messages[0]["seq"] if messages else None
    return JsonResponse(
        {
            "room": room.slug,
            "messages": messages,
            "next_before": oldest if oldest and oldest > 1 else None,
        }
    )


@require_GET
def unread_api(request: HttpRequest) -> JsonResponse:
    """GET /api/rooms/unread: new-message counts for each joined room. Counts only, never text,
    so nothing private can end up on a lock screen."""
    if not request.user.is_authenticated:
        return _json_error("not_authenticated", "Please log in first.", 401)
    return JsonResponse({"rooms": selectors.unread_counts(request.user)})
