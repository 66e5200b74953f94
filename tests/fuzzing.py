"""What the property-based fuzzers (tests/test_fuzz_*.py) share: how many examples they run, and a
server loop of their own.

The number of examples comes from here alone. ``make test`` runs the short "ci" profile; ``make
fuzz`` sets PMO_FUZZ=1, which selects the "fuzz" profile of 10,000 examples a fuzzer. Neither has
Hypothesis's per-example deadline: the first example of a run pays for imports and caches, and a
slow machine would fail at random. The fuzzers bound each example's time themselves, with a limit
chosen for what they exercise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import tracemalloc
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, event, settings
from hypothesis.control import currently_in_test_context
from hypothesis.database import DirectoryBasedExampleDatabase

FUZZ_EXAMPLES = 10_000
CI_EXAMPLES = 60
ROOT = Path(__file__).resolve().parent.parent

_COMMON: dict[str, Any] = {
    "deadline": None,
    # The suite's autouse fixtures (clean settings, loopback only) are function-scoped; they hold
    # for the whole test and every example in it, which is what these fuzzers want.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # Failing examples are kept here (ignored by git) and tried first on the next run.
    "database": DirectoryBasedExampleDatabase(ROOT / ".hypothesis" / "examples"),
    "print_blob": True,
}
settings.register_profile("ci", max_examples=CI_EXAMPLES, **_COMMON)
settings.register_profile("fuzz", max_examples=FUZZ_EXAMPLES, **_COMMON)
PROFILE = "fuzz" if os.environ.get("PMO_FUZZ") == "1" else "ci"
settings.load_profile(PROFILE)

T = TypeVar("T")


@contextlib.contextmanager
def peak_memory() -> Iterator[Callable[[], int]]:
    """Measure the peak of Python allocations inside the block; the callable gives it in bytes."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    peak = [0]
    try:
        yield lambda: peak[0]
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1] - base
        if started:
            tracemalloc.stop()


class Errors(logging.Handler):
    """Keeps the errors logged while an example runs. An adapter that catches an exception after
    acknowledging a request logs it: a crash the platform never sees, and the person gets nothing.

    Exceptions of the ``tolerated`` types (the platform refusing a call) are the platform's answer,
    which the adapter rightly logs; they are only counted, in Hypothesis's statistics."""

    def __init__(self, tolerated: tuple[type[BaseException], ...] = ()) -> None:
        super().__init__(logging.ERROR)
        self.tolerated = tolerated
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def crashes(self) -> list[logging.LogRecord]:
        found = []
        for record in self.records:
            error = record.exc_info[1] if record.exc_info else None
            if isinstance(error, self.tolerated):
                if currently_in_test_context():
                    event(f"platform refused a call: {type(error).__name__}")
            else:
                found.append(record)
        return found

    def report(self) -> str:
        formatter = logging.Formatter("%(name)s: %(message)s")
        return "\n".join(formatter.format(r) for r in self.crashes())


class LoopThread:
    """An event loop on a thread of its own, for a server started once and shared by every
    Hypothesis example of a module. Hypothesis drives plain functions; each example hands its
    coroutines to this loop and waits for them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzz-server", daemon=True)
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_rest() -> None:
            current = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not current]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)
            await self.loop.shutdown_default_executor()

        self.run(cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


Stop = Callable[[], Coroutine[Any, Any, None]]


@contextlib.contextmanager
def serving(
    folder: Path, errors: Errors, start: Callable[[LoopThread], Coroutine[Any, Any, tuple[T, Stop]]]
) -> Iterator[T]:
    """A server for a whole fuzzing module: ``start`` builds it on a loop thread of its own and
    says how to stop it. It runs in ``folder``, with none of the developer's settings, and what
    it logs while it runs goes to ``errors``."""
    import pytest

    thread = LoopThread()
    with pytest.MonkeyPatch.context() as patch:
        # The suite's own clean_env fixture is per test; this server outlives one.
        for name in list(os.environ):
            if name.startswith(("PMO_", "SLACK_", "MICROSOFT_APP_")) or name == "DATABASE_URL":
                patch.delenv(name)
        patch.chdir(folder)  # no .env of the developer's
        running, stop = thread.run(start(thread))
        logging.getLogger().addHandler(errors)
        try:
            yield running
        finally:
            logging.getLogger().removeHandler(errors)
            thread.run(stop(), timeout=120)
            thread.close()
