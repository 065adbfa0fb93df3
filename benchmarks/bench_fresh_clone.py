"""What a newcomer meets: clone, `make install`, `make bench`, timed, and the leaderboard checked.

    python benchmarks/bench_fresh_clone.py [--clones 2] [--save benchmarks/results/fresh_clone.json]

Each clone is a `git clone` of this checkout's HEAD into a new folder with its own venv and an empty
fit cache (`PRICER_CACHE`), so nothing fitted before is reused; pip's download cache is the
machine's own (say so when quoting). The leaderboard of `make bench` is compared, predictor by
predictor, with the committed `benchmarks/results/bench_default.json`: same status, and the same
MAE to the cent. Prints one line per clone and writes them to --save.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "benchmarks" / "results" / "bench_default.json"


def leaderboard_differences(run: dict, committed: dict) -> list[str]:
    """Predictors whose status or cent-rounded MAE differ between two results.json files, named."""
    def board(results: dict) -> dict[str, str]:
        return {p["name"]: (f"{p['metrics']['mae']:.2f}" if p["status"] == "ok" else p["status"]) for p in results["predictors"]}

    ours, theirs = board(run), board(committed)
    return [f"{name} {ours.get(name, 'absent')} (committed {theirs.get(name, 'absent')})" for name in sorted(set(ours) | set(theirs)) if ours.get(name) != theirs.get(name)]


def timed(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    start = time.monotonic()
    with log.open("w") as output:
        finished = subprocess.run(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    if finished.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed in {cwd} (exit {finished.returncode}); see {log}")
    return time.monotonic() - start


def one_clone(workdir: Path) -> dict:
    clone, cache = workdir / "pricer", workdir / "fit-cache"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True, check=True).stdout.strip()
    env = {**os.environ, "PRICER_CACHE": str(cache)}
    env.pop("VIRTUAL_ENV", None)
    install = timed(["make", "install"], clone, env, workdir / "install.log")
    bench = timed(["make", "bench"], clone, env, workdir / "bench.log")
    results = json.loads((clone / "bench-out" / "results.json").read_text())
    committed = json.loads(COMMITTED.read_text())
    return {
        "date": date.today().isoformat(), "git": head, "install_seconds": round(install, 1), "bench_seconds": round(bench, 1),
        "lock": results.get("lock"), "differences": leaderboard_differences(results, committed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clones", type=int, default=2)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the clones (their logs and bench-out) under /tmp")
    args = parser.parse_args()
    runs = []
    for number in range(1, args.clones + 1):
        workdir = Path(tempfile.mkdtemp(prefix="pricer-fresh-"))
        run = one_clone(workdir)
        runs.append(run)
        verdict = "leaderboard equal to the committed one to the cent" if not run["differences"] else "differs: " + "; ".join(run["differences"])
        print(f"clone {number}: make install {run['install_seconds']:.0f} s, make bench {run['bench_seconds']:.0f} s; {verdict}", flush=True)
        if not args.keep:
            subprocess.run(["rm", "-rf", str(workdir)], check=False)
    if args.save:
        args.save.write_text(json.dumps({"runs": runs}, indent=1) + "\n")
        print(f"wrote {args.save}")


if __name__ == "__main__":
    main()
