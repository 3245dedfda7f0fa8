"""Risk coverage by clinical family, and the everyday phrasings that must stay quiet.

These phrasings were written for the risk-rule widening (docs/moderation-quality.md, "Risk rule
families"); they are a development set, not a holdout. ``holdout3_messages.jsonl`` is the unseen
check and is only asserted on invariants here (no ok message escalated), never on recall.
"""

from __future__ import annotations

import pytest

from moderation.policy import MemberState, assess, decide_inline
from moderation.rules import rule_signals
from tests.moderation.conftest import load_labelled

# family -> phrasings that must escalate (inline rules alone, before delivery)
RISK: dict[str, list[str]] = {
    "method_means": [
        "I've looked up the bridge near us",
        "googled how high the multi storey is",
        "i keep researching ways to die",
        "I've been stockpiling my sertraline",
        "Been saving up paracetamol for weeks",
        "I have a stash of co-codamol hidden in my wardrobe",
        "I'm hiding my tablets from my husband just in case",
        "I keep thinking I should swallow everything in the bathroom cabinet medicine box",
        "I want to take all my pills at once",
        "thinking of necking the whole packet of tablets tonight",
        "how many propranolol would it take",
        "what's a lethal dose of citalopram",
        "I keep thinking about stepping in front of a train",
        "I thought about jumping off the car park roof",
        "nearly swerved into a lorry on the motorway on purpose, part of me wanted to",
        "I could just drive the car into a tree",
        "I thought about how easy it would be to just step off the platform",
        "I went and stood on the bridge last night thinking about it",
        "I've bought a rope and I know where I'd tie it",
        "I've made a noose",
        "I've made a plan to end my life",
        "I know exactly how I'd do it",
        "I've written goodbye letters",
        "I'm putting my affairs in order",
    ],
    "passive_ideation": [
        "I've had enough of living",
        "honestly so tired of being alive",
        "I can't do life any more",
        "sick of life tbh",
        "I just want it all to stop",
        "I want everything to end",
        "I wish I wasn't here",
        "I wish I'd never been born",
        "I hope I don't wake up tomorrow",
        "I'd rather be dead",
        "I wouldn't mind if a bus hit me",
        "everyone would be happier without me",
        "the kids are better off without me",
        "I'm just a burden to everyone",
        "There's no way out of this for me",
        "i cant see a way out",
        "life isn't worth living like this",
        "This is my last message, thank you for everything x",
        "by the time you read this it'll be done",
        "please tell my babies I love them",
        "I can't keep myself safe",
        "I don't think I can keep myself safe tonight",
        "been thinking about ending it",
        "i dont want 2 be here any more",
        "every1 wud b better off without me",
        "i just wanna die",
        "feeling sucidal again",
    ],
    "self_harm": [
        "I've started scratching my arms again",
        "I keep picking my skin until it bleeds",
        "I burnt my arm with a lighter again to feel something",
        "I hit my legs until they bruise when it gets too much",
        "I relapsed with sh last night",
        "the urge to cut is so strong tonight",
        "really fighting the urges tonight",
        "I've been cutting again",
        "started cutting again after 3 years clean",
        "I keep hurting myself",
        "I've hidden razor blades in my room",
        "I held the knife to my wrist",
    ],
    "harm_to_baby": [
        "I keep having thoughts of shaking her",
        "I get images of drowning him in the bath",
        "I keep picturing myself throwing her down the stairs",
        "intrusive thoughts about smothering him won't stop",
        "I had a flash of dropping her off the balcony",
        "pictures in my head of holding him under the water",
        "I'm scared I'll hurt the baby",
        "what if I snap and shake him",
        "I don't trust myself with her",
        "I'm frightened of myself around the baby",
        "I nearly shook him so hard last night",
        "I felt like throwing him across the room",
        "the baby would be safer without me",
        "a voice keeps telling me to hurt her",
        "I'm sure someone has swapped my baby",
    ],
    "abuse_coercive_control": [
        "He locked me in the bedroom all night",
        "my husband locks me out of the house when he's angry",
        "He took my phone so I couldn't call my mum",
        "He's taken my keys and my bank card",
        "he smashed my phone",
        "my partner reads all my texts",
        "he checks my phone every night",
        "he tracks my location and goes mad if I'm late",
        "My husband controls all the money",
        "I have to ask him for money for anything",
        "he gives me an allowance and I have to show receipts",
        "I'm not allowed to see my friends",
        "I'm not allowed out without him",
        "my partner won't let me see my family",
        "he won't let me talk to my mum",
        "he says he'll take the baby and I'll never see her again",
        "he threatens to have me sectioned",
        "if I leave he says he'll take the kids",
        "he keeps saying he'll tell social services I'm unfit",
        "he pushed me against the wall",
        "he put his hands round my throat",
        "my boyfriend hits me when he's drunk",
        "I'm scared of what he'll do when he gets home",
        "I'm scared he will hurt me",
        "I'm so scared of him",
        "he shouts and I'm walking on eggshells all the time",
        "is this coercive control?",
    ],
}

# phrasings that must NOT escalate: everyday idiom, accidents, ordinary family life
QUIET: list[str] = [
    # the brief's idioms
    "I could murder a cup of tea",
    "my feet are killing me",
    "nearly died laughing",
    "this baby will be the death of me lol",
    "I'm dying for a wee",
    "I'd kill for a lie-in",
    "the regression nearly broke us",
    "I'm so done with nappies",
    "took his phone off him because he was on it all night",
    "locked myself out of the house again",
    # phone/keys/money without control
    "He took my phone off me at tea time, said I'm always on it lol",
    "he took my phone off me again because I was doomscrolling at 2am, fair",
    "my husband took my car keys to work by mistake, stuck at home",
    "he took my bank card to do the big shop",
    "my husband checks the bank account every week, he's the saver",
    "my husband does all the budgeting, works for us",
    "I took my phone into the bathroom to get some peace",
    # locks and doors
    "my toddler locked me out of the bathroom lol",
    "the car locked itself with the keys inside",
    "they locked me out of my online banking again",
    "I'm not allowed to drive for six weeks after the section",
    "not allowed out of bed yet after the section",
    "I'm not allowed caffeine while breastfeeding, send help",
    "my husband won't let me do the night feeds this week, he's a star",
    "my partner says he'll take the baby out tomorrow so I can sleep",
    "my husband says he'll take the kids swimming on Sunday",
    "he won't let me put him down",
    "he kicked me all night, definitely a footballer",
    "she headbutted me during the night feed lol",
    "my toddler keeps hitting my legs when I'm on the phone",
    "I'm scared of him waking up if I move",
    "I'm terrified of him rolling off the bed",
    "I'm scared of going back to work",
    # means words in ordinary use
    "stocked up on paracetamol and Calpol for teething",
    "I hid the paracetamol from the toddler, he climbs everything",
    "collecting my tablets from the chemist later",
    "how many paracetamol can I take while breastfeeding?",
    "I took all my tablets today like the GP said",
    "I'll take all the help I can get",
    "she tries to swallow everything she finds",
    "we took the train over the bridge to see nanny",
    "I looked up the train times for tomorrow",
    "looked up Tower Bridge opening times for our trip",
    "stepped off the train with the pram and nearly cried with relief",
    "drove into the multi storey and couldn't find a space",
    "my milk supply fell off a cliff this week",
    "we'll cross that bridge when we come to it",
    "the only way out is through x",
    "there's no way out of this car park",
    "I'm at the end of my rope with this teething",
    "we're sorting our wills now the baby is here",
    "this is my last post before we go on holiday",
    "my last post was about reflux, update: it's better",
    "bye everyone, off to bed x",
    "I'd rather die than go back to that baby group",
    # cutting / scratching / burning / hitting
    "cut myself chopping onions lol",
    "I'm cutting out dairy for her reflux",
    "been cutting back on caffeine",
    "we did cutting and sticking all afternoon",
    "I burnt my arm on the oven again, I never learn",
    "scratching my legs all night, the eczema is awful again",
    "the baby keeps scratching my arms again, need to cut her nails",
    "I'm banging my head against a brick wall with this nap schedule",
    "urges to push came at 6cm",
    # baby
    "any ideas about dropping the dream feed?",
    "thoughts on dropping her nap?",
    "I had a dream about dropping my phone in the toilet",
    "I nearly dropped her in the bath, so scary",
    "shook the bottle so hard the lid came off",
    "the baby is evil today lol",
    "I keep worrying something will happen to her",
    # ideation look-alikes
    "taking things one day at a time",
    "I've had enough of this weather",
    "I'm fed up of the rain",
    "so tired of feeling like this",
    "I just want the crying to stop",
    "I want the sleep regression to end",
    "I'd never hurt myself, don't worry",
    "I would never hurt my baby",
    "I'm thinking of ending it with breastfeeding soon",
    "she settles better without me in the room",
    "we're going to take things slowly with weaning",
    "no point buying the big pack",
    "if I wasn't here to do bedtime she'd scream",
    "I'm dead on my feet",
    "this heatwave is killing me",
    "I'm ready to give up on this weaning malarkey",
    "I'm hearing voices downstairs, I think my mum's arrived",
    # second probe round (false alarms found and fixed)
    "picking at my skin again, it's my anxiety habit",
    "done with life admin for today",
    "sick of life being nothing but nappies and laundry",
    "the weekend can't come soon enough, want it all to be over with this week",
    "he threatened to take the dog to the vet if it barks again lol",
    "I bite my nails until they bleed, terrible habit",
    "my husband took the baby off me so I could shower",
    "the midwife took the baby off me to weigh her",
    "He took the kids to his mum's for the weekend so I could rest",
    "If I leave the baby with him he will take her to the park",
    "If I tell him he'll just say I'm tired",
    "I'm scared he'll hit his head on the coffee table",
    "I'm not allowed to leave until the paediatrician has seen her",
    "I'll take them all to the park tomorrow",
    "we stood on the bridge and watched the trains, she loved it",
    "My toddler keeps biting my arms again, any tips?",
    "I've given away all my maternity stuff",
    "this is my last night shift before mat leave",
]


@pytest.mark.parametrize("family,text", [(f, t) for f, ts in RISK.items() for t in ts])
def test_risk_family_escalates_inline(family: str, text: str) -> None:
    decision = decide_inline(rule_signals(text), MemberState())
    assert decision.action == "escalate" and decision.category == "risk", (family, text)


@pytest.mark.parametrize("text", QUIET)
def test_everyday_phrasing_is_not_risk(text: str) -> None:
    signals = rule_signals(text)
    assert not signals.risk, [(m.id, m.span) for m in signals.risk]


@pytest.mark.parametrize(
    "text",
    [
        "I'd never take all my pills, don't worry",
        "I would never jump off a bridge",
        "he has never hit me",
        "I haven't been cutting again, 2 years clean",
    ],
)
def test_negated_method_and_abuse_statements_are_not_risk(text: str) -> None:
    assert not rule_signals(text).risk, [m.id for m in rule_signals(text).risk]


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to hurt her but I keep getting images of drowning her",
        "I'd never act on it but I keep having flashes of throwing him",
    ],
)
def test_intrusive_thoughts_escalate_even_with_i_would_never(text: str) -> None:
    """Mothers disclose intrusive thoughts with a disclaimer; the disclaimer must not hide them."""
    assert rule_signals(text).risk


def test_distress_without_risk_stays_distress() -> None:
    for text in [
        "I'm a useless mum",
        "I feel like such a failure",
        "I can't cope with the crying any more",
    ]:
        d = decide_inline(rule_signals(text), MemberState())
        assert (d.action, d.category) == ("allow", "distress"), text


@pytest.mark.parametrize(
    "dataset",
    [
        "dev_messages.jsonl",
        "wider_messages.jsonl",
        "holdout_messages.jsonl",
        "holdout2_messages.jsonl",
    ],
)
def test_rules_catch_every_crisis_message_in_the_seen_sets(dataset: str) -> None:
    rows = load_labelled(dataset)
    decisions = assess([r["text"] for r in rows], None)
    missed = [
        r["text"]
        for r, d in zip(rows, decisions)
        if r["label"] == "crisis" and d.category != "risk"
    ]
    false_alarms = [
        r["text"]
        for r, d in zip(rows, decisions)
        if r["label"] != "crisis" and d.category == "risk"
    ]
    assert not missed, missed
    assert not false_alarms, false_alarms


def test_holdout3_never_escalates_an_ok_message() -> None:
    """holdout3 is reported, not tuned on (docs/moderation-quality.md); only the invariant is asserted."""
    rows = load_labelled("holdout3_messages.jsonl")
    decisions = assess([r["text"] for r in rows], None)
    assert not [
        r["text"] for r, d in zip(rows, decisions) if r["label"] == "ok" and d.action == "escalate"
    ]
