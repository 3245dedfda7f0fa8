"""The starter set of practice scenarios, written for Kindred.

Every name, room and sentence here is made up for training; none is a real member's message and
none comes from a public data set. Supervisors edit the scenarios in the database afterwards
(/supervisor/training/scenarios/); this list only seeds the ones that are missing, by slug
(migration practice.0002 and `manage.py seed_practice_scenarios`).

Expected actions: a list of sets, any one of which is right; `acceptable` actions are not wrong
beside them. The explanation is what a supervisor would say, kindly, to a trainee who got it
wrong, and it is shown to everyone after the decision.
"""

from __future__ import annotations

from typing import Any

NEWBORN = "Newborn (0–3 months)"
BABY = "Baby (3–12 months)"
TODDLER = "Toddler (1–3 years)"
PREGNANCY = "Pregnancy"
SLEEP = "Sleep and night feeds"

ESCALATE = [["escalate"]]
KEEP = [["dismiss"], ["approve"]]
HIDE_AND_SANCTION = [["hide", "warn"], ["hide", "mute"], ["hide", "suspend"]]


def _rule(rule: str, span: str) -> dict[str, Any]:
    return {"rule": rule, "span": span}


def _model(score: str, value: float, family: str = "", kind: str = "") -> dict[str, Any]:
    reason: dict[str, Any] = {"score": f"kindred_{score}", "value": value, "threshold": 0.5}
    if family:
        reason["family"] = family
    if kind:
        reason["kind"] = kind
    return reason


REPORT = {"rule": "member.report"}
MUTED = {"rule": "member.muted", "note": "muted earlier in this room: held for review"}


def _s(
    slug: str,
    title: str,
    kind: str,
    *,
    body: str,
    author: str,
    room: str,
    before: list[tuple[str, str]] = (),
    after: list[tuple[str, str]] = (),
    category: str,
    priority: str = "normal",
    escalated: bool = False,
    family: str = "",
    reasons: list[dict[str, Any]] = (),
    sources: list[str] = ("rule",),
    reports: list[tuple[str, str]] = (),
    history: list[tuple[str, str, str]] = (),
    notes: list[tuple[str, str, str]] = (),
    held: bool = False,
    expected: list[list[str]],
    acceptable: list[str] = ("note",),
    explanation: str,
) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "kind": kind,
        "risk_family": family,
        "category": category,
        "priority": "urgent" if escalated else priority,
        "escalated": escalated,
        "room_name": room,
        "author_name": author,
        "body": body,
        "held": held,
        "before": [{"author": a, "text": t} for a, t in before],
        "after": [{"author": a, "text": t} for a, t in after],
        "reasons": list(reasons),
        "sources": list(sources),
        "reports": [{"by": by, "reason": why} for by, why in reports],
        "history": [{"category": c, "resolution": r, "text": t} for c, r, t in history],
        "notes": [{"kind": k, "by": by, "text": t} for k, by, t in notes],
        "expected": expected,
        "acceptable": list(acceptable),
        "explanation": explanation,
    }


RISK_EXPLAIN_TAIL = (
    " Escalate within five minutes and leave her words where they are: hiding or muting a "
    "mother in crisis tells her that saying it out loud was wrong."
)

SCENARIOS: list[dict[str, Any]] = [
    # ------------------------------------------------------------------ risk, alarming words --
    _s(
        "risk-suicide-explicit",
        "She says she wants to die",
        "risk",
        family="suicidal_thoughts",
        author="Juniper",
        room=NEWBORN,
        before=[
            ("Hollis", "Anyone else up with a cluster feeder? Third night running here"),
            ("Juniper", "Same. I haven't slept more than an hour at a time since Tuesday"),
        ],
        body="Honestly I want to kill myself. Everyone would cope better without me in the way",
        after=[("Hollis", "Oh Juniper, I'm so sorry, please don't go anywhere x")],
        category="risk",
        escalated=True,
        reasons=[_rule("risk.suicide.explicit", "kill myself")],
        expected=ESCALATE,
        explanation=(
            "She has told the room she wants to die and that others would be better off: a "
            "burden thought on top of a clear wish. This is exactly what supervisors must know "
            "about now." + RISK_EXPLAIN_TAIL
        ),
    ),
    _s(
        "risk-means-explicit",
        "She has counted her tablets",
        "risk",
        family="plans_and_means",
        author="Marlowe",
        room=BABY,
        before=[("Fern", "How is everyone's week going? Mine's been a slog")],
        body="I've got two boxes of my sleeping tablets saved in the drawer. I think tonight's the night I take all of them",
        category="risk",
        escalated=True,
        reasons=[_rule("risk.means.overdose", "take all of them")],
        expected=ESCALATE,
        explanation=(
            "A method, the means at hand and a time: this is the most urgent kind of message "
            "there is. Supervisors can reach her and, if needed, emergency services."
            + RISK_EXPLAIN_TAIL
        ),
    ),
    _s(
        "risk-self-harm-explicit",
        "She hurt herself last night",
        "risk",
        family="self_harm",
        author="Saffi",
        room=TODDLER,
        body="I cut myself again last night after he finally went down. First time in nearly six years",
        after=[("Odette", "Sending you a hug. Six years is such a long time, that still counts")],
        category="risk",
        escalated=True,
        reasons=[_rule("risk.self_harm.act", "cut myself again")],
        expected=ESCALATE,
        explanation=(
            "A return to self-harm after years is a serious sign that she is struggling more "
            "than she can say. Odette's reply is lovely; the supervisors still need to know."
            + RISK_EXPLAIN_TAIL
        ),
    ),
    _s(
        "risk-baby-explicit",
        "She is frightened of hurting her baby",
        "risk",
        family="harm_to_baby",
        author="Roisin",
        room=NEWBORN,
        before=[("Roisin", "Is it normal to feel nothing when she cries?")],
        body="When she screams like that I'm scared I'll shake her. I had to put her down and walk out of the room",
        category="risk",
        escalated=True,
        reasons=[_rule("risk.baby.fear_of_acting", "scared I'll shake her")],
        expected=ESCALATE,
        acceptable=["note", "approve"],
        explanation=(
            "She did the right thing, putting her baby down safely, and she told us. A mother "
            "afraid of harming her baby needs a supervisor's care today, never a sanction: "
            "punishing this would teach her to stay silent next time." + RISK_EXPLAIN_TAIL
        ),
    ),
    _s(
        "risk-home-explicit",
        "Her partner hit her",
        "risk",
        family="danger_at_home",
        author="Lark",
        room=BABY,
        body="He hit me again tonight in front of the baby. I don't know where to go, he's got the car keys",
        category="risk",
        escalated=True,
        reasons=[_rule("risk.home.violence", "He hit me")],
        expected=ESCALATE,
        explanation=(
            "Violence at home, a baby who saw it, and no way out: supervisors can give her the "
            "domestic abuse helpline and check she is safe right now." + RISK_EXPLAIN_TAIL
        ),
    ),
    _s(
        "risk-suicide-held",
        "A new member's first message is about ending it",
        "risk",
        family="suicidal_thoughts",
        author="Tamsin",
        room=PREGNANCY,
        body="I don't want to be here anymore. I've thought about ending it every day since the 20 week scan",
        category="risk",
        escalated=True,
        held=True,
        reasons=[
            _rule("risk.suicide.end_life", "ending it"),
            {"rule": "member.probation"},
        ],
        expected=[["escalate"]],
        acceptable=["note", "approve"],
        explanation=(
            "A first message held for review can still be a crisis. Escalate first; approving it "
            "so the room can be kind to her is also right, hiding it is not." + RISK_EXPLAIN_TAIL
        ),
    ),
    # ---------------------------------------------------------- risk, without alarming words --
    _s(
        "risk-suicide-quiet",
        "She is giving things away",
        "risk",
        family="suicidal_thoughts",
        author="Wren",
        room=BABY,
        before=[("Petra", "How are you doing Wren? Not seen you in a bit")],
        body="I've sorted out all his clothes for my sister and written everyone a letter. It feels calm now, like everything's in order",
        category="risk",
        priority="high",
        escalated=True,
        sources=["model"],
        reasons=[_model("risk", 0.71, "suicidal_thoughts", "goodbye")],
        expected=ESCALATE,
        explanation=(
            "No alarming word at all, but giving things away, letters to everyone and a sudden "
            "calm are goodbye signs. When a message reads like a farewell, treat it as one."
            + RISK_EXPLAIN_TAIL
        ),
    ),
    _s(
        "risk-means-quiet",
        "She has been researching",
        "risk",
        family="plans_and_means",
        author="Calla",
        room=SLEEP,
        body="Does anyone know how many paracetamol is too many? Asking for me not the baby",
        category="risk",
        escalated=True,
        sources=["model"],
        reasons=[_model("risk", 0.64, "plans_and_means", "research")],
        expected=ESCALATE,
        explanation=(
            "Asking how much of a medicine is too much, 'for me', is researching a method. Never "
            "answer the question in the room and never dismiss it as a medical query."
            + RISK_EXPLAIN_TAIL
        ),
    ),
    _s(
        "risk-self-harm-quiet",
        "Long sleeves in summer",
        "risk",
        family="self_harm",
        author="Ines",
        room=TODDLER,
        before=[("Ines", "Park was packed today, so hot")],
        body="Back in long sleeves again even in this heat. Old habits. Don't want the nursery staff asking questions",
        category="risk",
        priority="high",
        escalated=True,
        sources=["report"],
        reasons=[REPORT],
        reports=[("Odette", "I think she might be hurting herself, she's said things before")],
        expected=ESCALATE,
        explanation=(
            "Hiding her arms and 'old habits' point to self-harm coming back, and a member who "
            "knows her is worried. A report like this is a gift: escalate it." + RISK_EXPLAIN_TAIL
        ),
    ),
    _s(
        "risk-baby-quiet",
        "The picture she can't stop seeing",
        "risk",
        family="harm_to_baby",
        author="Beatrix",
        room=NEWBORN,
        body="I keep seeing the pram rolling off the edge of the platform when I stand near it. I haven't been on a train since",
        category="risk",
        priority="high",
        escalated=True,
        sources=["model"],
        reasons=[_model("risk", 0.58, "harm_to_baby", "intrusive_thought")],
        expected=ESCALATE,
        explanation=(
            "Intrusive images of harm coming to the baby are common and frightening, and they "
            "are a sign of perinatal anxiety or OCD that deserves care. She is not dangerous; "
            "she is suffering. Supervisors make sure she is pointed to her GP or health visitor."
            + RISK_EXPLAIN_TAIL
        ),
    ),
    _s(
        "risk-home-quiet",
        "Only online while he sleeps",
        "risk",
        family="danger_at_home",
        author="Noor",
        room=BABY,
        body="He checks my phone every night so I'm deleting this after. He says if I go to my mum's again he'll make sure I never see the baby",
        category="risk",
        escalated=True,
        sources=["model"],
        reasons=[_model("risk", 0.62, "danger_at_home", "coercive_control")],
        expected=ESCALATE,
        explanation=(
            "Checking her phone, cutting her off from family and threatening to take the baby "
            "are coercive control, even without a word about violence. Supervisors know the "
            "services to point her to, and that she may have little time online."
            + RISK_EXPLAIN_TAIL
        ),
    ),
    _s(
        "risk-suicide-burden",
        "Better off without her",
        "risk",
        family="suicidal_thoughts",
        author="Delphine",
        room=TODDLER,
        body="My partner's so much better with him than I am. Sometimes I think they'd both be happier if I just wasn't around",
        category="risk",
        priority="high",
        escalated=True,
        sources=["model"],
        reasons=[_model("risk", 0.69, "suicidal_thoughts", "burden")],
        expected=ESCALATE,
        explanation=(
            "'They'd be happier if I wasn't around' is a burden thought, one of the strongest "
            "warning signs, even said softly." + RISK_EXPLAIN_TAIL
        ),
    ),
    # ---------------------------------------------------------- distress, not to be punished --
    _s(
        "distress-swearing",
        "Swearing at the night, not at anyone",
        "distress",
        author="Clem",
        room=SLEEP,
        body="FFS. Four wake ups and it's not even 2am. I am so bloody tired I could scream",
        category="toxic",
        priority="normal",
        reasons=[_rule("abuse.profanity", "FFS")],
        expected=KEEP,
        explanation=(
            "She swears at her night, not at a person. Tired mothers are allowed to be cross; "
            "dismiss it, and if anything, the room will send her a hug."
        ),
    ),
    _s(
        "distress-hate-motherhood",
        "She hates this",
        "distress",
        author="Aveline",
        room=NEWBORN,
        body="I hate being a mum. I love her but I hate every single minute of this and I feel like the worst person alive for saying it",
        category="distress",
        sources=["model"],
        reasons=[_model("distress", 0.81)],
        expected=KEEP,
        explanation=(
            "Saying the unsayable is why Kindred exists. This is distress and shame, not risk "
            "and not a breach: leave it up. If you are worried, add a note so the next moderator "
            "can look out for her."
        ),
    ),
    _s(
        "distress-crying",
        "Crying in the car park",
        "distress",
        author="Maeve",
        room=TODDLER,
        body="Just sat in the Tesco car park crying for twenty minutes because I forgot the nappies again. What is wrong with me",
        category="distress",
        priority="low",
        sources=["model"],
        reasons=[_model("distress", 0.66)],
        expected=KEEP,
        explanation=(
            "A hard day, told honestly. Nothing here needs a moderator's hand: dismiss it and "
            "let the room do what it does best."
        ),
    ),
    _s(
        "distress-failure",
        "Failing at feeding",
        "distress",
        author="Esme",
        room=NEWBORN,
        body="The midwife said to keep trying but she won't latch and I'm crying more than she is. I'm failing her at the one thing I'm supposed to do",
        category="distress",
        sources=["model"],
        reasons=[_model("distress", 0.74)],
        expected=KEEP,
        explanation=(
            "Feeling like a failure is painful, not dangerous, and not against any guideline. "
            "Dismiss; hiding it would tell her that her pain is unwelcome here."
        ),
    ),
    _s(
        "distress-held-newcomer",
        "A newcomer's first message, held",
        "distress",
        author="Honor",
        room=PREGNANCY,
        held=True,
        body="First time posting. 34 weeks and I'm terrified of the birth after last time. Can't talk to anyone at home about it",
        category="distress",
        sources=["model"],
        reasons=[{"rule": "member.probation"}, _model("distress", 0.62)],
        expected=[["approve"]],
        explanation=(
            "A newcomer's first message waits for a moderator; this one is exactly what the "
            "room is for. Approve it so she is answered, quickly."
        ),
    ),
    _s(
        "distress-anger-at-partner",
        "Angry at her partner, not at the room",
        "distress",
        author="Tilly",
        room=BABY,
        body="He slept through ALL of it again and then asked why I'm in a mood. I could honestly scream at him",
        category="toxic",
        priority="low",
        sources=["model"],
        reasons=[_model("toxicity", 0.55)],
        expected=KEEP,
        explanation=(
            "Venting about a partner who is not in the room harms nobody here. Dismiss: it is "
            "ordinary frustration, not abuse."
        ),
    ),
    # ----------------------------------------------------------- insensitive replies ---------
    _s(
        "insensitive-just-sleep",
        "Advice nobody asked for",
        "insensitive",
        author="Greer",
        room=SLEEP,
        before=[
            ("Priya", "I've had about 3 hours sleep in two days and I feel like I'm losing it")
        ],
        body="Just sleep when the baby sleeps, it's not rocket science. Some of us managed fine",
        category="insensitive",
        sources=["model"],
        reasons=[_model("insensitive", 0.77)],
        expected=[["warn"], ["hide", "warn"]],
        acceptable=["note"],
        explanation=(
            "'Some of us managed fine' tells a struggling mother she is the problem. A kind "
            "warning helps Greer see how it lands; hiding it as well is fine if Priya is likely "
            "to read it again."
        ),
    ),
    _s(
        "insensitive-ungrateful",
        "Be grateful",
        "insensitive",
        author="Sorcha",
        room=NEWBORN,
        before=[("Lena", "I'm so low. I thought I'd feel happy and I just feel empty")],
        body="At least you have a healthy baby. Some people would give anything for that, be grateful",
        category="insensitive",
        sources=["model"],
        reasons=[_model("insensitive", 0.83)],
        expected=[["warn"], ["hide", "warn"]],
        explanation=(
            "'At least' and 'be grateful' shame a mother for feeling low, which can keep her from "
            "asking for help. Warn Sorcha kindly; she likely meant to put things in perspective."
        ),
    ),
    _s(
        "insensitive-pull-yourself",
        "Pull yourself together",
        "insensitive",
        author="Viv",
        room=TODDLER,
        before=[
            ("Ada", "I couldn't get out of bed today. Toddler watched CBeebies for five hours")
        ],
        body="Honestly you need to pull yourself together, your kid needs you. Depression isn't an excuse",
        category="insensitive",
        priority="high",
        sources=["model"],
        reasons=[_model("insensitive", 0.88)],
        expected=[["hide", "warn"], ["warn"]],
        explanation=(
            "Calling depression an excuse is stigma aimed at someone who is already down. Warn; "
            "hiding it is kind to Ada too."
        ),
    ),
    _s(
        "insensitive-formula",
        "Judging how she feeds",
        "insensitive",
        author="Ottilie",
        room=NEWBORN,
        before=[("Kit", "Switched to formula today. Relieved and guilty at the same time")],
        body="Breast is best though. You should have tried harder before giving up",
        category="insensitive",
        sources=["model"],
        reasons=[_model("insensitive", 0.71)],
        expected=[["warn"], ["hide", "warn"]],
        explanation=(
            "Kit told the room about guilt; this reply adds to it. Feeding choices are hers. "
            "Warn Ottilie gently."
        ),
    ),
    _s(
        "insensitive-comparison",
        "My labour was worse",
        "insensitive",
        author="Pia",
        room=PREGNANCY,
        before=[("Neve", "Still having flashbacks to the emergency section, 6 months on")],
        body="Lol that's nothing, try 40 hours and a forceps delivery. Sections are the easy way out",
        category="insensitive",
        priority="high",
        sources=["model"],
        reasons=[_model("insensitive", 0.79)],
        expected=[["hide", "warn"], ["warn"]],
        explanation=(
            "Birth trauma is not a competition, and 'easy way out' belittles a frightening "
            "experience. Warn Pia, and hiding the reply spares Neve."
        ),
    ),
    # --------------------------------------------------------------------------- abuse ---------
    _s(
        "abuse-insult",
        "A direct insult",
        "abuse",
        author="Rhona",
        room=BABY,
        before=[("Gemma", "Does anyone else let baby nap in the sling? Works for us")],
        body="You're a lazy cow who shouldn't have had kids. Put the baby down for once",
        category="toxic",
        priority="high",
        reasons=[_rule("abuse.insult", "lazy cow")],
        expected=HIDE_AND_SANCTION,
        acceptable=["note", "warn", "mute"],
        explanation=(
            "A personal attack on another mother: hide it, and tell Rhona privately why (a "
            "warning, or a short mute if she has been warned before)."
        ),
    ),
    _s(
        "abuse-repeat",
        "Abuse again after a warning",
        "abuse",
        author="Dervla",
        room=TODDLER,
        body="Nobody cares about your whining. Shut up and parent your brat",
        category="toxic",
        priority="high",
        reasons=[_rule("abuse.insult", "Shut up")],
        history=[("toxic", "warned", "Get off this group if all you do is moan")],
        notes=[("warning", "Morgan", "Warned about telling members to leave.")],
        expected=[["hide", "mute"], ["hide", "suspend"]],
        acceptable=["note", "warn", "escalate"],
        explanation=(
            "She was warned last week for the same thing. A second attack needs more than "
            "another warning: hide it and mute her (or suspend for serious, repeated harm)."
        ),
    ),
    _s(
        "abuse-threat",
        "A threat to another member",
        "abuse",
        author="Kerensa",
        room=NEWBORN,
        before=[("Ilse", "Reported her message, it was nasty")],
        body="I know which hospital you had your baby at. Keep reporting me and see what happens",
        category="toxic",
        priority="high",
        reasons=[_rule("abuse.threat", "see what happens")],
        expected=[["hide", "suspend"], ["hide", "escalate"]],
        acceptable=["note", "mute", "warn", "escalate", "suspend"],
        explanation=(
            "A threat that uses what she knows about another mother's life is about safety, "
            "not manners. Hide it and suspend, or escalate so a supervisor decides."
        ),
    ),
    _s(
        "abuse-slur",
        "A slur",
        "abuse",
        author="Tegan",
        room=BABY,
        body="Typical of her sort, coming over here and sponging off the NHS",
        category="toxic",
        priority="high",
        sources=["model"],
        reasons=[_model("toxicity", 0.91)],
        expected=HIDE_AND_SANCTION,
        acceptable=["note", "warn", "mute"],
        explanation=(
            "Hostility to a group of people has no place in a support room, whoever it is "
            "aimed at. Hide it and sanction: at least a warning."
        ),
    ),
    _s(
        "abuse-spam-link",
        "Selling miracle sleep courses",
        "abuse",
        author="Bryony",
        room=SLEEP,
        body="DM me for my sleep course!! Guaranteed 12 hours a night in 3 days or your money back, only £99 today",
        category="toxic",
        priority="normal",
        reasons=[_rule("abuse.spam", "DM me")],
        expected=HIDE_AND_SANCTION,
        acceptable=["note", "warn", "mute"],
        explanation=(
            "Selling to exhausted mothers in a peer-support room exploits them. Hide it and warn "
            "(or mute if she keeps posting it)."
        ),
    ),
    # ----------------------------------------------------------- idioms that look alarming ----
    _s(
        "idiom-killing-me",
        "My back is killing me",
        "idiom",
        author="Flick",
        room=PREGNANCY,
        body="This back pain is killing me, 38 weeks and I could die for a proper night's sleep",
        category="risk",
        priority="normal",
        sources=["model"],
        reasons=[_model("risk", 0.52, "suicidal_thoughts")],
        expected=KEEP,
        explanation=(
            "'Killing me' and 'could die for' are figures of speech about back pain and sleep. "
            "Escalating every idiom wears out supervisors and makes the room feel watched: "
            "dismiss."
        ),
    ),
    _s(
        "idiom-murder",
        "Could murder a coffee",
        "idiom",
        author="Sunny",
        room=TODDLER,
        body="I could murder a coffee right now. And whoever invented the toddler tantrum",
        category="toxic",
        priority="normal",
        reasons=[_rule("abuse.violence", "murder")],
        expected=KEEP,
        explanation="A joke about coffee and tantrums. Dismiss it and enjoy it.",
    ),
    _s(
        "idiom-dying-laughing",
        "Dying of laughter",
        "idiom",
        author="Marisol",
        room=BABY,
        body="Dead. She just blew a raspberry at the health visitor. I'm dying 😂",
        category="risk",
        priority="normal",
        sources=["model"],
        reasons=[_model("risk", 0.51, "suicidal_thoughts")],
        expected=KEEP,
        explanation="Laughter, not danger. Dismiss.",
    ),
    _s(
        "idiom-end-of-tether",
        "At the end of her tether, in a good way",
        "idiom",
        author="Hazel",
        room=NEWBORN,
        body="If I hear that musical mobile one more time I'll throw myself out the window haha. Who designs these",
        category="risk",
        priority="high",
        reasons=[_rule("risk.suicide.jump", "throw myself out the window")],
        expected=KEEP,
        acceptable=["note", "escalate"],
        explanation=(
            "Read the whole message: it is exasperation with a toy, with a laugh. Dismiss it. "
            "If you are ever truly unsure, escalating is never a mistake, but the pattern here "
            "is a joke."
        ),
    ),
    _s(
        "idiom-shoot-me",
        "Shoot me now",
        "idiom",
        author="Anouk",
        room=TODDLER,
        body="Soft play on a rainy Saturday. Shoot me now",
        category="toxic",
        priority="low",
        reasons=[_rule("abuse.violence", "Shoot me")],
        expected=KEEP,
        explanation="Every parent who has survived soft play knows this one. Dismiss.",
    ),
    # ----------------------------------------------------------- a report that is a grudge ----
    _s(
        "grudge-report-opinion",
        "Reported for disagreeing",
        "grudge",
        author="Imogen",
        room=BABY,
        before=[
            ("Carys", "Baby led weaning is the only way honestly"),
            ("Imogen", "We did purees and she's thriving, whatever works for you"),
        ],
        body="I just think it's fine to do what suits your family, no need to judge",
        category="none",
        sources=["report"],
        reasons=[REPORT],
        reports=[("Carys", "She keeps attacking me and my choices")],
        expected=[["dismiss"]],
        explanation=(
            "Imogen politely disagreed; the report comes from the other side of the argument. "
            "Nothing here is unkind. Dismiss (the reporter is told kindly that it can stay)."
        ),
    ),
    _s(
        "grudge-report-repeat",
        "Third report from the same member",
        "grudge",
        author="Juno",
        room=TODDLER,
        body="Anyone tried the new library rhyme time? Ours loved it",
        category="none",
        sources=["report"],
        reasons=[REPORT],
        reports=[("Philippa", "Spam")],
        history=[
            ("none", "dismissed", "We go to the Tuesday group, it's lovely"),
            ("none", "dismissed", "Happy birthday to your little one!"),
        ],
        notes=[
            (
                "note",
                "Rowan",
                "Philippa and Juno fell out in the toddler room; reports between them dismissed.",
            )
        ],
        expected=[["dismiss"]],
        acceptable=["note"],
        explanation=(
            "A harmless message, reported as spam by someone who has reported her twice before. "
            "Dismiss, and a note helps the next moderator see the pattern."
        ),
    ),
    _s(
        "grudge-report-screenshot",
        "Reported out of embarrassment",
        "grudge",
        author="Selin",
        room=NEWBORN,
        before=[("Mina", "I said something daft earlier, ignore me")],
        body="Don't worry Mina, we've all been there, no one's judging x",
        category="none",
        sources=["report"],
        reasons=[REPORT],
        reports=[("Mina", "Making fun of me")],
        expected=[["dismiss"]],
        explanation=(
            "Read it as the room would: Selin is being kind. Reports are not always right; "
            "dismissing one is not taking sides."
        ),
    ),
    # ----------------------------------------------------- an unkind reply under a risk message --
    _s(
        "unkind-under-risk-attention",
        "Calling a crisis attention-seeking",
        "unkind_under_risk",
        author="Magda",
        room=NEWBORN,
        before=[("Rue", "I don't think I can keep going. I keep thinking about not waking up")],
        body="Here we go again, attention seeking. Some of us have real problems",
        category="toxic",
        priority="high",
        sources=["model"],
        reasons=[_model("toxicity", 0.76)],
        expected=[["hide", "warn"], ["hide", "mute"], ["hide", "escalate"]],
        acceptable=["note", "warn", "mute", "escalate"],
        explanation=(
            "The reply is cruel to a mother who has just said she thinks about not waking up. "
            "Hide it quickly so Rue does not read it again, and warn Magda. Check that Rue's "
            "own message reached the supervisors, and escalate if it has not."
        ),
    ),
    _s(
        "unkind-under-risk-dare",
        "Daring her",
        "unkind_under_risk",
        author="Colette",
        room=BABY,
        before=[("Elin", "Sometimes I think everyone would be better off if I was gone")],
        body="Go on then",
        category="toxic",
        priority="high",
        reasons=[_rule("abuse.incitement", "Go on then")],
        expected=[["hide", "suspend"], ["hide", "mute"], ["hide", "escalate"]],
        acceptable=["note", "warn", "mute", "escalate", "suspend"],
        explanation=(
            "Two short words, but under a suicidal message they urge her on. This is among the "
            "most harmful things anyone can post: hide it at once and suspend, or escalate."
        ),
    ),
    _s(
        "unkind-under-risk-drama",
        "Telling her to get off the internet",
        "unkind_under_risk",
        author="Brenna",
        room=TODDLER,
        before=[("Oona", "I've been hurting myself again. Nobody at home knows")],
        body="Maybe get off your phone and get some real help instead of posting for sympathy",
        category="insensitive",
        priority="high",
        sources=["model"],
        reasons=[_model("insensitive", 0.73)],
        expected=[["hide", "warn"], ["hide", "mute"]],
        acceptable=["note", "warn", "escalate"],
        explanation=(
            "'Posting for sympathy' shames someone who found the courage to say she is harming "
            "herself. Hide the reply and warn Brenna."
        ),
    ),
    # ---------------------------------------------------------- a muted member comes back -----
    _s(
        "returning-kind",
        "Back after a mute, and kind",
        "returning",
        author="Harriet",
        room=SLEEP,
        held=True,
        body="Sorry about the other day everyone, I was in a bad place. Hope your nights are going better",
        category="none",
        sources=["rule"],
        reasons=[MUTED],
        history=[("toxic", "muted", "Stop moaning about sleep, it's boring")],
        notes=[("warning", "Morgan", "Muted for an hour after a second rude reply.")],
        expected=[["approve"]],
        explanation=(
            "She served her pause and came back with an apology. Approve it: a second chance "
            "taken well is the outcome we hope for."
        ),
    ),
    _s(
        "returning-again",
        "Back after a mute, and at it again",
        "returning",
        author="Philippa",
        room=TODDLER,
        held=True,
        body="Still can't believe the mods here. Juno is a liar and a terrible mother",
        category="toxic",
        priority="high",
        reasons=[MUTED, _rule("abuse.insult", "terrible mother")],
        history=[
            ("toxic", "warned", "Juno always lies about her kids"),
            ("toxic", "muted", "Juno is pathetic"),
        ],
        expected=[["hide", "mute"], ["hide", "suspend"]],
        acceptable=["note", "escalate", "warn"],
        explanation=(
            "A third attack on the same member after a warning and a mute. Hide it and mute for "
            "longer, or suspend; a note about the pattern helps supervisors."
        ),
    ),
    _s(
        "returning-struggling",
        "Back after a mute, and struggling",
        "returning",
        author="Ros",
        room=BABY,
        held=True,
        body="I know I got muted for swearing at people. I'm not coping. I've not eaten properly in days",
        category="distress",
        sources=["rule", "model"],
        reasons=[MUTED, _model("distress", 0.79)],
        history=[("toxic", "muted", "Oh F off the lot of you")],
        expected=[["approve"]],
        acceptable=["note", "escalate"],
        explanation=(
            "Her past rudeness is not a reason to silence her now that she is asking for help. "
            "Approve it so the room can answer her; a note or an escalation if you are worried "
            "is welcome."
        ),
    ),
]
