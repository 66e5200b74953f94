"""Benchmark: signed /pmo slash commands per second and p99 acknowledgement latency at 50
concurrent requests, for pmo-bot's server and, in the same run, for a bare Bolt app that answers a
fixed string. Everything runs on loopback; the bot's Web API calls go to the fake Slack.

    python bench/slack_http.py [--requests 3000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import platform
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app.web import Parts, build_app  # noqa: E402
from bot.core import Bot  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage import Storage  # noqa: E402
from knowledge.base import load  # noqa: E402
from tests.fake_slack import BOT_TOKEN, FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
# Questions over many roles, functions and artefacts, routed for every request; the answers
# themselves are cached by the core, as they are in production.
TEXTS = (
    [f"role {r}" for r in ("pmo analyst", "co-ordinator", "pso", "hopmo", "pmo manager", "resource manager")]
    + [
        f"function {f}"
        for f in ("governance", "risk", "reporting", "planning", "benefits", "quality", "assurance")
    ]
    + [
        f"check {a}"
        for a in ("raid", "risk log", "issue log", "highlight report", "gantt", "benefits tracker")
    ]
    + [
        "what should I check in a risk register",
        "help",
        "where should I develop next",
        "how do I become a PMO manager",
    ]
)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/slack/events"


def bare_bolt(api_url: str) -> web.Application:
    app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url), signing_secret=SECRET)

    @app.command("/pmo")
    async def answer(ack):  # type: ignore[no-untyped-def]
        await ack("ok")

    return app.web_app(path="/slack/events")


async def load_test(url: str, requests: int, concurrency: int) -> tuple[float, list[float], int]:
    verifier = SignatureVerifier(SECRET)
    latencies: list[float] = []
    failures = 0
    counter = iter(range(requests))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        for n in counter:
            body = urllib.parse.urlencode(
                {
                    "command": "/pmo",
                    "text": TEXTS[n % len(TEXTS)],
                    "team_id": "T1",
                    "user_id": f"U{n % 97}",
                    "channel_id": "C1",
                    "response_url": "http://127.0.0.1:9/none",
                    "trigger_id": "1",
                }
            )
            ts = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
            }
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        took = time.perf_counter() - started
    return requests / took, latencies, failures


def p99(values: list[float]) -> float:
    return sorted(values)[int(0.99 * (len(values) - 1))]


async def main(requests: int, concurrency: int) -> None:
    fake = FakeSlack()
    await fake.start()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        storage = Storage(url)
        storage.upgrade()
        settings = Settings.model_validate(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": url,
            }
        )
        ours, ours_url = await serve(build_app(Parts(settings, Bot(load()), storage)))
        bare, bare_url = await serve(bare_bolt(fake.api_url))
        gc.freeze()  # as `pmo-bot serve` does after start-up
        await load_test(ours_url, 200, concurrency)  # warm up both
        await load_test(bare_url, 200, concurrency)
        bare_rps, bare_lat, bare_fail = await load_test(bare_url, requests, concurrency)
        ours_rps, ours_lat, ours_fail = await load_test(ours_url, requests, concurrency)
        await ours.cleanup()
        await bare.cleanup()
        storage.close()
    await fake.stop()
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}; "
        f"{requests} signed slash commands, {concurrency} concurrent; the client and both servers share one "
        "event loop, so the figures compare the two servers, not the machine's capacity"
    )
    print(
        f"bare Bolt app (fixed answer): {bare_rps:,.0f} req/s, "
        f"p50 {statistics.median(bare_lat) * 1e3:.1f} ms, "
        f"p99 {p99(bare_lat) * 1e3:.1f} ms, failures {bare_fail}"
    )
    print(
        f"pmo-bot (routed answer):      {ours_rps:,.0f} req/s, "
        f"p50 {statistics.median(ours_lat) * 1e3:.1f} ms, "
        f"p99 {p99(ours_lat) * 1e3:.1f} ms, failures {ours_fail}"
    )
    print(f"pmo-bot throughput is {ours_rps / bare_rps:.0%} of the bare Bolt app's")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
