"""The router over the knowledge base, kept on disk between runs.

Reading and validating ~250 entries of YAML and indexing their text takes most of a second,
longer than a one-shot ``pmo-bot ask`` should take. So the built router is pickled into the
user's cache folder, under a fingerprint of everything it is built from: the content of the YAML
files and of the code that builds it, and the Python and pydantic versions. Any change makes a new
fingerprint, and the next run builds afresh (about a second). ``pmo-bot kb validate`` and the
Makefile's install step build it, so that a one-shot ``ask`` finds it ready. A cache folder that
cannot be written only costs the time.

The file is read back with pickle, which runs code: it lives in the user's own cache folder,
which only the user (who can run code anyway) can write.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path

import pydantic

from bot.router import Router
from knowledge.base import DATA_DIR, KnowledgeBase, load

log = logging.getLogger(__name__)

_CODE = (Path(__file__).parent, DATA_DIR.parent)  # bot/ and knowledge/ (its YAML included)
_ROUTERS: dict[Path | None, Router] = {}


def router_for(knowledge_dir: Path | None) -> Router:
    """The router for the built-in knowledge base and an optional override folder (once per
    process, from the snapshot when one matches); raises KnowledgeBaseError."""
    key = knowledge_dir.resolve() if knowledge_dir is not None else None
    router = _ROUTERS.get(key)
    if router is None:
        router = _ROUTERS[key] = _read_or_build(knowledge_dir)
    return router


def prepare(knowledge_dir: Path | None, kb: KnowledgeBase) -> None:
    """Write the snapshot for a knowledge base already loaded and checked (``kb validate``),
    unless one is there: no second reading of the YAML."""
    path = _path(knowledge_dir)
    if not path.exists():
        _write(path, Router(kb))


def _read_or_build(knowledge_dir: Path | None) -> Router:
    path = _path(knowledge_dir)
    try:
        with path.open("rb") as handle:
            router = pickle.load(handle)
        if isinstance(router, Router):
            return router
    except FileNotFoundError:
        pass
    except OSError as exc:  # a cache folder in the way or unreadable: building costs the time
        log.info("knowledge snapshot not read (%s); building the router", exc)
    except Exception:  # a snapshot that cannot be read is rebuilt, whatever the reason
        log.warning("knowledge snapshot %s unreadable; rebuilding", path)
    router = Router(load(knowledge_dir))
    _write(path, router)
    return router


def _path(knowledge_dir: Path | None) -> Path:
    # One file per setting (built-in base or an override folder, Python version), so that two
    # checkouts or override folders sharing the cache do not keep replacing each other's.
    setting = f"{sys.version}|{knowledge_dir.resolve() if knowledge_dir is not None else ''}"
    prefix = hashlib.sha256(setting.encode()).hexdigest()[:8]
    return _cache_folder() / f"router-{prefix}-{_fingerprint(knowledge_dir)}.pickle"


def _write(path: Path, router: Router) -> None:
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(router, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
        temporary = None
        # Earlier snapshots of the same setting are stale now.
        setting = path.name.rsplit("-", 1)[0]
        for old in path.parent.glob(f"{setting}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError) as exc:
        log.info("knowledge snapshot not written (%s); each start builds the router", exc)
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pmo-bot"


def _fingerprint(knowledge_dir: Path | None) -> str:
    digest = hashlib.sha256(f"{sys.version}|pydantic {pydantic.VERSION}".encode())
    folders = list(_CODE)
    if knowledge_dir is not None:
        digest.update(str(knowledge_dir.resolve()).encode())
        folders.append(knowledge_dir)
    for folder in folders:
        try:
            files = sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".yaml", ".yml"))
        except OSError:
            continue
        for file in files:
            try:
                content = file.read_bytes()
            except OSError:
                continue
            digest.update(f"{file.relative_to(folder)}:{len(content)};".encode())
            digest.update(content)
    return digest.hexdigest()[:24]
