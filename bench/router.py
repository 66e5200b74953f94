"""Benchmark of the intent router.

Routes 10,000 utterances in one process and prints throughput and p50/p99 latency, then times the
two command-line paths a user feels: ``pmo-bot route --file`` on the same 10,000 lines and the
first answer of ``pmo-bot ask`` (seven runs, with the knowledge snapshot built). The utterances are
the labelled set, varied (case, mentions, letter swaps) so that they are not 10,000 copies of a few
hundred lines.

    python bench/router.py [--n 10000]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.router import Router  # noqa: E402
from knowledge.base import load  # noqa: E402


def utterances(n: int, seed: int = 7) -> list[str]:
    source = ROOT / "tests" / "data" / "utterances.tsv"
    base = [
        line.split("\t", 1)[0]
        for line in source.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = base[i % len(base)]
        variant = rng.randrange(4)
        if variant == 1:
            text = text.upper() if rng.random() < 0.3 else text.capitalize()
        elif variant == 2:
            text = "<@U0BENCH" + str(rng.randrange(1000)) + "> " + text
        elif variant == 3 and len(text) > 6:
            k = rng.randrange(1, len(text) - 2)
            text = text[:k] + text[k + 1] + text[k] + text[k + 2 :]
        out.append(text)
    return out


def measure(router: Router, lines: list[str]) -> tuple[list[float], float, float]:
    """Latencies, wall time and CPU time (the CPU figure is steadier on a shared machine)."""
    latencies = []
    started, cpu = time.perf_counter(), time.process_time()
    for text in lines:
        t0 = time.perf_counter()
        router.route(text)
        latencies.append(time.perf_counter() - t0)
    return latencies, time.perf_counter() - started, time.process_time() - cpu


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    lines = utterances(args.n)

    started = time.perf_counter()
    router = Router(load())
    build_s = time.perf_counter() - started

    latencies, total_s, total_cpu = measure(router, lines)
    # Every text different (a unique mention in front), so no whole-message cache helps.
    unique_latencies, unique_s, unique_cpu = measure(
        Router(load()), [f"<@U{n:07d}> {t}" for n, t in enumerate(lines)]
    )

    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}"
    )
    print(f"knowledge base load + router build: {build_s * 1000:.0f} ms")
    print(
        f"routed {len(lines)} utterances in {total_s:.3f} s: {len(lines) / total_s:,.0f} per second "
        f"({total_cpu:.3f} s of CPU: {len(lines) / total_cpu:,.0f} per CPU second)"
    )
    print(
        f"latency p50 {percentile(latencies, 0.50) * 1e6:.0f} µs, "
        f"p99 {percentile(latencies, 0.99) * 1e6:.0f} µs, "
        f"max {max(latencies) * 1e3:.1f} ms, mean {statistics.mean(latencies) * 1e6:.0f} µs"
    )

    print(
        f"every text unique: {unique_s:.3f} s, {len(lines) / unique_s:,.0f} per second "
        f"({len(lines) / unique_cpu:,.0f} per CPU second); "
        f"p50 {percentile(unique_latencies, 0.50) * 1e6:.0f} µs, "
        f"p99 {percentile(unique_latencies, 0.99) * 1e6:.0f} µs"
    )

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
        path = handle.name
    cli = [sys.executable, "-m", "bot.app.cli"]
    subprocess.run([*cli, "kb", "validate"], check=True, capture_output=True, cwd=ROOT)  # the snapshot
    t0 = time.perf_counter()
    subprocess.run([*cli, "route", "hello", "--json"], check=True, capture_output=True, cwd=ROOT)
    startup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([*cli, "route", "--file", path, "--json"], check=True, capture_output=True, cwd=ROOT)
    file_s = time.perf_counter() - t0
    asks = []
    for _ in range(7):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.app.main", "ask", "what should I check in this risk register?"],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        asks.append(time.perf_counter() - t0)
    Path(path).unlink()
    beyond = max(1e-9, file_s - startup_s)
    print(f"pmo-bot route (one line: start-up and the knowledge snapshot): {startup_s:.2f} s")
    print(
        f"pmo-bot route --file ({len(lines)} lines) --json: {file_s:.2f} s wall, "
        f"{beyond:.2f} s beyond start-up: {len(lines) / beyond:,.0f} lines per second"
    )
    print(
        f"pmo-bot ask (first answer from launch), 7 runs: median {statistics.median(asks):.2f} s, "
        f"best {min(asks):.2f} s, worst {max(asks):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
