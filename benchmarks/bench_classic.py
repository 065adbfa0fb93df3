"""Classic predictors: the seed's presets beside our defaults, trained on the same bundled data.

    python benchmarks/bench_classic.py [--size 200]
    python benchmarks/bench_classic.py --fold-threads [--repeats 2]

Prints MAE with its bootstrap 95% interval on the bundled test[:size], fit seconds and predict
items/s, and the paired bootstrap of (our best − seed XGBoost) on the same items.
`--fold-threads` instead fits bow-stack with its cross-fitting in one thread and in two,
alternately (this machine's speed drifts), and says whether the prices are the same.
"""

from __future__ import annotations

import argparse
import time

from pricer_classic.predictors import BagOfWordsLinear, LinearPredictor, RandomForestPredictor, XGBoostPredictor
from pricer_classic.stacking import StackedBagOfWords
from pricer_core.evaluation.evaluator import evaluate
from pricer_core.evaluation.metrics import paired_difference
from pricer_core.data.loading import load_bundle

CANDIDATES = [
    ("linear", "course", LinearPredictor),
    ("bow-linear", "course", BagOfWordsLinear),
    ("random-forest", "course", RandomForestPredictor),
    ("xgboost", "course", XGBoostPredictor),
    ("linear", "default", LinearPredictor),
    ("bow-linear", "default", BagOfWordsLinear),
    ("random-forest", "default", RandomForestPredictor),
    ("xgboost", "default", XGBoostPredictor),
    ("bow-stack", "default", StackedBagOfWords),
]


def fold_threads(repeats: int, train: list, sample: list) -> None:
    """bow-stack's fit with n_jobs=1 and 2 in turn: the seconds, and whether every price is the same."""
    reference = None
    for _ in range(repeats):
        for jobs in (1, 2):
            started = time.perf_counter()
            predictor = StackedBagOfWords(n_jobs=jobs).fit(train, [])
            seconds = time.perf_counter() - started
            prices = predictor.predict(sample)
            reference = prices if reference is None else reference
            print(f"bow-stack n_jobs={jobs}: fit {seconds:.1f} s, prices identical to the first fit: {prices == reference}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--fold-threads", action="store_true", help="time bow-stack's cross-fitting in one thread against two")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    splits = load_bundle()
    sample = splits.test[: args.size]
    if args.fold_threads:
        fold_threads(args.repeats, splits.train, sample)
        return
    print(f"train {len(splits.train)} rows, test sample {len(sample)} items")
    print(f"{'predictor':<15} {'preset':<8} {'MAE $':>7} {'95% CI':>16} {'fit s':>7} {'predict items/s':>16}")
    errors = {}
    for name, preset, cls in CANDIDATES:
        started = time.perf_counter()
        predictor = cls(preset=preset).fit(splits.train, splits.validation)
        fit_seconds = time.perf_counter() - started
        evaluation = evaluate(predictor, sample)
        metrics = evaluation.metrics
        low, high = metrics["mae_ci95"]
        rate = len(sample) / max(evaluation.predict_seconds, 1e-9)
        print(f"{name:<15} {preset:<8} {metrics['mae']:>7.2f} {f'[{low:.1f}, {high:.1f}]':>16} {fit_seconds:>7.1f} {rate:>16.0f}", flush=True)
        errors[(name, preset)] = ([r["error"] for r in evaluation.records], metrics["mae"])
    best = min((key for key in errors if key[1] == "default"), key=lambda key: errors[key][1])
    seed_xgb = errors[("xgboost", "course")]
    gap = paired_difference(errors[best][0], seed_xgb[0])
    print(
        f"\nbest default {best[0]}: {errors[best][1]:.2f} vs seed xgboost {seed_xgb[1]:.2f} "
        f"({(1 - errors[best][1] / seed_xgb[1]) * 100:.1f}% lower); paired difference {gap['difference']:.2f} "
        f"95% CI [{gap['ci95'][0]:.1f}, {gap['ci95'][1]:.1f}]{' (significant)' if gap['significant'] else ''}"
    )


if __name__ == "__main__":
    main()
