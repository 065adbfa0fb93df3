"""Cleaning throughput and peak memory: ours (1 process, all cores) against a per-row loop.

    python benchmarks/bench_curate.py [--rows 100000]

The input is the two raw sample files in ../shared/data repeated to --rows lines. The baseline is
the straightforward single-process implementation of the same rules: read a line, json.loads,
clean it into an Item, append to a list. Each variant runs in its own process (its own peak RSS).
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

SAMPLES = [
    "amazon2023_raw_meta_Health_and_Personal_Care_sample_1714.jsonl.gz",
    "amazon2023_raw_meta_Health_and_Personal_Care_sample_1001_older.jsonl.gz",
]


def make_input(data_dir: Path, rows: int, target: Path) -> None:
    lines = []
    for name in SAMPLES:
        with gzip.open(data_dir / name, "rt") as handle:
            lines.extend(line for line in handle if line.strip())
    with gzip.open(target, "wt", compresslevel=1) as handle:
        for index in range(rows):
            handle.write(lines[index % len(lines)].rstrip("\n") + "\n")


def baseline(path: str) -> tuple[int, Counter]:
    from pricer_core.cleaning import DroppedRow, clean_raw_row

    items, dropped = [], Counter()
    with gzip.open(path, "rt") as handle:
        for number, line in enumerate(handle):
            try:
                items.append(clean_raw_row(json.loads(line), "bench", number))
            except DroppedRow as error:
                dropped[error.reason] += 1
    return len(items), dropped


def ours(path: str, workers: int, cache: str) -> tuple[int, Counter]:
    from pricer_core.curate import clean_files

    dataset, report = clean_files([path], workers=workers, cache_dir=cache)
    return len(dataset), report.dropped


def worker(variant: str, path: str, workers: int) -> dict:
    import datasets

    datasets.disable_progress_bars()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        kept, dropped = baseline(path) if variant == "baseline" else ours(path, workers, cache)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "kept": kept, "dropped": dict(dropped), "peak_mb": peak, "child_peak_mb": children}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], int(args.worker[2]))))
        return
    from pricer_core.curate import default_workers

    cores = default_workers()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "raw.jsonl.gz"
        make_input(args.data, args.rows, path)
        print(f"{args.rows} raw rows ({path.stat().st_size / 2**20:.0f} MB gzip), {cores} cores")
        results = {}
        for variant, workers in (("baseline", 1), ("ours-1-process", 1), (f"ours-{cores}-processes", cores)):
            output = subprocess.run([sys.executable, __file__, "--worker", variant, str(path), str(workers)], capture_output=True, text=True, check=True)
            result = json.loads(output.stdout.strip().splitlines()[-1])
            results[variant] = result
            rate = args.rows / result["seconds"]
            print(
                f"{variant:<20} {rate:>9.0f} rows/s  {result['seconds']:6.1f} s  kept {result['kept']}  "
                f"peak RSS {result['peak_mb']:.0f} MB (largest worker {result['child_peak_mb']:.0f} MB)",
                flush=True,
            )
        kept = {result["kept"] for result in results.values()}
        assert len(kept) == 1, f"variants disagree on kept rows: {kept}"
        base = args.rows / results["baseline"]["seconds"]
        best = max(args.rows / result["seconds"] for result in results.values())
        print(f"speed-up over the per-row baseline: {best / base:.1f}x; 820k rows at the best rate: {820_000 / best / 60:.1f} min")


if __name__ == "__main__":
    main()
