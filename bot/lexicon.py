"""Words and phrases the router reads: intent cues, filler, and the PMO's everyday vocabulary.

Phrases are written in canonical form (UK spelling, no punctuation), since they are compared
with the output of :func:`bot.text.tokens`. Weights say how strongly a phrase points at an
intent: 1.0 is a clear signal ("competencies"), 0.5 a hint ("do" in "what does X do").
"""

from __future__ import annotations

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
SLOT_KIND = {
    "challenge_questions": "artefact",
    "function_info": "function",
    "role_competencies": "role",
    "development_advice": "role",
}
SLOT_REQUIRED = {"challenge_questions", "function_info", "role_competencies"}

# The intent a bare entity name means ("risk register" -> its challenge questions).
DEFAULT_INTENT = {"artefact": "challenge_questions", "function": "function_info", "role": "role_competencies"}


def _phrases(weight: float, *phrases: str) -> list[tuple[str, float]]:
    return [(p, weight) for p in phrases]


CUES: dict[str, list[tuple[str, float]]] = {
    "challenge_questions": _phrases(
        1.0,
        "check", "checks", "checking", "checked", "checklist", "challenge", "challenges", "challenging",
        "question", "questions", "review", "reviewing", "look for", "looking for", "red flag", "red flags",
        "scrutinise", "scrutinising", "scrutiny", "audit", "auditing", "what good looks like",
        "good look like", "assess", "assessing", "sanity check", "ask the pm", "push back", "pushback",
        "defects", "mistakes", "wrong with", "critique", "go through", "going through", "examine",
        "validate", "verify", "probe", "grill", "interrogate", "pick holes", "inspect", "qa", "quality check",
        "things to ask", "what to ask", "gaps in", "errors", "spot", "common problems", "pitfalls",
        "issues with", "problems with", "watch out", "warning signs", "quality assure", "sense check",
        "health of", "test",
    )
    + _phrases(0.5, "ask", "asking", "look at", "looking at", "columns", "fields", "template"),
    "function_info": _phrases(
        1.0,
        "what is", "what are", "explain", "explained", "define", "definition", "meaning", "means",
        "tell me about", "services", "service", "function", "functions", "involve", "involves",
        "involved", "cover", "covers", "overview", "describe", "what does the pmo do", "purpose of",
        "stand for", "intro to", "introduction to", "basics of", "about", "how does the pmo",
        "activities", "tasks", "what happens in", "who does", "who handles", "who is responsible for",
    )
    + _phrases(
        0.5, "how does", "work", "works", "offer", "provide", "provides", "handle", "do for", "what does",
        "mean",
    ),
    "role_competencies": _phrases(
        1.0,
        "competencies", "competency", "competences", "competence", "skills", "skill", "skillset",
        "skill set", "responsibilities", "responsibility", "responsible", "duties", "profile",
        "job description", "expected of", "expectations", "capabilities", "strengths",
        "day to day", "what makes a good", "job spec", "role profile", "what does a", "what does an",
        "what do",
        "abilities", "knowledge", "level", "levels", "proficiency", "requirements for",
        "need to be good at", "good at", "what is a", "who is a",
    )
    + _phrases(0.5, "role", "job", "need", "needs", "expected", "what do they"),
    "development_advice": _phrases(
        1.0,
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
        "survey", "surveys", "pulse", "pulses", "questionnaire", "questionnaires", "poll",
        "feedback form", "rate the pmo", "rate pmo", "fill in", "fill out", "check in", "checkin",
    )
    + _phrases(0.5, "pending", "answer", "respond", "outstanding", "due", "feedback", "rate"),
    "digest": _phrases(
        1.0,
        "digest", "digests", "results", "response rate", "response rates", "how did the team rate",
        "survey results", "pulse results", "scores", "ratings", "roundup", "round up", "summary",
        "weekly summary", "trends", "how are we doing", "how is the pmo doing", "satisfaction",
    )
    + _phrases(0.5, "score", "trend", "rated", "this week", "last week", "team", "feedback"),
    "help": _phrases(
        1.0,
        "help", "what can you do", "what can you", "how do i use", "how to use", "commands",
        "command", "usage", "menu", "features", "how does this work", "what do you do",
        "who are you", "what are you", "instructions", "get started", "getting started",
        "what can i ask", "how can you help", "what do you know", "capabilities of", "options",
        "abilities",
    )
    + _phrases(0.5, "you", "bot", "use", "can"),
    "smalltalk": _phrases(
        0.8,
        "hi", "hello", "hey", "hiya", "yo", "howdy", "morning", "good morning", "good afternoon",
        "good evening", "afternoon", "evening", "thanks", "thank you", "thank", "cheers", "ta",
        "bye", "goodbye", "see you", "see ya", "later", "how are you", "how are you doing", "nice",
        "great", "cool", "awesome", "ok", "okay", "lol", "haha", "you rock", "good bot", "well done",
        "love you", "appreciate", "appreciated", "brilliant", "perfect", "sorry", "joke",
        "tell me a joke", "good job", "nice one", "legend", "helpful", "useful", "amazing", "wow",
        "sweet", "excellent", "good night", "night", "ciao", "welcome", "greetings", "sup",
        "whats up", "what up", "how is it going", "how you doing", "are you a robot", "are you human",
        "who made you", "fab", "lovely", "top", "gracias", "merci", "oops", "hmm", "yes", "no",
        "yep", "nope", "sure", "fine", "happy", "friday", "monday",
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
    someone
    """.split()
)

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
TARGET_MARKERS = frozenset({"to", "become", "becoming", "into", "towards", "toward", "as"})

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
