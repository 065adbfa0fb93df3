"""Fit every selected predictor once, judge all on the same test sample, write the results.

`run_bench()` is the Python API behind `pricer-bench`; it returns the results.json content.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pricer_core.storage.atomic import check_output, output_folder, output_lock, write_json_atomic
from pricer_core.errors import one_line
from pricer_core.bench.isolation import DEFAULT_TIMEOUT, Job
from pricer_core.bench.provenance import git_commit, library_versions, lock_report
from pricer_core.bench.scoring import fallback_price, score_result
from pricer_core.evaluation.evaluator import DEFAULT_WORKERS
from pricer_core.plugins.registry import PluginSet, Registration, collect
from pricer_core.item import Item
from pricer_core.contract.predictor import FROM_PRESET, Predictor, check_settings, declared_settings, role_of
from pricer_core.data.readers import DataError, read_items
from pricer_core.bench.results import BenchResults, DatasetInfo, PairedDifference, PredictorResult
from pricer_core.settings import cache_root
from pricer_core.data.splits import Splits, ids_sha256
from pricer_core.data.loading import load_splits

DEFAULT_SIZE = 200
DEFAULT_OUT = Path("bench-out")


def quantiles(prices: list[float]) -> dict[str, float]:
    import numpy as np

    values = np.asarray(prices, dtype=float)
    return {
        "mean": round(float(values.mean()), 2),
        **{f"p{q}": round(float(np.percentile(values, q)), 2) for q in (10, 25, 50, 75, 90)},
    }


def _plugin_distributions(plugin_set: PluginSet) -> dict[str, str]:
    return {record.distribution: record.version for record in plugin_set.plugins if record.distribution and record.version}


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
    names.sort(key=lambda name: role_of(plugin_set.predictors[name].factory) == "blend")
    entries = [PredictorResult(name=name, plugin=plugin_set.predictors[name].plugin) for name in names]
    runnable = []
    for entry in entries:
        opt_in = None if predictors else getattr(plugin_set.predictors[entry.name].factory, "opt_in", None)
        missing = f"opt-in: {opt_in}; run it with -p {entry.name}" if opt_in else None
        missing = missing or _missing(plugin_set.predictors[entry.name], options.get(entry.name, {}), splits, sample)
        if missing:
            entry.status, entry.reason = "skipped", missing
            registration = plugin_set.predictors[entry.name]
            given = {**registration.defaults, **options.get(entry.name, {})}
            try:  # a wrong --set is wrong whether or not the predictor can run here
                check_settings(entry.name, registration.factory, given)
                if given and FROM_PRESET in declared_settings(registration.factory)[0].values():  # a preset types these: building it checks them
                    registration.create(**given)
            except (TypeError, ValueError) as error:
                raise ValueError(f"--set: {one_line(error)}") from None
        else:
            runnable.append(entry.name)
    checked_options = {name: value for name, value in options.items() if name in runnable or name not in names}
    created = create_predictors(plugin_set, runnable, checked_options)
    return BenchPlan(splits, sample, plugin_set, entries, created)


@dataclass
class BenchRun:
    """What every job of one run shares: the plan, its private folder, the executor and the limits."""

    plan: BenchPlan
    run_dir: Path
    executor: Any
    cache: Path | None
    options: dict[str, dict[str, Any]]
    workers: int
    seed: int
    timeout: float | None
    memory_gb: float | None
    forwarded: bytes
    echo: Callable[[str], None]
    progress: bool = False
    threads: int | None = None

    def job(self, name: str, label: str, data_file: Path, **extra: Any) -> Job:
        registration = self.plan.plugin_set.predictors[name]
        # A blend builds members from every plugin; any other predictor needs only its own.
        plugin = None if role_of(registration.factory) == "blend" else registration.plugin
        return Job(
            plugin=plugin,
            name=name, label=label, options=self.options.get(name, {}), data_file=str(data_file), run_dir=str(self.run_dir),
            cache_dir=str(self.cache) if self.cache else None, workers=self.workers, seed=self.seed,
            forwarded=self.forwarded, timeout=self.timeout, memory_gb=self.memory_gb, progress=self.progress,
            threads=self.threads, **extra,
        )


def blend_members(plan: BenchPlan, blend: str, runnable: list[str], options: dict[str, dict[str, Any]]) -> list[str]:
    """The members a blend asks for: those it names; else the blendable batch predictors of this run,
    or, with fewer than two of those, every one of the default set that can run here. The bench
    fits the ones not selected (through the fit cache), so `-p xgboost -p ensemble` works."""
    named = getattr(plan.predictors[blend], "members", None)
    if named:
        return [name for name in named if name in plan.plugin_set.predictors]

    def blendable(factory: Any) -> bool:
        return role_of(factory) == "model" and not getattr(factory, "per_item", False)

    registry = plan.plugin_set.predictors
    selected = [name for name in runnable if blendable(registry[name].factory)]
    if len(selected) >= 2:
        return selected
    return selected + [
        name for name, registration in registry.items()
        if name not in selected and blendable(registration.factory) and getattr(registration.factory, "opt_in", None) is None
        and not _missing(registration, options.get(name, {}), plan.splits, plan.sample)
    ]


def run_protocol(
    run: BenchRun, names: list[str], splits: Splits, sample: list[Item], tag: str = "",
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every named predictor fitted on `splits` and pricing `sample`, each in its own process.

    Predictors that blend others run second and get the others' fitted folders (never shared
    objects); members a blend asks for that were not named are fitted for it without a score.
    Returns each predictor's raw result (predictions, or a failure with its reason); `on_result`
    hears each one as soon as it is in (in the order the names were given).
    """
    data_file = run.run_dir / f"data{tag.replace('@', '-') or '-official'}.pkl"
    # What a job may see: train and validation with their prices, the sample without them. The
    # test split and the sample's prices never leave this process, so no job can read them back.
    visible = Splits(splits.name, splits.train, splits.validation, [])
    blind = [item.model_copy(update={"price": None}) for item in sample]
    with open(data_file, "wb") as handle:
        pickle.dump((visible, blind), handle, protocol=pickle.HIGHEST_PROTOCOL)  # each job reads its own copy
    registry = run.plan.plugin_set.predictors
    blends = [name for name in names if role_of(registry[name].factory) == "blend"]
    wanted = {blend: blend_members(run.plan, blend, names, run.options) for blend in blends}
    helpers = [name for name in dict.fromkeys(m for members in wanted.values() for m in members) if name not in names and name not in blends]
    needed = {member for members in wanted.values() for member in members}
    first = [name for name in names if name not in blends] + helpers
    futures = {
        name: run.executor.submit(run.job(name, name + tag, data_file, keep_fit=name in needed, score=name in names))
        for name in first
    }
    results = {}
    for name, future in futures.items():
        results[name] = outcome_of(future)
        if on_result is not None and name in names:
            on_result(name, results[name])
    for name in helpers:
        outcome = results.pop(name)
        note = "fitted as a member" if outcome["status"] == "ok" else f"failed as a member ({outcome['reason']})"
        run.echo(f"  {name}{tag}: {note} of {', '.join(blend for blend in blends if name in wanted[blend])}")
        results[f"member:{name}"] = outcome
    for blend in blends:
        folders = {}
        for member in wanted[blend]:
            outcome = results.get(member) or results.get(f"member:{member}")
            if outcome and outcome["status"] == "ok" and outcome.get("folder"):
                folders[member] = outcome["folder"]
        results[blend] = outcome_of(run.executor.submit(run.job(blend, blend + tag, data_file, members=folders)))
        if on_result is not None:
            on_result(blend, results[blend])
    return {name: results[name] for name in names}


def outcome_of(future: Any) -> dict[str, Any]:
    """A job's result; an executor that lost the job (a Dask worker that died) makes it that job's failure."""
    from pricer_core.bench.isolation import failure

    try:
        return future.result()
    except Exception as error:
        return failure(f"its job was lost ({one_line(error, 200)})")


def assemble_results(plan: BenchPlan, records: dict[str, list[dict[str, Any]]], seed: int, abstention_price: float | None = None) -> BenchResults:
    """The run with its provenance: versions, git commit, which items, and every pair's paired difference."""
    versions = library_versions(_plugin_distributions(plan.plugin_set))
    return BenchResults(
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        git=git_commit(),
        versions=versions,
        lock=lock_report(versions),
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
        abstention_price=abstention_price,
    )


def clear_stale_runs(runs: Path) -> None:
    """Run folders of processes that no longer exist (a run killed with SIGKILL) are removed."""
    for folder in runs.glob("run-*-*"):
        try:
            pid = int(folder.name.split("-")[1])
            os.kill(pid, 0)
        except ValueError:
            continue
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's live process
            continue


def default_memory_gb(jobs: int) -> float:
    """Three quarters of this machine's memory, shared by the jobs that run at once."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return round(max(2.0, 0.75 * total / max(1, jobs)), 1)


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
    jobs: int = 1,
    scheduler: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    memory_limit_gb: float | None = None,
) -> dict[str, Any]:
    """Fit (or reuse) each predictor, evaluate all on the first `size` test items, write results.

    Every predictor runs in a process of its own (`jobs` at a time, or on the Dask cluster at
    `scheduler`), under `timeout` seconds and `memory_limit_gb` (default: 3/4 of the memory over
    the jobs); whatever one does, the others' figures are what they print alone. Returns the
    results.json content. results.json, predictions.jsonl and report.html are written into a
    folder beside `out` and swapped in together, only over a folder pricer wrote (or any, with
    force=True); a second run on the same `out` stops at once with one line.
    """
    from pricer_core.bench.executors import make_executor
    from pricer_core.bench.isolation import forwarded_plugins

    check_output(out, force, "bench")
    with output_lock(out, "bench"):
        options = options or {}
        plan = plan_bench(data, test, size, predictors, options, echo)
        cache = Path(cache_dir).expanduser().resolve() if cache_dir else cache_root().expanduser().resolve()
        _echo_plan(plan, echo)
        names = [entry.name for entry in plan.entries if entry.status != "skipped"]
        run_dir = _new_run_dir(cache)
        executor, finished = None, False
        try:
            executor = make_executor(jobs, scheduler, echo)
            run = BenchRun(
                plan, run_dir, executor, cache if use_cache else None, options, workers, seed, timeout,
                memory_limit_gb or (None if scheduler else default_memory_gb(jobs)), forwarded_plugins(plan.plugin_set), echo, progress,
                threads=max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 and not scheduler else None,
            )
            results, records = _score_every_predictor(run, names, seed)
            if loso:
                try:  # the official results are written whatever happens to the extra protocol
                    results.leave_one_source_out = run_loso(run, names, size)
                except Exception as error:
                    echo(f"leave-one-source-out failed ({one_line(error)}); the official results are written without it")
            write_results(out, results, records, plan.train_prices, plan.sample_prices, force)
            finished = True
        finally:
            if executor is not None:
                executor.close(cancel=not finished)
            shutil.rmtree(run_dir, ignore_errors=True)
    return results.to_json()


def _echo_plan(plan: BenchPlan, echo: Callable[[str], None]) -> None:
    echo(f"train price: {quantiles(plan.train_prices)}")
    echo(f"test sample price: {quantiles(plan.sample_prices)}")
    for entry in plan.entries:
        if entry.status == "skipped":
            echo(f"  {entry.name}: skipped ({entry.reason})")


def _new_run_dir(cache: Path) -> Path:
    """This run's scratch folder on the cache's disk (shared with a cluster's workers). Named by this
    process, so a run killed with SIGKILL is cleared by the next one."""
    (cache / "runs").mkdir(parents=True, exist_ok=True)
    clear_stale_runs(cache / "runs")
    run_dir = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=cache / "runs"))
    (run_dir / "work").mkdir()
    return run_dir


def _score_every_predictor(run: BenchRun, names: list[str], seed: int) -> tuple[BenchResults, dict[str, list[dict[str, Any]]]]:
    """Run the protocol and score each outcome as it arrives; the results and per-item records in leaderboard order."""
    plan = run.plan
    fallback = fallback_price(plan.train_prices)
    entries = {entry.name: entry for entry in plan.entries}
    records: dict[str, list[dict[str, Any]]] = {}

    def scored_now(name: str, outcome: dict[str, Any]) -> None:
        scored = score_result(entries[name], outcome, plan.sample, fallback, seed)
        _echo_entry(entries[name], run.echo)
        if scored is not None:
            records[name] = scored

    run_protocol(run, names, plan.splits, plan.sample, on_result=scored_now)
    records = {entry.name: records[entry.name] for entry in plan.entries if entry.name in records}  # leaderboard order
    return assemble_results(plan, records, seed, fallback), records


def _echo_entry(entry: PredictorResult, echo: Callable[[str], None]) -> None:
    if entry.status == "failed":
        echo(f"  {entry.name}: failed ({entry.reason})")
    elif entry.metrics is not None:
        low, high = entry.metrics.mae_ci95
        covered = "" if entry.coverage in (None, 1) else f", priced {entry.coverage:.0%} itself"
        echo(f"  {entry.name}: MAE ${entry.metrics.mae:.2f} [{low:.2f}, {high:.2f}]{covered}")


def run_loso(run: BenchRun, names: list[str], size: int):
    """Leave-one-source-out for every predictor that ran, beside the official test: each fold's
    jobs go through the same executor, scored by the same rule (bench/loso.py)."""
    from pricer_core.bench.loso import folds, loso_results

    sample_size = min(size, 200)
    fold_list = folds(run.plan.splits, sample_size)
    scored: dict[str, dict[str, dict[str, Any]]] = {}
    for number, (source, fold) in enumerate(fold_list, start=1):
        run.echo(f"leave-one-source-out: {source} held out ({len(fold.test)} items), {len(fold.train)} train")
        scored[source] = run_protocol(run, names, fold, fold.test, tag=f"@{number}")
    return loso_results(fold_list, scored, names, sample_size, run.seed, run.echo)


def _missing(registration: Registration, options: dict[str, Any], splits: Splits, sample: list) -> str | None:
    """Why this predictor cannot run here (no key, module, GPU, summaries or server), or None."""
    missing = registration.needs.missing(splits.train + sample if registration.needs.summaries else None)
    check = getattr(registration.factory, "unavailable", None)
    if not missing and callable(check):
        missing = check(**{**registration.defaults, **options})
    return missing


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


def paired_comparisons(entries: list[PredictorResult], records: dict[str, list[dict[str, Any]]], seed: int) -> list[PairedDifference]:
    """For every pair that scored the same items: MAE(a) − MAE(b) with its paired bootstrap 95% interval."""
    from pricer_core.evaluation.metrics import paired_difference

    full = [e.name for e in entries if e.scored and e.name in records]
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
    lock = results.lock if isinstance(results, BenchResults) else results.get("lock")
    if lock and lock.get("differs"):  # the committed figures were made on the locked versions
        differs = ", ".join(f"{name} {pair['installed']} (locked {pair['locked']})" for name, pair in sorted(lock["differs"].items()))
        lines.append(f"note: not the locked versions ({differs}); figures may differ from the committed ones in the last cents")
    return lines


def _number(value: float | None, width: int, decimals: int) -> str:
    return f"{value:>{width}.{decimals}f}" if value is not None and value == value else f"{'-':>{width}}"
