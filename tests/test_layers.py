"""The layers, checked on every import statement of the code (functions and type-only blocks too).

knowledge/ imports nothing of ours; the core (bot/ outside bot/app/) knows neither the adapters nor
the jobs; jobs reach platforms only through bot.ports; adapters translate and know no jobs; bot/app/
is the one place that puts them together. Platform SDKs stay inside adapters/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("knowledge", "bot", "jobs", "adapters")
SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework")

# What each layer may import of ours.
ALLOWED = {
    "knowledge": {"knowledge"},
    "core": {"knowledge", "core"},
    "jobs": {"knowledge", "core", "jobs"},
    "adapters": {"knowledge", "core", "adapters"},
    "app": {"knowledge", "core", "jobs", "adapters", "app"},
}


def layer(module: str) -> str | None:
    top = module.split(".", 1)[0]
    if top not in OURS:
        return None
    if top == "bot":
        return "app" if module == "bot.app" or module.startswith("bot.app.") else "core"
    return top


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement in ``path`` names, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import, resolved against this file's package
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # "from bot import app" names the module bot.app, not only the package bot.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            found.append((node.lineno, base))
    return found


def sources() -> list[Path]:
    return sorted(p for top in OURS for p in (ROOT / top).rglob("*.py") if ".venv" not in p.parts)


def breaches() -> list[str]:
    """One line per import statement that crosses a layer."""
    found: dict[str, str] = {}
    for path in sources():
        own = layer(module_name(path))
        assert own is not None
        for line, name in imports(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            target = layer(name)
            if target is not None and target not in ALLOWED[own]:
                found.setdefault(where, f"{where}: the {own} layer imports {name} ({target})")
            if name.split(".", 1)[0] in SDKS and own != "adapters":
                found.setdefault(where, f"{where}: a platform SDK ({name}) outside adapters/")
    return sorted(found.values())


def test_every_import_keeps_to_the_layers() -> None:
    assert breaches() == []


def test_the_check_sees_every_package_and_their_real_imports() -> None:
    # A check that read nothing would pass: it must see the files, and the imports that exist.
    paths = sources()
    assert {module_name(p).split(".", 1)[0] for p in paths} == set(OURS)
    seen = {(module_name(p), name) for p in paths for _, name in imports(p)}
    assert ("bot.app.parts", "adapters.slack.app.SlackAdapter") in seen  # a type-only import
    assert ("adapters.web.app", "bot.core") in seen
    assert ("knowledge.base", "knowledge.text") in seen


@pytest.mark.parametrize(
    ("module", "statement", "breach"),
    [
        ("knowledge.base", "from bot.core import Bot", "the knowledge layer imports bot.core"),
        ("bot.core", "from jobs.desk import SurveyDesk", "the core layer imports jobs.desk"),
        ("bot.core", "import adapters.text", "the core layer imports adapters.text"),
        ("jobs.sender", "from adapters.slack import app", "the jobs layer imports adapters.slack"),
        ("adapters.web.app", "from jobs.demo import Demo", "the adapters layer imports jobs.demo"),
        ("adapters.web.app", "from bot.app import web", "the adapters layer imports bot.app"),
        ("jobs.sender", "from slack_sdk.errors import SlackApiError", "a platform SDK"),
    ],
)
def test_a_crossing_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, statement: str, breach: str
) -> None:
    # The same check on a copy of the tree with one crossing import added.
    for top in OURS:
        for path in (ROOT / top).rglob("*.py"):
            copy = tmp_path / path.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(path.read_bytes())
    target = tmp_path / (module.replace(".", "/") + ".py")
    target.write_text(target.read_text(encoding="utf-8") + f"\n{statement}\n", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    found = breaches()
    assert len(found) == 1 and breach in found[0], found
