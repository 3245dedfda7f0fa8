"""Engine logic with stand-in models (see conftest): cooldowns, rate limits, clock, safety rules."""

from __future__ import annotations

import pytest

from moderation.facilitation.engine import EngineSettings, SessionInfo

from .conftest import TopicEmbedder, signals


def chat(engine, rows):
    prompts = []
    for t, author, text in rows:
        role = "facilitator" if author == "Sam" else "member"
        prompts += engine.on_message(t, author, role, text)
    return prompts


def test_opening_then_silence_from_the_start(make_engine) -> None:
    engine = make_engine()
    opening = engine.start(0)
    assert signals(opening) == [(0, "opening")]
    assert signals(engine.on_tick(179)) == []
    assert signals(engine.on_tick(200)) == [(180, "silence")]


def test_ticks_only_decide_delivery_not_timing(make_engine) -> None:
    rows = [(30, "Jo", "Hello all, rough night with the sleep again"), (400, "Aisha", "Hi Jo")]
    sparse = make_engine()
    sparse.start(0)
    out_sparse = chat(sparse, rows) + sparse.on_tick(3600)

    dense = make_engine()
    dense.start(0)
    out_dense = []
    for t in range(15, 3601, 15):
        out_dense += [p for p in chat(dense, [r for r in rows if t - 15 < r[0] <= t])]
        out_dense += dense.on_tick(t)

    assert out_sparse == out_dense
    assert (150, "unanswered") in signals(out_sparse)


def test_same_input_same_output(make_engine) -> None:
    def run():
        engine = make_engine()
        out = engine.start(0)
        out += chat(engine, [(10, "Jo", "first time here, hello everyone"), (500, "Bea", "hi")])
        return out + engine.on_tick(3600)

    assert run() == run()


def test_a_facilitator_reply_answers_and_breaks_the_silence(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    chat(engine, [(10, "Jo", "Does anyone else find the night feeds hardest?")])
    assert chat(engine, [(100, "Sam", "Lots of us do, Jo")]) == []
    # Neither "unanswered" at 130 nor "silence" at 190: both clocks restarted at 100.
    assert signals(engine.on_tick(279)) == []
    assert signals(engine.on_tick(280)) == [(280, "silence")]


def test_own_follow_up_does_not_count_as_an_answer(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    chat(
        engine,
        [
            (10, "Jo", "Does anyone else find the night feeds hardest?"),
            (40, "Jo", "Sorry, that came out wrong, I mean the 3am one"),
        ],
    )
    assert [(p.t, p.signal, p.target) for p in engine.on_tick(200)] == [(130, "unanswered", "Jo")]


def test_global_rate_limit_holds_discretionary_prompts_but_not_safety(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    out = chat(engine, [(10, "Priya", "Hi, first time here, my baby won't sleep")])
    out += chat(engine, [(20, "Lou", "Hello, I'm new too, first time posting")])
    out += engine.on_flag(30, "Kerry", "self_harm_risk")
    out += engine.on_tick(100)
    assert [(p.t, p.signal, p.target) for p in out] == [
        (10, "newcomer", "Priya"),
        (30, "check_in", "Kerry"),  # never held back by the rate limit
        (70, "newcomer", "Lou"),  # waited for the 60 s gap
    ]


def test_check_in_cooldown_is_per_person(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    out = engine.on_flag(10, "Kerry", "distress")
    out += engine.on_flag(20, "Kerry", "distress")
    out += engine.on_flag(30, "Jo", "abuse_disclosure")
    out += engine.on_flag(700, "Kerry", "distress")
    check_ins = [p for p in out if p.signal == "check_in"]
    assert [(p.t, p.target) for p in check_ins] == [(10, "Kerry"), (30, "Jo"), (700, "Kerry")]
    assert "Kerry" in check_ins[0].text and "distress" in out[0].reason


def test_one_person_venting_is_not_a_spiralling_room(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    rows = [(400 + 20 * i, "Jo", "Everything is awful and rubbish today") for i in range(8)]
    rows[1::2] = [(t, "Bea", "Oh no, I'm listening") for t, _, _ in rows[1::2]]
    assert "negativity" not in {p.signal for p in chat(engine, rows)}


def test_low_mood_from_several_people_is(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    names = ["Jo", "Bea", "Cat"]
    rows = [(400 + 20 * i, names[i % 3], "The sleep is all rubbish, I hate it") for i in range(8)]
    assert [p.t for p in chat(engine, rows) if p.signal == "negativity"] == [500]  # sixth message


def test_two_people_chatting_is_not_dominance(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    rows = [
        (400 + 20 * i, "Jo" if i % 5 else "Bea", "sleep sleep sleep all night") for i in range(12)
    ]
    assert "dominance" not in {p.signal for p in chat(engine, rows)}


def test_dominance_uses_the_roster_when_given(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    engine.on_presence(300, ["Jo", "Bea", "Cat", "Dee"])
    rows = [
        (400 + 20 * i, "Jo" if i % 5 else "Bea", "sleep sleep sleep all night") for i in range(10)
    ]
    out = chat(engine, rows)
    assert [(p.t, p.signal, p.target) for p in out] == [(580, "dominance", "Jo")]


def test_no_drift_while_people_say_hello(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    hellos = [
        (20 * i + 10, f"M{i % 3}", "Hello lovely people, how is everyone doing") for i in range(10)
    ]
    assert "drift" not in {p.signal for p in chat(engine, hellos)}
    later = [(400 + 20 * i, f"M{i % 3}", "Did anyone watch the match on telly") for i in range(6)]
    assert [p.t for p in chat(engine, later) if p.signal == "drift"] == [480]


def test_each_message_is_embedded_once(make_engine) -> None:
    embedder = TopicEmbedder()
    engine = make_engine(embedder=embedder)
    engine.start(0)
    chat(
        engine,
        [(400 + 20 * i, f"M{i % 3}", f"sleep is hard at night number {i}") for i in range(12)],
    )
    engine.on_tick(900)
    # Focus and anchors with the first window in one batch, then one new message at a time.
    assert sum(embedder.calls) == 1 + len(EngineSettings().drift_support_anchors) + 12


def test_restarted_engine_does_not_reopen_or_announce_passed_marks(make_engine) -> None:
    engine = make_engine()
    assert engine.start(3100) == []  # after the 10-minute mark
    out = engine.on_tick(3600)
    assert [(p.t, p.signal) for p in out if p.signal != "silence"] == [
        (3480, "time_check"),
        (3600, "closing"),
    ]


def test_after_closing_only_check_ins(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    engine.on_tick(3600)
    assert chat(engine, [(3610, "Jo", "first time here, was that the end?")]) == []
    assert engine.on_tick(4000) == []
    assert signals(engine.on_flag(4100, "Jo", "distress")) == [(4100, "check_in")]


def test_variants_rotate(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    texts = [p.text for p in engine.on_tick(3000) if p.signal == "silence"]
    assert len(texts) >= 3 and texts[0] != texts[1] != texts[2]


def test_time_cannot_go_backwards(make_engine) -> None:
    engine = make_engine()
    engine.start(0)
    engine.on_tick(100)
    with pytest.raises(ValueError, match="backwards"):
        engine.on_message(50, "Jo", "member", "hello")
    with pytest.raises(ValueError, match="role"):
        engine.on_message(150, "Jo", "admin", "hello")  # type: ignore[arg-type]


def test_short_session_schedules_checks_inside_it(make_engine) -> None:
    engine = make_engine(session=SessionInfo(focus="Feeding", duration_minutes=15))
    out = engine.start(0) + engine.on_tick(900)
    assert [(p.t, p.signal) for p in out if p.signal != "silence"] == [
        (0, "opening"),
        (300, "time_check"),
        (780, "time_check"),
        (900, "closing"),
    ]
