"""Inline safety rules as reviewable data.

Every entry is one ``RulePattern``: an id that appears in moderators' "why was this flagged" view,
a category/subcategory, a regular expression and a comment saying what it is for and what it must
*not* catch. Reviewers (clinical lead, moderators) should be able to read this file top to bottom.

How the patterns are applied (see ``moderation/rules.py``):

* Text is normalised first: lower case, curly apostrophes and quotes straightened, contractions
  and common text-speak expanded ("I’d" → "i would", "dont" → "do not", "u" → "you", "im" →
  "i am"), letters repeated 3+ times squashed ("sooo" → "so"), and hyphens between letters turned
  into spaces ("self-harm" → "self harm"). Patterns are therefore written against expanded,
  lower-case text and never need to list "don't|dont|do not".
* Everyday idioms (IDIOMS below) are blanked out before any rule runs, so "I could murder a cup
  of tea" or "nearly killed myself laughing" never reach the risk rules.
* ``negatable`` rules are cancelled by a negation shortly before the match in the same clause
  ("I would never hurt my baby"). Negation never cancels a pattern whose own words carry the
  negation ("I do not want to live any more" is risk), and "do not want to" is *not* a negation:
  "I do not want to hurt him but the thoughts keep coming" is how intrusive thoughts are disclosed.
* ``aimed`` rules (insults, judgements) only count when the clause is not about the writer:
  "you silly cow" is abuse, "I'm such a silly cow" is self-criticism.

Categories: ``risk`` (escalate to a human now), ``distress`` (self-directed pain: support, never
punish), ``insensitive`` (minimising/judging another member), ``abuse`` (insults and threats at
others).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RulePattern:
    id: str
    category: str  # risk | distress | insensitive | abuse
    subcategory: str
    pattern: str  # regex over normalised text
    comment: str
    negatable: bool = False
    aimed: bool = False  # only counts when the clause is not first-person about the writer


# Reusable fragments ------------------------------------------------------------------------

# A baby or child as the object of a verb. "him/her" are included because mothers nearly always
# refer to the baby by pronoun in context; the cost is that harm to a partner also escalates.
BABY = (
    r"(?:him|her|them|(?:my|the|our|this) (?:baby|babies|son|daughter|boy|girl|little one|newborn|"
    r"lo|twins?|kids?|child|children)|baby|lo)"
)
# Someone the writer lives with who could be abusive.
PARTNER = (
    r"(?:my |the |his |her )?(?:partner|husband|hubby|boyfriend|bf|ex|fiance|fiancee|oh|dh|"
    r"wife|girlfriend|gf|baby ?s dad|babys father|baby ?s father|other half)"
)
HARM_BABY_VERB = (
    r"(?:smother|suffocat|drown|shak|shook|dropp|drop|throw|threw|hurt|harm|kill|strangl|stab|"
    r"hit|squeez|put (?:a|the) pillow over)\w*"
)
MEANS = (
    r"(?:tablets|pills|meds|medication|paracetamol|sertraline|citalopram|painkillers|co ?codamol)"
)
# Overdose means for the risk rules: generic words and the medicines most often prescribed or kept
# at home in the perinatal period. MEANS (above) stays narrow because the insensitive.medication
# rule uses it too.
OD_MEANS = (
    r"(?:tablets|pills|meds|medication|medicines?|paracetamol|ibuprofen|aspirin|sertraline|citalopram|"
    r"fluoxetine|mirtazapine|propranolol|quetiapine|olanzapine|diazepam|zopiclone|codeine|tramadol|"
    r"co ?codamol|painkillers|sleeping (?:pills|tablets)|antidepressants|anti depressants|insulin|lithium)"
)
MUM = r"(?:mum|mom|mam|mummy|mommy|mother|parent|wife|person|human)"
NEG_ADJ = (
    r"(?:bad|terrible|awful|useless|rubbish|crap|shit|shite|hopeless|failure|worst|horrible|"
    r"pathetic|disgusting|stupid|idiot|mess|fraud|joke|waste of space|burden|embarrassment)"
)
INSULT_NOUN = (
    r"(?:idiot|moron|cow|bitch|cunt|twat|dick|dickhead|prick|loser|slag|whore|tart|knob|knobhead|"
    r"arsehole|asshole|bellend|wanker|muppet|imbecile|retard|troll|drama queen|attention seeker)"
)
INSULT_ADJ = (
    r"(?:silly|stupid|pathetic|fat|lazy|ugly|moaning|miserable|useless|daft|thick|selfish|"
    r"disgusting|dumb|whiny|whingeing|whinging|bloody|fucking|absolute|complete|total|old)"
)

# Idioms blanked out before matching. Keep these narrow: each must be unmistakably figurative.
IDIOMS: tuple[tuple[str, str], ...] = (
    (
        r"\b(?:could|would|will) (?:murder|kill) (?:a|for a|for an|for some|for) \w+",
        "craving: 'could murder a cup of tea'",
    ),
    (
        r"\b(?:kill|killed|killing|die|died|dying|dead) (?:myself )?(?:of |from )?laugh\w*",
        "laughter: 'nearly died laughing'",
    ),
    (r"\bdying (?:to|for)\b", "'dying to know', 'dying for a wee'"),
    (r"\bto die for\b", "'a cake to die for'"),
    (r"\b(?:the )?death of me\b", "'this baby will be the death of me'"),
    (
        r"\b(?:is|are|was|were) killing me\b",
        "'my feet are killing me' (no self-directed verb, listed for clarity)",
    ),
    (r"\b(?:bored|scared|worried|tired|done) to death\b", "intensifier"),
    (r"\bdead (?:tired|on my feet|beat)\b", "exhaustion idiom"),
    (
        r"\b(?:could have|could of|nearly|almost) died of (?:embarrassment|shame|shock)\b",
        "embarrassment",
    ),
    (r"\bwant(?:ed)? to die of (?:embarrassment|shame)\b", "embarrassment"),
    (r"\bkill two birds\b", "proverb"),
    (r"\bover my dead body\b", "idiom"),
    (r"\bdrop dead gorgeous\b", "idiom"),
    (r"\bkiller\b", "'the 4am feed is a killer'"),
    (
        r"\b(?:the )?only way out is (?:through|to go through)\b",
        "encouragement: 'the only way out is through'",
    ),
    (
        r"\b(?:cross|crossed|crossing) (?:that|the|this) bridge\b",
        "'we'll cross that bridge when we come to it'",
    ),
    (r"\bwater under the bridge\b", "idiom"),
    (
        r"\bburn(?:ed|t|ing|s)? (?:my|our|your|his|her|their|all|any|the|those) (?:\w+ )?bridges\b",
        "'burnt my bridges' (not self-harm)",
    ),
)

RULES: tuple[RulePattern, ...] = (
    # ================================================================ RISK ====================
    # Families (clinical grounding in docs/moderation-quality.md, "Risk rule families"):
    #   suicidal thoughts (explicit, passive ideation, burdensomeness, entrapment, goodbyes),
    #   plans and means (means × acquisition/research/intent), self-harm (acts, relapse, urges),
    #   harm to the baby (intrusive thoughts, urges, fear of acting, psychotic features),
    #   danger at home (violence, threats, coercive control: confinement, taking the means of
    #   contact or money, monitoring, isolation, custody threats, fear of the partner).
    # Rule of thumb when choosing between a miss and a false alarm: a false alarm costs a support
    # card and a moderator's minute; a miss can cost a life. Idioms are still kept out, because
    # a room where "my feet are killing me" triggers crisis cards stops being trusted.
    # ---------------------------------------------------------------- risk: suicidal thoughts ---
    RulePattern(
        "risk.suicide.explicit",
        "risk",
        "suicidal_thoughts",
        r"\b(?:kill(?:ing|ed)?|hang(?:ing)?|off(?:ing)?|top(?:ping)?|unaliv(?:e|ing)|end(?:ing)?) myself\b|"
        r"\b(?:do|doing|did) myself in\b|\bkms\b|\bunalive\b",
        "Explicit wish or intent to die by suicide. Laughing idioms are blanked first.",
        negatable=True,
    ),
    RulePattern(
        "risk.suicide.word",
        "risk",
        "suicidal_thoughts",
        r"\bsu(?:i|a)?(?:c|s)i?d\w*",
        "Any mention of suicide by the writer, common misspellings included (sucidal, suiside, "
        "suicdal); 'I'm not suicidal' is negated.",
        negatable=True,
    ),
    RulePattern(
        "risk.suicide.end_life",
        "risk",
        "suicidal_thoughts",
        r"\b(?:end|ending) (?:it all|my (?:own )?life|things|everything)\b|\b(?:take|taking) my (?:own )?life\b|"
        r"\b(?:thinking (?:about|of)|think (?:about|of)|thought (?:about|of)|thoughts of|want to|going to|plan to|"
        r"planning to|planning on|ready to|might|could just|should just|tempted to|close to) (?:just )?"
        r"end(?:ing)? it\b(?! (?:with|early|there|here|at|off|for|on|now with))",
        "'end it all', 'take my own life', 'thinking about ending it'. 'end things' is kept: it is how "
        "people say it. 'taking things one day at a time' and 'end it with him' do not match.",
        negatable=True,
    ),
    RulePattern(
        "risk.suicide.want_die",
        "risk",
        "suicidal_thoughts",
        r"\b(?:want|wanted|wanting|wish|wishing|ready|rather|prefer) (?:i was |i were |to |i could |i would )?"
        r"(?:just )?(?:die|dead|be dead|not be alive)\b(?! than)|"
        r"\b(?:hope|hoping|wish|wishing|pray\w*) (?:that )?(?:i|a bus|a car|a lorry|something) (?:just )?(?:would |will )?"
        r"(?:die|dies|died|get hit|gets? me|crash\w*|kills? me|hits? me|runs? me over)\b|"
        r"\bwish (?:that )?i (?:had|would have|would) (?:never been born|died)\b",
        "Wish to be dead, including passive forms ('hope a bus hits me', 'wish I'd never been born'). "
        "'want to die of embarrassment' is blanked first; 'I'd rather die than go to soft play' "
        "(hyperbole with 'than') does not match.",
        negatable=True,
    ),
    RulePattern(
        "risk.suicide.not_live",
        "risk",
        "suicidal_thoughts",
        r"\b(?:do not|does not|no longer|never) (?:really )?want to (?:live|be alive|exist|"
        r"be here any ?more|wake up|carry on|go on|keep going)\b|"
        r"\b(?:not sure|do not know|unsure|cannot say) (?:if |whether )?i (?:want|can|will) (?:to )?(?:live|be alive|"
        r"be here|exist|go on|carry on|keep going)\b",
        "Passive ideation; the negation is part of the meaning, so never negated.",
    ),
    RulePattern(
        "risk.suicide.had_enough",
        "risk",
        "suicidal_thoughts",
        r"\b(?:had enough|sick|tired|weary|done|fed up|finished) (?:of|with) (?:living|life|being alive|"
        r"being here|existing|being me)\b(?! (?:admin|being|as a|on the|in the|in this|at the moment))|"
        r"\b(?:cannot|can not|do not want to|not able to) (?:do|face|handle) (?:life|living|this life|being alive|"
        r"existing)(?: any ?more)?\b|\blife is (?:not|no longer) worth (?:it|living)\b|"
        r"\bnot worth (?:living|being alive|going on|carrying on)\b",
        "Weariness of life itself ('had enough of living', 'tired of being alive', 'can't do life'). "
        "Only life itself counts as the object: 'so done with nappies' and 'had enough of this "
        "weather' do not match.",
        negatable=True,
    ),
    RulePattern(
        "risk.suicide.want_stop",
        "risk",
        "suicidal_thoughts",
        r"\b(?:want|wanted|wish|need|needed|just want)\w* (?:for )?(?:it all|everything|all of it|"
        r"life|my life|the pain|the world|all this) to (?:stop|end|be over|go away|just stop)\b(?! with| by| so| before| until)|"
        r"\bwant (?:it|everything) to (?:stop|end) (?:forever|for good|permanently)\b",
        "Wanting everything to stop ('I just want it all to stop'). 'I want the crying to stop' "
        "(a specific stressor) is distress and not matched.",
    ),
    RulePattern(
        "risk.suicide.no_point",
        "risk",
        "suicidal_thoughts",
        r"\b(?:no|not see the|not see any|cannot see the|cannot see any|what is the|is there any) point "
        r"(?:in |of )?(?:living|life|being alive|being here|going on|carrying on|me being here|"
        r"anything any ?more|any of it any ?more|me)\b",
        "'I don't see the point in living anymore'. 'no point in buying the big pack' is not matched.",
    ),
    RulePattern(
        "risk.suicide.not_wake",
        "risk",
        "suicidal_thoughts",
        r"\b(?:wish|want|hope|pray)\w* (?:i |to )?(?:could |would |did |do |will )?(?:just )?(?:not|never) "
        r"(?:wake up|woke up|be here|exist)\b|\b(?:go to sleep|fall asleep|sleep) (?:and|forever and) "
        r"(?:not|never) wake up\b|\bsleep forever\b|"
        r"\bwish (?:that )?i (?:was|were) (?:not|no longer|never) (?:here|alive|born|around|in this world)\b",
        "'Wish I could just not wake up', 'wish I wasn't here'.",
    ),
    RulePattern(
        "risk.suicide.disappear",
        "risk",
        "suicidal_thoughts",
        r"\b(?:want|wanted|wish|wishing|like) (?:i could |to |i would |i could just |to just |i would just )?"
        r"(?:just )?(?:disappear|vanish|stop existing|not exist|fade away|cease to exist)\b",
        "Passive ideation phrased as disappearing. Reviewed: escalating is right even 'for a while'.",
    ),
    RulePattern(
        "risk.suicide.better_off",
        "risk",
        "suicidal_thoughts",
        r"\bbetter off without me\b|\bbetter off (?:if|when) i (?:was|were|am|m) (?:not here|gone|dead)\b|"
        r"\b(?:everyone|they|he|she|my \w+) (?:would|will|would all|will all) be better off\b|"
        r"\b(?:be|are|is|would be|would all be) (?:so |much |a lot |far )*(?:better|easier|happier|safer) "
        r"(?:off )?without me\b(?! (?:in|there|around|at|for|on|hovering|watching|nearby|getting))|"
        r"\b(?:safer|better off) (?:away from|without) me\b(?! (?:in|there|around|at|for|on|hovering|watching|nearby))|"
        r"\b(?:i am|i feel like) (?:just )?(?:a|such a) (?:burden|drain) (?:to|on) (?:everyone|them|him|my family|"
        r"the family|my kids|my children|everybody)\b",
        "Perceived burdensomeness, a recognised suicide risk factor, incl. 'the baby would be safer "
        "away from me'. 'she settles better without me in the room' does not match.",
    ),
    RulePattern(
        "risk.suicide.if_gone",
        "risk",
        "suicidal_thoughts",
        r"\b(?:nobody|no one) would (?:even |really |actually )?(?:notice|care|miss me)\b|"
        r"\bif i (?:just |simply )?(?:was|were|was just|were just) (?:not here|not around|no longer here|gone|dead|"
        r"to die|to disappear|not in it|not in the world|not in their lives|not alive)\b"
        r"(?! (?:to|for|at|when|tomorrow|tonight|this|next|on))|"
        r"\bif i (?:just )?(?:died|disappeared|was not here|were not here)\b(?=.*\b(?:better|easier|happier|"
        r"notice|care|miss|relief|relieved)\b)|"
        r"\b(?:would not|do not|would not really|would not even) (?:care|mind) if (?:i|a bus|a car|something) "
        r"(?:died|did not wake up|never woke up|got hit|hit me|killed me|was not here|were not here)\b",
        "Imagining others' lives without her ('nobody would notice if I wasn't here', 'easier for "
        "everyone if I just wasn't in it', 'wouldn't mind if I didn't wake up'). "
        "'if I wasn't here to do bedtime' is excluded.",
    ),
    RulePattern(
        "risk.suicide.no_reason",
        "risk",
        "suicidal_thoughts",
        r"\b(?:nothing|no reason|no one|nobody) (?:left )?to live for\b|\bno reason to (?:live|go on|keep going|carry on)\b",
        "Hopelessness about living.",
    ),
    RulePattern(
        "risk.suicide.cannot_go_on",
        "risk",
        "suicidal_thoughts",
        r"\b(?:cannot|can not) (?:go on|carry on|keep going)(?! like| with| the| as| for)\b|\bgive up on life\b",
        "'I can't go on' (but not 'can't go on like this with no sleep', which is distress).",
    ),
    RulePattern(
        "risk.suicide.no_way_out",
        "risk",
        "suicidal_thoughts",
        r"\b(?:no|cannot see a|cannot see any|can not see a|not see a|only|one) way out\b"
        r"(?! of (?:the|this|that) (?:regression|car park|house|room|building|contract|phase|leap|estate|cul de sac|"
        r"traffic|queue|lane|road|hospital|ward|maze))|\btrapped with no (?:way out|escape)\b|"
        r"\b(?:only|one) (?:way|option) left is to\b",
        "Entrapment ('I can't see a way out'), a core suicide risk factor. 'the only way out is "
        "through' is blanked as an idiom; 'no way out of this car park' is excluded.",
    ),
    RulePattern(
        "risk.suicide.goodbye",
        "risk",
        "suicidal_thoughts",
        r"\bthis (?:is|will be|is going to be|might be) my (?:last|final) (?:message|post|time (?:here|posting|writing))\b"
        r"(?! (?:about|on|before|for|until|till|of the|in this|today|tonight|this))|"
        r"\bby the time (?:you|anyone|someone|people) (?:read|reads|see|sees) this\b|"
        r"\b(?:goodbye|bye) (?:forever|cruel world|world)\b|\bsay(?:ing)? (?:my )?(?:final )?goodbyes\b|"
        r"\b(?:please )?(?:tell|make sure) (?:my )?(?:kids|children|babies|baby|son|daughter|boys|girls|family) "
        r"(?:know )?(?:that )?i (?:love|loved) (?:them|him|her)\b|"
        r"\b(?:look after|take care of) (?:my )?(?:babies|baby|kids|children|boys|girls|son|daughter|little one) "
        r"(?:for me )?(?:when i am gone|after i am gone|when i am not here|for me,? (?:please|i am sorry))\b|"
        r"\bwill not be (?:here|around) (?:much longer|for (?:much )?longer|by (?:the )?morning|to see)\b|"
        r"\bsorry for (?:everything|being a burden)(?= *(?:$|x|\.|,|goodbye|bye|i love))",
        "Goodbye-style messages and final arrangements. 'my last post was about reflux' and "
        "'this is my last post before my holiday' do not match.",
    ),
    RulePattern(
        "risk.suicide.unsafe",
        "risk",
        "suicidal_thoughts",
        r"\b(?:cannot|can not|do not think i can|not sure i can|not able to|unable to|struggling to) "
        r"keep (?:myself|me) safe\b|\bnot safe (?:from|with|around|on my own with) myself\b|"
        r"\b(?:cannot|can not|will not|could not) promise (?:i will|to) (?:be|stay|keep) safe\b",
        "Telling us she cannot keep herself safe: the phrase crisis services ask about.",
    ),
    # ----------------------------------------------------------- risk: plans and means ---
    # Means × acquisition, research or intent. A means word alone ("stocked up on Calpol and
    # paracetamol", "we took the train over the bridge") is never enough.
    RulePattern(
        "risk.plan.means",
        "risk",
        "suicide_plan",
        rf"\b(?:saving|saved|save|stockpil\w*|hoard\w*|stash\w*|put by|putting by|squirrel\w*) (?:up )?(?:away )?"
        rf"(?:all )?(?:of )?(?:my |the |some |a few |enough )?(?:spare |extra |old )?{OD_MEANS}\b"
        rf"(?! (?:for (?:the|her|him|my (?:baby|son|daughter|kids)|crafts|recycling)|in case (?:she|he|the baby|they)|"
        rf"box|boxes|packets?|pots?))|"
        rf"\b(?:hiding|hid|hidden|keeping|kept) (?:all )?(?:of )?(?:my |the |some |a few )?(?:spare |extra |old )?"
        rf"{OD_MEANS} (?:from (?:him|her|my partner|my husband|everyone|the gp|the doctor|my mum|the nurse)|"
        rf"just in case|in case i|for when i|for if i|for a bad day|for later)\b|"
        rf"\b(?:have|got|there is|there are) (?:got )?(?:a |a big |a huge )?(?:stash|stockpile|hoard) of (?:my |the )?{OD_MEANS}\b",
        "Gathering means (pills, tablets, named medicines). 'saving up for a pram' does not match: "
        "a medicine must follow. Keeping or hiding tablets counts only 'just in case' or hidden "
        "from people ('hid the paracetamol from the toddler' does not match); 'collecting my "
        "tablets from the chemist' does not match.",
    ),
    RulePattern(
        "risk.plan.overdose",
        "risk",
        "suicide_plan",
        rf"\b(?:overdos\w*|od on|od ing)\b|"
        rf"\b(?:swallow\w*|take|taking|took|down|downing|neck|necking)\b (?:all|every|everything|the lot|the whole lot|"
        rf"the whole|a whole|them all|all of)\b(?: \w+){{0,4}} (?:{OD_MEANS}|medicine cabinet|medicine cupboard|"
        rf"medicine box|packets?|boxes|bottles?|blister packs?|strips?)\b"
        rf"(?![^.!?\n]*\b(?:like the|like my|as prescribed|as the (?:gp|doctor|pharmacist)|on time|every day|each day|"
        rf"remembered|forgot|with food|for the (?:day|week)|out of (?:the|my) (?:cupboard|bag|drawer)|to the (?:pharmacy|chemist)|"
        rf"to (?:be|get) (?:checked|reviewed))\b)|"
        rf"\b(?:swallow\w*|take|taking|down|downing|neck|necking) (?:them|those|these|it) all\b(?=.*\b(?:{OD_MEANS}|"
        rf"packets?|boxes|bottles?|at once|in one go|tonight)\b)|"
        rf"\bhow many {OD_MEANS} (?:would|does|will|to (?:die|kill|overdose|od|end|not wake)|it takes|it would take|would it take|does it take|is too many|kill)\b|"
        rf"\bhow much {OD_MEANS} (?:would|does|will|to (?:die|kill|overdose|od|end|not wake)|it takes|it would take|would it take|does it take|kills|is fatal)\b|"
        rf"\b(?:lethal|fatal|deadly|toxic) (?:dose|amount|overdose)\b",
        "Overdose, swallowing everything in the medicine cabinet, or dose enquiry. 'take all the help "
        "I can get' and 'she tries to swallow all the toys' do not match: a means must follow.",
        negatable=True,
    ),
    RulePattern(
        "risk.plan.research",
        "risk",
        "suicide_plan",
        r"\b(?:looked|looking|look|googl\w*|search\w*|research\w*|read up|reading up|checked out|checking out|"
        r"scoped out|scoping out)\b(?: up)?(?: on)?(?: \w+){0,3} "
        r"(?:(?:a |the |some )?(?:bridge|bridges|cliff|cliffs|cliff edge|flyover|viaduct|high places|high buildings|"
        r"tall buildings|multi storey|car park roof|railway line|level crossing|drop from)\b"
        r"(?! (?:opening|times|tickets|toll|tour|walk|closure|lift|for (?:a|our|the) (?:trip|day|walk|visit)))|"
        r"(?:how high|how tall|how far|how deep)\b(?= .*\b(?:bridge|cliff|drop|building|car park|"
        r"balcony|roof)\b)|(?:ways|how|quickest way|easiest way|painless ways?) to (?:die|kill myself|end it|"
        r"end my life|hang|overdose|not wake up)\b|(?:the )?(?:lethal|fatal) (?:dose|amount))",
        "Researching a method or place ('I've looked up the bridge near us', 'googled how high the "
        "cliffs are'). 'looked up the train times' and 'Tower Bridge opening times' do not match.",
        negatable=True,
    ),
    RulePattern(
        "risk.plan.method",
        "risk",
        "suicide_plan",
        r"\b(?:jump|jumping|jumped|throw myself|throwing myself|threw myself|step|stepping|stepped|walk|walking|"
        r"lie|lying|lay) (?:in front of|under) (?:a |the |an )?(?:train|bus|lorry|car|traffic|oncoming traffic|tube|"
        r"van|truck)\b|"
        r"\b(?:jump|jumping|jumped|throw myself|throwing myself|threw myself|launch myself|step|stepping|stepped|"
        r"lean|leaning) (?:off|from|over) (?:a |the |an |that |our )?(?:top of the |top of a |edge of the |edge of a )?"
        r"(?:bridge|cliff|cliffs|building|balcony|roof|window|top floor|multi storey|car park|flyover|viaduct|"
        r"tower block|platform edge)\b|"
        r"\b(?:walk|walking|walked|jump|jumping|drive|driving|drove) (?:into|in to) (?:a |the )?(?:sea|river|canal|"
        r"reservoir|lake|quarry|water)\b(?! (?:for|with|to|at|and|on|in) )|"
        r"\b(?:drive|driving|drove|swerv\w*|crash\w*|steer\w*|plough\w*) (?:the car |my car |off the road |straight )?"
        r"(?:into|in front of|off) (?:a |the |an )?(?:wall|tree|lorry|oncoming traffic|traffic|barrier|crash barrier|"
        r"central reservation|motorway|bridge|cliff|river|canal|sea|bus|truck)\b|"
        r"\b(?:a |the )?(?:noose|ligature)s?\b|\b(?:rope|belt|cord|cable|lead|tie) (?:round|around|to|on) my neck\b|"
        r"\b(?:bought|buy|buying|got|get|getting|have|found|hidden|hid) (?:a |some |the )?(?:rope|cord)\b"
        r"(?=[^.!?\n]*\b(?:hang|hanging|neck|loft|beam|banister|bannister|strong enough|where i would|where i will|"
        r"in case)\b)|"
        r"\bhang(?:ing)? (?:myself )?from (?:the|a) (?:banister|bannister|loft|beam|door|stairs|tree|hook|rail)\b|"
        r"\b(?:keep|kept|been|went|go|going|drove|driving|walked|walking|stood|standing|sat|sitting|find myself|"
        r"found myself|ended up) (?:\w+ )?(?:to|at|on|by|near|on top of|over) (?:the )?(?:edge of (?:the )?)?(?:bridge|cliff|"
        r"cliff edge|cliffs|tracks|railway(?: line)?|platform(?: edge)?|top floor|roof|multi storey|car park roof|level crossing)\b"
        r"(?=[^.!?\n]*\b(?:thinking|think|thought|wondering|wondered|wanting|wanted|tempted|urge|pull|pulled|drawn|"
        r"how easy|jump|step off|lean over|end it|just do it|could just|should just|not come back)\b)|"
        r"\bhow easy it (?:would be|is|will be) to (?:just )?(?:step|jump|let go|drive|swerve|fall|walk|end it|die|"
        r"not come back|lean|crash|take them|take it)\b",
        "Methods and places: stepping in front of a train, jumping from a height, walking into the sea, "
        "swerving into traffic, ligatures, being drawn to a bridge or platform edge, 'how easy it "
        "would be to just step off'. 'walk into the sea' is kept even though it might be literal: "
        "humans decide. 'we took the train over the bridge', 'stepped off the train', 'drove into the "
        "car park' and 'my supply fell off a cliff' do not match.",
        negatable=True,
    ),
    RulePattern(
        "risk.plan.note",
        "risk",
        "suicide_plan",
        r"\b(?:suicide|goodbye) (?:note|letter)s?\b|\b(?:written|writing|wrote|left) (?:my )?(?:letters|notes) "
        r"(?:to|for) (?:my |the )?(?:kids|children|family|partner|husband|baby|babies|boys|girls)\b|"
        r"\b(?:put|putting|get|getting|got|sort|sorted|sorting) my affairs in order\b|"
        r"\b(?:given|giving|give) away (?:all )?my (?:things|stuff|belongings)\b",
        "Final arrangements: letters to the children, affairs in order, giving things away. Making a "
        "will or life insurance after a birth is ordinary and not matched.",
    ),
    RulePattern(
        "risk.plan.intent",
        "risk",
        "suicide_plan",
        r"\b(?:going to|gonna|will|am about to|plan(?:ning)? to) (?:do it|end it)\b(?=.*\b(?:tonight|today|tomorrow|"
        r"when|while|this|after|before)\b)|"
        r"\b(?:have|got|made|making) (?:a |my )?plan to (?:end (?:it|my life)|die|kill myself|take my (?:own )?life)\b|"
        r"\b(?:know|worked out|planned|figured out|thinking about|thought about|decided) (?:exactly )?(?:how|when|where) "
        r"i (?:would|will|am going to|could) do it\b(?! (?:differently|again|next|better|with|without|if|in|this|that|"
        r"myself|alone|so|because|the|on|when|after|before|and|then))",
        "Stated intent with a time, a plan, or knowing how she would do it. 'going to do it' alone "
        "is too vague to act on; 'thinking about how I'd do it differently next time' does not match.",
        negatable=True,
    ),
    # ---------------------------------------------------------------- risk: self-harm ---
    RulePattern(
        "risk.self_harm.act",
        "risk",
        "self_harm",
        r"\b(?:hurt|hurting|harm|harming|cut|cutting|burn|burning|hit|hitting|punch|punching|scratch|"
        r"scratching|starve|starving|bang|banging|bite|biting|pinch|pinching|carv\w*)\w* myself\b(?! (?:on|by accident|accidentally|when|while|"
        r"chopping|cooking|shaving|falling|on the|with the (?:oven|iron|kettle|steriliser|sterilizer|straighteners|pan)))",
        "Self-harm acts and urges. Accidents ('cut myself chopping onions') are excluded.",
        negatable=True,
    ),
    RulePattern(
        "risk.self_harm.word",
        "risk",
        "self_harm",
        r"\bself ?harm\w*\b|\bself injur\w*\b|\b(?:cutting|cut) (?:again|my (?:arms|wrists|legs|thighs|stomach|skin))\b|"
        r"\burges? to (?:cut|self harm|harm|hurt|burn|scratch|hit myself|punish myself|bang my head)\b|"
        r"\bscratch\w* until (?:i|it) bleed|"
        r"\b(?:relaps\w*|urges?|slipped up|clean from|free from|days clean|weeks clean|months clean) (?:\w+ ){0,2}"
        r"(?:sh|self harm|cutting)\b|"
        r"\b(?:fight\w*|resist\w*|struggling with|battling|giving in to|gave in to|give in to|bad|strong|awful) "
        r"(?:the |my |these |those )?urges\b(?! to (?:push|pee|wee|eat|snack|cry|scream|sleep|clean|nest|buy|shop|swear|"
        r"feed|breast|run|sing))|"
        r"\b(?:started|been|back to|went back to|stop myself|stopped myself from|relapsed and|gone back to) cutting"
        r"(?= again| myself| because| when| to (?:cope|feel)|$|\.)",
        "Self-harm vocabulary, relapse ('cutting again', 'relapsed with SH', 'fighting the urges'). "
        "'cutting out dairy', 'urges to push' and 'been cutting back on caffeine' do not match.",
        negatable=True,
    ),
    RulePattern(
        "risk.self_harm.body",
        "risk",
        "self_harm",
        r"(?:\bi (?:\w+ ){0,2}|\b(?:been|started|keep|kept|back to|still|urge to|urges to|want to|need to|going to) |^)"
        r"(?:cut|cutting|scratch\w*|burn\w*|pick\w*|hit|hitting|punch\w*|bit|bite|biting|pinch\w*|carv\w*|"
        r"claw\w*|gouge\w*|dig|digging|scrap\w*) (?:at |into )?my (?:(?:arm|wrist|leg|thigh|hip|forearm|scab)s?|"
        r"skin|stomach|tummy)\b"
        r"(?![^.!?\n]*\b(?:oven|iron|kettle|steriliser|sterilizer|straighteners|pan|hob|tray|shaving|shave|eczema|"
        r"rash|itchy|itch|itching|bites?|hives|accident\w*|by mistake|chickenpox|sunburn|mosquito\w*|in my sleep|"
        r"nails need|habit|cuticles?)\b)"
        r"(?=[^.!?\n]*\b(?:again|un ?til|till|til|bleed\w*|bled|to feel|so i can feel|when it (?:gets|got) (?:too much|bad)|"
        r"to cope|it helps|helps me|only thing|punish\w*|deserve|scars?|on purpose|relapse\w*|urges?|numb|release)\b)",
        "Self-harm described by what she does to her own body, with a relapse, intent or coping "
        "marker ('I've started scratching my arms again when it gets too much', 'I pick my skin till "
        "it bleeds'). She must be the subject ('the baby keeps scratching my arms' does not match); "
        "eczema, bites, shaving and kitchen accidents in the same sentence exclude it; the marker is "
        "required because 'I scratch my legs all night, the eczema' is not self-harm.",
        negatable=True,
    ),
    RulePattern(
        "risk.self_harm.intent",
        "risk",
        "self_harm_plan",
        r"\b(?:going to|gonna|will|am about to|want to|need to|tempted to|close to) (?:hurt|harm|cut|burn|punish|hit) myself\b|"
        r"\b(?:hid|hiding|hidden|stash\w*|keep|kept|keeping|bought|got|found|get|took out|got out|get out) "
        r"(?:a |my |the |some |new )?(?:razor blade|blade|sharpener blade)s?\b(?! (?:for|to fit|to replace|from|off))|"
        r"\b(?:blade|razor|knife|glass|scissors)\b(?: \w+){0,3} (?:to|on|into|across|against) my (?:arms?|wrists?|"
        r"thighs?|stomach|throat|neck|skin)\b",
        "Stated intent or means for self-harm ('I'm going to hurt myself tonight', 'I've hidden blades "
        "in my room', 'held the knife to my wrist').",
        negatable=True,
    ),
    # ------------------------------------------------------------ risk: harm to the baby ---
    RulePattern(
        "risk.baby.intrusive",
        "risk",
        "harm_to_baby_intrusive",
        rf"\b(?:thoughts?|images?|urges?|visions?|pictures?|flash\w*|impulses?|imagin\w*|picturing|"
        rf"dreams?|scenarios?|keep seeing|keep thinking (?:about|of)) (?:(?:of|about|in my head of|in my head about|"
        rf"where|that) )?(?:me |myself |i )?(?:{HARM_BABY_VERB}\b|letting (?:{BABY}) (?:fall|drown|slip|go under)|"
        rf"(?:hold\w*|held|push\w*|put\w*) (?:{BABY}) (?:under|down the|off|over the|out of the window|in front))"
        rf"(?: {BABY})?(?! (?:the|a|my|her|his|their|our) (?:night|dream|3am|morning|evening|bedtime|nap|feed|bottle|"
        rf"dummy|phone|keys|cup|bag|car|plate)s?\b| off\b| at\b| round\b| to\b| (?:the|her|his|my|a) (?:\w+ )?(?:feed|nap)s?\b)|"
        rf"\b(?:flash\w*|images?|pictures?|thoughts?|visions?) (?:of )?(?:{BABY}) (?:falling|drowning|going under|"
        rf"hitting (?:her|his) head|under the water)\b(?=[^.!?\n]*\b(?:me (?:letting|doing|causing|pushing|dropping|"
        rf"watching)|i (?:let|dropped|pushed|caused|did|watched)|my fault|on purpose)\b)",
        "Intrusive thoughts of harming the baby: common in perinatal OCD, always seen by a human, "
        "never treated as a threat by the mother. Includes images of holding the baby under the water "
        "or letting her fall. 'any ideas about dropping the dream feed', 'a dream about dropping my "
        "phone' and 'thoughts on dropping her nap' do not match.",
        negatable=False,
    ),
    RulePattern(
        "risk.baby.fear",
        "risk",
        "harm_to_baby_intrusive",
        rf"\b(?:scared|afraid|terrified|frightened|worried|worry|panic\w*|fear)\w* (?:that )?(?:i (?:would |will |"
        rf"might |could |am going to |may )?(?:accidentally |snap and )?{HARM_BABY_VERB} {BABY}|of what i (?:might|would|"
        rf"could|will) do(?: to {BABY})?|i (?:might|will|would|could) do something to {BABY})|"
        rf"\bwhat if i (?:accidentally |snap and )?{HARM_BABY_VERB} {BABY}|"
        rf"\b(?:scared|afraid|terrified|frightened) of myself\b|"
        rf"\b(?:do not|cannot|can not|no longer) trust myself (?:with|around|alone with|near|to be alone with) {BABY}\b|"
        rf"\b(?:do not|cannot|can not) trust myself not to (?:do something|hurt|harm|snap|lose it|do anything)\b|"
        rf"\bkeep (?:{BABY}) safe from me\b|\b{BABY} (?:is|would be|will be) (?:safer|better off) (?:away from|without) me\b",
        "Fear of harming the baby ('scared I'll drop him on purpose', 'what if I hurt her', 'I don't "
        "trust myself with her', 'I'm frightened of myself').",
        negatable=False,
    ),
    RulePattern(
        "risk.baby.urge",
        "risk",
        "harm_to_baby",
        rf"\b(?:want|wanted|feel like|felt like|urge|tempted|came close to)\w* (?:to )?{HARM_BABY_VERB} {BABY}|"
        rf"\b(?:nearly|almost|could have|so close to)\w* (?:to )?(?!dropp?\w*|drop\b){HARM_BABY_VERB} {BABY}|"
        rf"\b(?:nearly|almost) (?:dropped|threw|shook) {BABY} on purpose\b",
        "Urges or near misses ('I nearly shook him'). 'could have hugged her' does not match; "
        "'I nearly dropped her in the bath' (an accident) does not match unless 'on purpose'.",
        negatable=True,
    ),
    RulePattern(
        "risk.baby.direct",
        "risk",
        "harm_to_baby",
        r"\b(?:hurt|harm|kill|smother|suffocate|drown|shake|throw|strangle|stab) (?:my|the|our) "
        r"(?:baby|babies|son|daughter|little one|newborn|lo|twins?|kids?|child|children)\b",
        "Any statement about harming one's own child. 'I would never hurt my baby' is negated.",
        negatable=True,
    ),
    RulePattern(
        "risk.baby.psychosis",
        "risk",
        "harm_to_baby",
        r"\b(?:voices?|a voice|the voice|something in my head|someone in my head) (?:\w+ )?(?:tell\w*|told|"
        r"order\w*|want\w*|command\w*) me to (?:hurt|harm|kill|drown|smother|get rid of|do things|do something)\b|"
        r"\bhearing voices\b(?! (?:downstairs|outside|next door|through the|in the (?:hall|street|garden|other room|"
        r"flat)|on the (?:monitor|baby monitor|telly|tv)))|"
        r"\b(?:they|someone|somebody) (?:has |have )?(?:swapped|replaced) (?:my|the|our) baby\b|"
        r"\b(?:my|the|our) baby (?:has been|was|got) (?:swapped|replaced)\b|\bnot my (?:real )?baby\b(?! (?:any ?more|to))",
        "Possible postpartum psychosis: command voices, the belief that the baby has been swapped. "
        "A psychiatric emergency. 'the baby is evil today lol' is not matched: too often a joke.",
    ),
    # ------------------------------------------------------------ risk: danger at home ---
    RulePattern(
        "risk.abuse.violence",
        "risk",
        "domestic_abuse",
        rf"\b{PARTNER} (?:\w+ )?(?:hits|hit|hurts|hurt|punch\w*|slap\w*|push\w*|shov\w*|kick\w*|strangl\w*|"
        rf"chok\w*|grab\w*|threw|throws|beats|beat|rap\w*|attack\w*|spat|spits|drag\w*|pinn\w*|bit|bites|"
        rf"burn\w*|headbutt\w*|throttl\w*) (?:me|at me|things at me)\b|"
        r"\b(?:he|she|they) (?:\w+ )?(?:strangl\w*|chok\w*|punch\w*|slap\w*|beat|beats|rap\w*|spat at|spits at|"
        r"throttl\w*) me\b|"
        r"\b(?:he|she) (?:\w+ )?(?:pushed|pushes|shoved|shoves|threw|throws|slammed|slams|dragged|drags|pinned|pins|"
        r"held|holds) me (?:down the stairs|down|against|into|onto|to the floor|to the ground)\b|"
        r"\b(?:strangled|choked|punched|slapped|raped|throttled) me\b|\bby (?:the|my) (?:throat|neck|hair)\b|"
        r"\bhands? (?:round|around|on) my throat\b|"
        rf"\b{PARTNER} (?:\w+ )?(?:gave|left) me (?:a )?(?:black eye|bruises|split lip|fat lip)\b",
        "Physical violence by a partner. With a bare 'he', only acts a baby or toddler cannot do count "
        "('he kicked me' is usually the baby; 'he pushed me' may be a toddler, 'he pushed me down the "
        "stairs' is not). Non-fatal strangulation is a leading predictor of domestic homicide.",
        negatable=True,
    ),
    RulePattern(
        "risk.abuse.fear",
        "risk",
        "domestic_abuse",
        rf"\b(?:scared|afraid|terrified|frightened) (?:of|for) (?:{PARTNER}|what (?:he|she|they) "
        rf"(?:will|would|might|could|is going to)? ?do)\b|\b(?:scared|afraid|terrified|frightened) of him\b"
        r"(?! (?:waking|crying|getting|being|not|falling|choking|rolling|catching|hurting himself|overheating|"
        r"starving|going hungry|missing))|\bnot safe (?:at home|in (?:my|our) "
        r"(?:own )?(?:home|house)|with him|with her|around him)\b|\bwalking on eggshells\b|"
        rf"\b(?:scared|afraid|terrified|frightened|worried) (?:that )?(?:he|{PARTNER}) (?:will|might|would|is going to|"
        rf"could) (?:hurt|kill|hit|find|strangle|attack|beat|come back and) (?:me|us)\b|"
        rf"\b(?:scared|afraid|terrified|frightened) (?:of )?(?:when|what happens when) (?:he|{PARTNER}) (?:gets|is|has been) "
        rf"(?:drunk|angry|drinking|in a rage)\b",
        "Fear of a partner or of being unsafe at home. 'scared of him waking' (baby) is excluded.",
    ),
    RulePattern(
        "risk.abuse.threat",
        "risk",
        "domestic_abuse",
        rf"\bthreaten\w* to (?:kill|hurt|take|leave with|report|have me|get me|call|ring|tell)\b"
        rf"(?! (?:the |my |our |his |her )?(?:dog|cat|car|bins|rubbish|telly|tv|ipad|xbox|toys?|dummy|phone away from "
        rf"(?:him|her|the kids))\b)|"
        rf"\b(?:{PARTNER}|he|she) (?:\w+ )?threaten\w* (?:me|us)\b|"
        rf"\b(?:{PARTNER}|he|she|they) (?:\w+ )?(?:says|said|keeps saying|tells me|told me|is going to|will|would|swears|swore) "
        rf"(?:that )?(?:(?:he|she|they) )?(?:will |would |is going to |is gonna |can )?"
        rf"(?:take (?:the|my|our) (?:baby|kids|children|son|daughter|little one|boys|girls)"
        rf"(?= (?:off me|away|from me|and (?:leave|go|move|run)|for good|if|and i will never|so i will never)|$|[.,!])|"
        rf"(?:kill|hurt) (?:me|us|the baby|the kids|my baby|my kids)|"
        rf"(?:take|get|have) (?:\w+ ){{0,2}}(?:off|away from) me\b|"
        rf"(?:make sure )?i (?:will )?never see (?:the baby|the kids|my baby|my kids|them|her|him) again|"
        rf"(?:report|ring|call|tell) (?:\w+ )?(?:social services|the police|ss) (?:on me|about me|that i)|"
        rf"(?:have|get) me sectioned|(?:get|have|take|going for) (?:full )?custody|"
        rf"(?:tell|convince) (?:everyone|them|people|social services) (?:that )?i am (?:mad|crazy|unfit|an unfit))|"
        rf"\bif i (?:ever )?(?:leave|left|tell|told|report|split up|walk out|go to the police)(?: him| her| anyone| someone| the house)?"
        rf"(?: ever)?[ ,]+(?:then )?(?:{PARTNER}|he|she) (?:will|would|is going to|says|said|threatens|threatened|swears)\b"
        rf"(?: \w+){{0,6}} (?:kill|hurt|never see|social services|custody|sectioned|find me|make sure|ruin|"
        rf"kick me out|throw me out|leave me with nothing|take (?:the|my|our|them|him|her)(?! (?:\w+ )?(?:out|for|to|round|swimming|on|with|"
        rf"downstairs|upstairs|up|in)\b))",
        "Threats by a partner, incl. custody and 'I'll have you sectioned' threats used as control. "
        "'my partner says he'll take the baby out so I can sleep' does not match.",
    ),
    RulePattern(
        "risk.abuse.confinement",
        "risk",
        "domestic_abuse",
        rf"\b(?:{PARTNER}|he) (?:\w+ )?(?:locked|locks|locking|lock|barricaded|trapped|traps) me "
        rf"(?:in|out|inside|outside)\b(?! of (?:the |my )?(?:app|email|profile|account)\b)|"
        rf"\b(?:{PARTNER}|he) (?:\w+ )?(?:shut|shuts) me in\b|\b{PARTNER} (?:\w+ )?(?:kept|keeps) me (?:in|inside|locked)\b|"
        rf"\b(?:locked|shut|trapped) me in (?:the|my|our|a) (?:\w+ )?(?:room|bathroom|bedroom|house|flat|shed|garage|car|"
        rf"toilet|loo|cupboard|kitchen)\b|"
        rf"\b(?:not allowed|never allowed) (?:to (?:go )?out|out|to leave(?: the house| home)?)\b"
        rf"(?! (?:of bed|of hospital|of the|until|till|for|yet|after|the hospital|the ward|without a car seat|on my own yet))|"
        rf"\b(?:not allowed|never allowed) to (?:see|talk to|speak to|text|ring|call|visit|meet|contact) "
        rf"(?:my )?(?:friends|family|mum|mam|mom|dad|sister|brother|parents|anyone|nobody)\b|"
        rf"\b(?:not allowed|never allowed) (?:to have |any |my own )(?:my own )?(?:money|bank|bank account|bank card)\b",
        "Confinement and isolation: locked in or out by a partner, not allowed out or to see family. "
        "'locked myself out' does not match (myself); 'not allowed to drive for six weeks' and "
        "'not allowed out of bed yet' do not match. A bare 'she' is left out (usually a daughter), "
        "and a bare 'he kept me in' is left out (usually the baby).",
    ),
    RulePattern(
        "risk.abuse.control",
        "risk",
        "domestic_abuse",
        rf"\b{PARTNER} (?:\w+ )?(?:will not|does not|never|would not|did not) let me (?:leave|go out|go anywhere|out|"
        rf"work|get a job|drive|visit|talk to|speak to|ring|call|text|contact|see (?:my|anyone|friends|family|the baby|"
        rf"the kids|him|her|them)|(?:have|use|keep|touch|access) (?:any |my own |my |the |a |our )?(?:money|phone|bank|car|"
        rf"keys|job|friends|passport|cards?|say))\b|"
        rf"\b(?:he|she) (?:\w+ )?(?:will not|does not|never|would not|did not) let me (?:see|visit|talk to|speak to|ring|"
        rf"call|text|contact) (?:my )?(?:friends|family|mum|mam|mom|dad|parents|sister|brother|anyone|a doctor|the gp|"
        rf"my gp|the health visitor|the midwife)\b|"
        rf"\b(?:he|she) (?:\w+ )?(?:will not|does not|never|would not|did not) let me (?:have|touch|use|access) "
        rf"(?:any |my own |the |our |my )?(?:money|bank|bank account|bank card|wages|benefits)\b|"
        rf"\b(?:{PARTNER}|he|she) (?:\w+ )?(?:controls|control|controlled|controlling) (?:all )?(?:of )?(?:my|the|our|all the) "
        rf"(?:money|wages|benefits|child benefit|finances|salary|maternity pay|universal credit|bank|spending)\b|"
        rf"\b(?:{PARTNER}|he|she) (?:\w+ )?(?:takes|took|taken|keeps|kept|has taken) (?:all )?(?:of )?my (?:money|wages|"
        rf"benefits|child benefit|salary|maternity pay|universal credit)\b|"
        rf"\b(?:have to|has to|got to|must) ask (?:him|her|{PARTNER}) (?:for )?(?:permission|money|cash|every penny|"
        rf"before i (?:can )?(?:buy|spend|go|see|leave))\b|"
        rf"\b(?:{PARTNER}|he) (?:\w+ )?(?:gives|gave) me (?:an? )?(?:allowance|pocket money)\b|"
        rf"\b{PARTNER} (?:\w+ )?(?:goes mad|kicks off|loses it|flips|gets angry|sulks for days) (?:if|when|whenever) "
        rf"i (?:see|go out|talk|text|spend|leave|visit|meet|ring|call)\b|"
        rf"\b{PARTNER} (?:\w+ )?(?:stops|stopped|stopping) me (?:from )?(?:seeing|going|leaving|talking|working|"
        rf"visiting|ringing|calling)\b|"
        r"\bdomestic (?:abuse|violence)\b|\bcoercive(?:ly)? control\w*\b",
        "Coercive control: isolation from family and friends, financial control ('controls all my "
        "money', 'have to ask him for money'), and naming domestic abuse. With a bare 'he' only "
        "what a baby cannot withhold counts ('he won't let me put him down' is the baby); 'my "
        "husband checks the bank account' alone does not match.",
    ),
    RulePattern(
        "risk.abuse.contact",
        "risk",
        "domestic_abuse",
        rf"\b(?:{PARTNER}|he|she) (?:(?!accidentally|accidently|nearly|almost)\w+ )?(?:smash\w*|broke|breaks|snapped|"
        rf"destroyed|threw away|stamped on) my (?:phone|mobile|laptop|sim|charger|keys)\b|"
        rf"\b(?:{PARTNER}|he|she) (?:\w+ )?(?:took|takes|taken|take|taking|keeps|kept|hid|hides|hidden|hiding|confiscat\w*|"
        rf"snatched|grabbed|has taken) (?:away )?(?:all )?my (?:phone|mobile|keys|car keys|house keys|sim(?: card)?|charger|"
        rf"laptop)\b"
        rf"(?=.*\b(?:so (?:that )?i (?:cannot|could not|can not|would not|was not|am not)|locked|lock|will not give|"
        rf"would not give|refus\w*|when (?:he|she) (?:is|gets|goes|was|got) (?:angry|drunk|mad|in a rage)|whenever (?:he|she) "
        rf"(?:is|gets) (?:angry|drunk|mad)|and my (?:keys|money|purse|bank|card|passport)|scared|frightened|afraid|"
        rf"terrified|cannot call|could not call|cannot ring|could not ring|to stop me|so nobody|so no one|hit|hits|"
        rf"pushed|threaten\w*|shout\w*|screamed|smashed|trapped)\b)|"
        rf"\b(?:{PARTNER}|he|she) (?:\w+ )?(?:took|takes|taken|take|taking|keeps|kept|hid|hides|hidden|hiding|confiscat\w*|"
        rf"snatched|grabbed|has taken) (?:away )?(?:all )?my (?:bank cards?|debit card|credit card|cards|purse|wallet|"
        rf"passport)\b(?=.*\b(?:again|every time|whenever|always|so (?:that )?i (?:cannot|could not|can not)|will not give|"
        rf"would not give|refus\w*|ask (?:him|her)|allowed|locked|scared|frightened|afraid|money|to stop me)\b)|"
        rf"\b(?:{PARTNER}|he|she) (?:\w+ )?(?:checks|check|checked|checking|reads|read|reading|goes through|went through|"
        rf"going through|tracks|tracking|tracked|monitors|monitoring|looks through) (?:all )?(?:of )?my (?:phone|messages|"
        rf"texts|emails|whatsapps?|location|calls|call log|bank statements|receipts|spending|browser history|search history)\b|"
        rf"\b(?:has to|needs to|wants to|insists on|demands to) know where i am (?:all the time|at all times|every|24)\b|"
        rf"\bmakes me (?:share|send) (?:him |her )?my location\b",
        "Taking or destroying her means of contact and independence, and monitoring. DECIDED: a "
        "partner taking her phone or keys is risk only with a control or abuse marker in the same "
        "message ('so I couldn't call anyone', 'locked', 'won't give it back', 'when he's drunk', "
        "'scared', shouting or violence, or taken together with her money/cards); her bank card, "
        "purse or passport also with repetition ('again', 'every time') or money context. 'he took "
        "my phone off me at dinner, said I'm glued to it' (even 'again') and 'I took his phone off "
        "him' stay quiet. Smashing her phone, reading her messages or tracking her location count "
        "on their own (a partner tracking 'for safety' will also alarm: humans decide).",
    ),
    # ----------------------------------------------------- distress (self-directed) ---
    RulePattern(
        "distress.self_worth",
        "distress",
        "self_criticism",
        rf"\bi am (?:such |so |just |a |an |the |really |truly |completely |utterly |absolutely |total |complete |literally )*"
        rf"{NEG_ADJ}\w*(?: {MUM})?\b|\bi (?:feel|felt) like (?:a |such a |the |an |complete |total |utter |absolute |massive |huge )*"
        rf"(?:{NEG_ADJ}|failure)\b|\b(?:why|how) am i (?:so |such a |this |always )*{NEG_ADJ}\w*\b",
        "Harsh self-judgement ('I'm such a bad mum'). Recognised so model toxicity on it never "
        "flags the author.",
    ),
    RulePattern(
        "distress.self_hate",
        "distress",
        "self_criticism",
        r"\bi (?:hate|loathe|despise|cannot stand|can not stand) (?:myself|who i (?:am|have become|became)|"
        r"what i (?:am|have become)|my ?self|my body|the person i|being (?:a )?(?:mum|mom|mother))\b",
        "Self-hatred.",
    ),
    RulePattern(
        "distress.failing",
        "distress",
        "self_criticism",
        r"\b(?:failing|fail|failed|a failure) (?:at|as) (?:everything|being|a mum|a mom|a mother|motherhood|life|her|him)\b|"
        r"\bi (?:am|think i am|feel like i am|keep) (?:failing|getting (?:it|everything) wrong)\b|"
        r"\bi am not (?:a )?good enough\b|\bwhat is wrong with me\b|\bi (?:do not|never) deserve\b",
        "Sense of failure.",
    ),
    RulePattern(
        "distress.feelings",
        "distress",
        "low_mood",
        r"\b(?:i|i am|i have been|i have|i keep|i just) ?(?:feel|feeling|felt|been feeling) (?:so |really |completely |"
        r"totally |very |quite |a bit |pretty |just |utterly |kind of |constantly |always )*(?:disconnected|numb|"
        r"empty|alone|lonely|lost|hopeless|worthless|overwhelmed|guilty|ashamed|detached|trapped|broken|"
        r"useless|anxious|scared|terrified|exhausted|awful|terrible|low|down|flat|nothing|invisible|"
        r"like a failure|like a fraud|like a bad|like i am drowning|like i am failing|like a stranger|"
        r"like (?:a |an )?(?:zombie|robot|shell)|miserable|rubbish|crap|shit|angry|rage|resentful|panicky|dead inside)\b",
        "First-person low mood and anxiety.",
    ),
    RulePattern(
        "distress.state",
        "distress",
        "low_mood",
        r"\bi am (?:so |really |just |completely |totally |very |constantly |always )*(?:exhausted|angry|drained|"
        r"overwhelmed|lonely|miserable|anxious|terrified|scared|numb|broken|struggling|not coping|"
        r"depressed|sad|crying|on edge|falling apart|drowning|not okay|not ok|not alright|losing it|"
        r"losing my mind|going mad|going crazy)\b|\b(?:cannot|can not|not) cop(?:e|ing)\b|"
        r"\bi (?:cannot|can not) do this(?: any ?more)?\b|\bfalling apart\b|\bdead inside\b",
        "First-person distress states.",
    ),
    RulePattern(
        "distress.crying",
        "distress",
        "low_mood",
        r"\bi (?:cry|am crying|keep crying|cried|have cried|have been crying|burst into tears|sob)\w*"
        r"(?: \w+){0,3} (?:every|all|constantly|again|non stop|whenever|when|because|for no reason)\b|"
        r"\bcry(?:ing)? (?:every day|all the time|constantly|all day|every time)\b|"
        r"\bi (?:cried|sobbed|broke down|burst into tears|was in tears|have been in tears)\b",
        "Persistent tearfulness.",
    ),
    RulePattern(
        "distress.bonding",
        "distress",
        "bonding",
        rf"\bi (?:do not|cannot|can not|never|did not|still do not) (?:feel (?:anything|any love|love|connected|a bond|"
        rf"bonded|close)(?: for| to| with)?|bond(?:ed)? with|love|like|want) {BABY}\b|"
        r"\bbabysitting (?:someone|somebody) else|\bnot (?:bonding|bonded)\b|\bregret (?:having|becoming|being)\b",
        "Difficulty bonding; common and shame-laden, needs support not judgement.",
    ),
    RulePattern(
        "distress.loneliness",
        "distress",
        "low_mood",
        r"\b(?:so|very|really|incredibly|this|that) (?:lonely|isolat\w*)\b|\bnobody (?:warned|told|understands|"
        r"listens|gets it|cares about me)\b|\bno one (?:warned|told|understands|listens|gets it)\b|"
        r"\b(?:all|completely|totally) alone\b",
        "Isolation.",
    ),
    RulePattern(
        "distress.anxiety",
        "distress",
        "anxiety",
        r"\b(?:scared|terrified|worried|frightened|afraid|convinced) (?:that )?something (?:bad |awful |terrible )?"
        r"(?:will|is going to|might|would) happen\b|\bpanic attacks?\b|\bcannot stop (?:worrying|checking|shaking)\b|"
        r"\bcan not stop (?:worrying|checking|shaking)\b|\bcannot (?:sleep|breathe) (?:because|for worrying)\b",
        "Anxiety, including health anxiety about the baby.",
    ),
    RulePattern(
        "distress.escape",
        "distress",
        "low_mood",
        r"\b(?:want|wanted|wish)\w* (?:i could |to )?(?:just )?(?:run away|get in the car and (?:just )?(?:drive|go)|walk out|"
        r"leave (?:it all|them all|everything))\b",
        "Wanting to escape: distress; moderators see it through the distress queue.",
    ),
    # ------------------------------------------------------ insensitive (aimed at others) ---
    RulePattern(
        "insensitive.at_least",
        "insensitive",
        "minimising",
        r"\bat least (?:you|your|u|she|he|they|it (?:was not|is not|was|is) (?:a |an )?(?:stillbirth|miscarriage|"
        r"dead|loss|born|healthy|worse|serious)|(?:the )?baby (?:is|was) (?:healthy|fine|ok|okay|alive|here))\b",
        "'At least you've got a healthy baby': silver-lining a loss or struggle. 'at least it's "
        "Friday' and 'at least I got a shower' do not match.",
        negatable=True,
    ),
    RulePattern(
        "insensitive.blessings",
        "insensitive",
        "minimising",
        r"\bcount your blessings\b|\byou (?:are|should (?:be|feel)) (?:so )?(?:lucky|grateful|thankful)\b|"
        r"\bsome (?:people|women|mums|mothers) (?:would|can not|cannot|never) (?:kill|love|give anything|have|get)\w*\b|"
        r"\bthink (?:of|about) (?:the )?(?:people|women|mums|mothers|those) who (?:can not|cannot|have|lost)\b|"
        r"\bbe grateful\b|\bshould be enjoying\b|\benjoy (?:every|it while)\b",
        "Gratitude used to silence ('you should be grateful').",
        negatable=True,
    ),
    RulePattern(
        "insensitive.snap_out",
        "insensitive",
        "invalidating",
        r"\b(?:snap|get|pull|buck|sort) (?:out of it|yourself together|your ?self together|over it|up|a grip)\b|"
        r"\bman up\b|\bharden up\b|\bget on with it\b|\bjust cheer up\b|\b(?:oh|just|please) grow up\b|\bmove on\b(?= already|$)",
        "Telling someone to snap out of a mental illness.",
        negatable=True,
    ),
    RulePattern(
        "insensitive.positive",
        "insensitive",
        "invalidating",
        r"\b(?:you )?(?:just )?(?:need|have|got|ought) to (?:just )?(?:think|be|stay|try being|try to be) "
        r"(?:more )?(?:positive|happy|grateful|thankful)\b|\bjust (?:think|be|stay) (?:positive|happy)\b|"
        r"\bchoose (?:to be )?happiness\b|\bpositive vibes only\b|\bgood vibes only\b|\b(?:it is|that is) (?:all )?"
        r"(?:in your head|mind over matter)\b|\b(?:you are|you have been) (?:just )?(?:over ?thinking|over ?reacting|"
        r"being (?:dramatic|silly|too sensitive|hormonal)|too sensitive|dramatic|hormonal)\b|"
        r"\bstop (?:over ?thinking|being (?:so )?(?:dramatic|negative|sensitive))\b",
        "Toxic positivity and dismissal of feelings as imagined or hormonal.",
        negatable=True,
    ),
    RulePattern(
        "insensitive.chose_this",
        "insensitive",
        "blaming",
        r"\byou (?:chose|wanted|asked for|signed up for|decided to have|made your bed)\b|"
        r"\bwhat did you expect\b|\byour (?:own )?(?:choice|decision|fault)\b|\bwell you wanted\b|"
        r"\bshould have thought (?:of|about) that\b|\bshould not have had (?:kids|children|a baby)\b",
        "'You chose this' / 'you wanted a baby': blame for struggling.",
        negatable=True,
    ),
    RulePattern(
        "insensitive.worse_off",
        "insensitive",
        "minimising",
        r"\b(?:other|some|lots of|plenty of|many) (?:people|women|mums|mothers|moms|families) (?:have|have got|"
        r"are|had|go through) (?:it |things )?(?:so much |much |far |a lot |way )?(?:worse|harder)\b|"
        r"\b(?:could|it could) (?:always )?be (?:so much |much |a lot |far |way )?worse\b|"
        r"\bworse off than you\b|\bfirst world problems?\b|\byou think you have it (?:bad|hard)\b",
        "Comparative suffering ('other people have it worse').",
        negatable=True,
    ),
    RulePattern(
        "insensitive.everyone",
        "insensitive",
        "minimising",
        r"\b(?:everyone|everybody|all (?:mums|mothers|parents|new mums)|we)(?: (?:is|are|gets?|feels?|all|has|goes through|"
        r"went through|been))* (?:tired|exhausted|knackered|stressed|struggles|"
        r"gets? (?:the )?baby blues|feels? like that|goes through (?:it|that|this))\b|"
        r"\bwelcome to (?:motherhood|parenthood|being a (?:mum|parent))\b(?=.*\b(?:stop|get|deal|just)\b)|"
        r"\bstop (?:making (?:it|everything) about you|moaning|whining|whingeing|whinging|complaining|"
        r"feeling sorry for yourself)\b|\bit is not (?:that|a big) (?:hard|bad|deal)\b|"
        r"\bthat is (?:just )?(?:motherhood|parenthood|parenting|being a (?:mum|mother|parent)|what babies do)\b|\bnot that (?:hard|bad)\b",
        "'Everyone's tired': normalising away someone's illness; 'stop moaning'.",
    ),
    RulePattern(
        "insensitive.pnd_denial",
        "insensitive",
        "invalidating",
        r"\b(?:postnatal|post natal|postpartum|post partum|perinatal|antenatal)? ?(?:depression|anxiety|pnd|ppd|"
        r"mental health|ocd) (?:is|are|is just|is only) (?:just |only |all )?(?:an excuse|made up|not real|"
        r"in your head|attention|fake|a myth|a fad|(?:a )?(?:trendy|fashionable)(?: \w+)?|a trend|a label)\b|\b(?:just|only) (?:an|a) excuse\b|"
        r"\b(?:it is |that is )?(?:just|only) (?:the )?(?:baby blues|hormones)\b|\bnot (?:real|proper) depression\b|"
        r"\beveryone (?:has|is) (?:depression|anxious|depressed) these days\b|\bin my day\b",
        "Denying perinatal illness is real ('PND is just an excuse').",
        negatable=True,
    ),
    RulePattern(
        "insensitive.feeding",
        "insensitive",
        "judging_choices",
        r"\b(?:bottle|formula)(?: ?feeding| feed|s)? (?:is|are|was) (?:the |just |basically )?(?:easy way out|"
        r"lazy|selfish|poison|junk|second best|cheating|not as good|inferior|bad for)\w*\b|"
        r"\bbreast (?:is|milk is) best\b|\b(?:too lazy|lazy|selfish|not trying hard enough) (?:to|not to) breast ?feed\b|"
        r"\b(?:you should|you should have|why did you not|why do not you|why not just) (?:have )?(?:kept|tried|just|persevered)"
        r"\w* (?:harder )?(?:with )?(?:breast ?feeding|to breast ?feed|feeding her yourself|feeding him yourself)\b|"
        r"\b(?:gave|give|giving) up (?:on )?breast ?feeding (?:so|too) (?:easily|quickly|soon)\b|\bproper mums\b|"
        r"\breal (?:mums|mothers|moms) (?:breast ?feed|give birth|do not)\b",
        "Judgement about feeding. Stating one's own choice ('we switched to formula') is fine.",
        negatable=True,
    ),
    RulePattern(
        "insensitive.birth",
        "insensitive",
        "judging_choices",
        r"\b(?:c ?section|caesarean|cesarean|epidural|elective)s? (?:is|are|was|birth is|births are) "
        r"(?:the |just |basically )?(?:easy way out|cheating|not (?:a )?real|lazy|selfish|taking the easy)\w*\b|"
        r"\btoo posh to push\b|\bnot (?:a )?(?:real|proper|natural) (?:birth|labour|mum|mother)\b|\bdid not really give birth\b",
        "Judgement about how someone gave birth.",
        negatable=True,
    ),
    RulePattern(
        "insensitive.medication",
        "insensitive",
        "judging_choices",
        rf"\b(?:you )?(?:should not|should never|should not really|should not even) (?:be )?(?:on|take|taking|be taking) "
        rf"(?:any )?(?:meds|medication|antidepressants|anti depressants|{MEANS}|sertraline)\b|"
        rf"\b(?:antidepressants|anti depressants|meds|medication|pills|happy pills) (?:are|is) (?:just )?(?:a crutch|poison|"
        rf"the easy way out|for the weak|not the answer|a cop out|numbing)\b|\bhappy pills\b|"
        rf"\b(?:instead of|rather than|do not need) (?:taking )?(?:meds|medication|pills|antidepressants)\b",
        "Judgement about psychiatric medication (incl. while breastfeeding).",
        negatable=True,
    ),
    RulePattern(
        "insensitive.selfish",
        "insensitive",
        "judging_choices",
        r"\b(?:is|are|being|so|that is|it is) (?:so |really |just |pretty |quite |incredibly )?selfish\b",
        "Calling a member's choices selfish. Aimed: 'I'm being selfish' is self-talk.",
        negatable=True,
        aimed=True,
    ),
    RulePattern(
        "insensitive.comparison",
        "insensitive",
        "minimising",
        r"\b(?:my|her|his) (?:sister|mum|mam|mom|mother|friend|cousin|neighbour|sister in law|nan|gran|colleague|"
        r"auntie|aunt)\w* (?:had|has|managed|coped|did|raised|was)\b.*\b(?:so |surely )?(?:you|u) (?:can|could|should|will)\b|"
        r"\bso (?:surely )?(?:you|u) (?:can|could|should) (?:manage|cope|handle|do)\b|"
        r"\bi (?:managed|coped|did it)(?: \w+){0,4}(?:,| so| and) (?:so )?(?:you|u) (?:can|could|should)\b|"
        r"\bwe (?:just )?(?:got on with it|did not have (?:the )?(?:luxury|time|help))\b",
        "Comparisons that imply the person should cope ('my sister had twins, so you can manage one').",
    ),
    # ------------------------------------------------------- abuse (aimed at others) ---
    RulePattern(
        "abuse.threat",
        "abuse",
        "threat",
        r"\bi (?:will|am going to|am gonna|would|could) (?:find|get|hurt|kill|come for|track down|smash|batter|"
        r"sort|deal with|end|destroy|ruin|make) (?:you|u|your)\b|\b(?:you will|you are going to|you would|"
        r"you gonna|make you) (?:regret|pay|suffer|be sorry)\b|\bwatch your back\b|\bi know where you live\b|"
        r"\byou (?:will|are going to) get (?:what is coming|hurt|yours)\b|\bcoming for you\b",
        "Threats at another member, checked before delivery.",
        negatable=True,
    ),
    RulePattern(
        "abuse.severe",
        "abuse",
        "severe",
        r"\b(?:kill|hang|top) yourself\b|\bkys\b|\bgo (?:and )?die\b|\bhope (?:you|u|your \w+) (?:die|dies|suffer|"
        r"rot|get hurt|gets hurt|get raped)\b|\b(?:you|u) (?:should|deserve to) (?:die|suffer|be dead)\b|"
        r"\bdrop dead\b(?! gorgeous)",
        "Telling someone to die or hoping they suffer: hold immediately.",
        negatable=True,
    ),
    RulePattern(
        "abuse.insult",
        "abuse",
        "insult",
        rf"\b(?:you|u|your) (?:are|were|r)? ?(?:such |a |an |the |just |so |really |being |an absolute |a complete |a total )*"
        rf"(?:{INSULT_ADJ} )*(?:{INSULT_NOUN}|disgrace|waste of space|joke|pathetic|embarrassing|disgusting|"
        rf"vile|useless|stupid|thick|selfish|lazy|evil|horrible|nasty|{NEG_ADJ} {MUM}|(?:a )?{NEG_ADJ} {MUM})\b|"
        rf"\b(?:what a|such a|you) (?:{INSULT_ADJ} )+{INSULT_NOUN}\b|\b(?:{INSULT_ADJ} )+{INSULT_NOUN}\b|"
        rf"\bwhat an? (?:{INSULT_NOUN}|joke|disgrace|loser)\b",
        "Second-person and name-calling insults. Aimed: 'I am such a silly cow' is self-talk.",
        negatable=True,
        aimed=True,
    ),
    RulePattern(
        "abuse.harassment",
        "abuse",
        "harassment",
        r"\bshut (?:up|your (?:mouth|face|gob|trap))\b|\bget lost\b|\b(?:piss|fuck|f off|bugger|sod|jog) off\b|"
        r"\bfuck (?:you|u|off)\b|\bscrew you\b|\bnobody (?:cares|likes you|wants you|asked|wants to hear)\b|"
        r"\bno one (?:cares|likes you|asked)\b|\b(?:crying|moaning|posting|doing (?:it|this)|begging) for "
        r"(?:attention|sympathy)\b|\battention seek\w*\b|\bpeople like (?:you|u)\b|\b(?:you|u) (?:make|makes) me sick\b|"
        r"\byour (?:kid|kids|baby|child|children|son|daughter)s? (?:is|are|will|is going to|are going to)(?: be| grow up)? "
        r"(?:so |totally |completely )?(?:messed up|screwed up|fucked up|damaged|traumati[sz]ed|"
        r"better off without you)\b|\b(?:messed|screwed|fucked) up because of (?:you|u)\b|"
        r"\b(?:you|u) (?:do not|dont) deserve (?:that |your |a |to have |to be a )?(?:baby|child|kids|children|mum|mother)\b|"
        r"\b(?:you|u) (?:should not|should never) (?:be allowed to )?(?:be a (?:mum|mother)|have (?:had )?(?:kids|children|a baby))\b|"
        r"\b(?:a mum|a mother|a mom|a parent) like (?:you|u)\b|\bleave (?:the|this) (?:group|chat)\b(?=.*\b(?:nobody|no one|you)\b)|\bnobody wants you here\b",
        "Hostility at a member: silencing, 'attention seeking', attacks on her parenting.",
        negatable=True,
        aimed=True,
    ),
)
