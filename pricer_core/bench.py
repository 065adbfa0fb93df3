"""Fit every selected predictor once, judge all on the same test sample, write the results.

`run_bench()` is the Python API behind `pricer-bench`; it returns the results.json content.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .atomic import check_output, output_folder, write_json_atomic
from .errors import one_line
from .evaluator import DEFAULT_WORKERS, evaluate
from .persistence import load_predictor, read_meta, save_predictor
from .plugins import PluginSet, Registration, collect
from .readers import read_items
from .settings import cache_root, debug
from .splits import Splits, content_sha256, ids_sha256, load_splits  # noqa: F401  (load_splits: public here too)

RESULTS_SCHEMA = 1
DEFAULT_SIZE = 200
DEFAULT_OUT = Path("bench-out")


def default_cache_dir() -> Path:
    return cache_root()


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


def fit_key(registration: Registration, config: dict[str, Any], splits: Splits, version: str | None) -> str:
    """Same predictor, settings, plugin version and every field of every train/validation item → reuse the fit."""
    payload = {
        "name": registration.name,
        "plugin": registration.plugin,
        "version": version,
        "config": config,
        "train": content_sha256(splits.train),
        "validation": content_sha256(splits.validation),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()[:24]


def fit_or_load(
    registration: Registration,
    predictor: Any,
    splits: Splits,
    cache_dir: Path | None,
    version: str | None,
    echo: Callable[[str], None],
) -> tuple[Any, float, bool]:
    """(fitted predictor, fit seconds, whether it came from the cache); an unusable cache entry is refitted."""
    key = fit_key(registration, predictor.config(), splits, version)
    folder = cache_dir / "fits" / f"{registration.name}-{key}" if cache_dir and predictor.cacheable else None
    if folder is not None and folder.exists():
        try:
            meta = read_meta(folder)
            loaded = load_predictor(folder)
            fit_seconds = float(meta.get("fit_seconds", 0.0))
        except Exception as error:  # a stale or broken cache entry is dropped and refitted, never fatal
            echo(f"  {registration.name}: cached fit unusable ({one_line(error)}); refitting")
            shutil.rmtree(folder, ignore_errors=True)
        else:
            echo(f"  {registration.name}: reusing cached fit ({folder})")
            return loaded, fit_seconds, True
    echo(f"  {registration.name}: fitting on {len(splits.train)} train / {len(splits.validation)} validation items")
    started = time.perf_counter()
    fitted = predictor.fit(splits.train, splits.validation)
    if fitted is not predictor:
        raise TypeError(f"{registration.name}: fit must return self")
    seconds = time.perf_counter() - started
    if folder is not None:
        save_predictor(predictor, folder, {"fit_seconds": seconds, "key": key}, force=True)
    return predictor, seconds, False


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
) -> dict[str, Any]:
    """Fit (or reuse) each predictor, evaluate all on the first `size` test items, write results.

    results.json, predictions.jsonl and report.html are written into a folder beside `out` and
    swapped in together, only over a folder pricer wrote (or any, with force=True).
    """
    check_output(out, force)
    splits = load_splits(data)
    test_items = splits.test
    if test is not None:
        test_items, report = read_items(test)
        echo(report.summary())
    if size > len(test_items):
        echo(f"warning: --size {size} but the test has {len(test_items)} items; scoring all {len(test_items)}")
    sample = test_items[:size]
    if not sample:
        raise ValueError("the test sample is empty")
    if any(item.price is None for item in sample):
        raise ValueError("every test item needs a price to be scored")
    plugin_set = collect()
    for record in plugin_set.errors():
        echo(f"plugin {record.name}: {record.error}")
    names = list(predictors) if predictors else list(plugin_set.predictors)
    unknown = [name for name in names if name not in plugin_set.predictors]
    if unknown:
        raise ValueError(f"unknown predictor(s) {', '.join(unknown)}; available: {', '.join(plugin_set.predictors)}")
    # A predictor that blends others runs after them, so it can be offered what they fitted.
    names.sort(key=lambda name: bool(getattr(plugin_set.predictors[name].factory, "blends", False)))
    options = options or {}
    entries = [_new_entry(name, plugin_set.predictors[name].plugin) for name in names]
    runnable = {}
    for entry in entries:
        missing = _missing(plugin_set.predictors[entry["name"]], options.get(entry["name"], {}), splits, sample)
        if missing:
            entry.update(status="skipped", reason=missing)
        else:
            runnable[entry["name"]] = entry
    created = create_predictors(plugin_set, list(runnable), {name: value for name, value in options.items() if name in runnable or name not in names})
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    train_prices = [item.price for item in splits.train if item.price is not None]
    test_prices = [item.price for item in sample]
    echo(f"train price: {quantiles(train_prices)}")
    echo(f"test sample price: {quantiles(test_prices)}")

    records: dict[str, list[dict[str, Any]]] = {}
    fitted: dict[str, Any] = {}  # this run's fitted predictors, offered to blends; gone when run_bench returns
    for entry in entries:
        name = entry["name"]
        if entry["status"] == "skipped":
            echo(f"  {name}: skipped ({entry['reason']})")
            continue
        registration = plugin_set.predictors[name]
        version = next((r.version for r in plugin_set.plugins if r.name == registration.plugin), None)
        predictor = created[name]
        if not use_cache:
            predictor.bypass_caches()
        if predictor.blends:
            predictor.offer_members(dict(fitted))
        try:
            predictor, fit_seconds, cached = fit_or_load(registration, predictor, splits, cache if use_cache else None, version, echo)
            entry["fit_seconds"] = round(fit_seconds, 3)
            entry["cached_fit"] = cached
            fitted[name] = predictor
            bar = _progress_bar(name, len(sample)) if progress and getattr(predictor, "per_item", False) else None
            evaluation = evaluate(predictor, sample, workers, bar.update if bar else None, seed=seed)
            if bar:
                bar.close()
        except Exception as error:  # one broken predictor must not stop the leaderboard
            entry.update(status="failed", reason=one_line(error))
            echo(f"  {name}: failed ({entry['reason']})")
            if debug():
                traceback.print_exc()
            continue
        _score_entry(entry, predictor, evaluation, splits)
        records[name] = evaluation.records
        low, high = entry["metrics"]["mae_ci95"]
        echo(f"  {name}: MAE ${entry['metrics']['mae']:.2f} [{low:.2f}, {high:.2f}]")

    results = {
        "schema": RESULTS_SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git": _git_commit(),
        "versions": _versions(plugin_set),
        "dataset": {
            "name": splits.name,
            "sizes": {**splits.sizes(), "sample": len(sample)},
            "sample_ids_sha256": ids_sha256(sample),
            "train_price": quantiles(train_prices),
            "sample_price": quantiles(test_prices),
        },
        "seed": seed,
        "predictors": entries,
        "paired": paired_comparisons(entries, records, seed),
    }
    write_results(out, results, records, train_prices, test_prices, force)
    return results


def _new_entry(name: str, plugin: str) -> dict[str, Any]:
    return {
        "name": name,
        "plugin": plugin,
        "status": "ok",
        "reason": None,
        "metrics": None,
        "n": 0,
        "fit_seconds": None,
        "predict_seconds": None,
        "cost_usd": 0.0,
    }


def _missing(registration: Registration, options: dict[str, Any], splits: Splits, sample: list) -> str | None:
    """Why this predictor cannot run here (no key, module, GPU, summaries or server), or None."""
    missing = registration.needs.missing(splits.train + sample if registration.needs.summaries else None)
    check = getattr(registration.factory, "unavailable", None)
    if not missing and callable(check):
        missing = check(**{**registration.defaults, **options})
    return missing


def _score_entry(entry: dict[str, Any], predictor: Any, evaluation: Any, splits: Splits) -> None:
    entry.update(
        metrics={key: evaluation.metrics[key] for key in ("mae", "mae_ci95", "mse", "rmse", "rmsle", "r2", "hit_rate")},
        n=sum(1 for r in evaluation.records if r["prediction"] is not None),
        coverage=evaluation.metrics["coverage"],
        predict_seconds=round(evaluation.predict_seconds, 3),
        cost_usd=float(predictor.cost_usd()),
    )
    details = predictor.describe()
    if details is not None:
        entry["details"] = details
    if not getattr(predictor, "per_item", False):
        try:
            entry["interval"] = _conformal(predictor, splits.validation, evaluation.records)
        except Exception as error:  # intervals are extra: their failure must not fail a scored predictor
            entry["interval"] = {"error": one_line(error)}


def write_results(out: str | Path, results: dict[str, Any], records: dict[str, list[dict[str, Any]]], train_prices: list[float], test_prices: list[float], force: bool = False) -> None:
    """results.json (strict JSON), predictions.jsonl and report.html appear together or not at all."""
    from .atomic import strict_json
    from .report import write_report

    with output_folder(out, force, kind="bench") as staging:
        write_json_atomic(staging / "results.json", results)
        with open(staging / "predictions.jsonl", "w", encoding="utf-8") as handle:
            for name, predictor_records in records.items():
                for record in predictor_records:
                    handle.write(json.dumps(strict_json({"predictor": name, **record}), allow_nan=False) + "\n")
        write_report(staging / "report.html", results, records, train_prices, test_prices)


def _conformal(predictor, validation, records: list[dict[str, Any]], level: float = 0.9) -> dict[str, Any] | None:
    """Split-conformal 90% interval from validation residuals, and how often it covered the test truth."""
    from .conformal import conformal_quantile, coverage

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


def paired_comparisons(entries: list[dict[str, Any]], records: dict[str, list[dict[str, Any]]], seed: int) -> list[dict[str, Any]]:
    """For every pair that scored the same items: MAE(a) − MAE(b) with its paired bootstrap 95% interval."""
    from .metrics import paired_difference

    full = [e["name"] for e in entries if e["status"] == "ok" and all(r["prediction"] is not None for r in records[e["name"]])]
    pairs = []
    for position, first in enumerate(full):
        for second in full[position + 1 :]:
            errors_a = [r["error"] for r in records[first]]
            errors_b = [r["error"] for r in records[second]]
            pairs.append({"a": first, "b": second, **paired_difference(errors_a, errors_b, resamples=2000, seed=seed)})
    return pairs


def _progress_bar(name: str, total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"  {name}", leave=False)


def leaderboard_lines(results: dict[str, Any]) -> list[str]:
    """The table pricer-bench prints: best MAE first, then failed and skipped with their reason."""
    header = f"{'predictor':<18} {'MAE $':>8} {'95% CI':>17} {'RMSLE':>6} {'R² %':>7} {'hit %':>6} {'fit s':>7} {'pred s':>7} {'cost $':>7}  status"
    lines = [header, "-" * len(header)]
    entries = results["predictors"]
    ranked = sorted((e for e in entries if e["status"] == "ok"), key=lambda e: e["metrics"]["mae"])
    for entry in ranked:
        m = entry["metrics"]
        ci = f"[{m['mae_ci95'][0]:.1f}, {m['mae_ci95'][1]:.1f}]"
        lines.append(
            f"{entry['name']:<18} {m['mae']:>8.2f} {ci:>17} {m['rmsle']:>6.3f} {m['r2']:>7.1f} {m['hit_rate']:>6.1f} "
            f"{entry['fit_seconds']:>7.1f} {entry['predict_seconds']:>7.2f} {entry['cost_usd']:>7.4f}  ok"
            + ("" if entry.get("coverage", 1) == 1 else f" (coverage {entry['coverage']:.0%})")
        )
    for entry in entries:
        if entry["status"] != "ok":
            lines.append(f"{entry['name']:<18} {'':>8} {'':>17} {'':>6} {'':>7} {'':>6} {'':>7} {'':>7} {'':>7}  {entry['status']}: {entry['reason']}")
    return lines
