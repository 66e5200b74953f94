"""Words the router reads besides intent cues (which live in :mod:`bot.intents`): filler, grammar,
and the PMO's everyday vocabulary, all in canonical form (UK spelling, no punctuation).
"""

from __future__ import annotations

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
        dunno gotta kinda sorta erm errr er umm lemme gimme havent hasnt hadnt didnt wasnt werent
    shouldnt couldnt wouldnt aint theres heres ill youll weve theyve
    """.split()
)

# Common English words that say nothing about the topic: they neither place a message in the
# PMO's world nor take it out of it, so they are not held against an answer.
NEUTRAL_WORDS = frozenset(
    """
    behind beyond across within without among amongst towards toward throughout despite upon till
    whilst above below around through
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
    weather dm dms heard specifically left hear hearing contain contains containing consist consists mention mentions mentioned cause causes caused
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
    digital data migration centre datacentre rollout roll upgrade implementation platform release releases
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
    schedule gantt raid rag dependency manager
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

# Words that point back to something named earlier ("how do I become one?", "what does it cover?").
ANAPHORS = frozenset({"one", "it", "that", "this", "them", "those", "these", "there", "role", "same"})

# Words that, after an artefact's questions, ask for the PMO manager's questions ("and for a manager?").
AUDIENCE_MANAGER = frozenset({"manager", "managers", "head", "director", "leadership", "senior"})

# Words that put a question about using the bot onto the pulse survey ("how do I open the pulse?").
SURVEY_MARKERS = frozenset(
    "pulse survey surveys digest questionnaire poll rate rating ratings score scores dm".split()
)

# Words that put a message in the PMO's world even when it also names an HR or IT matter
# ("I'm on leave next week, will I miss the pulse?").
PMO_MARKERS = frozenset(
    "pmo pmos pulse survey surveys digest project projects programme programmes portfolio portfolios raid rag".split()
)
