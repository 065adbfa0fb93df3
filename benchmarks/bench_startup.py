"""Start-up time of `pricer-bench --help` and `import pricer_core` (median of several cold runs).

    python benchmarks/bench_startup.py [--runs 7]

Goal: both under 0.3 s. Each run is a fresh interpreter, as a user typing the command would get.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def median_seconds(command: list[str], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    script = shutil.which("pricer-bench") or str(__import__("pathlib").Path(sys.executable).with_name("pricer-bench"))
    cases = {
        "python -c pass (interpreter floor)": [sys.executable, "-c", "pass"],
        "import pricer_core": [sys.executable, "-c", "import pricer_core, pricer_core.item"],
        "pricer-bench --help": [script, "--help"],
        "pricer plugins --json (loads every plugin)": [script.replace("pricer-bench", "pricer"), "plugins", "--json"],
    }
    for name, command in cases.items():
        seconds = median_seconds(command, args.runs)
        print(f"{name:<45} {seconds * 1000:7.0f} ms (median of {args.runs})")


if __name__ == "__main__":
    main()
