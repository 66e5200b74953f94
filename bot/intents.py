"""Every intent in one table: its cue phrases, its slot, the skill that answers it, the label of a
button that asks for it, and whether its answers are cached.

Adding an intent means adding one :class:`Intent` here (and its tests); the router, the core and
the "did you mean" buttons read its cues, slot, labels, caching, sections and survey desk from this
table. A few intents also have reading rules of their own in the router, named there: a
comparison's two entries, a development path's source and target, the PMO manager's questions
about an artefact, small talk that turns into a question. Cue phrases are written in canonical
form (UK spelling, no punctuation), since they are compared with the output of
:func:`knowledge.text.tokens`. Weights say how strongly a phrase points at an intent: 1.0 is a clear
signal ("competencies"), 0.5 a hint ("do" in "what does X do").
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import skills
from bot.skills import ENTRY_LABEL, Skill
from knowledge.base import KINDS, Kind, KnowledgeBase

Cues = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Intent:
    name: str
    skill: Skill
    # A button that asks for this intent with no slot, and (with {name}, {a_name}, {lower}) with one.
    label: str
    slot_label: str = ""
    cues: Cues = ()
    slot: Kind | None = None
    slot_required: bool = False
    # A bare name of this kind of entity ("risk register", "residual risk") means this intent.
    default_for: Kind | None = None
    # Knowledge answers depend on the action alone and the knowledge base never changes in a
    # running process, so they are made once; survey and digest answers depend on the database.
    cached: bool = False
    # Sections of topics answered under this intent: "the owner is just 'IT team'" asks for the
    # risk register's questions, and the situation that fits it answers. A section reported by no
    # intent (concepts, the PMO itself) is answered as "knowledge".
    sections: frozenset[str] = frozenset()
    # Answered by the survey desk where surveys run (this week's survey, the team's digest); a
    # topic the question was about is then a button away.
    desk: bool = False


def _phrases(weight: float, *phrases: str) -> tuple[tuple[str, float], ...]:
    return tuple((p, weight) for p in phrases)


_CHALLENGE_QUESTIONS_CUES = (
    _phrases(
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
        "things to ask", "gaps in", "gaps", "usual gaps", "where are the gaps", "errors", "spot", "common problems", "pitfalls",
        "issues with", "problems with", "watch out", "warning signs", "quality assure", "sense check",
        "health of", "test",
    )
    + _phrases(0.5, "ask", "asking", "look at", "looking at", "columns", "fields", "template")
)  # fmt: skip

_FUNCTION_INFO_CUES = (
    _phrases(0.8, "what is", "what are")
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
    )
)  # fmt: skip

_ROLE_COMPETENCIES_CUES = (
    _phrases(
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
    + _phrases(0.5, "role", "job", "need", "needs", "expected", "what do they", "level", "levels")
)  # fmt: skip

_DEVELOPMENT_ADVICE_CUES = (
    _phrases(
        1.0,
        "short supply", "shortage", "skills gap", "skill gap", "gap between", "gap from", "the gap", "hard to find", "stretch myself", "stretch",
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
    + _phrases(0.5, "next", "should i", "to be a", "senior", "future", "focus", "first")
)  # fmt: skip

_PULSE_SURVEY_CUES = (
    _phrases(
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
    + _phrases(0.5, "pending", "answer", "respond", "outstanding", "due", "feedback", "rate")
)  # fmt: skip

_DIGEST_CUES = (
    _phrases(
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
        "rating the pmo", "people rating", "came back", "come back from",
        "digest", "digests", "results", "response rate", "response rates", "how did the team rate",
        "survey results", "pulse results", "scores", "ratings", "roundup", "round up", "summary",
        "weekly summary", "trends", "how are we doing", "how is the pmo doing", "satisfaction",
    )
    + _phrases(0.5, "score", "trend", "this week", "last week", "team", "feedback")
    + _phrases(0.4, "survey", "surveys", "pulse", "pulses")
)  # fmt: skip

_HELP_CUES = (
    _phrases(
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
        "abilities", "syntax", "slash command", "slash commands",
    )
    + _phrases(0.5, "you", "bot", "use", "can")
    + _phrases(0.3, "help me", "help with", "help on", "help understanding")
)  # fmt: skip

_SMALLTALK_CUES = (
    _phrases(0.75, "ok", "okay", "yes", "no", "yep", "nope", "sure", "fine", "cool")
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
    )
)  # fmt: skip

# Knowledge entries (concepts, situations, careers, the pulse survey...): what people say when they
# want a term explained or a how-to answered. A topic must be named for these to count.
_KNOWLEDGE_CUES = _phrases(0.8, "what is", "what are", "how do i", "how to", "how should", "how does") + _phrases(
    1.0,
    "mean", "means", "meaning", "define", "definition", "explain", "explained", "stand for", "stands for",
    "what does", "tell me about", "what counts as", "in a nutshell", "eli5", "example", "examples",
    "what happens", "what if", "who owns", "who should", "when should", "why do", "why does", "why is",
    "can i", "do i need", "is it", "should i", "should we", "how can i", "how can we", "how do we",
    "where do we start", "where do i start", "what should", "tips", "advice", "guide", "help with",
)  # fmt: skip

# Two entities of one kind set side by side ("P3O or MSP?", "PMO manager vs head of PMO").
_COMPARE_CUES = _phrases(
    1.0,
    "difference between", "differences between", "difference", "differences", "vs", "versus", "compare",
    "compared", "comparison", "or", "better", "which is better", "which one", "which should",
)  # fmt: skip

INTENTS: tuple[Intent, ...] = (
    Intent(
        "challenge_questions",
        skills.challenge_questions,
        label="Questions for a register",
        slot_label=ENTRY_LABEL["artefact"],
        cues=_CHALLENGE_QUESTIONS_CUES,
        slot="artefact",
        slot_required=True,
        default_for="artefact",
        cached=True,
        sections=frozenset({"situations", "challenge"}),
    ),
    Intent(
        "function_info",
        skills.function_info,
        label="PMO functions",
        slot_label=ENTRY_LABEL["function"],
        cues=_FUNCTION_INFO_CUES,
        slot="function",
        slot_required=True,
        default_for="function",
        cached=True,
    ),
    Intent(
        "role_competencies",
        skills.role_competencies,
        label="PMO roles",
        slot_label=ENTRY_LABEL["role"],
        cues=_ROLE_COMPETENCIES_CUES,
        slot="role",
        slot_required=True,
        default_for="role",
        cached=True,
    ),
    Intent(
        "knowledge",
        skills.knowledge,
        label="PMO concepts",
        slot_label=ENTRY_LABEL["topic"],
        cues=_KNOWLEDGE_CUES,
        slot="topic",
        slot_required=True,
        default_for="topic",
        cached=True,
    ),
    Intent(
        "compare",
        skills.compare,
        label="Compare",
        slot_label="{name}: compare",
        cues=_COMPARE_CUES,
        cached=True,
    ),
    Intent(
        "development_advice",
        skills.development_advice,
        label="Where to develop next",
        slot_label="Develop as {a_name}",
        cues=_DEVELOPMENT_ADVICE_CUES,
        slot="role",
        cached=True,
        sections=frozenset({"careers", "certifications"}),
    ),
    Intent(
        "pulse_survey",
        skills.pulse_survey,
        label="My pulse survey",
        cues=_PULSE_SURVEY_CUES,
        sections=frozenset({"survey"}),
        desk=True,
    ),
    Intent(
        "digest",
        skills.digest,
        label="The team digest",
        cues=_DIGEST_CUES,
        sections=frozenset({"survey"}),
        desk=True,
    ),
    Intent(
        "help",
        skills.help_reply,
        label="What can you do?",
        cues=_HELP_CUES,
        cached=True,
        sections=frozenset({"survey"}),
    ),
    Intent("smalltalk", skills.smalltalk, label="Hello", cues=_SMALLTALK_CUES),
    Intent("unknown", skills.unknown, label="Help"),
)

BY_NAME: dict[str, Intent] = {intent.name: intent for intent in INTENTS}
SLOT_KIND: dict[str, Kind] = {i.name: i.slot for i in INTENTS if i.slot is not None}
SLOT_REQUIRED = frozenset(i.name for i in INTENTS if i.slot_required)
DEFAULT_INTENT: dict[Kind, str] = {i.default_for: i.name for i in INTENTS if i.default_for is not None}
# For each section of topics, the intents that report it, in the table's order.
REPORTERS: dict[str, tuple[str, ...]] = {}
for _intent in INTENTS:
    for _section in sorted(_intent.sections):
        REPORTERS[_section] = (*REPORTERS.get(_section, ()), _intent.name)
# The intents the router scores from cues ("unknown" is what is left when none wins).
SCORED = tuple(i.name for i in INTENTS if i.cues)


def label_for(kb: KnowledgeBase, intent: str, slots: dict[str, str]) -> str:
    """A short button label for an intent and its slots ("Questions for a risk register")."""
    spec = BY_NAME.get(intent)
    if spec is None:
        return intent.replace("_", " ")
    kind = spec.slot or next((k for k in reversed(KINDS) if k in slots), None)
    if kind is None or kind not in slots or not spec.slot_label:
        return spec.label
    return skills.fill_label(spec.slot_label, kb.name(kind, slots[kind]))
