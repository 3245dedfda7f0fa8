from moderation.practice.scoring import describe_expected, judge

ABUSE = [["hide", "warn"], ["hide", "mute"]]


def test_escalating_a_risk_message_is_right_at_once() -> None:
    verdict = judge(["escalate"], [["escalate"]], ["note"])
    assert verdict.decided and verdict.correct


def test_hiding_a_risk_message_is_a_mistake_at_once() -> None:
    verdict = judge(["hide"], [["escalate"]], ["note"])
    assert verdict.decided and verdict.correct is False
    assert verdict.wrong_actions == ("hide",)


def test_hide_then_warn_in_either_order_is_right_and_half_waits() -> None:
    assert not judge(["hide"], ABUSE, ["note"]).decided
    assert judge(["hide", "warn"], ABUSE, []).correct
    assert judge(["warn", "hide"], ABUSE, []).correct
    finished = judge(["hide"], ABUSE, [], finished=True)
    assert finished.decided and finished.correct is False


def test_a_note_is_never_wrong_on_its_own() -> None:
    assert not judge(["note"], [["dismiss"]], []).decided


def test_the_expectation_reads_as_a_sentence() -> None:
    assert (
        describe_expected(ABUSE)
        == "Hide the message and send a warning; or hide the message and mute her."
    )
