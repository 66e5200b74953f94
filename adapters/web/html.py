"""HTML rendering of a reply, for the local web chat.

``render_html`` returns a fragment for one bot message. Every string from a reply is escaped
(text and attributes alike), because replies carry register data, user input echoed back and
knowledge text that nobody vetted as markup. Actions travel in ``data-action`` attributes as the
JSON of :meth:`Action.encode`; the page's script reads them and posts them back.
"""

from __future__ import annotations

import html
import itertools

from bot.reply import (
    Button,
    Form,
    Image,
    Pick,
    Question,
    Reply,
    Scorecard,
    ScoreRow,
    Section,
    Table,
    TextInput,
)

# Image sources we let through. Anything else (javascript:, vbscript:, other data: types such as
# SVG, which can carry script) is dropped rather than rewritten.
_SAFE_IMAGE_PREFIXES = ("https:", "http:", "data:image/png;base64,")

# Several messages share one page, so element ids must be unique across renders, not just within
# one. Ids come from this counter, never from reply strings, so they cannot break out of an
# attribute or collide with the page's own ids.
_message_ids = itertools.count(1)


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def _attr(name: str, value: str) -> str:
    return f' {name}="{_esc(value)}"'


def _safe_image(url: str) -> bool:
    # Compare case-insensitively (browsers accept "JavaScript:"), but without stripping: a URL
    # with leading spaces or control characters simply fails the test and is dropped.
    return url.lower().startswith(_SAFE_IMAGE_PREFIXES)


def _text(value: str) -> str:
    return "<br>".join(_esc(line) for line in value.splitlines())


def _section(section: Section) -> list[str]:
    out = ['<section class="section">']
    if section.heading:
        out.append(f"<h3>{_esc(section.heading)}</h3>")
    if section.text:
        out.append(f"<p>{_text(section.text)}</p>")
    if section.bullets:
        out.append("<ul>" + "".join(f"<li>{_esc(b)}</li>" for b in section.bullets) + "</ul>")
    out.append("</section>")
    return out


def _image(image: Image) -> list[str]:
    if not _safe_image(image.url):
        return []
    return [f'<img{_attr("src", image.url)}{_attr("alt", image.alt)} loading="lazy">']


def _scorecard(scorecard: Scorecard) -> list[str]:
    # A list, not a table: each item's name wraps between words beside its score and change, and
    # its details wrap between details (each held together by white-space: nowrap), so nothing
    # scrolls sideways or breaks mid-word in a narrow window. See .scorecard in chat.css.
    out = ['<section class="scorecard">']
    if scorecard.heading:
        out.append(f"<h3>{_esc(scorecard.heading)}</h3>")
    if scorecard.note:
        out.append(f'<p class="scorecard-note">{_esc(scorecard.note)}</p>')
    out.append('<ul class="scores">' + "".join(_score_row(row) for row in scorecard.rows) + "</ul>")
    out.append("</section>")
    return out


def _score_row(row: ScoreRow) -> str:
    head = f'<span class="score-name">{_esc(row.name)}</span>'
    if row.score:
        figures = f'<span class="score-value">{_esc(row.score)}</span>'
        if row.change:
            direction = f" {row.direction}" if row.direction else ""
            figures += f' <span class="score-change{direction}">{_esc(row.change)}</span>'
        head += f'<span class="score-figures">{figures}</span>'
    details = " · ".join(f"<span>{_esc(detail)}</span>" for detail in row.details)
    tail = f'<p class="score-details">{details}</p>' if details else ""
    return f'<li class="score-row"><div class="score-head">{head}</div>{tail}</li>'


def _table(table: Table) -> list[str]:
    head = "".join(f'<th scope="col">{_esc(c)}</th>' for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    return [f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"]


def _buttons(buttons: tuple[Button, ...], suggestions: bool) -> list[str]:
    out = ['<div class="actions">']
    if suggestions:
        out.append('<span class="suggestions-label">Did you mean:</span>')
    for button in buttons:
        out.append(
            f'<button type="button" class="action"{_attr("data-action", button.action.encode())}>'
            f"{_esc(button.label)}</button>"
        )
    out.append("</div>")
    return out


def _question(question: Question, new_id: itertools.count[int], prefix: str) -> list[str]:
    # Radios are named by input_id so a submitted form carries each choice the way Form documents;
    # each also carries its pick action so the page can record a pick at once, as Slack does.
    out = ['<fieldset class="question">', f"<legend>{_esc(question.text)}</legend>"]
    for choice in question.choices:
        input_id = f"{prefix}-{next(new_id)}"
        checked = " checked" if question.selected == choice.value else ""
        out.append(
            f'<input type="radio"{_attr("id", input_id)}{_attr("name", question.input_id)}'
            f"{_attr('value', choice.value)}"
            f"{_attr('data-action', question.pick_action(choice).encode())}{checked}>"
            f"<label{_attr('for', input_id)}>{_esc(choice.label)}</label>"
        )
    out.append("</fieldset>")
    return out


def _form(form: Form, questions: list[str], new_id: itertools.count[int], prefix: str) -> list[str]:
    out = [f'<form class="survey"{_attr("data-action", form.submit.encode())}>']
    out.extend(questions)
    if form.title:
        out.append(f"<h3>{_esc(form.title)}</h3>")
    if form.note and form.standalone:
        out.append(f'<p class="form-note">{_esc(form.note)}</p>')
    errors = dict(form.errors)
    for item in form.inputs:
        input_id = f"{prefix}-{next(new_id)}"
        hint = f" <small>{_esc(item.hint)}</small>" if item.hint else ""
        if isinstance(item, Pick):
            out.extend(_pick(item, input_id, hint))
        else:
            out.append(f"<label{_attr('for', input_id)}>{_esc(item.label)}{hint}</label>")
            out.append(_text_field(item, input_id))
        if item.key in errors:
            out.append(f'<p class="form-error" role="alert">{_esc(errors[item.key])}</p>')
    out.append(f'<button type="submit">{_esc(form.submit_label or "Submit")}</button>')
    out.append("</form>")
    return out


def _text_field(item: TextInput, input_id: str) -> str:
    placeholder = _attr("placeholder", item.placeholder) if item.placeholder else ""
    common = f"{_attr('id', input_id)}{_attr('name', item.key)}{placeholder}"
    if item.kind == "text":
        return f'<textarea{common} maxlength="{int(item.max_length)}">{_esc(item.value)}</textarea>'
    kind = "number" if item.kind == "number" else "text"
    return f'<input type="{kind}"{common} maxlength="{int(item.max_length)}"{_attr("value", item.value)}>'


def _pick(item: Pick, input_id: str, hint: str) -> list[str]:
    if not item.multiple:
        options = "".join(
            f"<option{_attr('value', c.value)}{' selected' * (c.value in item.selected)}>"
            f"{_esc(c.label)}</option>"
            for c in item.choices
        )
        return [
            f"<label{_attr('for', input_id)}>{_esc(item.label)}{hint}</label>",
            f"<select{_attr('id', input_id)}{_attr('name', item.key)}>{options}</select>",
        ]
    out = [f'<fieldset class="pick"><legend>{_esc(item.label)}{hint}</legend>']
    for n, choice in enumerate(item.choices):
        checked = " checked" if choice.value in item.selected else ""
        box = f"{input_id}-{n}"
        out.append(
            f'<label{_attr("for", box)}><input type="checkbox"{_attr("id", box)}{_attr("name", item.key)}'
            f"{_attr('value', choice.value)}{checked}> {_esc(choice.label)}</label>"
        )
    out.append("</fieldset>")
    return out


def render_html(reply: Reply) -> str:
    """One bot message as an HTML fragment (no <html> or <body>)."""
    prefix = f"pmo-m{next(_message_ids)}"
    new_id = itertools.count(1)
    out = ['<article class="reply">', f"<h2>{_esc(reply.title)}</h2>"]
    for part in reply.body():
        out.extend(_section(part) if isinstance(part, Section) else _scorecard(part))
    for image in reply.images:
        out.extend(_image(image))
    for table in reply.tables:
        out.extend(_table(table))
    questions: list[str] = []
    for question in reply.questions:
        questions.extend(_question(question, new_id, prefix))
    if reply.form is not None:
        # With a form the questions sit inside it, so one submit sends every choice with the text;
        # the form's open/open_label exist for Slack's modal and are not needed here.
        out.extend(_form(reply.form, questions, new_id, prefix))
    else:
        out.extend(questions)
    if reply.buttons:
        out.extend(_buttons(reply.buttons, reply.suggestions))
    out.append("</article>")
    return "\n".join(out)
