"""Text normalisation shared by the router and the knowledge-base index.

Everything the router compares goes through :func:`normalise`, so that an alias written in the
YAML as "Programme Co-ordinator" and a message typed as "program coordinator!!" meet in the
same form. US spellings are folded into UK ones here, once, rather than listed everywhere.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Slack user mentions (<@U123ABC> or <@U123|name>), Teams mentions (<at>name</at>), channel and
# special mentions (<!here>, <#C123|general>), links, and a typed "@pmo-bot".
_MENTION = re.compile(r"<at>.*?</at>|<[@#!][^>]*>|<https?://[^>]*>|(?<!\w)@[\w.-]+")
# A channel typed by name ("post it to #pmo-leads") is a channel, whatever its name says.
_CHANNEL = re.compile(r"(?<![\w&])#[\w-]+")
_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
_APOSTROPHE_S = re.compile(r"(\w)'s\b")
_CO_HYPHEN = re.compile(r"\bco-(?=[a-z])")
_CONTRACTIONS = (
    (re.compile(r"\b(can)'t\b"), r"\1 not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\bi'm\b"), "i am"),
)
_AMPERSAND = re.compile(r"(\w)\s*&\s*(\w)")
# "M_o_R" (Management of Risk) would otherwise fall apart into "m o r", and "r" reads as "are".
_M_O_R = re.compile(r"\bm[_ .]o[_ .]r\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Whole-word spelling and shorthand folds. Suffix rules below handle -ize/-ization/-yze.
_WORD_FOLDS: dict[str, str] = {
    "program": "programme",
    "programs": "programmes",
    "catalog": "catalogue",
    "catalogs": "catalogues",
    "behavior": "behaviour",
    "behaviors": "behaviours",
    "behavioral": "behavioural",
    "center": "centre",
    "centers": "centres",
    "license": "licence",
    "judgment": "judgement",
    "favorite": "favourite",
    "mgmt": "management",
    "reg": "register",
    "regs": "registers",
    "rpt": "report",
    "rpts": "reports",
    "reqs": "requirements",
    "qual": "qualification",
    "quals": "qualifications",
    "cert": "certification",
    "certs": "certifications",
    "certified": "certification",
    "mgt": "management",
    "mngmt": "management",
    "mgr": "manager",
    "mngr": "manager",
    "mgrs": "managers",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ty": "thanks",
    "u": "you",
    "ur": "your",
    "r": "are",
    "im": "i",
    "whats": "what",
    "wats": "what",
    "wat": "what",
    "hows": "how",
    "dont": "do",
    "cant": "can",
    "learnt": "learned",
    "docs": "documents",
    "doc": "document",
    "info": "information",
    "q": "question",
    "qs": "questions",
    "qns": "questions",
    "shld": "should",
    "shd": "should",
    "abt": "about",
    "w": "with",
    "wrt": "about",
    "re": "about",
    "ppl": "people",
    "mgmnt": "management",
    "tbh": "honestly",
    "imo": "honestly",
    "idk": "unsure",
    "btw": "also",
    "atm": "now",
}

# Words that normalisation rewrites, so the router can correct typos of them too.
US_FORMS = frozenset(_WORD_FOLDS)

_SUFFIX_FOLDS: tuple[tuple[str, str], ...] = (
    ("izations", "isations"),
    ("ization", "isation"),
    ("izing", "ising"),
    ("izes", "ises"),
    ("ized", "ised"),
    ("ize", "ise"),
    ("yzing", "ysing"),
    ("yzed", "ysed"),
    ("yze", "yse"),
)

# Short words ending in "ize" that are not US spellings.
_KEEP_IZE = {"size", "sizes", "sized", "prize", "prizes", "seize", "seized", "capsize", "resize"}


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """Fold one lower-case word into its UK form."""
    folded = _WORD_FOLDS.get(word)
    if folded is not None:
        return folded
    if word in _KEEP_IZE or len(word) < 6:
        return word
    for us, uk in _SUFFIX_FOLDS:
        if word.endswith(us):
            return word[: -len(us)] + uk
    return word


def strip_chat_noise(text: str) -> str:
    """Remove mentions, emoji and link markup, keeping the words a person typed."""
    # (Each pattern runs only where its marks appear: most text has none, and the knowledge base
    # passes thousands of sentences through here when the router is built.)
    if "<" in text or "@" in text:
        text = _MENTION.sub(" ", text)
    if "#" in text:
        text = _CHANNEL.sub(" channel ", text)
    text = text.lower()
    return _SHORTCODE.sub(" ", text) if ":" in text else text


def tokens(text: str) -> tuple[str, ...]:
    """Lower-case word tokens in canonical (UK, unhyphenated) form."""
    # Mentions and case are dropped first, so that "@pmo-bot Help" and "help" share one entry of
    # the cache below.
    return _tokens(strip_chat_noise(text))


@lru_cache(maxsize=65536)
def _tokens(text: str) -> tuple[str, ...]:
    if "’" in text or "‘" in text:
        text = text.replace("’", "'").replace("‘", "'")
    if "'" in text:
        for pattern, replacement in _CONTRACTIONS:
            text = pattern.sub(replacement, text)
        text = _APOSTROPHE_S.sub(r"\1", text)
    if "co-" in text:
        text = _CO_HYPHEN.sub("co", text)
    if "&" in text:
        text = _AMPERSAND.sub(r"\1 and \2", text)
    if "o_r" in text or "o r" in text or "o.r" in text:
        text = _M_O_R.sub("mor", text)
    words = _NON_WORD.sub(" ", text).split()
    return tuple(fold_word(w) for w in words)


def normalise(text: str) -> str:
    """The canonical form of a phrase: its tokens joined by single spaces."""
    return " ".join(tokens(text))
