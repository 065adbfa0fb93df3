"""Leave-one-source-out on the bundle: per-source MAE, the mean, and paired differences.

    python benchmarks/bench_loso.py [-p linear -p bow-linear ...] [--size 200]

Each labelled training source is held out in turn (its first --size rows), every other source
trains; the official test is never used. Fits are cached by content like the bench's, so a second
run only scores. Prints the table (`pricer-bench --loso` prints the same beside the leaderboard)
and, for every pair, MAE(a) − MAE(b) over all held-out items with its paired 95% interval.
"""

from __future__ import annotations

import argparse
import tempfile

DEFAULT = ["constant-median", "linear", "bow-linear", "xgboost", "ensemble"]


def main() -> None:
    from pricer_core.bench.loso import loso_lines
    from pricer_core.bench.runner import run_bench

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--predictor", dest="predictors", action="append", help=f"default: {' '.join(DEFAULT)}")
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--set", dest="settings", action="append", default=[], help="NAME.KEY=VALUE, as pricer-bench")
    args = parser.parse_args()
    from pricer_core.cli.commands import parse_settings

    with tempfile.TemporaryDirectory() as out:
        results = run_bench(
            predictors=args.predictors or DEFAULT, size=args.size, out=f"{out}/bench", echo=lambda _: None,
            loso=True, options=parse_settings(tuple(args.settings)), progress=False,
        )
    official = {entry["name"]: entry["metrics"]["mae"] for entry in results["predictors"] if entry["status"] == "ok"}
    print("official test[:%d] MAE $: " % args.size + ", ".join(f"{name} {mae:.2f}" for name, mae in sorted(official.items(), key=lambda pair: pair[1])))
    loso = results["leave_one_source_out"]
    for line in loso_lines(loso):
        print(line)
    print("paired MAE(a) − MAE(b) over all held-out items, 95% interval:")
    for pair in loso["paired"]:
        low, high = pair["ci95"]
        print(f"  {pair['a']:>16} − {pair['b']:<16} {pair['difference']:+8.2f} [{low:+.2f}, {high:+.2f}]{'  *' if pair['significant'] else ''}")
    for line in best_member_lines(loso):
        print(line)


def best_member_lines(loso: dict) -> list[str]:
    """Per held-out source: the ensemble against the best other predictor there, paired (* = interval excludes 0)."""
    from pricer_core.evaluation.metrics import paired_difference

    entries = {entry["name"]: {score["source"]: score for score in entry["sources"]} for entry in loso["predictors"]}
    if "ensemble" not in entries:
        return []
    lines = ["ensemble − the best other predictor on each held-out source, paired 95% interval:"]
    for source in loso["sources"]:
        ours = entries["ensemble"][source]
        rivals = [(cells[source]["mae"], name) for name, cells in entries.items() if name != "ensemble" and cells[source]["errors"] is not None]
        if ours["errors"] is None or not rivals:
            continue
        _, best = min(rivals)
        pair = paired_difference(ours["errors"], entries[best][source]["errors"], resamples=2000, seed=42)
        low, high = pair["ci95"]
        verdict = "worse" if low > 0 else "better" if high < 0 else "no different"
        lines.append(f"  {source:<58} vs {best:<14} {pair['difference']:+7.2f} [{low:+.2f}, {high:+.2f}] {verdict}")
    return lines


if __name__ == "__main__":
    main()
