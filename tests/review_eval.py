"""Score the register review against registers with planted defects and an answer key.

A planted defect is found when a finding has its check id and the register's own risk id (or no
risk id, for a register-level defect). A finding is right when it matches a planted defect.

    python -m tests.review_eval tests/registers
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.review.report import review_file


@dataclass
class FileScore:
    file: str
    clean: bool
    planted: set[tuple[str, str | None]]
    found: set[tuple[str, str | None]]
    missed: set[tuple[str, str | None]] = field(default_factory=set)
    wrong: set[tuple[str, str | None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.missed = self.planted - self.found
        self.wrong = self.found - self.planted


@dataclass
class Score:
    files: list[FileScore]

    @property
    def recall(self) -> float:
        planted = sum(len(f.planted) for f in self.files)
        return sum(len(f.planted & f.found) for f in self.files) / planted if planted else 1.0

    @property
    def precision(self) -> float:
        found = sum(len(f.found) for f in self.files)
        return sum(len(f.planted & f.found) for f in self.files) / found if found else 1.0

    def text(self) -> str:
        lines = [f"planted defects found: {self.recall:.1%}; findings right: {self.precision:.1%}"]
        for f in self.files:
            lines.append(f"  {f.file}: planted {len(f.planted)}, found {len(f.planted & f.found)}, "
                         f"false {len(f.wrong)}{' (clean)' if f.clean else ''}")  # fmt: skip
            lines += [f"      missed {c} {r}" for c, r in sorted(f.missed, key=str)]
            lines += [f"      false  {c} {r}" for c, r in sorted(f.wrong, key=str)]
        return "\n".join(lines)


def score_folder(folder: Path) -> Score:
    key = yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))
    files = []
    for entry in key["files"]:
        as_of = entry.get("as_of")
        day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
        result = review_file(folder / entry["file"], entry.get("sheet"), day)
        planted = {(e["check"], None if e.get("risk_id") is None else str(e["risk_id"]))
                   for e in entry.get("expected") or []}  # fmt: skip
        found = {(f.check, f.risk_id) for f in result.findings}
        files.append(FileScore(entry["file"], bool(entry.get("clean")), planted, found))
    return Score(files)


def main(argv: list[str]) -> int:
    for name in argv or ["tests/registers"]:
        print(f"== {name}")
        print(score_folder(Path(name)).text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
