"""Benchmark: signed /pmo slash commands per second and p99 acknowledgement latency at 50
concurrent requests, for pmo-bot's server and, in the same run, for a bare Bolt app that answers a
fixed string. Everything runs on loopback; the bot's Web API calls go to the fake Slack.

The two servers take turns, ``--rounds`` times each (which goes first alternates), so that load
from elsewhere on a shared machine falls on both alike; the ratio printed is the median of the
rounds' ratios. The CPU time of the process per request (client included, the same for both) is
printed too: it moves less than throughput when other work shares the cores.

    python bench/slack_http.py [--requests 3000] [--concurrency 50] [--rounds 5]
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


async def load_test(url: str, requests: int, concurrency: int) -> tuple[float, list[float], int, float]:
    """Requests a second, latencies, failures and CPU seconds of this process per request."""
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
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
    return requests / took, latencies, failures, cpu / requests


def p99(values: list[float]) -> float:
    return sorted(values)[int(0.99 * (len(values) - 1))]


async def main(requests: int, concurrency: int, rounds: int = 5) -> None:
    fake = FakeSlack()
    await fake.start()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        storage = Storage(url)
        await asyncio.to_thread(storage.upgrade)  # (no database call on the event loop)
        settings = Settings.model_validate(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": url,
                # 97 people sending some 33 commands each in two seconds: far over the default
                # per-person limit (bot/limits.py). The limiter still runs for every request, but
                # refuses none, so that every answer is routed and rendered.
                "PMO_TURN_BURST": 100_000,
                "PMO_TURNS_PER_MINUTE": 600_000,
            }
        )
        # Built off the loop, as `pmo-bot serve` builds it before its loop runs (it reads the database).
        app = await asyncio.to_thread(build_app, Parts(settings, Bot(load()), storage))
        ours, ours_url = await serve(app)
        bare, bare_url = await serve(bare_bolt(fake.api_url))
        gc.freeze()  # as `pmo-bot serve` does after start-up
        await load_test(ours_url, 200, concurrency)  # warm up both
        await load_test(bare_url, 200, concurrency)
        runs: dict[str, list[tuple[float, list[float], int, float]]] = {"bare": [], "ours": []}
        for n in range(rounds):
            turns = [("bare", bare_url), ("ours", ours_url)]
            for name, server in turns if n % 2 == 0 else turns[::-1]:
                runs[name].append(await load_test(server, requests, concurrency))
        await ours.cleanup()
        await bare.cleanup()
        storage.close()
    await fake.stop()
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}; "
        f"{requests} signed slash commands, {concurrency} concurrent, {rounds} rounds each; the client "
        "and both servers share one event loop, so the figures compare the two servers, not the machine's "
        "capacity"
    )
    for name, label in (("bare", "bare Bolt app (fixed answer):"), ("ours", "pmo-bot (routed answer):     ")):
        rps = [r[0] for r in runs[name]]
        latencies = [x for r in runs[name] for x in r[1]]
        print(
            f"{label} {statistics.median(rps):,.0f} req/s (rounds {min(rps):,.0f}-{max(rps):,.0f}), "
            f"p50 {statistics.median(latencies) * 1e3:.1f} ms, p99 {p99(latencies) * 1e3:.1f} ms, "
            f"CPU {statistics.median(r[3] for r in runs[name]) * 1e6:.0f} µs a request, "
            f"failures {sum(r[2] for r in runs[name])}"
        )
    ratios = [ours[0] / bare[0] for bare, ours in zip(runs["bare"], runs["ours"], strict=True)]
    cpu = statistics.median(r[3] for r in runs["bare"]) / statistics.median(r[3] for r in runs["ours"])
    print(
        f"pmo-bot throughput is {statistics.median(ratios):.0%} of the bare Bolt app's "
        f"(rounds {min(ratios):.0%}-{max(ratios):.0%}; by CPU a request, {cpu:.0%})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5, help="turns of each server (default 5)")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, max(1, args.rounds)))
