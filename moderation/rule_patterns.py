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
MEANS = r"(?:tablets|pills|meds|medication|paracetamol|sertraline|citalopram|painkillers|co ?codamol)"
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
    (r"\b(?:could|would|will) (?:murder|kill) (?:a|for a|for an|for some|for) \w+", "craving: 'could murder a cup of tea'"),
    (r"\b(?:kill|killed|killing|die|died|dying|dead) (?:myself )?(?:of |from )?laugh\w*", "laughter: 'nearly died laughing'"),
    (r"\bdying (?:to|for)\b", "'dying to know', 'dying for a wee'"),
    (r"\bto die for\b", "'a cake to die for'"),
    (r"\b(?:the )?death of me\b", "'this baby will be the death of me'"),
    (r"\b(?:is|are|was|were) killing me\b", "'my feet are killing me' (no self-directed verb, listed for clarity)"),
    (r"\b(?:bored|scared|worried|tired|done) to death\b", "intensifier"),
    (r"\bdead (?:tired|on my feet|beat)\b", "exhaustion idiom"),
    (r"\b(?:could have|could of|nearly|almost) died of (?:embarrassment|shame|shock)\b", "embarrassment"),
    (r"\bwant(?:ed)? to die of (?:embarrassment|shame)\b", "embarrassment"),
    (r"\bkill two birds\b", "proverb"),
    (r"\bover my dead body\b", "idiom"),
    (r"\bdrop dead gorgeous\b", "idiom"),
    (r"\bkiller\b", "'the 4am feed is a killer'"),
)

RULES: tuple[RulePattern, ...] = (
    # ---------------------------------------------------------------- risk: suicidal thoughts ---
    RulePattern("risk.suicide.explicit", "risk", "suicidal_thoughts",
                r"\b(?:kill(?:ing|ed)?|hang(?:ing)?|off(?:ing)?|top(?:ping)?) myself\b|\bkms\b|\bunalive\b",
                "Explicit wish or intent to die by suicide. Laughing idioms are blanked first.",
                negatable=True),
    RulePattern("risk.suicide.word", "risk", "suicidal_thoughts",
                r"\bsuicid\w*|\bsucidal\b|\bsuacidal\b",
                "Any mention of suicide by the writer; 'I'm not suicidal' is negated.", negatable=True),
    RulePattern("risk.suicide.end_life", "risk", "suicidal_thoughts",
                r"\b(?:end|ending|take|taking) (?:it all|my (?:own )?life|my life|things)\b",
                "'end it all', 'take my own life'. 'end things' is kept: it is how people say it.",
                negatable=True),
    RulePattern("risk.suicide.want_die", "risk", "suicidal_thoughts",
                r"\b(?:want|wanted|wanting|wish|wishing|ready) (?:i was |i were |to |i could )?(?:just )?(?:die|dead|be dead)\b",
                "Wish to be dead. 'want to die of embarrassment' is an idiom and blanked first.",
                negatable=True),
    RulePattern("risk.suicide.not_live", "risk", "suicidal_thoughts",
                r"\b(?:do not|does not|no longer|never) (?:really )?want to (?:live|be alive|exist|"
                r"be here any ?more|wake up|carry on|go on|keep going)\b|"
                r"\b(?:not sure|do not know|unsure|cannot say) (?:if |whether )?i (?:want|can|will) (?:to )?(?:live|be alive|"
                r"be here|exist|go on|carry on|keep going)\b",
                "Passive ideation; the negation is part of the meaning, so never negated.",),
    RulePattern("risk.suicide.no_point", "risk", "suicidal_thoughts",
                r"\b(?:no|not see the|not see any|cannot see the|cannot see any|what is the|is there any) point "
                r"(?:in |of )?(?:living|life|being alive|being here|going on|carrying on|me being here|"
                r"anything any ?more|any of it any ?more|me)\b",
                "'I don't see the point in living anymore'. 'no point in buying the big pack' is not matched."),
    RulePattern("risk.suicide.not_wake", "risk", "suicidal_thoughts",
                r"\b(?:wish|want|hope|pray)\w* (?:i |to )?(?:could |would |did )?(?:just )?(?:not|never) "
                r"(?:wake up|woke up|be here|exist)\b|\b(?:go to sleep|fall asleep|sleep) (?:and|forever and) "
                r"(?:not|never) wake up\b|\bsleep forever\b",
                "'Wish I could just not wake up'."),
    RulePattern("risk.suicide.disappear", "risk", "suicidal_thoughts",
                r"\b(?:want|wanted|wish|wishing|like) (?:i could |to |i would |i could just |to just |i would just )?"
                r"(?:just )?(?:disappear|vanish|stop existing|not exist|fade away|cease to exist)\b",
                "Passive ideation phrased as disappearing. Reviewed: escalating is right even 'for a while'."),
    RulePattern("risk.suicide.better_off", "risk", "suicidal_thoughts",
                r"\bbetter off without me\b|\bbetter off (?:if|when) i (?:was|were|am|m) (?:not here|gone|dead)\b|"
                r"\b(?:everyone|they|he|she|my \w+) (?:would|will|would all|will all) be better off\b",
                "Perceived burdensomeness, a recognised suicide risk factor."),
    RulePattern("risk.suicide.if_gone", "risk", "suicidal_thoughts",
                r"\b(?:nobody|no one) would (?:even |really |actually )?(?:notice|care|miss me)\b|"
                r"\bif i (?:was|were|was just|were just) (?:not here|not around|gone|dead|to die|to disappear)\b"
                r"(?! (?:to|for|at|when|tomorrow|tonight|this|next|on))",
                "Imagining others' lives without her ('nobody would notice if I wasn't here'). "
                "'if I wasn't here to do bedtime' is excluded."),
    RulePattern("risk.suicide.no_reason", "risk", "suicidal_thoughts",
                r"\b(?:nothing|no reason|no one|nobody) (?:left )?to live for\b|\bno reason to (?:live|go on|keep going|carry on)\b",
                "Hopelessness about living."),
    RulePattern("risk.suicide.cannot_go_on", "risk", "suicidal_thoughts",
                r"\b(?:cannot|can not) (?:go on|carry on|keep going)(?! like| with| the| as| for)\b|\bgive up on life\b",
                "'I can't go on' (but not 'can't go on like this with no sleep', which is distress)."),
    # ----------------------------------------------------------- risk: plans and means ---
    RulePattern("risk.plan.means", "risk", "suicide_plan",
                rf"\b(?:saving|saved|save|stockpil\w*|hoard\w*|collect\w*|stash\w*|keeping|kept) (?:up )?(?:all )?(?:of )?"
                rf"(?:my |the |some )?{MEANS}\b",
                "Gathering means. 'saving up for a pram' does not match: a medicine must follow."),
    RulePattern("risk.plan.overdose", "risk", "suicide_plan",
                rf"\b(?:overdos\w*|od on|(?:take|taking|swallow\w*) (?:all|the whole|a whole) (?:of )?(?:my |the )?(?:packet|box|bottle)?(?: of)? ?{MEANS}?)\b|"
                rf"\bhow many {MEANS} (?:would|does|will|to)\b",
                "Overdose or method enquiry.", negatable=True),
    RulePattern("risk.plan.method", "risk", "suicide_plan",
                r"\b(?:jump|jumping|throw myself|step|stepping|walk|walking|drive|driving) "
                r"(?:off|in front of|into|under) (?:a |the )?(?:bridge|train|bus|lorry|car|traffic|sea|river|canal|"
                r"motorway|building|cliff|wall)\b|\b(?:a |the )?(?:noose|rope) (?:for|round|around) (?:me|my)\b",
                "Methods. 'walk into the sea' is kept even though it might be literal: humans decide.",
                negatable=True),
    RulePattern("risk.plan.note", "risk", "suicide_plan",
                r"\b(?:suicide|goodbye) (?:note|letter)s?\b|\b(?:written|writing|wrote|left) (?:my )?(?:letters|notes) "
                r"(?:to|for) (?:my |the )?(?:kids|children|family|partner|husband|baby)\b",
                "Final arrangements."),
    RulePattern("risk.plan.intent", "risk", "suicide_plan",
                r"\b(?:going to|gonna|will|am about to|plan(?:ning)? to) (?:do it|end it)\b(?=.*\b(?:tonight|today|tomorrow|"
                r"when|while|this|after|before)\b)",
                "Stated intent with a time. 'going to do it' alone is too vague to act on.", negatable=True),
    # ---------------------------------------------------------------- risk: self-harm ---
    RulePattern("risk.self_harm.act", "risk", "self_harm",
                r"\b(?:hurt|hurting|harm|harming|cut|cutting|burn|burning|hit|hitting|punch|punching|scratch|"
                r"scratching|starve|starving|bang|banging)\w* myself\b(?! (?:on|by accident|accidentally|when|while|"
                r"chopping|cooking|shaving|falling|on the|with the (?:oven|iron|kettle)))",
                "Self-harm acts and urges. Accidents ('cut myself chopping onions') are excluded.",
                negatable=True),
    RulePattern("risk.self_harm.word", "risk", "self_harm",
                r"\bself ?harm\w*\b|\bself injur\w*\b|\b(?:cutting|cut) (?:again|my (?:arms|wrists|legs|thighs))\b|"
                r"\burges? to (?:cut|self harm|harm|hurt)\b|\bscratch\w* until (?:i|it) bleed",
                "Self-harm vocabulary, including relapse ('cutting again').", negatable=True),
    RulePattern("risk.self_harm.intent", "risk", "self_harm_plan",
                r"\b(?:going to|gonna|will|am about to|want to|need to) (?:hurt|harm|cut|burn|punish) myself\b",
                "Stated intent to self-harm ('I'm going to hurt myself tonight').", negatable=True),
    # ------------------------------------------------------------ risk: harm to the baby ---
    RulePattern("risk.baby.intrusive", "risk", "harm_to_baby_intrusive",
                rf"\b(?:thoughts?|images?|urges?|visions?|pictures?|flash\w*|impulses?|ideas?|imagin\w*|picturing|"
                rf"dreams?) (?:of |about )?(?:me |myself )?{HARM_BABY_VERB}(?: {BABY})?",
                "Intrusive thoughts of harming the baby: common in perinatal OCD, always seen by a human, "
                "never treated as a threat by the mother.", negatable=False),
    RulePattern("risk.baby.fear", "risk", "harm_to_baby_intrusive",
                rf"\b(?:scared|afraid|terrified|frightened|worried|worry|panic\w*|fear)\w* (?:that )?(?:i (?:would |will |"
                rf"might |could |am going to |may )?(?:accidentally |snap and )?{HARM_BABY_VERB} {BABY}|of what i (?:might|would|"
                rf"could|will) do(?: to {BABY})?|i (?:might|will|would|could) do something to {BABY})|"
                rf"\bwhat if i (?:accidentally |snap and )?{HARM_BABY_VERB} {BABY}",
                "Fear of harming the baby ('scared I'll drop him on purpose', 'what if I hurt her').",
                negatable=False),
    RulePattern("risk.baby.urge", "risk", "harm_to_baby",
                rf"\b(?:want|wanted|feel like|felt like|urge|tempted|nearly|almost|could have|came close to)\w* "
                rf"(?:to )?{HARM_BABY_VERB} {BABY}",
                "Urges or near misses ('I nearly shook him'). 'could have hugged her' does not match.",
                negatable=True),
    RulePattern("risk.baby.direct", "risk", "harm_to_baby",
                rf"\b(?:hurt|harm|kill|smother|suffocate|drown|shake|throw|strangle|stab) (?:my|the|our) "
                rf"(?:baby|babies|son|daughter|little one|newborn|lo|twins?|kids?|child|children)\b",
                "Any statement about harming one's own child. 'I would never hurt my baby' is negated.",
                negatable=True),
    # ------------------------------------------------------------ risk: danger at home ---
    RulePattern("risk.abuse.violence", "risk", "domestic_abuse",
                rf"\b{PARTNER} (?:\w+ )?(?:hits|hit|hurts|hurt|punch\w*|slap\w*|push\w*|shov\w*|kick\w*|strangl\w*|"
                rf"chok\w*|grab\w*|threw|throws|beats|beat|rap\w*|attack\w*|spat|spits) (?:me|at me|things at me)\b|"
                r"\b(?:he|she|they) (?:\w+ )?(?:strangl\w*|chok\w*|punch\w*|slap\w*|beat|beats|rap\w*|spat at|spits at) me\b|"
                r"\b(?:strangled|choked|punched|slapped|raped|headbutted) me\b|\bby (?:the|my) (?:throat|neck|hair)\b",
                "Physical violence by a partner. With a bare 'he', only verbs a baby cannot do count "
                "('he kicked me' is usually the baby).", negatable=True),
    RulePattern("risk.abuse.fear", "risk", "domestic_abuse",
                rf"\b(?:scared|afraid|terrified|frightened) (?:of|for) (?:{PARTNER}|what (?:he|she|they) "
                rf"(?:will|would|might|could|is going to)? ?do)\b|\b(?:scared|afraid|terrified|frightened) of him\b"
                r"(?! (?:waking|crying|getting|being|not|falling|choking|rolling|catching))|\bnot safe (?:at home|in (?:my|our) "
                r"(?:own )?(?:home|house)|with him|with her|around him)\b|\bwalking on eggshells\b",
                "Fear of a partner or of being unsafe at home. 'scared of him waking' (baby) is excluded."),
    RulePattern("risk.abuse.threat", "risk", "domestic_abuse",
                rf"\b(?:{PARTNER}|he|she|they) (?:\w+ )?(?:threaten\w*|says|said|keeps saying|is going to|will) "
                rf"(?:that )?(?:he|she|they)?(?: will| would| is going to)? ?(?:take|taking|keep|kill|hurt) "
                rf"(?:the|my|our|me|us|the kids)(?: baby| kids| children| son| daughter)?\b|\bthreaten\w* to (?:kill|hurt|take)\b",
                "Threats by a partner, including custody threats used as control ('he'll take the baby')."),
    RulePattern("risk.abuse.control", "risk", "domestic_abuse",
                rf"\b{PARTNER} (?:\w+ )?(?:will not|does not|never) let me (?:leave|go out|see|have|use|talk|speak|out)\b|"
                rf"\b{PARTNER} (?:\w+ )?(?:controls|takes|took|checks|tracks) (?:all )?(?:my|the) (?:money|phone|bank|finances|car keys)\b|"
                r"\bdomestic (?:abuse|violence)\b|\bcoercive control\b",
                "Coercive control and explicit naming of domestic abuse."),
    # ----------------------------------------------------- distress (self-directed) ---
    RulePattern("distress.self_worth", "distress", "self_criticism",
                rf"\bi am (?:such |so |just |a |an |the |really |truly |completely |utterly |absolutely |total |complete |literally )*"
                rf"{NEG_ADJ}\w*(?: {MUM})?\b|\bi (?:feel|felt) like (?:a |such a |the |an |complete |total |utter |absolute |massive |huge )*"
                rf"(?:{NEG_ADJ}|failure)\b|\b(?:why|how) am i (?:so |such a |this |always )*{NEG_ADJ}\w*\b",
                "Harsh self-judgement ('I'm such a bad mum'). Recognised so model toxicity on it never "
                "flags the author."),
    RulePattern("distress.self_hate", "distress", "self_criticism",
                r"\bi (?:hate|loathe|despise|cannot stand|can not stand) (?:myself|who i (?:am|have become|became)|"
                r"what i (?:am|have become)|my ?self|my body|the person i|being (?:a )?(?:mum|mom|mother))\b",
                "Self-hatred."),
    RulePattern("distress.failing", "distress", "self_criticism",
                r"\b(?:failing|fail|failed|a failure) (?:at|as) (?:everything|being|a mum|a mom|a mother|motherhood|life|her|him)\b|"
                r"\bi (?:am|think i am|feel like i am|keep) (?:failing|getting (?:it|everything) wrong)\b|"
                r"\bi am not (?:a )?good enough\b|\bwhat is wrong with me\b|\bi (?:do not|never) deserve\b",
                "Sense of failure."),
    RulePattern("distress.feelings", "distress", "low_mood",
                r"\b(?:i|i am|i have been|i have|i keep|i just) ?(?:feel|feeling|felt|been feeling) (?:so |really |completely |"
                r"totally |very |quite |a bit |pretty |just |utterly |kind of |constantly |always )*(?:disconnected|numb|"
                r"empty|alone|lonely|lost|hopeless|worthless|overwhelmed|guilty|ashamed|detached|trapped|broken|"
                r"useless|anxious|scared|terrified|exhausted|awful|terrible|low|down|flat|nothing|invisible|"
                r"like a failure|like a fraud|like a bad|like i am drowning|like i am failing|like a stranger|"
                r"like (?:a |an )?(?:zombie|robot|shell)|miserable|rubbish|crap|shit|angry|rage|resentful|panicky|dead inside)\b",
                "First-person low mood and anxiety."),
    RulePattern("distress.state", "distress", "low_mood",
                r"\bi am (?:so |really |just |completely |totally |very |constantly |always )*(?:exhausted|angry|drained|"
                r"overwhelmed|lonely|miserable|anxious|terrified|scared|numb|broken|struggling|not coping|"
                r"depressed|sad|crying|on edge|falling apart|drowning|not okay|not ok|not alright|losing it|"
                r"losing my mind|going mad|going crazy)\b|\b(?:cannot|can not|not) cop(?:e|ing)\b|"
                r"\bi (?:cannot|can not) do this(?: any ?more)?\b|\bfalling apart\b|\bdead inside\b",
                "First-person distress states."),
    RulePattern("distress.crying", "distress", "low_mood",
                r"\bi (?:cry|am crying|keep crying|cried|have cried|have been crying|burst into tears|sob)\w*"
                r"(?: \w+){0,3} (?:every|all|constantly|again|non stop|whenever|when|because|for no reason)\b|"
                r"\bcry(?:ing)? (?:every day|all the time|constantly|all day|every time)\b|"
                r"\bi (?:cried|sobbed|broke down|burst into tears|was in tears|have been in tears)\b",
                "Persistent tearfulness."),
    RulePattern("distress.bonding", "distress", "bonding",
                rf"\bi (?:do not|cannot|can not|never|did not|still do not) (?:feel (?:anything|any love|love|connected|a bond|"
                rf"bonded|close)(?: for| to| with)?|bond(?:ed)? with|love|like|want) {BABY}\b|"
                r"\bbabysitting (?:someone|somebody) else|\bnot (?:bonding|bonded)\b|\bregret (?:having|becoming|being)\b",
                "Difficulty bonding; common and shame-laden, needs support not judgement."),
    RulePattern("distress.loneliness", "distress", "low_mood",
                r"\b(?:so|very|really|incredibly|this|that) (?:lonely|isolat\w*)\b|\bnobody (?:warned|told|understands|"
                r"listens|gets it|cares about me)\b|\bno one (?:warned|told|understands|listens|gets it)\b|"
                r"\b(?:all|completely|totally) alone\b",
                "Isolation."),
    RulePattern("distress.anxiety", "distress", "anxiety",
                r"\b(?:scared|terrified|worried|frightened|afraid|convinced) (?:that )?something (?:bad |awful |terrible )?"
                r"(?:will|is going to|might|would) happen\b|\bpanic attacks?\b|\bcannot stop (?:worrying|checking|shaking)\b|"
                r"\bcan not stop (?:worrying|checking|shaking)\b|\bcannot (?:sleep|breathe) (?:because|for worrying)\b",
                "Anxiety, including health anxiety about the baby."),
    RulePattern("distress.escape", "distress", "low_mood",
                r"\b(?:want|wanted|wish)\w* (?:i could |to )?(?:just )?(?:run away|get in the car and (?:just )?(?:drive|go)|walk out|"
                r"leave (?:it all|them all|everything))\b",
                "Wanting to escape: distress; moderators see it through the distress queue."),
    # ------------------------------------------------------ insensitive (aimed at others) ---
    RulePattern("insensitive.at_least", "insensitive", "minimising",
                r"\bat least (?:you|your|u|she|he|they|it (?:was not|is not|was|is) (?:a |an )?(?:stillbirth|miscarriage|"
                r"dead|loss|born|healthy|worse|serious)|(?:the )?baby (?:is|was) (?:healthy|fine|ok|okay|alive|here))\b",
                "'At least you've got a healthy baby': silver-lining a loss or struggle. 'at least it's "
                "Friday' and 'at least I got a shower' do not match.", negatable=True),
    RulePattern("insensitive.blessings", "insensitive", "minimising",
                r"\bcount your blessings\b|\byou (?:are|should (?:be|feel)) (?:so )?(?:lucky|grateful|thankful)\b|"
                r"\bsome (?:people|women|mums|mothers) (?:would|can not|cannot|never) (?:kill|love|give anything|have|get)\w*\b|"
                r"\bthink (?:of|about) (?:the )?(?:people|women|mums|mothers|those) who (?:can not|cannot|have|lost)\b|"
                r"\bbe grateful\b|\bshould be enjoying\b|\benjoy (?:every|it while)\b",
                "Gratitude used to silence ('you should be grateful').", negatable=True),
    RulePattern("insensitive.snap_out", "insensitive", "invalidating",
                r"\b(?:snap|get|pull|buck|sort) (?:out of it|yourself together|your ?self together|over it|up|a grip)\b|"
                r"\bman up\b|\bharden up\b|\bget on with it\b|\bjust cheer up\b|\b(?:oh|just|please) grow up\b|\bmove on\b(?= already|$)",
                "Telling someone to snap out of a mental illness.", negatable=True),
    RulePattern("insensitive.positive", "insensitive", "invalidating",
                r"\b(?:you )?(?:just )?(?:need|have|got|ought) to (?:just )?(?:think|be|stay|try being|try to be) "
                r"(?:more )?(?:positive|happy|grateful|thankful)\b|\bjust (?:think|be|stay) (?:positive|happy)\b|"
                r"\bchoose (?:to be )?happiness\b|\bpositive vibes only\b|\bgood vibes only\b|\b(?:it is|that is) (?:all )?"
                r"(?:in your head|mind over matter)\b|\b(?:you are|you have been) (?:just )?(?:over ?thinking|over ?reacting|"
                r"being (?:dramatic|silly|too sensitive|hormonal)|too sensitive|dramatic|hormonal)\b|"
                r"\bstop (?:over ?thinking|being (?:so )?(?:dramatic|negative|sensitive))\b",
                "Toxic positivity and dismissal of feelings as imagined or hormonal.", negatable=True),
    RulePattern("insensitive.chose_this", "insensitive", "blaming",
                r"\byou (?:chose|wanted|asked for|signed up for|decided to have|made your bed)\b|"
                r"\bwhat did you expect\b|\byour (?:own )?(?:choice|decision|fault)\b|\bwell you wanted\b|"
                r"\bshould have thought (?:of|about) that\b|\bshould not have had (?:kids|children|a baby)\b",
                "'You chose this' / 'you wanted a baby': blame for struggling.", negatable=True),
    RulePattern("insensitive.worse_off", "insensitive", "minimising",
                r"\b(?:other|some|lots of|plenty of|many) (?:people|women|mums|mothers|moms|families) (?:have|have got|"
                r"are|had|go through) (?:it |things )?(?:so much |much |far |a lot |way )?(?:worse|harder)\b|"
                r"\b(?:could|it could) (?:always )?be (?:so much |much |a lot |far |way )?worse\b|"
                r"\bworse off than you\b|\bfirst world problems?\b|\byou think you have it (?:bad|hard)\b",
                "Comparative suffering ('other people have it worse').", negatable=True),
    RulePattern("insensitive.everyone", "insensitive", "minimising",
                r"\b(?:everyone|everybody|all (?:mums|mothers|parents|new mums)|we)(?: (?:is|are|gets?|feels?|all|has|goes through|"
                r"went through|been))* (?:tired|exhausted|knackered|stressed|struggles|"
                r"gets? (?:the )?baby blues|feels? like that|goes through (?:it|that|this))\b|"
                r"\bwelcome to (?:motherhood|parenthood|being a (?:mum|parent))\b(?=.*\b(?:stop|get|deal|just)\b)|"
                r"\bstop (?:making (?:it|everything) about you|moaning|whining|whingeing|whinging|complaining|"
                r"feeling sorry for yourself)\b|\bit is not (?:that|a big) (?:hard|bad|deal)\b|"
                r"\bthat is (?:just )?(?:motherhood|parenthood|parenting|being a (?:mum|mother|parent)|what babies do)\b|\bnot that (?:hard|bad)\b",
                "'Everyone's tired': normalising away someone's illness; 'stop moaning'."),
    RulePattern("insensitive.pnd_denial", "insensitive", "invalidating",
                r"\b(?:postnatal|post natal|postpartum|post partum|perinatal|antenatal)? ?(?:depression|anxiety|pnd|ppd|"
                r"mental health|ocd) (?:is|are|is just|is only) (?:just |only |all )?(?:an excuse|made up|not real|"
                r"in your head|attention|fake|a myth|a fad|(?:a )?(?:trendy|fashionable)(?: \w+)?|a trend|a label)\b|\b(?:just|only) (?:an|a) excuse\b|"
                r"\b(?:it is |that is )?(?:just|only) (?:the )?(?:baby blues|hormones)\b|\bnot (?:real|proper) depression\b|"
                r"\beveryone (?:has|is) (?:depression|anxious|depressed) these days\b|\bin my day\b",
                "Denying perinatal illness is real ('PND is just an excuse').", negatable=True),
    RulePattern("insensitive.feeding", "insensitive", "judging_choices",
                r"\b(?:bottle|formula)(?: ?feeding| feed|s)? (?:is|are|was) (?:the |just |basically )?(?:easy way out|"
                r"lazy|selfish|poison|junk|second best|cheating|not as good|inferior|bad for)\w*\b|"
                r"\bbreast (?:is|milk is) best\b|\b(?:too lazy|lazy|selfish|not trying hard enough) (?:to|not to) breast ?feed\b|"
                r"\b(?:you should|you should have|why did you not|why do not you|why not just) (?:have )?(?:kept|tried|just|persevered)"
                r"\w* (?:harder )?(?:with )?(?:breast ?feeding|to breast ?feed|feeding her yourself|feeding him yourself)\b|"
                r"\b(?:gave|give|giving) up (?:on )?breast ?feeding (?:so|too) (?:easily|quickly|soon)\b|\bproper mums\b|"
                r"\breal (?:mums|mothers|moms) (?:breast ?feed|give birth|do not)\b",
                "Judgement about feeding. Stating one's own choice ('we switched to formula') is fine.",
                negatable=True),
    RulePattern("insensitive.birth", "insensitive", "judging_choices",
                r"\b(?:c ?section|caesarean|cesarean|epidural|elective)s? (?:is|are|was|birth is|births are) "
                r"(?:the |just |basically )?(?:easy way out|cheating|not (?:a )?real|lazy|selfish|taking the easy)\w*\b|"
                r"\btoo posh to push\b|\bnot (?:a )?(?:real|proper|natural) (?:birth|labour|mum|mother)\b|\bdid not really give birth\b",
                "Judgement about how someone gave birth.", negatable=True),
    RulePattern("insensitive.medication", "insensitive", "judging_choices",
                rf"\b(?:you )?(?:should not|should never|should not really|should not even) (?:be )?(?:on|take|taking|be taking) "
                rf"(?:any )?(?:meds|medication|antidepressants|anti depressants|{MEANS}|sertraline)\b|"
                rf"\b(?:antidepressants|anti depressants|meds|medication|pills|happy pills) (?:are|is) (?:just )?(?:a crutch|poison|"
                rf"the easy way out|for the weak|not the answer|a cop out|numbing)\b|\bhappy pills\b|"
                rf"\b(?:instead of|rather than|do not need) (?:taking )?(?:meds|medication|pills|antidepressants)\b",
                "Judgement about psychiatric medication (incl. while breastfeeding).",
                negatable=True),
    RulePattern("insensitive.selfish", "insensitive", "judging_choices",
                r"\b(?:is|are|being|so|that is|it is) (?:so |really |just |pretty |quite |incredibly )?selfish\b",
                "Calling a member's choices selfish. Aimed: 'I'm being selfish' is self-talk.",
                negatable=True, aimed=True),
    RulePattern("insensitive.comparison", "insensitive", "minimising",
                r"\b(?:my|her|his) (?:sister|mum|mam|mom|mother|friend|cousin|neighbour|sister in law|nan|gran|colleague|"
                r"auntie|aunt)\w* (?:had|has|managed|coped|did|raised|was)\b.*\b(?:so |surely )?(?:you|u) (?:can|could|should|will)\b|"
                r"\bso (?:surely )?(?:you|u) (?:can|could|should) (?:manage|cope|handle|do)\b|"
                r"\bi (?:managed|coped|did it)(?: \w+){0,4}(?:,| so| and) (?:so )?(?:you|u) (?:can|could|should)\b|"
                r"\bwe (?:just )?(?:got on with it|did not have (?:the )?(?:luxury|time|help))\b",
                "Comparisons that imply the person should cope ('my sister had twins, so you can manage one')."),
    # ------------------------------------------------------- abuse (aimed at others) ---
    RulePattern("abuse.threat", "abuse", "threat",
                r"\bi (?:will|am going to|am gonna|would|could) (?:find|get|hurt|kill|come for|track down|smash|batter|"
                r"sort|deal with|end|destroy|ruin|make) (?:you|u|your)\b|\b(?:you will|you are going to|you would|"
                r"you gonna|make you) (?:regret|pay|suffer|be sorry)\b|\bwatch your back\b|\bi know where you live\b|"
                r"\byou (?:will|are going to) get (?:what is coming|hurt|yours)\b|\bcoming for you\b",
                "Threats at another member, checked before delivery.", negatable=True),
    RulePattern("abuse.severe", "abuse", "severe",
                r"\b(?:kill|hang|top) yourself\b|\bkys\b|\bgo (?:and )?die\b|\bhope (?:you|u|your \w+) (?:die|dies|suffer|"
                r"rot|get hurt|gets hurt|get raped)\b|\b(?:you|u) (?:should|deserve to) (?:die|suffer|be dead)\b|"
                r"\bdrop dead\b(?! gorgeous)",
                "Telling someone to die or hoping they suffer: hold immediately.", negatable=True),
    RulePattern("abuse.insult", "abuse", "insult",
                rf"\b(?:you|u|your) (?:are|were|r)? ?(?:such |a |an |the |just |so |really |being |an absolute |a complete |a total )*"
                rf"(?:{INSULT_ADJ} )*(?:{INSULT_NOUN}|disgrace|waste of space|joke|pathetic|embarrassing|disgusting|"
                rf"vile|useless|stupid|thick|selfish|lazy|evil|horrible|nasty|{NEG_ADJ} {MUM}|(?:a )?{NEG_ADJ} {MUM})\b|"
                rf"\b(?:what a|such a|you) (?:{INSULT_ADJ} )+{INSULT_NOUN}\b|\b(?:{INSULT_ADJ} )+{INSULT_NOUN}\b|"
                rf"\bwhat an? (?:{INSULT_NOUN}|joke|disgrace|loser)\b",
                "Second-person and name-calling insults. Aimed: 'I am such a silly cow' is self-talk.",
                negatable=True, aimed=True),
    RulePattern("abuse.harassment", "abuse", "harassment",
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
                negatable=True, aimed=True),
)
