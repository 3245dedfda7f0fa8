"""Web Push with her consent (issue 21): the server's encrypted delivery, checked against a local
push service that decrypts what it receives with the test subscription's own keys (RFC 8291,
aes128gcm) and verifies the VAPID signature (RFC 8292); what is and is not sent; the API's
validation; and what Settings says when push is not configured."""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.urls import reverse

from chat import actions
from chat.notifications.actions import deliver, notify_member
from chat.notifications.management.commands.generate_vapid_keys import new_vapid_keys
from chat.notifications.models import PushSubscription
from moderation.models import AuditEntry

pytestmark = pytest.mark.django_db


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LocalPushService:
    """A push service on 127.0.0.1 that records each message and answers `status`."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 201
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.received.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                self.send_response(service.status)
                self.end_headers()

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """What a browser's PushManager makes: an endpoint at its push service and a key pair whose
    private half never leaves the device."""

    def __init__(self, service: LocalPushService) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = f"{service.origin}/push/{b64url(os.urandom(12))}"

    def subscription(self, kinds: list[str] | None = None) -> dict:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        data = {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }
        if kinds is not None:
            data["kinds"] = kinds
        return data

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


@pytest.fixture
def push_service(settings):  # noqa: ANN001, ANN201
    private, public = new_vapid_keys()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:ops@kindred.test"
    settings.WEBPUSH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBPUSH_INSECURE_TEST_HOSTS = ["127.0.0.1"]
    settings.WEBPUSH_DELIVERY = "inline"
    service = LocalPushService()
    yield service
    service.close()


def subscribe(client, browser: Browser, kinds: list[str] | None = None):  # noqa: ANN001, ANN201
    return client.post(
        reverse("push_subscription_api"),
        json.dumps(browser.subscription(kinds)),
        content_type="application/json",
    )


def verify_vapid(headers: dict, audience: str) -> dict:
    """The Authorization header is `vapid t=<JWT>, k=<our public key>`: check the ES256
    signature with that key, which must be the configured one, and return the claims."""
    from django.conf import settings

    auth = headers["authorization"]
    assert auth.startswith("vapid ")
    fields = dict(part.strip().split("=", 1) for part in auth[len("vapid ") :].split(","))
    assert fields["k"] == settings.WEBPUSH_VAPID_PUBLIC_KEY
    header, claims, signature = fields["t"].split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    decoded = json.loads(unb64url(claims))
    assert decoded["aud"] == audience and decoded["sub"] == "mailto:ops@kindred.test"
    return decoded


def post(user, room, text, *, reply_to=None):  # noqa: ANN001, ANN201
    message, _ = actions.check_send_message(
        author=user,
        room=room,
        client_id=f"n{abs(hash((user.pk, text))) % 10**12:012d}",
        body=text,
        reply_to=reply_to,
    )
    return message


def test_a_reply_reaches_her_encrypted_and_says_nothing_of_what_was_written(
    client, member, other_member, newborn_room, push_service, django_capture_on_commit_callbacks
):  # noqa: ANN001
    browser = Browser(push_service)
    client.force_login(member)
    answer = subscribe(client, browser)
    assert answer.status_code == 201
    assert answer.json()["kinds"] == ["reply", "checkin", "session"]
    assert AuditEntry.objects.filter(action="notifications.subscribed", target_user=member).exists()

    mine = post(member, newborn_room, "Does anyone else dread the 3am feed?")
    with django_capture_on_commit_callbacks(execute=True):
        post(other_member, newborn_room, "Every single night, you are not alone", reply_to=mine.seq)

    assert len(push_service.received) == 1
    request = push_service.received[0]
    assert request["path"] == "/push/" + browser.endpoint.rsplit("/", 1)[1]
    headers = request["headers"]
    assert headers["content-encoding"] == "aes128gcm"
    assert int(headers["ttl"]) > 0
    verify_vapid(headers, push_service.origin)
    # Only her browser's private key opens it.
    assert b"alone" not in request["body"] and b"New reply" not in request["body"]
    payload = browser.decrypt(request["body"])
    assert payload == {
        "title": "New reply",
        "body": "Someone replied to you.",
        "url": "/rooms/newborn/",
        "tag": "kindred-reply",
        "kind": "reply",
    }
    assert "alone" not in json.dumps(payload) and "Bea" not in json.dumps(payload)
    assert PushSubscription.objects.get(user=member).last_sent_at is not None


def test_no_notification_without_her_consent_for_that_kind_or_to_herself(
    client, member, other_member, newborn_room, push_service, django_capture_on_commit_callbacks
):  # noqa: ANN001
    browser = Browser(push_service)
    client.force_login(member)
    assert subscribe(client, browser, kinds=["checkin"]).status_code == 201
    mine = post(member, newborn_room, "Anyone awake?")
    with django_capture_on_commit_callbacks(execute=True):
        post(other_member, newborn_room, "I am!", reply_to=mine.seq)  # replies: not chosen
        post(member, newborn_room, "Talking to myself", reply_to=mine.seq)  # her own
        post(other_member, newborn_room, "No reply to anyone")
    assert push_service.received == []
    # Other members, who never turned notifications on, get nothing either.
    theirs = post(other_member, newborn_room, "Hello")
    with django_capture_on_commit_callbacks(execute=True):
        post(member, newborn_room, "Hi Bea", reply_to=theirs.seq)
    assert push_service.received == []
    # The kind she chose, for other code to use (a private check-in).
    with django_capture_on_commit_callbacks(execute=True):
        notify_member(member, "checkin", "/checkins/1/")
    assert browser.decrypt(push_service.received[0]["body"])["title"] == "New private message"


def test_a_subscription_the_push_service_says_is_gone_is_forgotten(client, member, push_service):  # noqa: ANN001
    client.force_login(member)
    subscribe(client, Browser(push_service))
    push_service.status = 410
    assert deliver(member.pk, "reply", {"title": "t", "body": "b", "url": "/"}) == 0
    assert not PushSubscription.objects.filter(user=member).exists()


def test_the_api_refuses_endpoints_outside_the_push_services_and_bad_keys(
    client, member, push_service, settings
):  # noqa: ANN001
    settings.WEBPUSH_ALLOWED_HOSTS = ["fcm.googleapis.com"]
    settings.WEBPUSH_INSECURE_TEST_HOSTS = []
    client.force_login(member)
    browser = Browser(push_service)
    good = browser.subscription()
    for endpoint in (
        "http://10.0.0.5/push/x",
        "https://169.254.169.254/latest",
        "https://fcm.googleapis.com.evil.example/push",
        "http://fcm.googleapis.com/fcm/send/x",
        "javascript:alert(1)",
    ):
        answer = client.post(
            reverse("push_subscription_api"),
            json.dumps({**good, "endpoint": endpoint}),
            content_type="application/json",
        )
        assert answer.status_code == 400, endpoint
        assert answer.json()["error"]["code"] == "validation"
    ok = {**good, "endpoint": "https://fcm.googleapis.com/fcm/send/abc123"}
    assert (
        client.post(
            reverse("push_subscription_api"), json.dumps(ok), content_type="application/json"
        ).status_code
        == 201
    )
    bad_key = {**ok, "keys": {"p256dh": "AAAA", "auth": good["keys"]["auth"]}}
    assert (
        client.post(
            reverse("push_subscription_api"), json.dumps(bad_key), content_type="application/json"
        ).status_code
        == 400
    )
    assert (
        client.post(
            reverse("push_subscription_api"), "not json", content_type="application/json"
        ).status_code
        == 400
    )
    assert (
        client.post(
            reverse("push_subscription_api"),
            json.dumps({**ok, "kinds": ["gossip"]}),
            content_type="application/json",
        ).status_code
        == 400
    )
    # Turning off on this device.
    gone = client.delete(
        reverse("push_subscription_api"),
        json.dumps({"endpoint": ok["endpoint"]}),
        content_type="application/json",
    )
    assert gone.json() == {"removed": True}
    client.logout()
    assert (
        client.post(
            reverse("push_subscription_api"), json.dumps(ok), content_type="application/json"
        ).status_code
        == 401
    )


def test_settings_say_when_push_is_not_configured_and_nothing_is_sent(client, member, settings):  # noqa: ANN001
    settings.WEBPUSH_VAPID_PRIVATE_KEY = settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    client.force_login(member)
    page = client.get(reverse("member_settings")).content.decode()
    assert "Notifications are not set up on this Kindred server" in page
    assert 'id="push-controls"' not in page
    answer = client.post(
        reverse("push_subscription_api"),
        json.dumps({"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {}}),
        content_type="application/json",
    )
    assert answer.status_code == 503
    notify_member(member, "reply", "/rooms/newborn/")  # a no-op, not an error


def test_settings_offer_notifications_when_configured(client, member, push_service):  # noqa: ANN001
    client.force_login(member)
    page = client.get(reverse("member_settings")).content.decode()
    assert 'id="push-controls"' in page
    assert "never show what anyone wrote" in page
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker["Service-Worker-Allowed"] == "/"
    assert "showNotification" in worker.content.decode()


def test_export_and_erasure_cover_her_devices(client, member, push_service):  # noqa: ANN001
    from accounts.actions import do_erase_account, do_export_member_data

    client.force_login(member)
    subscribe(client, Browser(push_service))
    data = do_export_member_data(member, acting_user=member)
    assert data["notification_devices"][0]["kinds"] == ["reply", "checkin", "session"]
    assert "endpoint" not in json.dumps(data["notification_devices"])
    do_erase_account(member, acting_user=member)
    assert not PushSubscription.objects.filter(user_id=member.pk).exists()


def test_a_moderators_check_in_line_reaches_her_as_a_private_message_notice(
    client, member, moderator, push_service, django_capture_on_commit_callbacks
):  # noqa: ANN001
    from moderation.checkins.actions import do_open_checkin

    browser = Browser(push_service)
    client.force_login(member)
    subscribe(client, browser, kinds=["checkin"])
    with django_capture_on_commit_callbacks(execute=True):
        checkin, _ = do_open_checkin(
            member=member, acting_user=moderator, text="Hi, I saw your message. How are you?"
        )
    assert len(push_service.received) == 1
    payload = browser.decrypt(push_service.received[0]["body"])
    assert payload["title"] == "New private message"
    assert payload["url"] == f"/checkins/{checkin.pk}/"
    assert "How are you" not in json.dumps(payload)


def test_logging_out_turns_notifications_off_on_that_device_only(
    client, member, other_member, push_service, django_capture_on_commit_callbacks
):  # noqa: ANN001
    from django.test import Client

    phone, laptop, earlier = (Browser(push_service) for _ in range(3))
    client.force_login(member)
    assert subscribe(client, phone).status_code == 201
    on_laptop = Client()
    on_laptop.force_login(member)
    assert subscribe(on_laptop, laptop).status_code == 201
    # Turned on from this phone's browser in a session that expired without a logout: the page
    # names it in the logout form (push-logout.js). Someone else's endpoint named there stays.
    PushSubscription.objects.create(
        user=member, endpoint=earlier.endpoint, p256dh="x" * 87, auth="y" * 22
    )
    theirs = Browser(push_service)
    PushSubscription.objects.create(
        user=other_member, endpoint=theirs.endpoint, p256dh="x" * 87, auth="y" * 22
    )

    response = client.post(reverse("logout"), {"push_endpoint": earlier.endpoint})
    assert response.status_code == 302
    mine = set(PushSubscription.objects.filter(user=member).values_list("endpoint", flat=True))
    assert mine == {laptop.endpoint}
    assert PushSubscription.objects.filter(user=other_member).exists()
    client.post(reverse("logout"), {"push_endpoint": theirs.endpoint})  # logged out already
    assert PushSubscription.objects.filter(user=other_member).exists()
    assert (
        AuditEntry.objects.filter(
            action="notifications.unsubscribed", target_user=member, actor=member
        ).count()
        == 2
    )

    # The phone gets nothing now; the laptop still does.
    with django_capture_on_commit_callbacks(execute=True):
        notify_member(member, "checkin", "/checkins/1/")
    assert [r["path"] for r in push_service.received] == ["/" + laptop.endpoint.split("/", 3)[3]]


def test_a_device_found_in_settings_is_turned_off_when_she_logs_out_there(
    client, member, push_service
):  # noqa: ANN001
    phone = Browser(push_service)
    PushSubscription.objects.create(
        user=member, endpoint=phone.endpoint, p256dh="x" * 87, auth="y" * 22
    )
    client.force_login(member)
    # Settings asks what this device gets: only this browser knows its endpoint.
    found = client.get(reverse("push_subscription_api"), {"endpoint": phone.endpoint})
    assert found.status_code == 200
    client.post(reverse("quick_exit"))
    assert not PushSubscription.objects.filter(user=member).exists()


def test_turning_off_in_settings_then_logging_out_removes_nothing_else(
    client, member, push_service
):  # noqa: ANN001
    phone = Browser(push_service)
    client.force_login(member)
    subscribe(client, phone)
    client.generic(
        "DELETE",
        reverse("push_subscription_api"),
        json.dumps({"endpoint": phone.endpoint}),
        content_type="application/json",
    )
    assert client.session.get("kindred_push_endpoints") == []
    client.post(reverse("logout"))
    assert AuditEntry.objects.filter(action="notifications.unsubscribed").count() == 1
