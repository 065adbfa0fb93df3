"""Leave-one-source-out: does a predictor still win on a source it has never seen?

Each labelled source file of train + validation in turn is the test (its first `sample_size`
rows, in file order: a fixed sample), and every other source trains (train rows) and validates
(validation rows). The official test split is never used here, so choices made on this protocol
never touch it. Per source: MAE with its bootstrap 95% interval; per predictor: the mean over
sources; per pair of predictors: the paired bootstrap difference of MAE over all held-out items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pricer_core.bench.results import LosoPredictor, LosoResults, PairedDifference, PredictorResult, SourceScore
from pricer_core.bench.scoring import fallback_price, score_result
from pricer_core.data.splits import MIN_SOURCE_ROWS, Splits, source_folds
from pricer_core.evaluation.metrics import paired_difference


def folds(splits: Splits, sample_size: int, min_rows: int = MIN_SOURCE_ROWS) -> list[tuple[str, Splits]]:
    """(held-out source, splits without it and with its first rows as the test) for every big-enough source."""
    return source_folds(splits, sample_size, min_rows)


def loso_results(
    fold_list: list[tuple[str, Splits]],
    outcomes: dict[str, dict[str, dict[str, Any]]],
    names: list[str],
    sample_size: int,
    seed: int = 42,
    echo: Callable[[str], None] = print,
) -> LosoResults:
    """Score every predictor's raw result on every fold by the bench's one rule (an abstention at the
    fold's training median), then the mean per predictor and the paired differences over all items."""
    errors: dict[str, list[float]] = {name: [] for name in names}
    scores: dict[str, list[SourceScore]] = {name: [] for name in names}
    for source, fold in fold_list:
        fallback = fallback_price([item.price for item in fold.train if item.price is not None])
        for name in names:
            entry = PredictorResult(name=name)
            records = score_result(entry, outcomes[source][name], fold.test, fallback, seed)
            if records is None:
                echo(f"  {name} on {source}: failed ({entry.reason})")
                scores[name].append(SourceScore(source=source, n=len(fold.test), error=entry.reason))
                continue
            item_errors = [record["error"] for record in records]
            errors[name].extend(item_errors)
            mae, interval = entry.metrics.mae, entry.metrics.mae_ci95
            echo(f"  {name} on {source}: MAE ${mae:.2f} [{interval[0]:.2f}, {interval[1]:.2f}]")
            scores[name].append(SourceScore(source=source, n=len(fold.test), mae=mae, mae_ci95=interval, errors=item_errors))
    entries = []
    for name, per_source in scores.items():
        complete = all(score.mae is not None for score in per_source)
        mean = sum(score.mae for score in per_source) / len(per_source) if per_source and complete else None
        entries.append(LosoPredictor(name=name, mean_mae=mean, sources=per_source))
    total = sum(len(fold.test) for _, fold in fold_list)
    complete = [name for name in names if len(errors[name]) == total]
    pairs = [
        PairedDifference(a=first, b=second, **paired_difference(errors[first], errors[second], resamples=2000, seed=seed))
        for position, first in enumerate(complete)
        for second in complete[position + 1 :]
    ]
    return LosoResults(sample_size=sample_size, sources={source: len(fold.test) for source, fold in fold_list}, predictors=entries, paired=pairs)


def loso_lines(results: LosoResults | dict[str, Any]) -> list[str]:
    """The table: one row per predictor (best mean first), one numbered column per held-out source, then the key."""
    results = results if isinstance(results, LosoResults) else LosoResults.model_validate(results)
    sources = list(results.sources)
    header = f"{'predictor':<16} {'mean':>8} " + " ".join(f"{'#' + str(number):>8}" for number in range(1, len(sources) + 1))
    lines = ["leave-one-source-out MAE $ (each source held out in turn; official test untouched)", header, "-" * len(header)]
    ranked = sorted(results.predictors, key=lambda entry: (entry.mean_mae is None, entry.mean_mae or 0))
    for entry in ranked:
        cells = {score.source: score for score in entry.sources}
        row = " ".join(f"{cells[source].mae:>8.2f}" if cells[source].mae is not None else f"{'failed':>8}" for source in sources)
        mean = f"{entry.mean_mae:>8.2f}" if entry.mean_mae is not None else f"{'-':>8}"
        lines.append(f"{entry.name:<16} {mean} {row}")
    lines += [f"  #{number}: {source} ({results.sources[source]} items)" for number, source in enumerate(sources, start=1)]
    return lines
