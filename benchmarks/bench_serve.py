"""`pricer serve` under load on 127.0.0.1: latency and throughput per concurrency, memory, and the same items in-process.

    python benchmarks/bench_serve.py                          # the issue's run: default xgboost and the ensemble
    python benchmarks/bench_serve.py --model models/xgb       # a folder you trained
    python benchmarks/bench_serve.py --predictor linear --requests 100 --smoke   # a quick check that it works

For each model: the folder is priced in-process first (`load_predictor` then `predict`, one item
per call and 200 in one call), then `pricer serve` is started on 127.0.0.1 and driven by an asyncio
load generator in this process (one keep-alive connection per client, one item per request) at
each concurrency: p50/p99 latency, items per second, errors, and how many requests each model call
gathered. The server's resident memory (VmRSS, and its peak VmHWM) is read from /proc at start,
after the first 100 requests and at the end. Everything is bounded: --requests per level and
--seconds per level. Figures go to --out (benchmarks/results/serve.json) and are printed.

Goals (issue 33, 2 cores, default xgboost): p99 <= 50 ms at concurrency 8; throughput >= 80% of
in-process one-item-per-call throughput at every level; peak RSS at the end within 5% of peak RSS
after the first 100 requests; zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"  # the load generator targets this machine only
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "serve.json"
DEFAULT_PREDICTORS = ("xgboost", "ensemble")
ENSEMBLE_MEMBERS = '["bow-linear","xgboost"]'  # the README's example blend
GOAL_P99_MS, GOAL_THROUGHPUT_SHARE, GOAL_RSS_GROWTH = 50.0, 0.8, 0.05


# --- models ---


def train(name: str, folder: Path) -> Path:
    """`pricer train NAME --out FOLDER` on the bundled data (the ensemble with the README's two members)."""
    command = [sys.executable, "-m", "pricer_core", "train", name, "--out", str(folder)]
    if name == "ensemble":
        command += ["--set", f"members={ENSEMBLE_MEMBERS}"]
    print(f"training {name} ...", flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    return folder


def sample_items(count: int) -> list[Any]:
    """Real products: the bundle's test split, prices removed, repeated to `count`."""
    from pricer_core.testing import tiny_data

    test = tiny_data(test_size=250)[2]
    return [test[index % len(test)] for index in range(count)]


def request_body(item: Any) -> bytes:
    """The item in pricer's own fields, so the server prices exactly what the in-process run priced."""
    fields = {"title": item.title, "category": item.category, "full": item.full, "weight": item.weight, "source": item.source, "summary": item.summary}
    return json.dumps({key: value for key, value in fields.items() if value is not None}).encode()


def in_process(folder: Path, items: list[Any], calls: int) -> dict[str, Any]:
    """The floor a server is measured against: the same folder and items, no HTTP."""
    from pricer_core.storage.persistence import load_predictor

    predictor = load_predictor(folder)
    predictor.predict(items[:5])  # first-call set-up is not per-call cost
    latencies = []
    started = time.perf_counter()
    for item in items[:calls]:
        begun = time.perf_counter()
        predictor.predict([item])
        latencies.append(time.perf_counter() - begun)
    one_seconds = time.perf_counter() - started
    batch = items[:200]
    begun = time.perf_counter()
    prices = predictor.predict(batch)
    batch_seconds = time.perf_counter() - begun
    return {
        "one_item": {"calls": calls, **summary(latencies), "items_per_s": round(calls / one_seconds, 1)},
        "batch": {"items": len(batch), "ms": round(batch_seconds * 1000, 1), "items_per_s": round(len(batch) / batch_seconds, 1)},
        "prices": [round(float(price), 2) for price in prices],
    }


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


# --- the server ---


class ServerProcess:
    """`pricer serve FOLDER --port 0` on 127.0.0.1, its log in a file, killed on exit whatever happens."""

    def __init__(self, folder: Path, log: Path, quiet: bool):
        flags = ["--quiet"] if quiet else []
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pricer_core", "serve", str(folder), "--host", HOST, "--port", "0", *flags],
            stdout=subprocess.PIPE, stderr=log.open("wb"), text=True, cwd=ROOT, env={**os.environ, "PRICER_SERVE_TOKEN": ""},
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the server did not start: {line!r}; log: {log.read_text()[-1500:]}")
        self.port = int(match.group(1))

    def memory(self) -> dict[str, int]:
        """Resident memory now (VmRSS) and at its peak so far (VmHWM), in bytes."""
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields["rss" if key == "VmRSS" else "peak_rss"] = int(value.split()[0]) * 1024
        return fields

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


# --- the load generator ---


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """One request on a keep-alive connection: the status and the body."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
    body = await reader.readexactly(int(length.group(1))) if length else b""
    return status, body


def http_request(method: str, path: str, body: bytes = b"") -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def drive(port: int, bodies: list[bytes], concurrency: int, seconds: float) -> dict[str, Any]:
    """`concurrency` clients share the bodies, each sending its next as soon as its last is answered; stops at the time bound."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    prices: dict[int, float] = {}
    queue = iter(range(len(bodies)))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            for index in queue:
                if time.perf_counter() > deadline:
                    return
                begun = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(exchange(reader, writer, http_request("POST", "/predict", bodies[index])), 60)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as error:
                    errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
                    continue
                latencies.append(time.perf_counter() - begun)
                if status != 200:
                    errors[str(status)] = errors.get(str(status), 0) + 1
                else:
                    prices[index] = json.loads(body)["price"]
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency, "requests": len(latencies), "errors": sum(errors.values()), "error_kinds": errors,
        **summary(latencies or [0.0]), "items_per_s": round(len(latencies) / elapsed, 1), "seconds": round(elapsed, 2), "prices": prices,
    }


async def get_json(port: int, path: str) -> Any:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        status, body = await exchange(reader, writer, http_request("GET", path))
        return json.loads(body) if status == 200 else {"status": status}
    finally:
        writer.close()


# --- one model, start to end ---


def bench_model(folder: Path, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    from pricer_core.storage.persistence import read_meta

    meta = read_meta(folder)
    levels_total = args.requests * len(args.concurrency)
    items = sample_items(max(args.warmup, args.requests, 200))
    bodies = [request_body(item) for item in items]
    print(f"\n{meta['name']}: in-process, {args.in_process_calls} calls of one item and one call of 200 ...", flush=True)
    local = in_process(folder, items, args.in_process_calls)
    server = ServerProcess(folder, scratch / f"{meta['name']}.log", args.quiet_server)
    try:
        memory = {"start": server.memory()}
        warm = asyncio.run(drive(server.port, bodies[: args.warmup], 1, args.seconds))
        memory["after_warmup"] = server.memory()
        mismatch = max((abs(price - local["prices"][index]) for index, price in warm["prices"].items() if index < len(local["prices"])), default=0.0)
        levels = []
        for concurrency in args.concurrency:
            before = asyncio.run(get_json(server.port, "/model"))["serving"]["batching"]
            level = asyncio.run(drive(server.port, bodies[: args.requests], concurrency, args.seconds))
            after = asyncio.run(get_json(server.port, "/model"))["serving"]["batching"]
            calls = after["model_calls"] - before["model_calls"]
            level["requests_per_call"] = round((after["requests"] - before["requests"]) / calls, 2) if calls else None
            level["throughput_share"] = round(level["items_per_s"] / local["one_item"]["items_per_s"], 3)
            level.pop("prices")
            levels.append(level)
            print(f"  concurrency {concurrency:>2}: {level['requests']} requests, p50 {level['p50_ms']} ms, p99 {level['p99_ms']} ms, "
                  f"{level['items_per_s']} items/s ({level['throughput_share']:.0%} of in-process), {level['requests_per_call']} requests per model call, "
                  f"{level['errors']} errors", flush=True)
        memory["end"] = server.memory()
        exit_code = server.stop()
    finally:
        server.stop()
    local.pop("prices")
    requests_total = warm["requests"] + sum(level["requests"] for level in levels)
    errors = warm["errors"] + sum(level["errors"] for level in levels)
    growth = memory["end"]["peak_rss"] / memory["after_warmup"]["peak_rss"] - 1
    at_8 = next((level for level in levels if level["concurrency"] == 8), None)
    return {
        "model": {"name": meta["name"], "plugin": meta.get("plugin"), "version": meta.get("plugin_version"), "folder": str(folder)},
        "in_process": local,
        "server": {"levels": levels, "warmup_requests": warm["requests"], "requests_total": requests_total, "errors": errors,
                   "memory": memory, "peak_rss_growth": round(growth, 4), "exit_code_on_sigterm": exit_code,
                   "max_price_difference_vs_in_process": round(mismatch, 4)},
        "goals": {
            "p99_at_8_ms": {"value": at_8["p99_ms"] if at_8 else None, "goal": GOAL_P99_MS, "met": bool(at_8 and at_8["p99_ms"] <= GOAL_P99_MS)},
            "throughput_share_min": {"value": min(level["throughput_share"] for level in levels), "goal": GOAL_THROUGHPUT_SHARE,
                                     "met": min(level["throughput_share"] for level in levels) >= GOAL_THROUGHPUT_SHARE},
            "peak_rss_growth": {"value": round(growth, 4), "goal": GOAL_RSS_GROWTH, "met": growth <= GOAL_RSS_GROWTH and requests_total >= 10_000,
                                "requests": requests_total, "needs_requests": 10_000},
            "zero_errors": {"value": errors, "met": errors == 0},
        },
        "planned_requests": args.warmup + levels_total,
    }


def provenance(smoke: bool) -> dict[str, Any]:
    import platform

    from pricer_core.bench.provenance import git_commit, library_versions

    return {
        "schema": 1, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "git": git_commit(), "smoke": smoke,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "versions": library_versions(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, default=[], help="A folder saved by `pricer train` (repeatable); skips training.")
    parser.add_argument("--predictor", action="append", default=[], help=f"Train this predictor and serve it (repeatable). Default: {', '.join(DEFAULT_PREDICTORS)}.")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=4000, help="Requests per concurrency level, at most.")
    parser.add_argument("--warmup", type=int, default=100, help="Requests before the levels; memory is read after them.")
    parser.add_argument("--seconds", type=float, default=180.0, help="Seconds per level, at most.")
    parser.add_argument("--in-process-calls", type=int, default=300, help="One-item calls timed in-process.")
    parser.add_argument("--quiet-server", action="store_true", help="Serve with --quiet (no log line per request).")
    parser.add_argument("--smoke", action="store_true", help="Mark the results as a smoke run (not figures to quote).")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if any(count < 1 for count in [args.requests, args.warmup, args.in_process_calls, *args.concurrency]) or args.seconds <= 0:
        parser.error("--requests, --warmup, --in-process-calls, --concurrency and --seconds must be positive")

    results = provenance(args.smoke)
    results["settings"] = {key: value for key, value in vars(args).items() if key not in ("model", "predictor", "out", "smoke")}
    results["models"] = []
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as scratch_name:
        scratch = Path(scratch_name)
        folders = list(args.model) or [train(name, scratch / name) for name in (args.predictor or DEFAULT_PREDICTORS)]
        for folder in folders:
            results["models"].append(bench_model(folder, args, scratch))

    from pricer_core.storage.atomic import write_json_atomic

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out, results)
    print()
    for entry in results["models"]:
        local, served = entry["in_process"], entry["server"]
        print(f"{entry['model']['name']}: in-process one item p50 {local['one_item']['p50_ms']} ms, p99 {local['one_item']['p99_ms']} ms, "
              f"{local['one_item']['items_per_s']} items/s; 200 in one call {local['batch']['ms']} ms ({local['batch']['items_per_s']} items/s)")
        print(f"  served {served['requests_total']} requests, {served['errors']} errors; peak RSS "
              f"{served['memory']['after_warmup']['peak_rss'] / 2**20:.0f} MB after {served['warmup_requests']} → "
              f"{served['memory']['end']['peak_rss'] / 2**20:.0f} MB at the end ({served['peak_rss_growth']:+.1%}); exit {served['exit_code_on_sigterm']} on SIGTERM")
        print(f"  served prices differ from in-process ones by at most ${served['max_price_difference_vs_in_process']}")
        for goal, outcome in entry["goals"].items():
            short = f", after {outcome['requests']:,} of the {outcome['needs_requests']:,} requests it needs" if "needs_requests" in outcome else ""
            print(f"  goal {goal}: {outcome['value']} (goal {outcome.get('goal', 0)}{short}): {'met' if outcome['met'] else 'NOT met'}")
    print(f"\nwrote {args.out}{' (smoke run)' if args.smoke else ''}")


if __name__ == "__main__":
    main()
