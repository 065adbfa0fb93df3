"""Fit every selected predictor once, judge all on the same test sample, write the results.

`run_bench()` is the Python API behind `pricer-bench`; it returns the results.json content.
"""

from __future__ import annotations

import json
import platform
import subprocess
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from pricer_core.storage.atomic import check_output, output_folder, write_json_atomic
from pricer_core.errors import one_line
from pricer_core.bench.fit_cache import fit_or_load
from pricer_core.evaluation.evaluator import DEFAULT_WORKERS, evaluate
from pricer_core.plugins.registry import PluginSet, Registration, collect
from pricer_core.item import Item
from pricer_core.contract.predictor import Predictor, check_settings, learned_from_validation
from pricer_core.data.readers import DataError, read_items
from pricer_core.bench.results import BenchResults, DatasetInfo, Metrics, PairedDifference, PredictorResult
from pricer_core.settings import cache_root, debug
from pricer_core.data.splits import Splits, ids_sha256, load_splits

DEFAULT_SIZE = 200
DEFAULT_OUT = Path("bench-out")


def quantiles(prices: list[float]) -> dict[str, float]:
    import numpy as np

    values = np.asarray(prices, dtype=float)
    return {
        "mean": round(float(values.mean()), 2),
        **{f"p{q}": round(float(np.percentile(values, q)), 2) for q in (10, 25, 50, 75, 90)},
    }


def _git_commit() -> str | None:
    try:
        output = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return output.stdout.strip() or None


def _versions(plugin_set: PluginSet) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for record in plugin_set.plugins:
        if record.distribution and record.version:
            versions[record.distribution] = record.version
    for library in ("numpy", "pydantic", "pluggy"):
        try:
            versions[library] = metadata.version(library)
        except metadata.PackageNotFoundError:
            pass
    return versions


def create_predictors(
    plugin_set: PluginSet, names: list[str], options: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Build every selected predictor before anything is fitted: a bad --set fails the run at once."""
    stray = sorted(set(options) - set(names))
    if stray:
        known = "unknown predictor" if any(name not in plugin_set.predictors for name in stray) else "predictor not selected"
        raise ValueError(f"--set names {', '.join(stray)}: {known} (selected: {', '.join(names)})")
    created = {}
    for name in names:
        try:
            created[name] = plugin_set.predictors[name].create(**options.get(name, {}))
        except (TypeError, ValueError) as error:
            raise ValueError(f"--set: {one_line(error)}") from None
    return created


@dataclass
class BenchPlan:
    """What a run will do, settled before anything is fitted: a bad flag fails here, at once."""

    splits: Splits
    sample: list[Item]
    plugin_set: PluginSet
    entries: list[PredictorResult]
    predictors: dict[str, Predictor]

    @property
    def train_prices(self) -> list[float]:
        return [item.price for item in self.splits.train if item.price is not None]

    @property
    def sample_prices(self) -> list[float]:
        return [item.price for item in self.sample]


def plan_bench(
    data: str | Path | None,
    test: str | Path | None,
    size: int,
    predictors: list[str] | None,
    options: dict[str, dict[str, Any]],
    echo: Callable[[str], None],
) -> BenchPlan:
    """Load the data, pick the sample, resolve predictor names, skip what cannot run, build the rest."""
    splits = load_splits(data)
    test_items = splits.test
    if test is not None:
        test_items, report = read_items(test)
        echo(report.summary())
    if size > len(test_items):
        echo(f"warning: --size {size} but the test has {len(test_items)} items; scoring all {len(test_items)}")
    sample = test_items[:size]
    if not sample:
        raise DataError(f"{test or splits.name}: the test sample is empty")
    if any(item.price is None for item in sample):
        raise DataError(f"{test or splits.name}: every test item needs a price to be scored")
    plugin_set = collect()
    for record in plugin_set.errors():
        echo(f"plugin {record.name}: {record.error}")
    names = list(dict.fromkeys(predictors)) if predictors else list(plugin_set.predictors)
    unknown = [name for name in names if name not in plugin_set.predictors]
    if unknown:
        raise ValueError(f"unknown predictor(s) {', '.join(unknown)}; available: {', '.join(plugin_set.predictors)}")
    # A predictor that blends others runs after them, so it can be offered what they fitted.
    names.sort(key=lambda name: bool(getattr(plugin_set.predictors[name].factory, "blends", False)))
    entries = [PredictorResult(name=name, plugin=plugin_set.predictors[name].plugin) for name in names]
    runnable = []
    for entry in entries:
        opt_in = None if predictors else getattr(plugin_set.predictors[entry.name].factory, "opt_in", None)
        missing = f"opt-in: {opt_in}; run it with -p {entry.name}" if opt_in else None
        missing = missing or _missing(plugin_set.predictors[entry.name], options.get(entry.name, {}), splits, sample)
        if missing:
            entry.status, entry.reason = "skipped", missing
            registration = plugin_set.predictors[entry.name]
            try:  # a wrong --set is wrong whether or not the predictor can run here
                check_settings(entry.name, registration.factory, {**registration.defaults, **options.get(entry.name, {})})
            except ValueError as error:
                raise ValueError(f"--set: {one_line(error)}") from None
        else:
            runnable.append(entry.name)
    checked_options = {name: value for name, value in options.items() if name in runnable or name not in names}
    created = create_predictors(plugin_set, runnable, checked_options)
    return BenchPlan(splits, sample, plugin_set, entries, created)


def run_predictor(
    plan: BenchPlan,
    entry: PredictorResult,
    fitted: dict[str, Predictor],
    cache: Path | None,
    use_cache: bool,
    workers: int,
    seed: int,
    progress: bool,
    echo: Callable[[str], None],
) -> list[dict[str, Any]] | None:
    """Fit (or reuse) and score one predictor into its entry; its per-item records, or None if it failed."""
    name = entry.name
    registration = plan.plugin_set.predictors[name]
    version = next((r.version for r in plan.plugin_set.plugins if r.name == registration.plugin), None)
    predictor = plan.predictors[name]
    if not use_cache:
        predictor.bypass_caches()
    if predictor.blends:
        predictor.offer_members(dict(fitted))
    try:
        predictor, fit_seconds, cached = fit_or_load(registration, predictor, plan.splits, cache if use_cache else None, version, echo)
        entry.fit_seconds, entry.cached_fit = round(fit_seconds, 3), cached
        fitted[name] = predictor
        bar = _progress_bar(name, len(plan.sample)) if progress and getattr(predictor, "per_item", False) else None
        evaluation = evaluate(predictor, plan.sample, workers, bar.update if bar else None, seed=seed)
        if bar:
            bar.close()
    except Exception as error:  # one broken predictor must not stop the leaderboard
        entry.status, entry.reason = "failed", one_line(error)
        echo(f"  {name}: failed ({entry.reason})")
        if debug():
            traceback.print_exc()
        return None
    _score_entry(entry, predictor, evaluation, plan.splits)
    low, high = entry.metrics.mae_ci95
    echo(f"  {name}: MAE ${entry.metrics.mae:.2f} [{low:.2f}, {high:.2f}]")
    return evaluation.records


def assemble_results(plan: BenchPlan, records: dict[str, list[dict[str, Any]]], seed: int) -> BenchResults:
    """The run with its provenance: versions, git commit, which items, and every pair's paired difference."""
    return BenchResults(
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        git=_git_commit(),
        versions=_versions(plan.plugin_set),
        dataset=DatasetInfo(
            name=plan.splits.name,
            sizes={**plan.splits.sizes(), "sample": len(plan.sample)},
            sample_ids_sha256=ids_sha256(plan.sample),
            train_price=quantiles(plan.train_prices),
            sample_price=quantiles(plan.sample_prices),
        ),
        seed=seed,
        predictors=plan.entries,
        paired=paired_comparisons(plan.entries, records, seed),
    )


def run_bench(
    data: str | Path | None = None,
    test: str | Path | None = None,
    size: int = DEFAULT_SIZE,
    predictors: list[str] | None = None,
    out: str | Path = DEFAULT_OUT,
    workers: int = DEFAULT_WORKERS,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    options: dict[str, dict[str, Any]] | None = None,
    seed: int = 42,
    echo: Callable[[str], None] = print,
    progress: bool = True,
    force: bool = False,
    loso: bool = False,
) -> dict[str, Any]:
    """Fit (or reuse) each predictor, evaluate all on the first `size` test items, write results.

    Returns the results.json content. results.json, predictions.jsonl and report.html are written
    into a folder beside `out` and swapped in together, only over a folder pricer wrote (or any,
    with force=True).
    """
    check_output(out, force, "bench")
    plan = plan_bench(data, test, size, predictors, options or {}, echo)
    cache = Path(cache_dir) if cache_dir else cache_root()
    echo(f"train price: {quantiles(plan.train_prices)}")
    echo(f"test sample price: {quantiles(plan.sample_prices)}")
    records: dict[str, list[dict[str, Any]]] = {}
    fitted: dict[str, Predictor] = {}  # this run's fitted predictors, offered to blends; gone when run_bench returns
    for entry in plan.entries:
        if entry.status == "skipped":
            echo(f"  {entry.name}: skipped ({entry.reason})")
            continue
        scored = run_predictor(plan, entry, fitted, cache, use_cache, workers, seed, progress, echo)
        if scored is not None:
            records[entry.name] = scored
    results = assemble_results(plan, records, seed)
    if loso:
        try:  # the official results are written whatever happens to the extra protocol
            results.leave_one_source_out = run_loso(plan, options or {}, cache if use_cache else None, size, workers, seed, echo)
        except Exception as error:
            echo(f"leave-one-source-out failed ({one_line(error)}); the official results are written without it")
    write_results(out, results, records, plan.train_prices, plan.sample_prices, force)
    return results.to_json()


def run_loso(plan: BenchPlan, options: dict[str, dict[str, Any]], cache: Path | None, size: int, workers: int, seed: int, echo: Callable[[str], None]):
    """Leave-one-source-out for every predictor that ran, beside the official test (bench/loso.py)."""
    from pricer_core.bench.loso import leave_one_source_out

    names = [entry.name for entry in plan.entries if entry.status != "skipped"]
    def build(name: str) -> Predictor:
        predictor = plan.plugin_set.predictors[name].create(**options.get(name, {}))
        if cache is None:  # --no-cache reaches every cache, the LLM reply cache included
            predictor.bypass_caches()
        return predictor

    builders = {name: (lambda name=name: build(name)) for name in names}
    return leave_one_source_out(plan.splits, plan.plugin_set, builders, cache, min(size, 200), workers, seed, echo)


def _missing(registration: Registration, options: dict[str, Any], splits: Splits, sample: list) -> str | None:
    """Why this predictor cannot run here (no key, module, GPU, summaries or server), or None."""
    missing = registration.needs.missing(splits.train + sample if registration.needs.summaries else None)
    check = getattr(registration.factory, "unavailable", None)
    if not missing and callable(check):
        missing = check(**{**registration.defaults, **options})
    return missing


def _score_entry(entry: PredictorResult, predictor: Predictor, evaluation: Any, splits: Splits) -> None:
    entry.metrics = Metrics(**{key: evaluation.metrics[key] for key in Metrics.model_fields})
    entry.n = sum(1 for r in evaluation.records if r["prediction"] is not None)
    entry.coverage = evaluation.metrics["coverage"]
    entry.predict_seconds = round(evaluation.predict_seconds, 3)
    entry.cost_usd = float(predictor.cost_usd())
    entry.details = predictor.describe()
    try:  # intervals are extra: their failure must not fail a scored predictor
        if learned_from_validation(predictor):
            entry.interval = {"error": "no interval: it learned from the validation rows its residuals would come from"}
        elif not getattr(predictor, "per_item", False):
            entry.interval = _conformal(predictor, splits.validation, evaluation.records)
    except Exception as error:
        entry.interval = {"error": one_line(error)}


def write_results(
    out: str | Path,
    results: BenchResults,
    records: dict[str, list[dict[str, Any]]],
    train_prices: list[float],
    test_prices: list[float],
    force: bool = False,
) -> None:
    """results.json (strict JSON), predictions.jsonl and report.html appear together or not at all."""
    from pricer_core.storage.atomic import strict_json
    from pricer_core.bench.report import write_report

    with output_folder(out, force, kind="bench") as staging:
        write_json_atomic(staging / "results.json", results.to_json())
        with open(staging / "predictions.jsonl", "w", encoding="utf-8") as handle:
            for name, predictor_records in records.items():
                for record in predictor_records:
                    handle.write(json.dumps(strict_json({"predictor": name, **record}), allow_nan=False) + "\n")
        write_report(staging / "report.html", results, records, train_prices, test_prices)


def _conformal(predictor, validation, records: list[dict[str, Any]], level: float = 0.9) -> dict[str, Any] | None:
    """Split-conformal 90% interval from validation residuals, and how often it covered the test truth."""
    from pricer_core.evaluation.conformal import conformal_quantile, coverage

    scored = [item for item in validation if item.price is not None]
    if not scored:
        return None
    predicted = predictor.predict([item.model_copy(update={"price": None}) for item in scored])
    half_width = conformal_quantile([item.price for item in scored], predicted, level)
    covered = [r for r in records if r["prediction"] is not None]
    return {
        "level": level,
        "half_width_log": half_width,
        "coverage": coverage([r["truth"] for r in covered], [r["prediction"] for r in covered], half_width),
    }


def paired_comparisons(entries: list[PredictorResult], records: dict[str, list[dict[str, Any]]], seed: int) -> list[PairedDifference]:
    """For every pair that scored the same items: MAE(a) − MAE(b) with its paired bootstrap 95% interval."""
    from pricer_core.evaluation.metrics import paired_difference

    full = [e.name for e in entries if e.scored and all(r["prediction"] is not None for r in records[e.name])]
    pairs = []
    for position, first in enumerate(full):
        for second in full[position + 1 :]:
            errors_a = [r["error"] for r in records[first]]
            errors_b = [r["error"] for r in records[second]]
            pairs.append(PairedDifference(a=first, b=second, **paired_difference(errors_a, errors_b, resamples=2000, seed=seed)))
    return pairs


def _progress_bar(name: str, total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"  {name}", leave=False)


def leaderboard_lines(results: BenchResults | dict[str, Any]) -> list[str]:
    """The table pricer-bench prints: best MAE first, then failed and skipped with their reason."""
    entries = results.predictors if isinstance(results, BenchResults) else [PredictorResult.model_validate(e) for e in results["predictors"]]
    header = f"{'predictor':<18} {'MAE $':>8} {'95% CI':>17} {'RMSLE':>6} {'R² %':>7} {'hit %':>6} {'fit s':>7} {'pred s':>7} {'cost $':>7}  status"
    lines = [header, "-" * len(header)]
    for entry in sorted((e for e in entries if e.scored), key=lambda e: e.metrics.mae):
        m = entry.metrics
        ci = f"[{m.mae_ci95[0]:.1f}, {m.mae_ci95[1]:.1f}]"
        lines.append(
            f"{entry.name:<18} {m.mae:>8.2f} {ci:>17} {_number(m.rmsle, 6, 3)} {_number(m.r2, 7, 1)} {_number(m.hit_rate, 6, 1)} "
            f"{entry.fit_seconds or 0:>7.1f} {entry.predict_seconds or 0:>7.2f} {entry.cost_usd:>7.4f}  ok"
            + ("" if entry.coverage in (None, 1) else f" (coverage {entry.coverage:.0%})")
        )
    for entry in entries:
        if entry.status != "ok":
            lines.append(f"{entry.name:<18} {'':>8} {'':>17} {'':>6} {'':>7} {'':>6} {'':>7} {'':>7} {'':>7}  {entry.status}: {entry.reason}")
    return lines


def _number(value: float | None, width: int, decimals: int) -> str:
    return f"{value:>{width}.{decimals}f}" if value is not None and value == value else f"{'-':>{width}}"
