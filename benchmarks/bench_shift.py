"""Accuracy where the test comes from: cross-validated MAE on the rows of the test's own file.

    python benchmarks/bench_shift.py [--folds 5] [-p bow-linear -p bow-stack]

The bundled test is the first 250 rows of the course's official file; train + validation hold
~1,750 other rows of that file among ~13k cheaper ones. Each fold holds out a fifth of those
official rows and fits on everything else, so every official row is priced once by a model that
never saw it: ~1,750 scored items instead of the test's 200, and the test itself is never touched.
Prints each predictor's MAE by price band (where the dollars are lost) and the paired difference.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pricer_core.evaluation.metrics import paired_difference
from pricer_core.plugins.registry import collect
from pricer_core.data.loading import load_bundle

OFFICIAL = "llm_engineering_official_test_2000"
BANDS = [(0, 50), (50, 100), (100, 200), (200, 400), (400, 1000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("-p", "--predictor", dest="predictors", action="append", help="registered predictor (repeatable)")
    args = parser.parse_args()
    names = args.predictors or ["bow-linear", "bow-stack"]
    splits = load_bundle()
    rows = splits.train + splits.validation
    official = np.nonzero([item.source == OFFICIAL for item in rows])[0]
    fold_of = np.random.default_rng(0).permutation(len(official)) % args.folds
    truth = np.array([rows[index].price for index in official])
    registry = collect().predictors
    errors = {}
    print(f"{len(official)} official rows in {args.folds} folds; {len(rows) - len(official)} other rows always in training")
    for name in names:
        predicted = np.zeros(len(official))
        started = time.perf_counter()
        for fold in range(args.folds):
            held = set(official[fold_of == fold].tolist())
            learn = [item for index, item in enumerate(rows) if index not in held]
            scored = [rows[index].model_copy(update={"price": None}) for index in official[fold_of == fold]]
            predictor = registry[name].create().fit(learn, [])
            predicted[fold_of == fold] = predictor.predict(scored)
        errors[name] = predicted - truth
        bands = "  ".join(
            f"${low}-{high}: {np.abs(errors[name][(truth >= low) & (truth < high)]).mean():6.1f}" for low, high in BANDS
        )
        print(f"{name:<12} MAE {np.abs(errors[name]).mean():7.2f}  ({time.perf_counter() - started:.0f} s)  by true price: {bands}", flush=True)
    for first, second in zip(names, names[1:]):
        gap = paired_difference(errors[second].tolist(), errors[first].tolist())  # it compares absolute errors
        print(f"{second} − {first}: {gap['difference']:+.2f} 95% CI [{gap['ci95'][0]:.2f}, {gap['ci95'][1]:.2f}]{' (significant)' if gap['significant'] else ''}")


if __name__ == "__main__":
    main()
