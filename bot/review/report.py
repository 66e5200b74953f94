"""The review of one register: findings, a summary, and the ways to show them.

``review_file`` is what the CLI and every chat adapter call; ``Review.reply`` gives the short chat
answer (summary and first questions) and ``Review.text`` the full report.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ReviewError
from bot.reply import Action, Button, Reply, Section
from bot.review.checks import SEVERITY_ORDER, Finding, ReviewSettings, run_checks
from bot.review.columns import MISSING_MEANS
from bot.review.reader import MAX_BYTES
from bot.review.register import Register, build

FIRST_QUESTIONS = 5
REWORK_SHARE = 0.5  # half the rows flagged or more: the register needs reworking, not touching up
WORK_SHARE = 0.2
FULL_REPORT_PER_CHECK = 10  # a chat answer lists this many findings of a kind; the CLI lists all

GAP_NAME = {"owner": "owner", "probability": "probability", "impact": "impact", "mitigation": "response"}
MISSING_QUESTION = {
    "owner": "Who owns each of these risks? The register has no owner column.",
    "probability": "How likely is each risk, and on which scale? The register rates no probability.",
    "impact": "What would each risk do to time, cost or quality? The register rates no impact.",
    "mitigation": "What is being done about each risk? The register records no responses.",
}

_CHECK_TOPIC = {
    "broken_row": "rows broken by stray separators",
    "missing_owner": "risks without an owner",
    "missing_probability": "missing probabilities",
    "missing_impact": "missing impacts",
    "invalid_value": "values off the register's scale",
    "score_mismatch": "scores that do not match their ratings",
    "missing_response": "serious risks with no response",
    "stale_review": "risks not reviewed for a month",
    "past_due_action": "overdue actions",
    "closed_with_open_actions": "closed risks with open actions",
    "issue_not_risk": "issues written as risks",
    "vague_description": "vague descriptions",
    "duplicate": "duplicates",
    "owner_concentration": "one owner holding most risks",
    "high_risk_not_escalated": "high risks not escalated",
    "residual_not_lower": "responses that change nothing",
    "closed_without_reason": "risks closed with no reason",
    "uniform_ratings": "every risk rated the same",
    "repeated_filler": "one stock response pasted everywhere",
    "unvalidated_assumption": "assumptions nobody is checking",
    "incomplete_dependency": "dependencies with no provider or date",
}


@dataclass
class Review:
    register: Register
    findings: list[Finding]
    as_of: dt.date

    # -- summary ---------------------------------------------------------------------------

    def by_check(self) -> dict[str, int]:
        return dict(Counter(f.check for f in self.findings).most_common())

    def by_severity(self) -> dict[str, int]:
        counts: Counter[str] = Counter(f.severity for f in self.findings)
        return {s: counts[s] for s in SEVERITY_ORDER}

    def first_questions(self) -> list[str]:
        """One question per kind of finding, the most serious and most frequent first; and what
        the missing columns leave unanswered."""
        counts = self.by_check()
        firsts: dict[str, Finding] = {}
        rows: set[int] = set()
        for f in self.findings:
            # One question a problem, each about a different row: two about one risk would hide
            # the other problems.
            if f.check in firsts or (f.row is not None and f.row in rows):
                continue
            firsts[f.check] = f
            if f.row is not None:
                rows.add(f.row)
        for f in self.findings:
            firsts.setdefault(f.check, f)  # a problem found only on rows already asked about
        ordered = sorted(
            firsts.values(), key=lambda f: (SEVERITY_ORDER[f.severity], -counts[f.check], f.check)
        )
        questions = [f.question for f in ordered]
        _, missing = self.columns()
        # A register with no owner or rating columns has nothing to find there: say what to ask.
        for fld in ("mitigation", "impact", "probability", "owner"):
            if fld in missing:
                questions.insert(min(2, len(questions)), MISSING_QUESTION[fld])
        return questions[:FIRST_QUESTIONS]

    def health(self) -> str:
        reg = self.register
        total = len(reg.risks)
        _, missing = self.columns()
        gaps = [GAP_NAME[f] for f in ("owner", "probability", "impact", "mitigation") if f in missing]
        if gaps:
            named = gaps[0] if len(gaps) == 1 else ", ".join(gaps[:-1]) + " or " + gaps[-1]
            return (
                f"Incomplete: no {named} column, so those cannot be checked; "
                f"{len(self.findings)} findings on the {total} risks."
            )
        if not self.findings:
            return f"In good shape: no findings across {total} risks."
        rows = {f.row for f in self.findings if f.row is not None}
        errors = self.by_severity()["error"]
        top = [_CHECK_TOPIC.get(c, c) for c in list(self.by_check())[:2]]
        # The verdict follows how much of the register is affected, not only how bad the worst is;
        # a short title (info) does not make a row need rework.
        serious = {f.row for f in self.findings if f.row is not None and f.severity != "info"}
        share = len(serious) / (total + len(reg.broken)) if total else 0.0
        if share >= REWORK_SHARE:
            verdict = "Needs a thorough rework"
        elif errors or share >= WORK_SHARE:
            verdict = "Needs work"
        else:
            verdict = "Mostly sound"
        return (
            f"{verdict}: {len(self.findings)} findings on {len(rows)} of {total} risks"
            f"{f', {errors} of them errors' if errors else ''}; mainly {' and '.join(top)}."
        )

    def columns(self) -> tuple[dict[str, str], dict[str, str]]:
        cols = self.register.columns
        found = {fld: cols.headers[index] for fld, index in sorted(cols.fields.items(), key=lambda x: x[1])}
        missing = {fld: meaning for fld, meaning in MISSING_MEANS.items() if not cols.has(fld)}
        return found, missing

    def summary(self) -> dict[str, object]:
        reg = self.register
        found, missing = self.columns()
        return {
            "file": reg.filename,
            "sheet": reg.sheet,
            "as_of": self.as_of.isoformat(),
            "risks": len(reg.risks),
            "open_risks": len(reg.open_risks),
            "findings": len(self.findings),
            "by_check": self.by_check(),
            "by_severity": self.by_severity(),
            "health": self.health(),
            "first_questions": self.first_questions(),
            "columns_found": found,
            "columns_missing": missing,
            "duplicated_headers": list(reg.columns.duplicated),
            "reading": reg.notes,
            "escalation_threshold": reg.escalation_score,
        }

    def as_json(self) -> dict[str, object]:
        return {"findings": [f.as_json() for f in self.findings], "summary": self.summary()}

    # -- rendering -------------------------------------------------------------------------

    def text(self) -> str:
        reg = self.register
        found, missing = self.columns()
        lines = [
            f"Register review: {reg.filename}" + (f" (sheet {reg.sheet})" if reg.sheet else ""),
            f"As of {self.as_of:%d %b %Y}; {len(reg.risks)} risks, {len(reg.open_risks)} open.",
            "",
            self.health(),
            "",
        ]
        if self.findings:
            lines.append("Ask the project manager first:")
            lines += [f"  {n}. {q}" for n, q in enumerate(self.first_questions(), start=1)]
            lines.append("")
            counts = ", ".join(f"{c} {k.replace('_', ' ')}" for k, c in self.by_check().items())
            lines += [f"Findings by check: {counts}.", ""]
            lines.append("Findings:")
            for f in shown_findings(self.findings):
                lines.append(f"  [{f.severity}] {_where(f)}{f.message}")
                lines.append(f"      ask: {f.question}")
            lines.append("")
        lines.append("Columns found: " + ", ".join(f"{h} → {fld}" for fld, h in found.items()) + ".")
        for meaning in missing.values():
            lines.append(f"  Missing: {meaning}.")
        if reg.columns.duplicated:
            lines.append("  Column names used twice: " + ", ".join(reg.columns.duplicated) + ".")
        lines.append("How the file was read: " + "; ".join(reg.notes) + ".")
        return "\n".join(lines)

    def reply(self) -> Reply:
        """The chat answer: fits a phone screen, the full report behind the button."""
        reg = self.register
        sections = [Section(text=self.health())]
        questions = self.first_questions()
        if questions:
            sections.append(Section("Ask the project manager first", bullets=tuple(questions)))
        _, missing = self.columns()
        if missing:
            sections.append(Section("Missing columns", text="; ".join(list(missing.values())[:3]) + "."))
        title = f"Review of {reg.filename}" + (f" ({reg.sheet})" if reg.sheet else "")
        buttons = (
            Button("Risk register questions", Action("challenge_questions", {"artefact": "risk_register"})),
        )
        return Reply(title, tuple(sections), buttons, intent="review")

    def full_reply(self) -> Reply:
        """The findings grouped by check, the first few of each: the follow-up to the short answer."""
        groups: dict[str, list[str]] = {}
        for f in shown_findings(self.findings):
            groups.setdefault(f.check, []).append(f"{_where(f)}{f.message} Ask: {f.question}")
        sections = []
        for check, lines in groups.items():
            shown = lines[:FULL_REPORT_PER_CHECK]
            if len(lines) > len(shown):
                shown.append(f"… and {len(lines) - len(shown)} more: run pmo-bot review on the file for all.")
            heading = f"{_CHECK_TOPIC.get(check, check).capitalize()} ({len(lines)})"
            sections.append(Section(heading, bullets=tuple(shown)))
        found, missing = self.columns()
        sections.append(
            Section("Columns found", text=", ".join(f"{h} → {f}" for f, h in found.items()) + ".")
        )
        if missing:
            sections.append(Section("Missing columns", bullets=tuple(missing.values())))
        sections.append(Section("How the file was read", text="; ".join(self.register.notes) + "."))
        return Reply(f"Full report: {self.register.filename}", tuple(sections), intent="review")


def shown_findings(findings: list[Finding]) -> list[Finding]:
    """The findings a person reads: a duplicate pair once, not once for each of its rows."""
    shown: list[Finding] = []
    pairs: set[frozenset[str]] = set()
    for f in findings:
        if f.check == "duplicate" and f.related is not None:
            pair = frozenset((f.risk_id or f"row {f.row}", f.related))
            if pair in pairs:
                continue
            pairs.add(pair)
        shown.append(f)
    return shown


def _where(f: Finding) -> str:
    """'R-12: ' before a finding, unless its message already starts by naming the risk."""
    where = f.risk_id or (f"row {f.row}" if f.row else "register")
    if f.risk_id is not None and f.risk_id in [w.strip(":,.'(") for w in f.message.split()[:2]]:
        return ""
    if f.risk_id is None and f.row is not None and f.message.startswith(f"row {f.row}"):
        return ""
    return f"{where}: "


def review_bytes(
    data: bytes,
    filename: str,
    sheet: str | None = None,
    as_of: dt.date | None = None,
    settings: ReviewSettings | None = None,
) -> Review:
    as_of = as_of or dt.date.today()
    with _fewer_collections():
        register = build(data, filename, sheet, as_of)
        return Review(register, run_checks(register, as_of, settings or ReviewSettings()), as_of)


_COLLECTIONS = threading.Lock()
_reviewing = 0  # reviews running now, in any thread
_threshold: tuple[int, ...] = ()


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """A review makes a great many small objects and no cycles worth collecting before it ends;
    Python's collector, run every 700 allocations, took a third of a 10,000-row review. Reviews
    run in threads at once: the first to start raises the threshold, the last to end restores it."""
    global _reviewing, _threshold
    with _COLLECTIONS:
        if _reviewing == 0:
            _threshold = gc.get_threshold()
            gc.set_threshold(max(_threshold[0], 100_000), *_threshold[1:])
        _reviewing += 1
    try:
        yield
    finally:
        with _COLLECTIONS:
            _reviewing -= 1
            if _reviewing == 0:
                gc.set_threshold(*_threshold)


def review_file(
    path: Path, sheet: str | None = None, as_of: dt.date | None = None, settings: ReviewSettings | None = None
) -> Review:
    try:
        if path.is_dir():
            raise ReviewError(f"{path} is a folder, not a register file.")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ReviewError(
                f"{path.name} is {size / 1024 / 1024:.1f} MB; registers over 10 MB are not reviewed."
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ReviewError(f"{path} does not exist.") from exc
    except PermissionError as exc:
        raise ReviewError(f"{path} cannot be read (permission denied).") from exc
    except OSError as exc:
        raise ReviewError(f"{path} cannot be read ({exc.strerror or type(exc).__name__}).") from exc
    return review_bytes(data, path.name, sheet, as_of, settings)
