"""Attack: every action of every role, tried by every other role, over HTTP and WebSocket, on
other members' rooms and objects (IDOR). Nothing forbidden may succeed or change anything, and
refusals are logged on `kindred.access` (HTTP) or answered with a typed error frame (sockets).

The HTTP endpoints are read from the URLconf at test time: a new /api/moderation/*, /moderation/*,
/supervisor/* or /api/facilitation/prompts* endpoint is in the matrix without editing this file.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Role, Stage
from chat.actions import do_send_message
from chat.models import Message, Room
from moderation import actions
from moderation.models import AuditEntry, Flag, ModeratorNote, Mute
from moderation.policy import Decision
from tests.conftest import open_socket

# Which role an endpoint needs, by path prefix. Anything under these prefixes is in the matrix.
MODERATOR_ONLY = ("/api/moderation/", "/moderation/", "/api/facilitation/prompts")
SUPERVISOR_ONLY = ("/supervisor/",)
ROLE_RANK = {None: 0, Role.MEMBER: 1, Role.MODERATOR: 2, Role.SUPERVISOR: 3}


def required_rank(path: str) -> int | None:
    if path.startswith(SUPERVISOR_ONLY):
        return ROLE_RANK[Role.SUPERVISOR]
    if path.startswith(MODERATOR_ONLY):
        return ROLE_RANK[Role.MODERATOR]
    return None


def url_routes() -> list[tuple[str, Any]]:
    """(route with converters, callback) for every pattern in the URLconf."""
    out = []

    def walk(patterns, prefix: str) -> None:  # noqa: ANN001
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                out.append(("/" + route.lstrip("^").rstrip("$"), p.callback))

    walk(get_resolver().url_patterns, "")
    return out


def _action_names(route: str, callback: Any) -> list[str]:  # noqa: ANN401
    """Values for a <slug:action>: the actions the view knows, so each is tried."""
    module = getattr(callback, "__module__", "")
    if route.endswith("/flags/<int:flag_id>/<slug:action>"):
        from moderation.api import FLAG_ACTIONS

        return sorted(FLAG_ACTIONS)
    if "members/<int:member_id>/<slug:action>" in route:
        return ["note", "suspend", "reinstate", "mute"]
    return ["claim", "suspend"] if "moderation" in module else ["x"]


def concrete_paths(objects: dict[str, Any]) -> list[str]:
    paths: set[str] = set()
    for route, callback in url_routes():
        if required_rank(route) is None:
            continue
        variants = [route]
        if "<slug:action>" in route:
            variants = [route.replace("<slug:action>", a) for a in _action_names(route, callback)]
        if "<slug:fmt>" in route:
            variants = [v.replace("<slug:fmt>", f) for v in variants for f in ("csv", "json")]
        for v in variants:

            def fill(m: re.Match) -> str:
                conv, name = m.group(1) or "str", m.group(2)
                if conv == "int":
                    return str(objects.get(name, objects["default_int"]))
                return str(objects.get(name, "newborn"))

            paths.add(re.sub(r"<(?:(\w+):)?(\w+)>", fill, v))
    return sorted(paths)


def snapshot() -> dict[str, Any]:
    from accounts.models import User
    from moderation.facilitation.models import FacilitatedSession, PromptRecord

    return {
        "audit": AuditEntry.objects.count(),
        "flags": sorted(Flag.objects.values_list("id", "state", "claimed_by_id")),
        "users": sorted(User.objects.values_list("id", "role", "suspended_at", "display_name")),
        "mutes": Mute.objects.count(),
        "notes": ModeratorNote.objects.count(),
        "messages": sorted(Message.objects.values_list("id", "state", "body")),
        "rooms": sorted(Room.objects.values_list("id", "name", "description", "is_archived")),
        "prompts": sorted(PromptRecord.objects.values_list("id", "state", "sent_text")),
        "sessions": sorted(FacilitatedSession.objects.values_list("id", "title", "cancelled_at")),
    }


@pytest.fixture
def world(make_user):  # noqa: ANN001, ANN201
    """A member's flagged and reported message, a mute, a note: objects that belong to others."""
    amara = make_user(display_name="Amara")
    bea = make_user(display_name="Bea")
    cleo = make_user(stage=Stage.PREGNANT, display_name="Cleo")
    morgan = make_user(role=Role.MODERATOR, display_name="Morgan")
    rowan = make_user(role=Role.MODERATOR, display_name="Rowan")
    sam = make_user(role=Role.SUPERVISOR, display_name="Sam")
    actions.do_set_on_duty(moderator=morgan, on_duty=True)
    room = Room.objects.get(slug="newborn")
    message = do_send_message(
        author=amara, room=room, client_id="victim-0001", body="Stop moaning, nobody cares"
    )
    flag = Flag.objects.filter(message=message).first() or actions.do_record_decision(
        message, Decision("flag", "toxic", "high", [{"rule": "test"}]), source="rule"
    )
    feeding = Room.objects.get(slug="feeding")
    mute = actions.do_mute_member(
        member=bea, room=feeding, minutes=15, acting_user=morgan, reason="test"
    )
    actions.do_add_moderator_note(member=amara, acting_user=morgan, text="a private note")
    # A facilitated session under way, run by Morgan, with a prompt waiting for her.
    from datetime import timedelta

    from django.utils import timezone

    from moderation.facilitation.actions import SessionFields, do_create_session
    from moderation.facilitation.models import PromptRecord, PromptTemplate
    from moderation.models import Helpline

    start = timezone.now() - timedelta(seconds=1)
    session = do_create_session(
        SessionFields(
            room=room,
            title="Night wakings",
            focus="Night wakings",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            facilitators=[morgan],
        ),
        acting_user=sam,
    )
    prompt = PromptRecord.objects.create(
        session=session,
        occurrence_start=start,
        t=1.0,
        signal="silence",
        text="How is everyone doing tonight?",
        reason="test",
        shown_at=timezone.now(),
    )
    template = PromptTemplate.objects.first()
    helpline = Helpline.objects.first()
    objects = {
        "default_int": message.pk,
        "flag_id": flag.pk,
        "message_id": message.pk,
        "mute_id": mute.pk,
        "member_id": amara.pk,
        "user_id": amara.pk,
        "room_id": room.pk,
        "prompt_id": prompt.pk,
        "session_id": session.pk,
        "template_id": template.pk if template else 1,
        "helpline_id": helpline.pk if helpline else 1,
    }
    return {
        "amara": amara,
        "bea": bea,
        "cleo": cleo,
        "morgan": morgan,
        "rowan": rowan,
        "sam": sam,
        "room": room,
        "message": message,
        "flag": flag,
        "mute": mute,
        "objects": objects,
    }


def _client(user) -> Client:  # noqa: ANN001
    client = Client()  # CSRF is not enforced here: the role check is what is under test
    if user is not None:
        client.force_login(user, backend="accounts.backends.KindredBackend")
    return client


def _looks_refused(response, path: str, anonymous: bool) -> bool:  # noqa: ANN001
    if response.status_code in (401, 403):
        return True
    if anonymous and response.status_code == 302:
        return "/accounts/login/" in response["Location"]
    return False


@pytest.mark.django_db
def test_the_matrix_covers_every_protected_endpoint_of_the_urlconf(world) -> None:  # noqa: ANN001
    paths = concrete_paths(world["objects"])
    assert any(p.startswith("/api/moderation/flags/") for p in paths)
    assert any(p.startswith("/moderation/") for p in paths)
    # Nothing protected hides under an unexpected prefix: every moderator/supervisor view in
    # moderation.* is mounted under one of the prefixes the matrix covers.
    unprotected = [
        r
        for r, cb in url_routes()
        if getattr(cb, "__module__", "").startswith(("moderation.api", "moderation.supervision"))
        and required_rank(r) is None
    ]
    assert unprotected == [], unprotected


@pytest.mark.django_db
def test_lower_roles_are_refused_everywhere_and_nothing_changes(world, caplog) -> None:  # noqa: ANN001
    paths = concrete_paths(world["objects"])
    callers = {None: None, Role.MEMBER: world["bea"], Role.MODERATOR: world["rowan"]}
    before = snapshot()
    leaks, unlogged, tried = [], [], 0
    for path in paths:
        need = required_rank(path)
        for role, user in callers.items():
            if ROLE_RANK[role] >= need:
                continue
            client = _client(user)
            for method in ("get", "post"):
                caplog.clear()
                with caplog.at_level(logging.WARNING, logger="kindred.access"):
                    response = getattr(client, method)(
                        path,
                        {
                            "reason": "x",
                            "text": "x",
                            "minutes": 15,
                            "room": "newborn",
                            "on_duty": True,
                        },
                    )
                tried += 1
                if response.status_code == 405:
                    continue  # wrong method for this endpoint: refused before anything runs
                if not _looks_refused(response, path, anonymous=user is None):
                    leaks.append((role, method, path, response.status_code))
                elif user is not None and not any(
                    r.name == "kindred.access" and path in r.getMessage() for r in caplog.records
                ):
                    unlogged.append((role, method, path, response.status_code))
    # A moderator who is not facilitating this session may not act on its prompts either.
    prompt = world["objects"]["prompt_id"]
    for action in ("send", "dismiss"):
        path = f"/api/facilitation/prompts/{prompt}/{action}"
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="kindred.access"):
            response = _client(world["rowan"]).post(path, {}, content_type="application/json")
        if response.status_code != 403:
            leaks.append(("non-facilitator moderator", "post", path, response.status_code))
        elif not any(path in r.getMessage() for r in caplog.records if r.name == "kindred.access"):
            unlogged.append(("non-facilitator moderator", "post", path, 403))
    assert leaks == [], leaks
    assert unlogged == [], unlogged
    assert snapshot() == before
    assert tried > 100


@pytest.mark.django_db
def test_allowed_roles_reach_every_page_so_the_matrix_is_not_vacuous(world) -> None:  # noqa: ANN001
    sam = _client(world["sam"])
    morgan = _client(world["morgan"])
    for path in concrete_paths(world["objects"]):
        client = sam if required_rank(path) == ROLE_RANK[Role.SUPERVISOR] else morgan
        response = client.get(path)
        assert response.status_code not in (401, 403) and response.status_code < 500, (
            path,
            response.status_code,
        )


@pytest.mark.django_db
def test_a_moderator_cannot_act_on_moderators_or_supervisors_and_is_logged(world, caplog) -> None:  # noqa: ANN001
    """Moderator-on-moderator actions (the role's own ceiling). Each refusal is a typed 403 and
    is logged on kindred.access like the role checks are."""
    rowan, morgan, sam = world["rowan"], world["morgan"], world["sam"]
    actions.do_suspend_member(member=morgan, acting_user=sam, reason="supervisor's decision")
    before = snapshot()
    client = _client(rowan)
    attempts = [
        (f"/api/moderation/members/{sam.pk}/suspend", {"reason": "x"}),
        (f"/api/moderation/members/{rowan.pk}/suspend", {"reason": "x"}),
        (
            f"/api/moderation/members/{sam.pk}/mute",
            {"room": "newborn", "minutes": 15, "reason": "x"},
        ),
        # Undoing a supervisor's suspension of a moderator is the same power as suspending one.
        (f"/api/moderation/members/{morgan.pk}/reinstate", {"reason": "x"}),
    ]
    results = []
    for path, data in attempts:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="kindred.access"):
            response = client.post(path, data, content_type="application/json")
        logged = any(r.name == "kindred.access" and path in r.getMessage() for r in caplog.records)
        results.append(
            (path, response.status_code, response.json().get("error", {}).get("code"), logged)
        )
    assert all(status == 403 and code == "forbidden" for _, status, code, _ in results), results
    assert all(logged for *_, logged in results), results
    assert snapshot() == before


# --- sockets -----------------------------------------------------------------------------------


async def _join(user, slug: str = "newborn"):  # noqa: ANN001, ANN202
    comm = await open_socket(user, f"/ws/rooms/{slug}/")
    connected, _ = await comm.connect()
    assert connected
    first = await comm.receive_json_from(timeout=3)
    return comm, first


async def _answer(comm, frame: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
    await comm.send_json_to(frame)
    while True:
        got = await comm.receive_json_from(timeout=3)
        if got["type"] in ("error", "member.filter.saved", "report.received", "message.updated"):
            return got


@pytest.mark.django_db(transaction=True)
async def test_socket_actions_on_other_members_objects_are_refused(make_user) -> None:  # noqa: ANN001
    from channels.db import database_sync_to_async

    amara = await database_sync_to_async(make_user)(display_name="Amara")
    bea = await database_sync_to_async(make_user)(display_name="Bea")
    morgan = await database_sync_to_async(make_user)(role=Role.MODERATOR, display_name="Morgan")
    sam = await database_sync_to_async(make_user)(role=Role.SUPERVISOR, display_name="Sam")
    newborn = await database_sync_to_async(Room.objects.get)(slug="newborn")
    feeding = await database_sync_to_async(Room.objects.get)(slug="feeding")
    send = database_sync_to_async(do_send_message)
    theirs = await send(
        author=bea, room=newborn, client_id="bea-own-0001", body="I found tonight hard"
    )
    mine = await send(author=amara, room=newborn, client_id="amara-own-01", body="Me too, love")
    mods = await send(
        author=morgan, room=newborn, client_id="morgan-own-1", body="I'm here if you need me"
    )
    # A message in another room whose seq does not exist in this one (an id from elsewhere).
    for n in range(5):
        await send(
            author=bea, room=feeding, client_id=f"bea-feed-{n:04d}", body=f"feeding note {n}"
        )
    elsewhere_seq = await database_sync_to_async(
        Room.objects.values_list("last_seq", flat=True).get
    )(pk=feeding.pk)
    before = await database_sync_to_async(snapshot)()

    a, _ = await _join(amara)
    m, _ = await _join(morgan)
    tries = [
        (
            a,
            {"type": "message.edit", "seq": theirs.seq, "body": "rewritten by someone else"},
            "forbidden",
        ),
        (a, {"type": "message.delete", "seq": theirs.seq}, "forbidden"),
        (a, {"type": "message.edit", "seq": mods.seq, "body": "rewritten moderator"}, "forbidden"),
        (a, {"type": "message.delete", "seq": mods.seq}, "forbidden"),
        (a, {"type": "message.edit", "seq": elsewhere_seq + 50, "body": "other room"}, "not_found"),
        (a, {"type": "message.delete", "seq": elsewhere_seq + 50}, "not_found"),
        (a, {"type": "message.report", "seq": mine.seq, "reason": "report myself"}, "validation"),
        (a, {"type": "member.filter", "user_id": amara.pk, "kind": "block"}, "validation"),
        (a, {"type": "member.filter", "user_id": morgan.pk, "kind": "mute"}, "forbidden"),
        (a, {"type": "member.filter", "user_id": sam.pk, "kind": "block"}, "forbidden"),
        (a, {"type": "member.filter", "user_id": 10**9, "kind": "mute"}, "not_found"),
        # A moderator's socket does not give her a member's powers over other people's words.
        (
            m,
            {"type": "message.edit", "seq": theirs.seq, "body": "moderator rewrote it"},
            "forbidden",
        ),
        (m, {"type": "message.delete", "seq": theirs.seq}, "forbidden"),
    ]
    results = []
    for comm, frame, expected in tries:
        got = await _answer(comm, frame)
        results.append(
            (
                frame["type"],
                frame.get("seq", frame.get("user_id")),
                got["type"],
                got.get("code"),
                expected,
            )
        )
    await a.disconnect()
    await m.disconnect()
    wrong = [r for r in results if r[2] != "error" or r[3] != r[4]]
    assert wrong == [], wrong
    assert await database_sync_to_async(snapshot)() == before
    from chat.models import MemberFilter

    assert not await database_sync_to_async(MemberFilter.objects.exists)()


@pytest.mark.django_db(transaction=True)
async def test_socket_endpoints_refuse_roles_that_may_not_open_them(make_user, caplog) -> None:  # noqa: ANN001
    from channels.db import database_sync_to_async

    bea = await database_sync_to_async(make_user)(display_name="Bea")
    cleo = await database_sync_to_async(make_user)(stage=Stage.PREGNANT, display_name="Cleo")
    cases = [
        (None, "/ws/moderation/", "not_authenticated", 4401),
        (bea, "/ws/moderation/", "forbidden", 4403),
        (None, "/ws/rooms/newborn/", "not_authenticated", 4401),
        (cleo, "/ws/rooms/newborn/", "forbidden", 4403),  # another stage's room
        (bea, "/ws/rooms/pregnancy/", "forbidden", 4403),
        (bea, "/ws/rooms/no-such-room/", "not_found", 4404),
    ]
    got = []
    with caplog.at_level(logging.WARNING, logger="kindred.access"):
        for user, path, code, close in cases:
            comm = await open_socket(user, path)
            await comm.connect()
            frame = await comm.receive_json_from(timeout=3)
            closed = await comm.receive_output(timeout=3)
            got.append((path, frame.get("code"), closed.get("code")))
            assert (frame["type"], frame["code"], closed["code"]) == ("error", code, close), (
                path,
                frame,
                closed,
            )
    assert any(
        "refused moderation socket" in r.getMessage() and str(bea.pk) in r.getMessage()
        for r in caplog.records
        if r.name == "kindred.access"
    )
