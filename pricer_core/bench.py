"""Fit every selected predictor once, judge all on the same test sample, write the results.

`run_bench()` is the Python API behind `pricer-bench`; it returns the results.json content.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .ensemble import FITTED_POOL
from .evaluator import DEFAULT_WORKERS, evaluate
from .persistence import load_predictor, read_meta, save_predictor
from .plugins import PluginSet, Registration, collect
from .readers import read_items
from .splits import Splits, ids_sha256, load_bundle, load_split_dir

RESULTS_SCHEMA = 1
DEFAULT_SIZE = 200
DEFAULT_OUT = Path("bench-out")


def default_cache_dir() -> Path:
    return Path(os.environ.get("PRICER_CACHE", Path.home() / ".cache" / "pricer"))


def load_splits(data: str | Path | None) -> Splits:
    """The bundle (None), a folder of splits, or a hub dataset id."""
    if data is None:
        return load_bundle()
    if Path(data).exists():
        return load_split_dir(data)
    from .hub import from_hub

    return from_hub(str(data))


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
    """Same predictor, settings, plugin version and training data → same key → reuse the fit."""
    payload = {
        "name": registration.name,
        "plugin": registration.plugin,
        "version": version,
        "config": config,
        "train": ids_sha256(splits.train),
        "validation": ids_sha256(splits.validation),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _one_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip().splitlines()
    return text[0][:300] if text else type(error).__name__


def fit_or_load(
    registration: Registration,
    options: dict[str, Any],
    splits: Splits,
    cache_dir: Path | None,
    version: str | None,
    echo: Callable[[str], None],
) -> tuple[Any, float, bool]:
    """(fitted predictor, fit seconds, whether it came from the cache)."""
    predictor = registration.create(**options)
    key = fit_key(registration, predictor.config(), splits, version)
    cacheable = getattr(predictor, "cacheable", True)
    folder = cache_dir / "fits" / f"{registration.name}-{key}" if cache_dir and cacheable else None
    if folder is not None and (folder / "pricer.json").exists():
        meta = read_meta(folder)
        try:
            loaded = load_predictor(folder)
        except Exception as error:  # a stale or broken cache entry is refitted, not fatal
            echo(f"  {registration.name}: cached fit unusable ({_one_line(error)}); refitting")
        else:
            echo(f"  {registration.name}: reusing cached fit ({folder})")
            return loaded, float(meta.get("fit_seconds", 0.0)), True
    echo(f"  {registration.name}: fitting on {len(splits.train)} train / {len(splits.validation)} validation items")
    started = time.perf_counter()
    fitted = predictor.fit(splits.train, splits.validation)
    if fitted is not predictor:
        raise TypeError(f"{registration.name}: fit must return self")
    seconds = time.perf_counter() - started
    if folder is not None:
        save_predictor(predictor, folder, {"fit_seconds": seconds, "key": key})
    return predictor, seconds, False


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
) -> dict[str, Any]:
    """Fit (or reuse) each predictor, evaluate all on the first `size` test items, write results."""
    splits = load_splits(data)
    test_items = splits.test
    if test is not None:
        test_items, report = read_items(test)
        echo(report.summary())
    sample = test_items[:size]
    if not sample:
        raise ValueError("the test sample is empty")
    if any(item.price is None for item in sample):
        raise ValueError("every test item needs a price to be scored")
    plugin_set = collect()
    for record in plugin_set.errors():
        echo(f"plugin {record.name} not usable: {record.error}")
    names = list(predictors) if predictors else list(plugin_set.predictors)
    names.sort(key=lambda name: name == "ensemble")  # the ensemble blends what ran before it
    FITTED_POOL.clear()
    unknown = [name for name in names if name not in plugin_set.predictors]
    if unknown:
        raise ValueError(f"unknown predictor(s) {', '.join(unknown)}; available: {', '.join(plugin_set.predictors)}")
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    options = options or {}
    train_prices = [item.price for item in splits.train if item.price is not None]
    test_prices = [item.price for item in sample]
    echo(f"train price: {quantiles(train_prices)}")
    echo(f"test sample price: {quantiles(test_prices)}")

    entries: list[dict[str, Any]] = []
    records: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        registration = plugin_set.predictors[name]
        version = next((r.version for r in plugin_set.plugins if r.name == registration.plugin), None)
        entry: dict[str, Any] = {
            "name": name,
            "plugin": registration.plugin,
            "status": "ok",
            "reason": None,
            "metrics": None,
            "n": 0,
            "fit_seconds": None,
            "predict_seconds": None,
            "cost_usd": 0.0,
        }
        entries.append(entry)
        missing = registration.needs.missing(splits.train + sample if registration.needs.summaries else None)
        check = getattr(registration.factory, "unavailable", None)
        if not missing and callable(check):
            missing = check(**{**registration.defaults, **options.get(name, {})})
        if missing:
            entry.update(status="skipped", reason=missing)
            echo(f"  {name}: skipped ({missing})")
            continue
        try:
            predictor, fit_seconds, cached = fit_or_load(
                registration, options.get(name, {}), splits, cache if use_cache else None, version, echo
            )
            entry["fit_seconds"] = round(fit_seconds, 3)
            entry["cached_fit"] = cached
            FITTED_POOL[name] = predictor
            bar = _progress_bar(name, len(sample)) if progress and getattr(predictor, "per_item", False) else None
            evaluation = evaluate(predictor, sample, workers, bar.update if bar else None, seed=seed)
            if bar:
                bar.close()
        except Exception as error:  # one broken predictor must not stop the leaderboard
            entry.update(status="failed", reason=_one_line(error))
            echo(f"  {name}: failed ({entry['reason']})")
            if os.environ.get("PRICER_DEBUG"):
                traceback.print_exc()
            continue
        entry.update(
            metrics={key: evaluation.metrics[key] for key in ("mae", "mae_ci95", "mse", "rmse", "rmsle", "r2", "hit_rate")},
            n=sum(1 for r in evaluation.records if r["prediction"] is not None),
            coverage=evaluation.metrics["coverage"],
            predict_seconds=round(evaluation.predict_seconds, 3),
            cost_usd=float(predictor.cost_usd()),
        )
        records[name] = evaluation.records
        if hasattr(predictor, "describe"):
            entry["details"] = predictor.describe()
        if not getattr(predictor, "per_item", False):
            try:
                entry["interval"] = _conformal(predictor, splits.validation, evaluation.records)
            except Exception as error:  # intervals are extra: their failure must not fail a scored predictor
                entry["interval"] = {"error": _one_line(error)}
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
    _write_json(out / "results.json", results)
    with open(out / "predictions.jsonl.tmp", "w", encoding="utf-8") as handle:
        for name, predictor_records in records.items():
            for record in predictor_records:
                handle.write(json.dumps({"predictor": name, **record}) + "\n")
    (out / "predictions.jsonl.tmp").replace(out / "predictions.jsonl")
    from .report import write_report

    write_report(out / "report.html", results, records, train_prices, test_prices)
    return results


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


def _write_json(path: Path, content: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(content, indent=1))
    temporary.replace(path)


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
