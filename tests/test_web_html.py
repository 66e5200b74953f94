"""The web chat's HTML renderer: structure, actions, and that no reply string injects markup."""

from __future__ import annotations

from html.parser import HTMLParser

from adapters.web.html import render_html
from bot.reply import Action, Button, Choice, Form, Image, Question, Reply, Section, Table, TextInput

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>\'"'
ALLOWED_TAGS = {
    "article", "h2", "h3", "section", "p", "br", "ul", "li", "img", "table", "thead", "tbody",
    "tr", "th", "td", "div", "span", "button", "fieldset", "legend", "input", "label", "form",
    "textarea",
}  # fmt: skip


class Collector(HTMLParser):
    """Every element with its attributes, and the text inside each tag name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag not in {"br", "img", "input"}:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text.setdefault(self._open[-1], []).append(data)

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]


def parse(fragment: str) -> Collector:
    collector = Collector()
    collector.feed(fragment)
    collector.close()
    return collector


def knowledge_reply() -> Reply:
    return Reply(
        title="Change requests",
        sections=(
            Section(
                heading="What it is", text="A formal request.\nRaised by the PM.", bullets=("One", "Two")
            ),
            Section(bullets=("Three",)),
        ),
        buttons=(
            Button("More", Action("knowledge", {"topic": "cr"}, "2")),
            Button("Template", Action("template", {"name": "cr"})),
        ),
    )


def survey_reply() -> Reply:
    pick = Action("survey_pick", {"survey": "s1"})
    rating = (Choice("Poor", "1"), Choice("OK", "2"), Choice("Great", "3"))
    return Reply(
        title="Pulse survey",
        questions=(
            Question("clarity", "How clear are priorities?", rating, pick, selected="2"),
            Question("load", "How is your workload?", rating, pick),
        ),
        form=Form(
            title="Anything else?",
            submit_label="Send",
            submit=Action("survey_submit", {"survey": "s1"}),
            inputs=(TextInput("comment", "Comments", max_length=500),),
        ),
    )


def test_knowledge_answer_structure_and_actions() -> None:
    out = render_html(knowledge_reply())
    doc = parse(out)
    assert out.startswith('<article class="reply">') and "<html" not in out and "<body" not in out
    assert doc.text["h2"] == ["Change requests"]
    assert doc.text["h3"] == ["What it is"]
    assert len(doc.tags("section")) == 2
    assert doc.text["li"] == ["One", "Two", "Three"]
    assert "A formal request.<br>Raised by the PM." in out
    buttons = doc.tags("button")
    assert [b["type"] for b in buttons] == ["button", "button"]
    assert doc.text["button"] == ["More", "Template"]
    actions = [Action.decode(b["data-action"] or "") for b in buttons]
    assert actions == [Action("knowledge", {"topic": "cr"}, "2"), Action("template", {"name": "cr"})]
    assert doc.tags("div") == [{"class": "actions"}]
    assert "Did you mean:" not in out


def test_suggestions_are_labelled() -> None:
    reply = Reply(title="Not sure", buttons=(Button("RAID log", Action("raid")),), suggestions=True)
    assert "Did you mean:" in parse(render_html(reply)).text["span"]


def test_table() -> None:
    reply = Reply(title="Findings", tables=(Table(("Risk", "Owner"), (("Late", "Ana"), ("Cost", "Bo"))),))
    out = render_html(reply)
    doc = parse(out)
    assert "<table><thead><tr>" in out and "</thead><tbody>" in out
    assert doc.tags("th") == [{"scope": "col"}, {"scope": "col"}]
    assert doc.text["th"] == ["Risk", "Owner"]
    assert doc.text["td"] == ["Late", "Ana", "Cost", "Bo"]
    assert len(doc.tags("tr")) == 3


def test_images_only_safe_schemes() -> None:
    reply = Reply(
        title="Chart",
        images=(
            Image("https://example.com/c.png", "Burn-down"),
            Image("data:image/png;base64,iVBORw0KGgo=", "Inline"),
            Image("javascript:alert(1)", "bad"),
            Image(" JavaScript:alert(1)", "bad"),
            Image("data:image/svg+xml;base64,PHN2Zz4=", "bad"),
        ),
    )
    images = parse(render_html(reply)).tags("img")
    assert [(i["src"], i["alt"]) for i in images] == [
        ("https://example.com/c.png", "Burn-down"),
        ("data:image/png;base64,iVBORw0KGgo=", "Inline"),
    ]


def test_survey_questions_and_form() -> None:
    doc = parse(render_html(survey_reply()))
    assert doc.text["legend"] == ["How clear are priorities?", "How is your workload?"]
    radios = doc.tags("input")
    assert [(r["type"], r["name"], r["value"]) for r in radios] == [
        ("radio", f"q:{key}", value) for key in ("clarity", "load") for value in ("1", "2", "3")
    ]
    assert [r["value"] for r in radios if "checked" in r] == ["2"]
    assert Action.decode(radios[2]["data-action"] or "") == Action(
        "survey_pick", {"survey": "s1", "q": "clarity", "v": "3"}
    )
    (form,) = doc.tags("form")
    assert Action.decode(form["data-action"] or "") == Action("survey_submit", {"survey": "s1"})
    (textarea,) = doc.tags("textarea")
    assert textarea["name"] == "comment" and textarea["maxlength"] == "500"
    assert [b["type"] for b in doc.tags("button")] == ["submit"]
    assert doc.text["button"] == ["Send"]
    # Every input has a label pointing at it, and ids are unique.
    ids = [a["id"] for a in [*radios, textarea]]
    assert len(set(ids)) == len(ids) and all(ids)
    assert sorted(str(a["for"]) for a in doc.tags("label")) == sorted(str(i) for i in ids)
    assert doc.text["label"] == ["Poor", "OK", "Great", "Poor", "OK", "Great", "Comments"]


def test_ids_unique_across_messages() -> None:
    first, second = parse(render_html(survey_reply())), parse(render_html(survey_reply()))
    ids = [a["id"] for doc in (first, second) for tag, a in doc.elements if "id" in a]
    assert len(set(ids)) == len(ids)


def hostile_reply() -> Reply:
    action = Action(HOSTILE, {HOSTILE: HOSTILE}, HOSTILE)
    return Reply(
        title=HOSTILE,
        sections=(Section(heading=HOSTILE, text=HOSTILE + "\n" + HOSTILE, bullets=(HOSTILE,)),),
        buttons=(Button(HOSTILE, action),),
        suggestions=True,
        images=(Image("javascript:alert(1)", HOSTILE), Image("https://x.test/a.png?" + HOSTILE, HOSTILE)),
        tables=(Table((HOSTILE,), ((HOSTILE,),)),),
        questions=(Question(HOSTILE, HOSTILE, (Choice(HOSTILE, HOSTILE),), action, selected=HOSTILE),),
        form=Form(
            title=HOSTILE,
            submit_label=HOSTILE,
            submit=action,
            inputs=(TextInput(HOSTILE, HOSTILE, value=HOSTILE, placeholder=HOSTILE),),
        ),
    )


def test_hostile_strings_inject_nothing() -> None:
    out = render_html(hostile_reply())
    assert "<script" not in out.lower()
    assert "javascript:" not in out.lower()
    assert "<img src=x" not in out
    doc = parse(out)
    assert {tag for tag, _ in doc.elements} <= ALLOWED_TAGS
    assert not [name for _, attrs in doc.elements for name in attrs if name.startswith("on")]
    # The only image is the https one, its src and alt intact after unescaping.
    assert doc.tags("img") == [{"src": "https://x.test/a.png?" + HOSTILE, "alt": HOSTILE, "loading": "lazy"}]
    # Hostile strings come back as text and attribute values, byte for byte.
    assert doc.text["h2"] == [HOSTILE]
    assert doc.text["li"] == [HOSTILE]
    assert doc.text["td"] == [HOSTILE] and doc.text["th"] == [HOSTILE]
    assert doc.text["textarea"] == [HOSTILE]
    (radio,) = doc.tags("input")
    assert radio["name"] == f"q:{HOSTILE}" and radio["value"] == HOSTILE and "checked" in radio
    expected = Action(HOSTILE, {HOSTILE: HOSTILE}, HOSTILE)
    for attrs in [*doc.tags("button"), *doc.tags("form")]:
        if attrs.get("data-action") is not None:
            assert Action.decode(attrs["data-action"] or "") == expected
    assert all(str(a.get("id")).startswith("pmo-m") for a in doc.tags("textarea"))
