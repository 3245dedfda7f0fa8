"""Attack from outside, against the real server (Daphne, PostgreSQL and Redis in CI): issue 17's
findings that the app suites test in process, driven here over HTTP and the room socket the way
an attacker would, so that each would fail on the old behaviour.

- Item 3: an unpaired UTF-16 surrogate ("\\ud800", legal in JSON) in every text a member or
  moderator can send: message, edit, report reason, moderator note, any JSON field, and a form
  posted with a charset that decodes escapes. It used to reach psycopg and raise on every retry.
- Item 4: a supervisor saves a helpline with its kind and stages (it was "400 Unknown helpline
  field(s)"); a member cannot, and a supervisor's markup in it is shown as text.
- Item 7: behind one trusted proxy (TRUSTED_PROXY_COUNT=1, the production default) a spoofed first
  X-Forwarded-For entry does not escape the address throttle, and a stranger's wrong passwords do
  not lock a moderator out of her own login.
- Item 8: a wrong password on a suspended account gets the same answer as on any other.
- Item 9: sign-up refuses display names that look like a moderator's.
- Lesser: the CSP lets pages open sockets to the site only; an oversized body to the moderation
  API is its typed JSON 413; a formula behind an invisible character is escaped in CSV export.
  (The Origin scheme/port check is driven against the real server in test_origin_matrix.py.)
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
import secrets
import signal
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message

import pytest
from websockets.asyncio.client import connect

from tests.browser.conftest import LiveServer, _free_port
from tests.reliability.conftest import ARTIFACTS, MEMBERS, PASSWORD, Stack
from tests.reliability.wsclient import next_frame

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOM = "newborn"
AUTHOR = MEMBERS[13]  # member sockets in this module
SURROGATE_HINT = "surrogate"  # config.text.INVALID_TEXT names what is wrong


# --- a small HTTP client: cookies, CSRF, no redirects ------------------------------------------


@dataclass
class Answer:
    status: int
    headers: Message
    text: str

    def json(self) -> dict:
        return json.loads(self.text)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


@dataclass
class Http:
    """One browser-less visitor: keeps the cookies the server sets, sends the CSRF token back."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(_NoRedirect)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        all_headers = {**self.headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            all_headers["Content-Type"] = content_type
        req = urllib.request.Request(
            self.base + path, data=body, method=method, headers=all_headers
        )
        try:
            with self._opener.open(req, timeout=60) as resp:
                status, hdrs, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, hdrs, raw = err.code, err.headers, err.read()
        for cookie in hdrs.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Answer(status, hdrs, raw.decode("utf-8", "replace"))

    def get(self, path: str, **kw) -> Answer:  # noqa: ANN003
        return self.request("GET", path, **kw)

    def csrf(self, page: str) -> str:
        """The form token of `page` (and the csrftoken cookie that goes with it)."""
        answer = self.get(page)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text)
        assert found, f"no CSRF token on {page} ({answer.status})"
        return found.group(1)

    def post_form(self, path: str, fields: list[tuple[str, str]], *, page: str | None = None, **kw):  # noqa: ANN003, ANN201
        token = self.csrf(page or path)
        body = urllib.parse.urlencode([("csrfmiddlewaretoken", token), *fields]).encode()
        return self.request(
            "POST", path, body, "application/x-www-form-urlencoded", headers=kw.get("headers")
        )

    def post_json(self, path: str, raw: str | bytes, *, page: str = "/moderation/") -> Answer:
        if "csrftoken" not in self.cookies:
            self.get(page)
        data = raw.encode() if isinstance(raw, str) else raw
        return self.request(
            "POST",
            path,
            data,
            "application/json",
            headers={"X-CSRFToken": self.cookies["csrftoken"]},
        )


def as_user(stack: Stack, name: str) -> Http:
    return Http(stack.server.url, cookies={"sessionid": stack.users[name]["session"]})


def on_duty(stack: Stack, name: str) -> bool:
    """The moderator's duty flag as stored (whatever column or table holds it)."""
    return bool(as_user(stack, name).get("/api/moderation/duty").json().get("on_duty"))


async def _join(stack: Stack, name: str):  # noqa: ANN202
    ws = await connect(
        f"{stack.ws_base}/ws/rooms/{ROOM}/",
        origin=stack.origin,
        additional_headers={"Cookie": stack.cookie(name)},
        open_timeout=10,
        ping_interval=None,
    )
    await next_frame(ws, "room.joined", timeout=10)
    return ws


# --- item 3: lone surrogates -------------------------------------------------------------------


async def test_a_lone_surrogate_in_any_socket_frame_is_a_typed_error_and_stores_nothing(
    stack: Stack,
) -> None:
    offset = stack.log_offset()
    tag = secrets.token_hex(4)
    ws = await _join(stack, AUTHOR)
    try:
        await ws.send(
            json.dumps(
                {"type": "message.send", "client_id": f"sur-ok-{tag}", "body": f"fine {tag}"}
            )
        )
        seq = (await next_frame(ws, "message.ack"))["message"]["seq"]
        # json.dumps writes a lone surrogate as its escape ("\\ud800"): what an attacker sends.
        frames = {
            "message": {"type": "message.send", "client_id": f"sur-1-{tag}", "body": "a\ud800b"},
            "low then high": {
                "type": "message.send",
                "client_id": f"sur-2-{tag}",
                "body": "\udc00\ud800",
            },
            "edit": {"type": "message.edit", "seq": seq, "body": "fixed \udfff here"},
            "report reason": {"type": "message.report", "seq": seq, "reason": "\ud83d alone"},
            "client id": {"type": "message.send", "client_id": f"sur-\ud800-{tag}", "body": "hi"},
            "frame type": {"type": "ping\ud800"},
            "nested": {"type": "resource.share", "resource": {"note": ["\udbff"]}},
        }
        answers = {}
        for what, frame in frames.items():
            raw = json.dumps(frame)
            assert re.search(r"\\ud[89a-f]", raw), raw  # the escape, not UTF-8
            await ws.send(raw)
            error = await next_frame(ws, "error", timeout=10)
            answers[what] = error
        for what, error in answers.items():
            assert error["code"] == "validation", (what, error)
            assert SURROGATE_HINT in error["message"], (what, error)
        # The socket is still usable and nothing of the attack was stored or changed.
        await ws.send(json.dumps({"type": "ping"}))
        await next_frame(ws, "pong", timeout=10)
    finally:
        await ws.close()
    stored = stack.query(
        "SELECT client_id, body FROM chat_message WHERE client_id LIKE %s", (f"sur-%{tag}",)
    )
    assert stored == [(f"sur-ok-{tag}", f"fine {tag}")]
    assert (
        stack.query(
            "SELECT count(*) FROM chat_messagerevision r JOIN chat_message m ON m.id = r.message_id "
            "WHERE m.client_id = %s",
            (f"sur-ok-{tag}",),
        )[0][0]
        == 0
    )
    log = stack.server_log_since(offset)
    assert "UnicodeEncodeError" not in log and "Traceback" not in log


def test_a_lone_surrogate_in_a_moderator_request_is_a_typed_error_and_changes_nothing(
    stack: Stack,
) -> None:
    offset = stack.log_offset()
    moderator = as_user(stack, "relmod")
    member_id = stack.users[AUTHOR]["id"]
    assert on_duty(stack, "relmod")
    attempts = {
        "duty": ("/api/moderation/duty", '{"on_duty": false, "why": "tired \\ud800"}'),
        "note": (f"/api/moderation/members/{member_id}/note", '{"text": "watch \\udc00 her"}'),
        "suspend reason": (
            f"/api/moderation/members/{member_id}/suspend",
            '{"reason": "\\ud800"}',
        ),
        "key": ("/api/moderation/duty", '{"on_duty": false, "\\ud800": 1}'),
    }
    for what, (path, raw) in attempts.items():
        answer = moderator.post_json(path, raw)
        assert answer.status == 400, (what, answer.status, answer.text[:200])
        assert answer.headers.get_content_type() == "application/json", what
        assert answer.json()["error"]["code"] == "validation", (what, answer.text)
        assert SURROGATE_HINT in answer.json()["error"]["message"], (what, answer.text)
    assert on_duty(stack, "relmod")
    suspended, notes = stack.query(
        "SELECT u.suspended_at IS NOT NULL, (SELECT count(*) FROM moderation_moderatornote n WHERE n.member_id = u.id) "
        "FROM accounts_user u WHERE u.id = %s",
        (member_id,),
    )[0]
    assert not suspended and notes == 0
    log = stack.server_log_since(offset)
    assert "UnicodeEncodeError" not in log and "Traceback" not in log


def test_a_form_whose_charset_decodes_to_a_lone_surrogate_is_refused_not_a_500(
    stack: Stack,
) -> None:
    """multipart/form-data may name its charset, and Django decodes the fields with any codec
    Python knows: `unicode_escape` turns the bytes "\\ud800" into a lone surrogate. The sign-up
    form must refuse that display name (or the request) cleanly, and store nothing."""
    offset = stack.log_offset()
    visitor = Http(stack.server.url)
    token = visitor.csrf("/accounts/signup/")
    username = f"sur{secrets.token_hex(4)}"
    boundary = "----kindred" + secrets.token_hex(8)
    fields = {
        "csrfmiddlewaretoken": token,
        "username": username,
        "display_name": "Wren \\ud800 Hale",  # the escape, as bytes, decoded by unicode_escape
        "stage": "newborn",
        "password": "a-long-test-password-1",
        "adult": "on",
        "guidelines": "on",
    }
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        + f"--{boundary}--\r\n".encode()
    )
    answer = visitor.request(
        "POST",
        "/accounts/signup/",
        body,
        f"multipart/form-data; boundary={boundary}; charset=unicode_escape",
    )
    assert answer.status in (400, 403), (answer.status, answer.text[:300])
    assert stack.query("SELECT count(*) FROM accounts_user WHERE username = %s", (username,)) == [
        (0,)
    ]
    # The request's charset decodes the query string too: a supervisor's message search.
    search = as_user(stack, "relsup").get(
        "/supervisor/messages/?q=%5Cud800",
        headers={"Content-Type": "text/plain; charset=unicode_escape"},
    )
    assert search.status in (200, 400), search.status
    log = stack.server_log_since(offset)
    assert "UnicodeEncodeError" not in log and "Traceback" not in log


# --- item 4: helplines -------------------------------------------------------------------------


def _helpline_fields(name: str, **over: str | list[str]) -> list[tuple[str, str]]:
    values: dict[str, str | list[str]] = {
        "name": name,
        "kind": "service",
        "contact": "0800 000 4321",
        "when": "Someone to talk to during the night feeds",
        "hours": "Every night 10pm-6am",
        "url": "",
        "region": "",
        "stages": ["newborn", "baby"],
        "show_on_support_card": "on",
        "position": "0",
        "is_active": "on",
        "reason": "Attack suite",
        **over,
    }
    out: list[tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, list):
            out += [(key, v) for v in value]
        elif value is not None:
            out.append((key, value))
    return out


def test_a_supervisor_saves_a_helpline_with_kind_and_stages_and_others_cannot(
    stack: Stack,
) -> None:
    tag = secrets.token_hex(3)
    name = f'Night line <img src=x onerror="alert(1)"> {tag}'
    supervisor, member = as_user(stack, "relsup"), as_user(stack, AUTHOR)
    new = "/supervisor/helplines/new/"

    # A member (or a moderator) posting the supervisor's form saves nothing.
    for who in (member, as_user(stack, "relmod")):
        token = supervisor.csrf(new)  # a valid token, but not theirs to use
        who.cookies["csrftoken"] = supervisor.cookies["csrftoken"]
        refused = who.request(
            "POST",
            new,
            urllib.parse.urlencode(
                [("csrfmiddlewaretoken", token), *_helpline_fields(name)]
            ).encode(),
            "application/x-www-form-urlencoded",
        )
        assert refused.status in (302, 403, 404), refused.status
    assert stack.query("SELECT count(*) FROM moderation_helpline WHERE name = %s", (name,)) == [
        (0,)
    ]

    # A kind or a stage that does not exist is a form error, not a save.
    for bad in ({"kind": "javascript"}, {"stages": ["newborn", "teenager"]}):
        answer = supervisor.post_form(new, _helpline_fields(name, **bad))
        assert answer.status == 400, (bad, answer.status)
    assert stack.query("SELECT count(*) FROM moderation_helpline WHERE name = %s", (name,)) == [
        (0,)
    ]

    saved = supervisor.post_form(new, _helpline_fields(name))
    assert saved.status == 302, (saved.status, re.sub(r"\s+", " ", saved.text)[:400])
    (helpline_id, kind, stages), *_ = stack.query(
        "SELECT id, kind, stages FROM moderation_helpline WHERE name = %s", (name,)
    )
    stages = json.loads(stages) if isinstance(stages, str) else stages
    assert kind == "service" and sorted(stages) == ["baby", "newborn"]

    help_page = member.get("/help/")
    assert help_page.status == 200
    assert html.escape(name, quote=False) in help_page.text or html.escape(name) in help_page.text
    assert '<img src=x onerror="alert(1)">' not in help_page.text
    assert "0800 000 4321" in help_page.text

    # The edit saves too: off the members' page, the other stages kept as sent.
    edit = f"/supervisor/helplines/{helpline_id}/"
    edited = supervisor.post_form(
        edit, _helpline_fields(name, stages=["baby"], is_active=None, reason="Trial over")
    )
    assert edited.status == 302, (edited.status, re.sub(r"\s+", " ", edited.text)[:400])
    (active, stages), *_ = stack.query(
        "SELECT is_active, stages FROM moderation_helpline WHERE id = %s", (helpline_id,)
    )
    stages = json.loads(stages) if isinstance(stages, str) else stages
    assert not active and stages == ["baby"]
    assert tag not in member.get("/help/").text


# --- items 7 and 8: logging in -----------------------------------------------------------------


@pytest.fixture(scope="module")
def proxied(stack: Stack) -> Iterator[LiveServer]:
    """A second web process on the same database and Redis, configured as production is behind
    its one TLS-terminating proxy (TRUSTED_PROXY_COUNT=1): the client address is the last
    X-Forwarded-For entry, the one the proxy appended. The test plays the proxy."""
    server = LiveServer(
        env={**stack.server.env, "TRUSTED_PROXY_COUNT": "1"},
        port=_free_port(),
        log_path=ARTIFACTS / "server-proxied.log",
    )
    server.log_path.write_text("")
    server.start()
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


def _address() -> str:
    return (
        f"10.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
    )


def log_in(
    server: LiveServer, username: str, password: str, address: str, spoofed: str | None = None
) -> Answer:
    """A login from `address`, through the proxy; `spoofed` is what the client itself wrote."""
    forwarded = f"{spoofed}, {address}" if spoofed else address
    visitor = Http(server.url, headers={"X-Forwarded-For": forwarded})
    return visitor.post_form("/accounts/login/", [("username", username), ("password", password)])


def test_a_spoofed_forwarded_entry_does_not_escape_the_address_throttle(
    stack: Stack, proxied: LiveServer
) -> None:
    sprayer, neighbour = _address(), _address()
    for n in range(20):
        answer = log_in(
            proxied, f"nobody{n}{secrets.token_hex(2)}", "guess-1234", sprayer, spoofed=_address()
        )
        assert answer.status == 400, (n, answer.status)
    blocked = log_in(proxied, MEMBERS[12], PASSWORD, sprayer, spoofed=_address())
    assert blocked.status == 429, blocked.status
    assert "Too many attempts from here" in blocked.text
    assert int(blocked.headers["Retry-After"]) > 0
    # Someone else behind the same proxy logs in as usual.
    welcome = log_in(proxied, MEMBERS[12], PASSWORD, neighbour)
    assert welcome.status == 302 and welcome.headers["Location"].endswith("/rooms/"), welcome.status


def test_a_stranger_cannot_lock_a_moderator_out(stack: Stack, proxied: LiveServer) -> None:
    stranger, at_work = _address(), _address()
    for _ in range(12):
        assert log_in(proxied, "relmod", "guess-1234", stranger).status in (400, 429)
    slowed = log_in(proxied, "relmod", PASSWORD, stranger)
    assert slowed.status == 429, slowed.status  # the stranger's own attempts wait
    mine = log_in(proxied, "relmod", PASSWORD, at_work)
    assert mine.status == 302 and mine.headers["Location"].endswith("/rooms/"), mine.status


def _login_error(answer: Answer) -> str:
    """The page's error text, without the parts that differ per request (tokens, the username)."""
    main = re.search(r"<main.*?</main>", answer.text, re.S)
    text = re.sub(r"<[^>]+>", " ", main.group(0) if main else answer.text)
    text = re.sub(r'value="[^"]*"', "", text)
    return re.sub(r"\s+", " ", text).strip()


def test_a_wrong_password_does_not_reveal_a_suspension(stack: Stack, proxied: LiveServer) -> None:
    name = f"relsusp{secrets.token_hex(2)}"
    other = f"relfine{secrets.token_hex(2)}"
    stack.create_users(
        [
            (name, "member", "newborn", f"Susp {name[-4:]}"),
            (other, "member", "newborn", f"Fine {other[-4:]}"),
        ]
    )
    moderator = as_user(stack, "relmod")
    done = moderator.post_json(
        f"/api/moderation/members/{stack.users[name]['id']}/suspend",
        json.dumps({"reason": "attack suite"}),
    )
    assert done.status == 200, done.text
    wrong = log_in(proxied, name, "guess-1234", _address())
    control = log_in(proxied, other, "guess-1234", _address())
    assert wrong.status == control.status == 400
    assert "suspend" not in wrong.text.lower() and "paused" not in wrong.text.lower()
    assert _login_error(wrong).replace(name, "") == _login_error(control).replace(other, "")
    # The right password is told (she needs to know why she cannot come in).
    right = log_in(proxied, name, PASSWORD, _address())
    assert right.status != 302 and "suspended" in right.text.lower()


# --- item 9: look-alike display names ----------------------------------------------------------


def test_sign_up_refuses_names_that_pass_for_a_moderator(stack: Stack) -> None:
    staff = stack.users["relmod"]["display_name"]  # "Rel Moderator"
    assert staff == "Rel Moderator"
    look_alikes = [
        "Rel Моderator",  # Cyrillic М and о
        "Ｒｅｌ Ｍｏｄｅｒａｔｏｒ",  # full-width
        "Rel Moderator.",
        "rel  moderator",
        "Rel Mοderatοr",  # Greek omicron
        "Rel Moderat0r",
        "ReI Moderator",  # capital i for l
        "Rel Modera\u200btor",  # zero-width space
    ]
    made = []
    for display in look_alikes:
        username = f"look{secrets.token_hex(4)}"
        made.append(username)
        answer = Http(stack.server.url).post_form(
            "/accounts/signup/",
            [
                ("username", username),
                ("display_name", display),
                ("stage", "newborn"),
                ("password", "a-long-test-password-1"),
                ("adult", "on"),
                ("guidelines", "on"),
            ],
        )
        assert answer.status == 400, (display, answer.status)
    taken = stack.query(
        "SELECT username, display_name FROM accounts_user WHERE username IN ({})".format(
            ", ".join(["%s"] * len(made))
        ),
        tuple(made),
    )
    assert taken == [], taken
    # An ordinary name is accepted by the same form (so the refusals are not a broken form).
    ok = Http(stack.server.url).post_form(
        "/accounts/signup/",
        [
            ("username", f"look{secrets.token_hex(4)}"),
            ("display_name", f"Wren {secrets.token_hex(2)}"),
            ("stage", "newborn"),
            ("password", "a-long-test-password-1"),
            ("adult", "on"),
            ("guidelines", "on"),
        ],
    )
    assert ok.status == 302, ok.status


# --- lesser findings ---------------------------------------------------------------------------


def _connect_src(answer: Answer) -> list[str]:
    policy = answer.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    return directives["connect-src"]


def test_pages_may_open_sockets_to_the_site_only(stack: Stack) -> None:
    port = stack.server.port
    for host, page, who in (
        ("127.0.0.1", "/accounts/login/", None),
        ("localhost", "/accounts/login/", None),
        ("127.0.0.1", f"/rooms/{ROOM}/", AUTHOR),
    ):
        visitor = as_user(stack, who) if who else Http(stack.server.url)
        answer = visitor.get(page, headers={"Host": f"{host}:{port}"})
        assert answer.status == 200, (page, answer.status)
        sources = _connect_src(answer)
        assert not {"ws:", "wss:", "*", "http:", "https:"} & set(sources), sources
        assert sources == ["'self'", f"ws://{host}:{port}"], sources


def test_an_oversized_body_to_the_moderation_api_is_its_json_413(stack: Stack) -> None:
    offset = stack.log_offset()
    moderator = as_user(stack, "relmod")
    moderator.get("/moderation/")
    big = 3 * 1024 * 1024  # beyond Django's 2.5 MiB DATA_UPLOAD_MAX_MEMORY_SIZE
    for body, content_type in (
        (('{"on_duty": false, "pad": "' + "x" * big + '"}').encode(), "application/json"),
        (("on_duty=false&pad=" + "x" * big).encode(), "application/x-www-form-urlencoded"),
    ):
        answer = moderator.request(
            "POST",
            "/api/moderation/duty",
            body,
            content_type,
            headers={"X-CSRFToken": moderator.cookies["csrftoken"]},
        )
        assert answer.status == 413, (content_type, answer.status, answer.text[:200])
        assert answer.headers.get_content_type() == "application/json"
        assert answer.json()["error"]["code"] == "too_large"
    assert on_duty(stack, "relmod")
    assert "Traceback" not in stack.server_log_since(offset)


async def test_a_formula_behind_an_invisible_character_is_escaped_in_the_csv_export(
    stack: Stack,
) -> None:
    tag = f"csv{secrets.token_hex(4)}"
    bodies = [
        f"\u200b=7+7 {tag}",  # zero-width space: not whitespace to strip()
        f"\ufeff=1+1 {tag}",  # byte-order mark
        f"\u2060@SUM(A1) {tag}",  # word joiner
        f"\uff1d1+1 {tag}",  # full-width equals sign
        f"plain words {tag}",
    ]
    ws = await _join(stack, AUTHOR)
    try:
        for n, body in enumerate(bodies):
            await ws.send(
                json.dumps({"type": "message.send", "client_id": f"{tag}-{n}", "body": body})
            )
            await next_frame(ws, "message.ack")
    finally:
        await ws.close()
    export = await asyncio.to_thread(
        as_user(stack, "relsup").get, f"/supervisor/messages/export.csv?q={tag}"
    )
    assert export.status == 200, export.status
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"), newline="")))
    text_column = next(k for k in rows[0] if k in ("text", "body"))
    cells = sorted(row[text_column] for row in rows)
    expected = sorted(("'" + b) if not b.startswith("plain") else b for b in bodies)
    assert cells == expected, cells
