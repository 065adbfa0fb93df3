"""The peer a user would try first, beside pricer: AutoGluon's TabularPredictor on the same splits.

    python benchmarks/bench_peers.py --peer-python /path/to/autogluon-venv/bin/python \\
        [--official-limit 1200] [--fold-limit 180] [-p xgboost -p ensemble ...] [--set xgboost.preset=best]

AutoGluon is never installed into the product: it runs in its own environment
(`python -m venv ag && ag/bin/pip install "autogluon.tabular[lightgbm,catboost]"`), one process per
fold, on exactly the items pricer's bench uses: the official test[:size] trained on the bundle's
train + validation, and every leave-one-source-out fold (its first --size rows held out, the other
sources train). Columns: title, category, the item's text, weight, source; metric mean absolute
error; presets medium_quality; forests and kNN excluded (the forest alone overran 20 minutes on 2
cores); 2 CPUs. pricer's predictors run through `run_bench(loso=True)`, cached by content.
Prints MAE with bootstrap intervals on both protocols, and paired differences against AutoGluon.
AutoGluon's predictions are kept per fold under $PRICER_CACHE/peers, keyed by the fold's files, the
time limit, the fold script and AutoGluon's version: a rerun after a change on pricer's side fits only pricer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FOLD_SCRIPT = Path(__file__).parent / "peers" / "autogluon_fold.py"
DEFAULT = ["bow-linear", "xgboost", "ensemble"]


def write_fold(directory: Path, splits) -> None:
    """The three splits as the peer reads them; the test rows go without their price."""
    directory.mkdir(parents=True)
    for split in ("train", "validation", "test"):
        with open(directory / f"{split}.jsonl", "w") as handle:
            for item in getattr(splits, split):
                row = {"title": item.title, "category": item.category, "text": item.document(), "weight": item.weight, "source": item.source or ""}
                if split != "test":
                    row["price"] = item.price
                handle.write(json.dumps(row) + "\n")


def peer_version(python: str) -> str:
    """The peer's AutoGluon version, part of every cache key: an upgrade must not serve the old release's prices."""
    probe = "import autogluon.tabular as tabular; print(tabular.__version__)"
    answer = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    if answer.returncode != 0:
        last = (answer.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"error: --peer-python {python} cannot import autogluon.tabular ({last})")
    return answer.stdout.strip()


def run_peer(python: str, version: str, directory: Path, time_limit: int) -> tuple[list[float], float, bool]:
    """The peer's predictions for one fold, and its seconds; kept by content, so a rerun is free.

    The key is the fold's files, the time limit, the fold script and the AutoGluon version: a change
    to any of them fits again. A run killed half-way keeps the folds it finished.
    """
    from pricer_core.settings import cache_root
    from pricer_core.storage.atomic import atomic_file

    # The peer fits on train + validation concatenated, so where one ends and the next begins does
    # not change what it sees; the test rows carry no price, so they never pass for validation rows.
    digest = hashlib.sha256(FOLD_SCRIPT.read_bytes() + str(time_limit).encode() + f"autogluon {version}".encode())
    for split in ("train", "validation", "test"):
        digest.update((directory / f"{split}.jsonl").read_bytes())
    rows = sum(1 for _ in open(directory / "test.jsonl"))
    kept = cache_root() / "peers" / f"{digest.hexdigest()[:24]}.json"
    if kept.is_file():
        record = json.loads(kept.read_text())
        if len(record["predictions"]) == rows:
            return record["predictions"], record["seconds"], True
    started = time.perf_counter()
    subprocess.run([python, str(FOLD_SCRIPT), str(directory), str(time_limit)], check=True)
    seconds = time.perf_counter() - started
    predictions = json.loads((directory / "predictions.json").read_text())
    if len(predictions) != rows:
        raise RuntimeError(f"the peer returned {len(predictions)} prices for {rows} test rows ({directory})")
    kept.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(kept) as handle:
        handle.write(json.dumps({"predictions": predictions, "seconds": seconds}).encode())
    return predictions, seconds, False


def main() -> None:
    import numpy as np

    from pricer_core.bench.loso import folds
    from pricer_core.bench.runner import run_bench
    from pricer_core.data.splits import Splits
    from pricer_core.data.loading import load_bundle
    from pricer_core.errors import one_line
    from pricer_core.evaluation.metrics import bootstrap_mean_ci

    from bench_loso import settings_or_exit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", required=True, help="the Python of an environment with autogluon.tabular")
    parser.add_argument("--official-limit", type=int, default=1200, help="AutoGluon's time limit on the official split, seconds")
    parser.add_argument("--fold-limit", type=int, default=180, help="its time limit per leave-one-source-out fold, seconds")
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("-p", "--predictor", dest="predictors", action="append", help=f"pricer's side; default: {' '.join(DEFAULT)}")
    parser.add_argument("--set", dest="settings", action="append", default=[], help="NAME.KEY=VALUE for pricer's side, as pricer-bench")
    args = parser.parse_args()
    options = settings_or_exit(args.settings, parser)  # a wrong --set fails before the peer's hour, not after

    version = peer_version(args.peer_python)  # before an hour of pricer's fits, not after
    bundle = load_bundle()
    official = Splits("official", bundle.train, bundle.validation, bundle.test[: args.size])
    fold_list = [("official", official)] + folds(bundle, args.size)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            results = run_bench(predictors=args.predictors or DEFAULT, size=args.size, out=f"{scratch}/bench", echo=lambda _: None, loso=True, options=options, progress=False)
        except ValueError as error:  # an unknown predictor or setting: refused before any fit
            parser.error(one_line(error))
        official_errors = _official_errors(Path(scratch) / "bench")
        peer_errors: dict[str, np.ndarray] = {}
        for number, (source, fold) in enumerate(fold_list):
            limit = args.official_limit if source == "official" else args.fold_limit
            write_fold(Path(scratch) / f"fold{number}", fold)
            prices, seconds, kept = run_peer(args.peer_python, version, Path(scratch) / f"fold{number}", limit)
            truth = np.asarray([item.price for item in fold.test])
            peer_errors[source] = np.abs(np.asarray(prices) - truth)
            print(f"autogluon on {source}: MAE ${peer_errors[source].mean():.2f} ({seconds:.0f} s, limit {limit} s{', kept from an earlier run' if kept else ''})", flush=True)

    ours_official = {entry["name"]: entry for entry in results["predictors"] if entry["status"] == "ok"}
    print(f"\nofficial test[:{args.size}] MAE $ [95% bootstrap interval]")
    low, high = bootstrap_mean_ci(peer_errors["official"])
    print(f"  {'autogluon':<16} {peer_errors['official'].mean():8.2f} [{low:.2f}, {high:.2f}]")
    for name, entry in sorted(ours_official.items(), key=lambda pair: pair[1]["metrics"]["mae"]):
        low, high = entry["metrics"]["mae_ci95"]
        print(f"  {name:<16} {entry['metrics']['mae']:8.2f} [{low:.2f}, {high:.2f}]" + _versus(official_errors.get(name), peer_errors["official"]))

    loso = results["leave_one_source_out"]
    sources = list(loso["sources"])
    print("\nleave-one-source-out MAE $ (mean over held-out sources, then each source)")
    print(f"  {'autogluon':<16} {np.mean([peer_errors[source].mean() for source in sources]):8.2f}  " + " ".join(f"{peer_errors[source].mean():7.2f}" for source in sources))
    all_peer = np.concatenate([peer_errors[source] for source in sources])
    for entry in sorted(loso["predictors"], key=lambda entry: entry["mean_mae"] if entry["mean_mae"] is not None else float("inf")):
        cells = " ".join(f"{score['mae']:7.2f}" if score["mae"] is not None else f"{'failed':>7}" for score in entry["sources"])
        mean = f"{entry['mean_mae']:8.2f}" if entry["mean_mae"] is not None else f"{'-':>8}"
        print(f"  {entry['name']:<16} {mean}  {cells}")
    for number, source in enumerate(sources, start=1):
        print(f"  #{number}: {source}")
    low, high = bootstrap_mean_ci(all_peer)
    print(f"\nover all {len(all_peer)} held-out items, MAE $ [95%] and paired difference against autogluon:")
    print(f"  {'autogluon':<16} {all_peer.mean():8.2f} [{low:.2f}, {high:.2f}]")
    for entry in loso["predictors"]:
        if any(score["errors"] is None for score in entry["sources"]):
            continue
        ours = np.abs(np.concatenate([score["errors"] for score in entry["sources"]]))
        low, high = bootstrap_mean_ci(ours)
        print(f"  {entry['name']:<16} {ours.mean():8.2f} [{low:.2f}, {high:.2f}]" + _versus(list(ours), all_peer))
    sys.stdout.flush()


def _official_errors(folder: Path) -> dict[str, list[float]]:
    """Each predictor's errors on the official sample, in sample order, from the bench's predictions.jsonl."""
    errors: dict[str, list[float | None]] = {}
    for line in (folder / "predictions.jsonl").read_text().splitlines():
        record = json.loads(line)
        errors.setdefault(record["predictor"], []).append(record.get("error"))
    return {name: values for name, values in errors.items() if all(value is not None for value in values)}


def _versus(ours, peer) -> str:
    """"  ours − autogluon +d [low, high]" over the same items, or nothing when ours has gaps."""
    from pricer_core.evaluation.metrics import paired_difference

    if ours is None or len(ours) != len(peer):
        return ""
    difference = paired_difference(ours, list(peer), resamples=2000, seed=42)
    low, high = difference["ci95"]
    return f"   − autogluon {difference['difference']:+7.2f} [{low:+.2f}, {high:+.2f}]{'  *' if difference['significant'] else ''}"


if __name__ == "__main__":
    main()
