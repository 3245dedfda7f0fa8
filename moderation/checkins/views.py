"""Pages and the small JSON API of private check-ins. Thin: parse, call an action, answer."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role, User
from chat.errors import ChatError
from config.text import lone_surrogate_path
from moderation.access import moderator_required
from moderation.checkins import actions, selectors

STATUS_FOR = {"forbidden": 403, "not_found": 404, "validation": 400, "closed": 409}


def _error(exc: ChatError) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": exc.code, "message": exc.message}},
        status=STATUS_FOR.get(exc.code, 400),
    )


@login_required
@require_GET
def conversation_page(request: HttpRequest, checkin_id: int) -> HttpResponse:
    """The conversation, for her and for the moderators (the same page, live over its socket)."""
    try:
        checkin = selectors.access_checkin(request.user, checkin_id)
    except ChatError:
        return render(request, "frontend/forbidden.html", status=404)
    is_member = checkin.member_id == request.user.pk
    config = {
        "id": checkin.pk,
        "wsPath": f"/ws/checkins/{checkin.pk}/",
        "isMember": is_member,
        "me": request.user.pk,
        "memberName": checkin.member.display_name,
    }
    return render(
        request,
        "checkins/conversation.html",
        {"checkin": checkin, "is_member": is_member, "checkin_config": config},
    )


@require_GET
@moderator_required
def checkin_list(request: HttpRequest) -> HttpResponse:
    """Every check-in, open ones first: moderators carry them on, supervisors oversee them."""
    return render(request, "checkins/list.html", {"checkins": selectors.checkins_for_staff()})


@require_GET
@moderator_required
def member_profile(request: HttpRequest, member_id: int) -> HttpResponse:
    """A member as the console sees her: her notes, her check-ins, and a way to message her."""
    from moderation.models import ModeratorNote

    member = User.objects.filter(pk=member_id, role=Role.MEMBER).first()
    if member is None:
        return render(request, "frontend/forbidden.html", status=404)
    return render(
        request,
        "checkins/member.html",
        {
            "member": member,
            "checkins": selectors.checkins_for_staff(member=member, limit=20),
            "open_checkin": selectors.open_checkin_for(member),
            "notes": ModeratorNote.objects.filter(member=member).select_related("author")[:20],
        },
    )


@require_POST
@moderator_required
def open_from_profile(request: HttpRequest, member_id: int) -> HttpResponse:
    """The profile page's form (works without JavaScript): open, then go to the conversation."""
    member = User.objects.filter(pk=member_id).first()
    if member is None:
        return render(request, "frontend/forbidden.html", status=404)
    text = request.POST.get("text", "")[:4000]
    try:
        checkin, _ = actions.do_open_checkin(member=member, acting_user=request.user, text=text)
    except ChatError as exc:
        from django.contrib import messages

        messages.error(request, exc.message)
        return redirect("checkins_member", member_id=member.pk)
    return redirect("checkin", checkin_id=checkin.pk)


@require_POST
@moderator_required
def open_api(request: HttpRequest) -> JsonResponse:
    """POST /api/moderation/checkins {"member_id", "flag_id"?, "text"?} → {"checkin": {...},
    "created": bool}. Opening one that is already open joins it."""
    from moderation.models import Flag

    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return _error(ChatError("validation", "The request body was not valid JSON."))
    if not isinstance(data, dict) or lone_surrogate_path(data):
        return _error(ChatError("validation", "The request body must be a JSON object."))
    member_id, flag_id, text = data.get("member_id"), data.get("flag_id"), data.get("text", "")
    try:
        if isinstance(member_id, bool) or not isinstance(member_id, int):
            raise ChatError("validation", "member_id must be a member's id.")
        if flag_id is not None and (isinstance(flag_id, bool) or not isinstance(flag_id, int)):
            raise ChatError("validation", "flag_id must be a queue item's id.")
        if not isinstance(text, str) or len(text) > 4000:
            raise ChatError("validation", "text must be at most 4000 characters.")
        member = User.objects.filter(pk=member_id).first()
        if member is None:
            raise ChatError("not_found", "There is no such member.")
        flag = None
        if flag_id is not None:
            flag = Flag.objects.filter(pk=flag_id).first()
            if flag is None:
                raise ChatError("not_found", "There is no such queue item.")
        checkin, created = actions.do_open_checkin(
            member=member, acting_user=request.user, flag=flag, text=text
        )
    except ChatError as exc:
        return _error(exc)
    return JsonResponse({"checkin": selectors.serialize_checkin(checkin), "created": created})
