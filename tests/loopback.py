"""Small pieces the loopback fakes and tests share: serving an aiohttp app on a free port, and
waiting until recorded calls arrive."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from aiohttp import web


async def serve(app: web.Application, host: str = "127.0.0.1") -> tuple[web.AppRunner, int]:
    """Start ``app`` on a free port of ``host``; returns the runner (to clean up) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def wait_until(
    changed: asyncio.Event, done: Callable[[], bool], timeout: float, what: Callable[[], str]
) -> None:
    """Wait until ``done()`` holds, waking each time ``changed`` is set; fail with ``what()``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not done():
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise AssertionError(what())
        changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), remaining)
