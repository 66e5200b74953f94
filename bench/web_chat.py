"""Benchmark: the local web chat as a person meets it, against `pmo-bot serve` started as a process
on a fresh SQLite database (what `make run` does on a new machine).

Prints: the time from launch to a served page (migrations and the demo's six weeks included), the
page's weight, question turns (p50/p95/p99 over many questions), the demo pulse and a pick, closing
the demo survey (its digest and chart, the first chart paying for matplotlib's import), and the
review of a 5,000-row register dropped on the page.

    python bench/web_chat.py [--turns 300]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.review import generate  # noqa: E402

HEADERS = {"X-PMO-Web": "1"}
QUESTIONS = (
    "what should I check in a risk register?",
    "competencies for a PMO co-ordinator",
    "what is benefits management?",
    "where should I develop next?",
    "what does a PSO do?",
    "review my RAID log",
    "how do I become a PMO manager?",
    "what about the issue log?",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def first_action(fragment: str, intent: str) -> str:
    for raw in re.findall(r'data-action="([^"]+)"', fragment):
        value = html.unescape(raw)
        if json.loads(value)["i"] == intent:
            return value
    raise SystemExit(f"no {intent} action in the reply")


async def timed(
    session: aiohttp.ClientSession, method: str, url: str, **kwargs: object
) -> tuple[float, dict]:
    start = time.perf_counter()
    async with session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
        body = await response.read()
        assert response.status == 200, body[:300]
    took = time.perf_counter() - start
    return took, json.loads(body) if body.startswith(b"{") else {"bytes": len(body)}


async def measure(base: str, turns: int) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        took, page = await timed(session, "GET", base + "/")
        print(f"GET /: {took * 1000:.1f} ms, {page['bytes']:,} bytes (plus chat.js and chat.css below)")
        for name in ("chat.js", "chat.css"):
            _, asset = await timed(session, "GET", f"{base}/static/{name}")
            print(f"  {name}: {asset['bytes']:,} bytes")

        times = []
        for n in range(turns):
            took, _ = await timed(session, "POST", base + "/web/message", headers=HEADERS,
                                  json={"text": QUESTIONS[n % len(QUESTIONS)]})  # fmt: skip
            times.append(took * 1000)
        print(f"question turns ({turns}): p50 {pct(times, 0.5):.1f} ms, p95 {pct(times, 0.95):.1f} ms, "
              f"p99 {pct(times, 0.99):.1f} ms")  # fmt: skip

        def action(intent: str) -> dict[str, object]:
            return {"action": json.dumps({"i": intent, "s": {}, "p": ""}), "values": {}}

        took, pulse = await timed(
            session, "POST", base + "/web/action", headers=HEADERS, json=action("demo_pulse")
        )
        print(f"demo pulse shown: {took * 1000:.1f} ms")
        pick = first_action(pulse["messages"][0]["html"], "survey_answer")
        took, _ = await timed(session, "POST", base + "/web/action", headers=HEADERS,
                              json={"action": pick, "values": {}})  # fmt: skip
        print(f"a pick recorded and the survey redrawn: {took * 1000:.1f} ms")
        for label in ("first", "second"):
            asked = action("demo_close" if label == "first" else "demo_digest")
            took, digest = await timed(session, "POST", base + "/web/action", headers=HEADERS, json=asked)
            size = len(digest["messages"][0]["html"])
            print(f"demo digest with chart ({label}): {took * 1000:.0f} ms, {size:,} bytes of HTML")

        data = generate(5000)  # bench/review.py's register: realistic wording, some duplicates
        form = aiohttp.FormData()
        form.add_field("file", data, filename="big-register.csv", content_type="text/csv")
        took, review = await timed(session, "POST", base + "/web/upload", headers=HEADERS, data=form)
        titles = [re.search(r"<h2>(.*?)</h2>", m["html"]).group(1) for m in review["messages"]]  # type: ignore[union-attr]
        print(f"5,000-row register ({len(data) / 1024:.0f} KB) reviewed: {took * 1000:.0f} ms -> {titles}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PMO_", "SLACK_", "MICROSOFT_"))}
        env.update({"DATABASE_URL": f"sqlite:///{folder}/bench.db", "PORT": str(port),
                    "PMO_CONFIG": f"{folder}/none.yaml",
                    # The turns come as fast as one browser can send them, far past one person's
                    # limit (bot/limits.py): it still runs for each, but refuses none.
                    "PMO_TURN_BURST": "100000", "PMO_TURNS_PER_MINUTE": "600000"})  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "serve"], cwd=folder, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if proc.poll() is not None or time.perf_counter() - start > 60:
                        raise SystemExit(
                            proc.stderr.read() if proc.stderr else "serve did not start"
                        ) from None
                    time.sleep(0.02)
            ready = time.perf_counter() - start
            print(f"launch to listening on a fresh database (demo weeks made): {ready:.2f} s")
            asyncio.run(measure(base, args.turns))
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
