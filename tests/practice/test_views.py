"""The practice console and the supervisors' training pages over HTTP."""

from __future__ import annotations

import json

import pytest

from accounts.models import Role
from moderation.models import AuditEntry
from moderation.practice.models import PracticeAttempt, Scenario
from tests.practice.conftest import client_for, post

pytestmark = pytest.mark.django_db


def test_the_trainee_sees_the_practice_console_with_a_practice_link(trainee) -> None:
    page = client_for(trainee).get("/practice/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Practice queue" in html and "Nothing you do here reaches anyone" in html
    assert 'href="/practice/"' in html  # in her navigation


def test_the_queue_has_the_real_consoles_shape_and_no_answers_before_she_decides(
    trainee, small_pass_mark
) -> None:
    data = client_for(trainee).get("/api/practice/queue").json()
    assert len(data["items"]) == 6
    item = data["items"][0]
    for key in (
        "id",
        "category",
        "priority",
        "escalated",
        "state",
        "reasons",
        "waiting_seconds",
        "target_seconds",
        "message",
    ):
        assert key in item
    assert item["message"]["author"]["display_name"] and item["message"]["body"]
    text = json.dumps(data)
    for scenario in Scenario.objects.filter(pk__in=PracticeAttempt.objects.values("scenario")):
        assert (
            scenario.explanation not in text
        )  # the answer is never on the page before she decides
    assert all("feedback" not in i for i in data["items"])
    detail = client_for(trainee).get(f"/api/practice/items/{item['id']}").json()
    assert detail["context"]["message"]["is_flagged_message"] is True
    assert "feedback" not in detail["flag"]


def test_a_decision_answers_with_feedback_and_progress(trainee, small_pass_mark) -> None:
    items = client_for(trainee).get("/api/practice/queue").json()["items"]
    risk = next(i for i in items if i["escalated"])
    base = f"/api/practice/items/{risk['id']}"
    refused = post(trainee, f"{base}/escalate", {"note": "worried"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_claimed"
    assert post(trainee, f"{base}/claim").json()["flag"]["claimed_by"] == "Vera"
    missing = post(trainee, f"{base}/escalate", {"note": ""})
    assert missing.status_code == 400
    done = post(trainee, f"{base}/escalate", {"note": "She wants to die"}).json()
    assert done["flag"]["feedback"]["correct"] is True
    assert done["flag"]["feedback"]["explanation"]
    assert done["progress"]["risk"]["within_target"] == 1


def test_bad_input_is_a_typed_error_never_a_500(trainee, small_pass_mark) -> None:
    item = client_for(trainee).get("/api/practice/queue").json()["items"][0]
    base = f"/api/practice/items/{item['id']}"
    post(trainee, f"{base}/claim")
    client = client_for(trainee)
    assert (
        client.post(f"{base}/hide", "not json", content_type="application/json").status_code == 400
    )
    assert client.post(f"{base}/hide", "[1]", content_type="application/json").status_code == 400
    assert post(trainee, f"{base}/mute", {"minutes": "soon"}).status_code == 400
    assert post(trainee, f"{base}/mute", {"minutes": 3}).status_code == 400
    assert post(trainee, f"{base}/teleport").status_code == 404
    assert post(trainee, "/api/practice/items/999999/claim").status_code == 404
    assert client.get(f"{base}/hide").status_code == 405


@pytest.mark.parametrize("path", ["/practice/", "/practice/record/", "/api/practice/queue"])
def test_members_are_refused_the_practice_console(member, path, caplog) -> None:
    response = client_for(member).get(path)
    assert response.status_code == 403
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert client_for(None).get(path).status_code in (302, 401)


def test_a_trainee_never_sees_or_acts_on_real_members_messages_over_http(
    trainee, real_flag, caplog
) -> None:
    client = client_for(trainee)
    for path in (
        "/moderation/",
        "/api/moderation/queue",
        f"/api/moderation/flags/{real_flag.pk}",
        "/supervisor/training/",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert real_flag.message.body not in response.content.decode()
    for action in ("claim", "hide", "dismiss", "warn", "escalate", "suspend"):
        response = post(
            trainee, f"/api/moderation/flags/{real_flag.pk}/{action}", {"note": "x", "reason": "x"}
        )
        assert response.status_code == 403, action
    real_flag.refresh_from_db()
    assert real_flag.state == "open" and real_flag.claimed_by is None
    assert real_flag.message.state == "visible"
    # Nor can a practice item id reach a real flag.
    response = client.get(f"/api/practice/items/{real_flag.pk}")
    assert real_flag.message.body not in response.content.decode()
    assert client.post("/api/moderation/duty", {"on_duty": True}).status_code == 403


def test_the_supervisor_makes_a_volunteer_a_trainee_and_sets_the_pass_mark(
    volunteer, supervisor
) -> None:
    response = client_for(supervisor).post(
        f"/supervisor/people/{volunteer.pk}/role/",
        {"role": "trainee", "reason": "starting training"},
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.role == Role.TRAINEE
    # Straight to moderator is refused with a reason she can act on.
    refused = client_for(supervisor).post(
        f"/supervisor/people/{volunteer.pk}/role/", {"role": "moderator"}, follow=True
    )
    assert "has not been signed off after training" in refused.content.decode()
    page = client_for(supervisor).get("/supervisor/training/")
    assert page.status_code == 200 and "Vera" in page.content.decode()
    saved = client_for(supervisor).post(
        "/supervisor/training/",
        {
            "pass_accuracy_pct": 90,
            "all_risk_correct": "on",
            "risk_within_target": "on",
            "min_scenarios": 40,
            "queue_size": 6,
            "reason": "tighter",
        },
    )
    assert saved.status_code == 302
    assert AuditEntry.objects.filter(action="practice.pass_mark_changed", reason="tighter").exists()


def test_the_supervisor_writes_a_scenario(supervisor) -> None:
    response = client_for(supervisor).post(
        "/supervisor/training/scenarios/new/",
        {
            "title": "Night feed vent",
            "kind": "distress",
            "risk_family": "",
            "category": "distress",
            "priority": "low",
            "room_name": "Sleep and night feeds",
            "author_name": "Ottoline",
            "body": "Up again. So tired I cried into the bottle",
            "before": "Fenna: Anyone else awake?",
            "after": "",
            "reports": "",
            "reasons": '[{"rule": "member.report"}]',
            "expected": "dismiss\napprove",
            "acceptable": ["note"],
            "explanation": "Tiredness, honestly told. Dismiss.",
            "is_active": "on",
            "position": 999,
            "reason": "more night-time distress",
        },
    )
    assert response.status_code == 302, response.content.decode()[:800]
    scenario = Scenario.objects.get(title="Night feed vent")
    assert scenario.expected == [["dismiss"], ["approve"]]
    assert scenario.before == [{"author": "Fenna", "text": "Anyone else awake?"}]
    assert scenario.sources == ["report"]
    assert AuditEntry.objects.filter(action="practice.scenario_created").exists()
    edit = client_for(supervisor).get(f"/supervisor/training/scenarios/{scenario.pk}/")
    assert "Fenna: Anyone else awake?" in edit.content.decode()


def test_the_analytics_page_links_agreement_to_training_records(supervisor, trainee) -> None:
    page = client_for(supervisor).get("/supervisor/analytics/").content.decode()
    assert "Training" in page and "/supervisor/training/" in page


def test_the_person_page_shows_her_record_and_sign_off(supervisor, trainee) -> None:
    page = client_for(supervisor).get(f"/supervisor/training/people/{trainee.pk}/").content.decode()
    assert "Training record" in page and "not met the pass mark" in page


def test_sign_off_over_http_is_refused_until_she_passes(supervisor, trainee) -> None:
    response = client_for(supervisor).post(
        f"/supervisor/training/people/{trainee.pk}/sign-off/", {"note": "x"}, follow=True
    )
    assert "has not met the pass mark yet" in response.content.decode()
    trainee.refresh_from_db()
    assert trainee.role == Role.TRAINEE
    assert not AuditEntry.objects.filter(action="practice.signed_off").exists()


def test_a_supervisor_requires_a_refresher_and_the_moderator_sees_it(supervisor, moderator) -> None:
    risk = list(Scenario.objects.filter(kind="risk").values_list("pk", flat=True)[:3])
    response = client_for(supervisor).post(
        f"/supervisor/training/people/{moderator.pk}/refresher/",
        {
            "scenarios": risk,
            "reason": "Two second reviews disagreed on risk",
            "due_by": "2030-01-31",
        },
        follow=True,
    )
    assert "Refresher set for Morgan" in response.content.decode()
    data = client_for(moderator).get("/api/practice/queue").json()
    assert data["refresher"]["reason"] == "Two second reviews disagreed on risk"
    assert {i["escalated"] for i in data["items"]} == {True} and len(data["items"]) == 3
    overview = client_for(supervisor).get("/supervisor/training/").content.decode()
    assert "Refreshers due" in overview and "Morgan" in overview
    empty = client_for(supervisor).post(
        f"/supervisor/training/people/{moderator.pk}/refresher/", {"reason": ""}, follow=True
    )
    assert empty.status_code == 200 and "required" in empty.content.decode()


def test_a_scenario_with_broken_fields_is_explained_not_saved(supervisor) -> None:
    response = client_for(supervisor).post(
        "/supervisor/training/scenarios/new/",
        {
            "title": "Broken",
            "kind": "abuse",
            "category": "toxic",
            "priority": "high",
            "room_name": "Baby",
            "author_name": "Nel",
            "body": "x",
            "before": "no colon here",
            "reasons": "{not json",
            "expected": "hide + shout",
            "explanation": "x",
            "position": 1,
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Not valid JSON." in page
        and "unknown action shout" in page
        and "Name: what she wrote" in page
    )
    assert not Scenario.objects.filter(title="Broken").exists()
