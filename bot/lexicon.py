"""Words and phrases the router reads: intent cues, filler, and the PMO's everyday vocabulary.

Phrases are written in canonical form (UK spelling, no punctuation), since they are compared
with the output of :func:`bot.text.tokens`. Weights say how strongly a phrase points at an
intent: 1.0 is a clear signal ("competencies"), 0.5 a hint ("do" in "what does X do").
"""

from __future__ import annotations

from knowledge.base import Kind

INTENTS = (
    "challenge_questions",
    "function_info",
    "role_competencies",
    "development_advice",
    "pulse_survey",
    "digest",
    "help",
    "smalltalk",
    "unknown",
)

# Which kind of entity each intent takes as its slot, and whether it must have one.
SLOT_KIND: dict[str, Kind] = {
    "challenge_questions": "artefact",
    "function_info": "function",
    "role_competencies": "role",
    "development_advice": "role",
}
SLOT_REQUIRED = {"challenge_questions", "function_info", "role_competencies"}

# The intent a bare entity name means ("risk register" -> its challenge questions).
DEFAULT_INTENT: dict[str, str] = {
    "artefact": "challenge_questions",
    "function": "function_info",
    "role": "role_competencies",
}


def _phrases(weight: float, *phrases: str) -> list[tuple[str, float]]:
    return [(p, weight) for p in phrases]


CUES: dict[str, list[tuple[str, float]]] = {
    "challenge_questions": _phrases(
        1.0,
        "tackle", "push on", "poke holes", "pick it apart", "pick apart", "call that out", "call out", "call it out",
        "stress test", "stress-test", "hold to account", "take apart", "find holes", "holes in", "weak spots",
        "weaknesses", "what is missing from", "what is wrong", "sanity-check", "dig into", "drill into",
        "should i be asking", "be asking", "should i ask", "what to ask", "what to check", "be looking for",
        "be checking", "query", "queries", "what to look for", "look out for", "what to challenge",
        "what should i ask", "what do i ask", "analyse", "analysing", "analysis of", "what do i challenge", "challenge the pm", "look wrong",
        "looks wrong", "looks off", "something wrong", "tips for reviewing", "how to review", "evaluate",
        "check", "checks", "checking", "checked", "checklist", "challenge", "challenges", "challenging",
        "question", "questions", "review", "reviewing", "look for", "looking for", "red flag", "red flags",
        "scrutinise", "scrutinising", "scrutiny", "audit", "auditing", "what good looks like",
        "good look like", "assess", "assessing", "sanity check", "ask the pm", "push back", "pushback",
        "defects", "mistakes", "wrong with", "critique", "go through", "going through", "examine",
        "validate", "verify", "probe", "grill", "interrogate", "pick holes", "inspect", "qa", "quality check",
        "things to ask", "gaps in", "errors", "spot", "common problems", "pitfalls",
        "issues with", "problems with", "watch out", "warning signs", "quality assure", "sense check",
        "health of", "test",
    )
    + _phrases(0.5, "ask", "asking", "look at", "looking at", "columns", "fields", "template"),
    "function_info": _phrases(0.8, "what is", "what are")
    + _phrases(
        1.0,
        "mean", "actually mean", "what counts as", "counts as", "perspective", "context", "the point of",
        "why does the pmo", "why do pmos", "is about", "what it is",
        "does the pmo do", "what included", "included", "include", "includes", "side of the pmo",
        "what is in", "part of the pmo", "does a pmo do", "what does pmo do for",
        "who owns", "who runs", "who looks after", "who manages", "who is in charge of", "what do we mean by",
        "how does a pmo", "what does a pmo do", "how do pmos", "role of the pmo in", "pmo role in",
        "what is involved in", "in a nutshell", "eli5", "remind me what", "what sits under",
        "explain", "explained", "define", "definition", "meaning", "means",
        "tell me about", "services", "service", "function", "functions", "involve", "involves",
        "involved", "cover", "covers", "overview", "describe", "what does the pmo do", "purpose of",
        "stand for", "intro to", "introduction to", "basics of", "about", "how does the pmo",
        "activities", "tasks", "what happens in", "who does", "who handles", "who is responsible for",
    )
    + _phrases(
        0.5, "how does", "work", "works", "offer", "provide", "provides", "handle", "do for", "what does",
    ),
    "role_competencies": _phrases(
        1.0,
        "meant to be doing", "supposed to be doing", "supposed to do", "meant to do", "what will i be doing",
        "capable of", "be able to", "able to", "what should they know", "should be good at",
        "what would i do", "what do i do as", "my job as",
        "what do they do", "what does that role", "what is expected", "how senior is", "job role",
        "typical week", "what would i be doing", "spec for", "hiring", "hire", "recruit", "interview",
        "key skills", "competency framework",
        "competencies", "competency", "competences", "competence", "skills", "skill", "skillset",
        "skill set", "responsibilities", "responsibility", "responsible", "duties", "profile",
        "job description", "expected of", "expectations", "capabilities", "strengths",
        "day to day", "what makes a good", "job spec", "role profile", "what does a", "what does an",
        "abilities", "knowledge", "proficiency", "requirements for",
        "need to be good at", "good at", "what is a", "who is a",
    )
    + _phrases(0.5, "role", "job", "need", "needs", "expected", "what do they", "level", "levels"),
    "development_advice": _phrases(
        1.0,
        "short supply", "shortage", "skills gap", "skill gap", "hard to find", "stretch myself", "stretch",
        "aspiring", "should i be working on", "training recommendations", "recommendations",
        "where do i start", "where to start", "what should i be doing", "next year", "long term",
        "career wise", "dead end", "stay relevant", "relevant", "future proof", "development plan",
        "want to be", "wants to be", "wanting to be", "would like to be", "best training", "which training",
        "grow in", "improve myself", "appraisal", "personal growth", "where do i go from here", "what next",
        "worth doing", "worth it", "worth having", "worth taking", "which one should i take", "recommend",
        "recommended", "stuck", "build my", "what should i learn", "skills should i build",
        "get a job", "get the job", "break into", "how do i get into", "climb", "move on", "move to",
        "professional development", "personal development", "self development",
        "training should i", "coaching for me", "prince2", "msp", "mop", "p3o",
        "apm", "pmp", "capm", "chpp", "pfq", "pmq", "agile pm", "scrum master",
        "develop", "developing", "development", "career", "careers", "progress", "progression",
        "grow", "growth", "next step", "next steps", "promotion", "promoted", "become", "becoming",
        "learn", "learning", "improve", "improving", "upskill", "upskilling", "certification",
        "certifications", "qualification", "qualifications", "course", "courses", "study",
        "move into", "move up", "moving up", "step up", "transition", "switch to", "get into",
        "where should i", "focus on", "scarce", "in demand", "stand out", "path", "pathway",
        "ladder", "level up", "aspire", "ambition", "next role", "where next", "get better",
        "better at", "rare", "valuable", "advice", "advise", "mentor", "grow into", "route to",
        "how do i get", "prepare for", "get to", "exams", "exam", "accreditation", "cpd",
    )
    + _phrases(0.5, "next", "should i", "to be a", "senior", "future", "focus", "first"),
    "pulse_survey": _phrases(
        1.0,
        "fill it in", "fill it out", "done this week",
        "already done", "have i done", "did i answer", "can i still",
        "do the pulse", "take me to", "ready to rate", "rate this week", "my answers", "answer the pulse",
        "answer the survey", "complete the survey", "complete the pulse",
        "take the survey", "do the survey", "my survey", "surveys waiting", "waiting for me",
        "resume the survey", "open the pulse", "weekly survey", "weekly pulse",
        "give feedback", "send feedback", "rate the services", "pulse check",
        "feedback form", "fill in", "fill out", "check in", "checkin",
    )
    # The survey's own name is the topic of the digest too: it points here only a little more.
    + _phrases(0.8, "survey", "surveys", "pulse", "pulses", "questionnaire", "questionnaires", "poll")
    + _phrases(0.6, "take", "waiting", "start", "resume", "missed", "reminder", "still")
    + _phrases(0.8, "rate the pmo", "rate pmo", "rate the pmo services")
    + _phrases(0.5, "pending", "answer", "respond", "outstanding", "due", "feedback", "rate"),
    "digest": _phrases(
        1.0,
        "rated", "being rated", "low score", "high score", "scored", "score in the pulse", "scores for",
        "how is the pmo rated", "what did the team say",
        "how many people", "how many answered", "how many responded", "answered", "responded", "who answered",
        "turnout", "uptake",
        "trending", "scores trending", "how are our", "results so far", "participation",
        "how did the team", "how did we score", "how did we do", "how are the pmo services scoring", "scoring",
        "lowest score", "highest score", "comments in", "what did people say", "what people said",
        "summarise the survey", "survey feedback", "summarise", "comments", "analyse the pulse", "pulse feedback", "pulse trends", "results of",
        "send me the digest", "show the digest", "team results", "nps", "enps", "breakdown",
        "digest", "digests", "results", "response rate", "response rates", "how did the team rate",
        "survey results", "pulse results", "scores", "ratings", "roundup", "round up", "summary",
        "weekly summary", "trends", "how are we doing", "how is the pmo doing", "satisfaction",
    )
    + _phrases(0.5, "score", "trend", "this week", "last week", "team", "feedback")
    + _phrases(0.4, "survey", "surveys", "pulse", "pulses"),
    "help": _phrases(
        1.0,
        "what you do", "understand what you do", "guide for using", "using you", "use you", "user guide",
        "pmo bot do", "what does this do", "how to talk to",
        "can you help", "things can you", "what sorts of", "what kinds of", "what sort of things", "how does this",
        "this thing", "what do i type", "what can i type", "can you answer", "questions can you", "start with you",
        "how do i start",
        "things can i ask", "can i ask you", "ask you", "how do i ask", "what do i ask you", "how do you help",
        "what topics", "topics do you", "what kind of questions", "what sort of questions", "this bot",
        "talk to you", "what do you cover", "how does it work", "how do you work", "example questions",
        "examples", "tutorial", "what are you for", "what is this",
        "help", "what can you do", "what can you", "how do i use", "how to use", "commands",
        "command", "usage", "menu", "features", "how does this work", "what do you do",
        "who are you", "what are you", "instructions", "get started", "getting started",
        "what can i ask", "how can you help", "what do you know", "capabilities of", "options",
        "abilities",
    )
    + _phrases(0.5, "you", "bot", "use", "can")
    + _phrases(0.3, "help me", "help with", "help on", "help understanding"),
    "smalltalk": _phrases(0.75, "ok", "okay", "yes", "no", "yep", "nope", "sure", "fine", "cool")
    + _phrases(
        0.9,
        "helped", "that helped", "very much", "so much", "that was useful", "got it", "understood", "clever",
        "smart", "genius", "cute", "little bot", "good boy",
        "bad bot", "many thanks", "thanks a lot", "have a good weekend", "weekend", "funny", "favourite",
        "you are great", "you are the best", "love it", "love this", "good stuff", "nice work", "ha",
        "hahaha", "lmao", "rofl", "wassup", "morning all", "hey there", "hi there", "hello there",
        "catch you later", "talk later", "ttyl", "gn", "gm", "much appreciated", "kudos", "bravo",
        "rubbish", "useless", "stupid", "dumb",
        "hi", "hello", "hey", "hiya", "yo", "howdy", "morning", "good morning", "good afternoon",
        "good evening", "afternoon", "evening", "thanks", "thank you", "thank", "cheers", "ta",
        "bye", "goodbye", "see you", "see ya", "later", "how are you", "how are you doing", "nice",
        "great", "awesome", "lol", "haha", "you rock", "good bot", "well done",
        "love you", "appreciate", "appreciated", "brilliant", "perfect", "sorry", "joke",
        "tell me a joke", "good job", "nice one", "legend", "helpful", "useful", "amazing", "wow",
        "sweet", "excellent", "good night", "night", "ciao", "welcome", "greetings", "sup",
        "whats up", "what up", "how is it going", "how you doing", "are you a robot", "are you human",
        "who made you", "fab", "lovely", "top", "gracias", "merci", "oops", "hmm",
        "happy", "friday", "monday",
    ),
}  # fmt: skip

# Words that carry no intent of their own: chat filler and grammar.
STOPWORDS = frozenset(
    """
    a an the i me my mine we us our ours you your yours he him his she her they them their it its is
    are was were be been being am do does did doing done have has had having will would shall should
    can could may might must to of in on at by for with from into onto about as than then so if or
    and but not no nor too very just also only really quite rather please pls kindly what which who
    whom whose when where why how this that these those there here some any all each every both few
    more most other such own same again further once up down out off over under get got give gives
    show tell let lets know like want wanted need needs needed trying try going go gonna wanna ok
    okay hey hi hello quick question one thing things stuff something anything everything someone
    anyone somebody anybody anything bit lot lots kind sort maybe perhaps actually basically
    generally typically usually normally currently right now today good best better main key typical
    exactly precisely possible briefly short quickly im ive id youre theyre thats whats its dont
    doesnt cant wont isnt arent say said mean well yes yeah yep sure oh ah um uh hmm etc e g eg ie
    via per
        dunno gotta kinda sorta erm errr er umm lemme gimme
    """.split()
)

# Common English words that say nothing about the topic: they neither place a message in the
# PMO's world nor take it out of it, so they are not held against an answer.
NEUTRAL_WORDS = frozenset(
    """
    make makes making made take takes taking took use uses using used find finds finding found think
    thinking thought see seeing seen come comes coming came put puts putting keep keeps keeping
    start run runs running move moving write writing wrote read reading send sending sent share
    sharing shared set setting bring brings look looking looked call called give given hold
    handle handling deal dealing cope understand understanding understood mean meant remember
    forget forgot happen happens happened become becomes turn turns believe feel feeling felt seem
    suppose guess wonder wondering hope hoping wish care matter matters prefer plan planning
    way ways thing example examples idea ideas part parts place case cases point points fact
    facts reason reasons kind type types sort sorts area areas aspect aspects side level detail
    details overall general specific simple simply clear clearly real really proper properly basic
    basics different difference same similar important useful helpful honest honestly fair
    exact full whole entire main major minor little bit short long quick slow easy hard difficult
    tricky common usual typical normal standard first second third last next previous final early
    later soon already still yet ever never always often sometimes again instead rather else
    whether though although however because since while until unless otherwise also even
    thanks thank please sorry ok okay cheers mate guys folks team everyone anybody somebody
    someone anyone nobody myself yourself ourselves themselves itself own
    today tomorrow yesterday week weeks month months day days morning afternoon hour hours minute moment
    world straight tracking side
    minutes moment now currently recently lately soon mins min secs hrs asap
    like love hate enjoy struggle struggling confused confusing unsure sure certain worried
    nervous new old young fresh recent latest current
        ask asks asked answer answers answered tell told show showed explain explains talk talking speak
    spoke chat chatting meet meeting meetings email emails message messages note notes call calls
    agree agreed disagree decide decided choose chose pick picked check checks checked tackle
    tackling handle sort fix fixing solve solving improve change changes changed add added remove
    removed create created build building built prepare preparing prepared organise organising
    support supporting supported lead leading manage managing managed own owns owning track
    tracking tracked chase chasing chased push pushing pull pulling land lands landed drop dropped
    happen count counts counted measure measured compare compared stretch grow growing grew learn
    learning cover covering follow following followed continue continued finish finished complete
    completed stop stopped wait waiting waited miss missed catch caught swear swears
    context perspective view views opinion opinions sense approach approaches practice practices
    process processes step steps stage stages phase phases task tasks activity activities
    responsibility outcome outcomes result results output outputs impact impacts problem problems
    issue challenge challenges question questions answer topic topics subject guide guidance tip
    tips advice suggestion suggestions recommendation recommendations option options choice
    choices decision decisions priority priorities goal goals target targets objective objectives
    plan desk inbox pack packs deck slides slide summary summaries overview list lists table tables
    chart charts figure figures detail details evidence proof picture supply demand gap gaps
    optimistic pessimistic realistic unrealistic accurate inaccurate complete incomplete messy tidy
    clean vague unclear clear confusing solid weak strong good bad poor great fine decent low high
    higher lower top bottom worst biggest smallest ready busy stuck lost
    mostly partly fully totally completely pretty fairly nearly almost roughly exactly probably
    possibly definitely seriously literally honestly frankly personally generally apparently
    usually lately anyway though
    """.split()
)

# Everyday words of PMO work that explain a message without pointing to one intent.
DOMAIN_WORDS = frozenset(
    """
    pmo pmos p3o project projects programme programmes portfolio portfolios office offices team
    teams organisation organisations company companies business department work working job jobs
    role roles new joined joining started starting junior senior lead leading colleague colleagues
    boss manager managers management sponsor sponsors board boards steering committee stakeholder pm
    pms person people staff member members week weekly month monthly year quarter file files
    spreadsheet excel csv xlsx sheet document documents documentation register registers log logs
    report reports tracker list template templates entries entry rows row item items plan plans
    current latest prince2 msp pmbok apm pmi agile waterfall hybrid delivery change transformation
    someone open opened closed close closing overdue late early delayed slipped slipping green amber
    red rag status owner owners owned owning raised approved rejected pending action actions date
    dates due deadline deadlines milestone milestones baseline scope cost costs time quality value
    values score scores rating ratings column columns field fields cell cells tab version versions
    draft final update updated updates review reviewed approval approvals sign signoff utilisation
    allocation allocated percent nothing none everything everyone many loads half number numbers
    total wrong missing empty blank looks look seems seem appears client customer supplier
    suppliers vendor vendors contract contractor contractors consultant consultants exec executive
    executives director directors head leadership grad graduate graduates career careers experience
    experienced years apprentice intern newbie beginner entry level big small large public sector
    private government nhs council bank consulting firm industry construction engineering software
    digital data migration centre datacentre rollout roll upgrade implementation
    """.split()
)

# Aliases that are also ordinary English words ("benefits", "risk", "training"). Named alone they
# mean the PMO topic; in a message with words the bot cannot place ("the benefits of intermittent
# fasting") they are weak evidence, so such a message gets no leniency for naming them.
WEAK_ALIASES = frozenset(
    """
    risk risks benefits benefit quality change issues issue resources resourcing finance financials
    knowledge lessons methods method methodology standards templates records engagement intake admin
    metrics training coaching mentoring communication comms reports forecast timeline dependencies
    assumptions stakeholders audits tolerances scheduling estimating budgeting tooling versioning
    gating messaging prioritisation analyst coordinator trainer project support secretariat
    governance planning reporting administration communications assurance performance budget
    schedule gantt raid rag dependencies dependency
    """.split()
)

# Words dropped before matching: they sit inside phrases without changing them.
FILLERS = frozenset("actually really just basically honestly even literally kindly simply ever".split())

# Words that begin a follow-up turn ("and the issue log?", "what about an analyst?").
FOLLOW_UP_OPENERS = (
    ("and",),
    ("what", "about"),
    ("how", "about"),
    ("same", "for"),
    ("and", "for"),
    ("also",),
    ("now",),
    ("then",),
    ("or",),
)

# Words after which the role named is where someone wants to go.
TARGET_MARKERS = frozenset({"to", "become", "becoming", "into", "towards", "toward", "be", "aspiring"})

SUBCOMMANDS = {
    "role": "role_competencies",
    "roles": "role_competencies",
    "function": "function_info",
    "functions": "function_info",
    "check": "challenge_questions",
    "review": "challenge_questions",
    "questions": "challenge_questions",
    "survey": "pulse_survey",
    "pulse": "pulse_survey",
    "digest": "digest",
    "help": "help",
    "develop": "development_advice",
    "career": "development_advice",
}
