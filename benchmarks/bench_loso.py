"""Leave-one-source-out on the bundle: per-source MAE, the mean, and paired differences.

    python benchmarks/bench_loso.py [-p linear -p bow-linear ...] [--size 200] [--jobs 2]
    python benchmarks/bench_loso.py -p xgboost --set xgboost.brand_prices=false --save before.json
    python benchmarks/bench_loso.py -p xgboost --against before.json

Each labelled training source is held out in turn (its first --size rows), every other source
trains; the official test is never used. Without -p, every predictor of the default bench set,
as `pricer-bench` runs them; the ensemble is then set against its best member per
held-out source, paired. Fits are cached by content like the bench's, so a second
run only scores. Prints the table (`pricer-bench --loso` prints the same beside the leaderboard)
and, for every pair, MAE(a) − MAE(b) over all held-out items with its paired 95% interval.
`--save` keeps every item's error (official and held-out); `--against` pairs this run with a saved
one, predictor by predictor, so a change of settings is judged before/after on the same items.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path



def main() -> None:
    from pricer_core.bench.loso import loso_lines
    from pricer_core.bench.runner import run_bench
    from pricer_core.errors import one_line

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--predictor", dest="predictors", action="append", help="default: the default bench set")
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1, help="predictors fitted at once, each in its own process")
    parser.add_argument("--set", dest="settings", action="append", default=[], help="NAME.KEY=VALUE, as pricer-bench")
    parser.add_argument("--save", type=Path, help="write every item's error of this run to this JSON file")
    parser.add_argument("--against", type=Path, help="a file written by --save: print this run − that run, paired")
    args = parser.parse_args()
    saved = read_saved(args.against, parser) if args.against else None  # a bad file fails before the long run
    options = settings_or_exit(args.settings, parser)
    with tempfile.TemporaryDirectory() as out:
        try:
            results = run_bench(
                predictors=args.predictors, size=args.size, out=f"{out}/bench", echo=lambda line: print(line, file=sys.stderr, flush=True),
                loso=True, options=options, progress=False, jobs=args.jobs,
            )
        except ValueError as error:  # an unknown predictor or setting: refused before any fit
            parser.error(one_line(error))
        official_errors = item_errors(Path(out) / "bench" / "predictions.jsonl")
    official = {entry["name"]: entry["metrics"]["mae"] for entry in results["predictors"] if entry["status"] == "ok"}
    print("official test[:%d] MAE $: " % args.size + ", ".join(f"{name} {mae:.2f}" for name, mae in sorted(official.items(), key=lambda pair: pair[1])))
    loso = results["leave_one_source_out"]
    for line in loso_lines(loso):
        print(line)
    print("paired MAE(a) − MAE(b) over all held-out items, 95% interval:")
    for pair in loso["paired"]:
        print(f"  {pair['a']:>16} − {pair['b']:<16} {pair_text(pair)}")
    for line in best_member_lines(loso):
        print(line)
    errors = {"official": official_errors, "loso": held_out_errors(loso)}
    if args.save:
        provenance = {key: results.get(key) for key in ("created", "git", "versions", "lock")}
        args.save.write_text(json.dumps({"settings": args.settings, "sources": loso["sources"], "provenance": provenance, **errors}))
        print(f"wrote {args.save}")
    if saved is not None:
        for line in against_lines(errors, saved):
            print(line)


def settings_or_exit(settings: list[str], parser: argparse.ArgumentParser) -> dict:
    """--set NAME.KEY=VALUE parsed as pricer-bench does; a malformed one is the parser's one-line error."""
    import click

    from pricer_core.cli.commands import parse_settings

    try:
        return parse_settings(tuple(settings))
    except click.UsageError as error:
        parser.error(error.format_message())


def read_saved(path: Path, parser: argparse.ArgumentParser) -> dict:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if not all(isinstance(saved.get(protocol), dict) for protocol in ("official", "loso")):
            raise ValueError("not a file written by --save (no 'official' and 'loso' errors)")
    except (OSError, ValueError, AttributeError) as error:
        parser.error(f"--against {path}: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
    return saved


def item_errors(predictions: Path) -> dict[str, list[float]]:
    """Per predictor, its errors on the official test sample in file order (None where it gave no price)."""
    errors: dict[str, list[float]] = {}
    for line in predictions.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        errors.setdefault(record["predictor"], []).append(record.get("error"))
    return errors


def held_out_errors(loso: dict) -> dict[str, list[float]]:
    """Per predictor, its errors over every held-out item, sources in order; only predictors that priced them all."""
    return {
        entry["name"]: [error for score in entry["sources"] for error in score["errors"]]
        for entry in loso["predictors"]
        if all(score["errors"] is not None for score in entry["sources"])
    }


def against_lines(now: dict, before: dict) -> list[str]:
    """This run − the saved run, per predictor in both, on the official sample and over all held-out items."""
    from pricer_core.evaluation.metrics import paired_difference

    lines = [f"this run − the saved run ({' '.join(before.get('settings', [])) or 'its own settings'}), paired 95% interval:"]
    for protocol in ("official", "loso"):
        for name, errors in now[protocol].items():
            earlier = before[protocol].get(name)
            if earlier is None:
                continue
            if len(earlier) != len(errors) or None in errors or None in earlier:  # said, not skipped silently
                lines.append(f"  {protocol:<8} {name:<16} not paired: {len(errors)} items here, {len(earlier)} in the saved run, or a missing price")
                continue
            lines.append(f"  {protocol:<8} {name:<16} {pair_text(paired_difference(errors, earlier, resamples=2000, seed=42))}")
    return lines


def pair_text(pair: dict) -> str:
    """A paired difference as printed: the difference, its 95% interval, and * when it excludes 0."""
    low, high = pair["ci95"]
    return f"{pair['difference']:+8.2f} [{low:+.2f}, {high:+.2f}]{'  *' if pair['significant'] else ''}"


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
        low, high = (round(bound, 2) for bound in pair["ci95"])  # a blend that is its member differs by rounding only
        verdict = "worse" if low > 0 else "better" if high < 0 else "no different"
        lines.append(f"  {source:<58} vs {best:<14} {pair['difference']:+7.2f} [{low:+.2f}, {high:+.2f}] {verdict}")
    return lines


if __name__ == "__main__":
    main()
