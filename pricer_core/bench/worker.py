"""The child side of an isolated bench job: `python -m pricer_core.bench.worker JOB RESULT`.

It fits (or loads from the fit cache) one predictor, prices the sample with the prices hidden and
writes what it predicted to RESULT. Scoring happens in the bench, from these raw predictions, by one
rule for everyone; nothing here can change another predictor's items or the bench's files.
"""

from __future__ import annotations

import json
import pickle
import resource
import sys
import time
from pathlib import Path
from typing import Any


def limit_memory(gigabytes: float | None) -> None:
    """Address-space limit: an allocation past it fails in this process (MemoryError), not on the machine."""
    if gigabytes:
        size = int(gigabytes * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))


def forward_plugins(forwarded: bytes) -> None:
    """Register the plugins the bench's process registered at run time, under their own names."""
    if not forwarded:
        return
    from pricer_core.plugins.hookspecs import hookimpl
    from pricer_core.plugins.registry import pm

    for plugin_name, entries in pickle.loads(forwarded).items():

        class Forwarded:
            @hookimpl
            def register_predictors(self, register, entries=entries):
                for factory, name, defaults in entries:
                    register(factory, name=name, **defaults)

        if not pm.has_plugin(plugin_name):
            pm.register(Forwarded(), name=plugin_name)


def run_job(job: Any) -> dict[str, Any]:
    """Fit or load, predict the sample blind, and report; an exception is this predictor's failure."""
    from pricer_core.bench.fit_cache import fit_or_load
    from pricer_core.contract.predictor import learns_from_validation, role_of
    from pricer_core.evaluation.conformal import validation_interval
    from pricer_core.evaluation.evaluator import predict_all
    from pricer_core.plugins.registry import collect
    from pricer_core.storage.persistence import load_predictor, save_predictor

    def echo(line: str) -> None:
        print(line, flush=True)

    with open(job.data_file, "rb") as handle:
        splits, sample = pickle.load(handle)  # the bench's own file for this run
    plugin_set = collect()
    registration = plugin_set.predictors.get(job.name)
    if registration is None:
        raise ValueError(f"predictor {job.name!r} is not registered in a fresh process (a plugin registered another way cannot be isolated)")
    version = next((record.version for record in plugin_set.plugins if record.name == registration.plugin), None)
    predictor = registration.create(**job.options)
    cache = Path(job.cache_dir) if job.cache_dir else None
    if cache is None:
        predictor.bypass_caches()
    if role_of(predictor) == "blend":
        members = {}
        for name, folder in job.members.items():
            member = plugin_set.predictors.get(name)
            members[name] = load_predictor(folder, member.factory if member else None)
        offer_members(predictor, members, plugin_set.predictors)
    predictor, fit_seconds, cached, folder = fit_or_load(registration, predictor, splits, cache, version, echo)
    result: dict[str, Any] = {"status": "ok", "fit_seconds": round(fit_seconds, 3), "cached_fit": cached}
    if job.keep_fit:
        if folder is None or not folder.is_dir():
            folder = Path(job.run_dir) / "fits" / job.label
            save_predictor(predictor, folder, force=True)
        result["folder"] = str(folder)
    if not job.score:
        return result
    blind = sample  # the bench wrote the sample without its prices
    started = time.perf_counter()
    bar = _progress_bar(job.label, len(blind)) if job.progress and getattr(predictor, "per_item", False) else None
    predictions, failures = predict_all(predictor, blind, job.workers, bar.update if bar else None)
    if bar:
        bar.close()
    result.update(
        predictions=predictions,
        failures=failures,
        predict_seconds=round(time.perf_counter() - started, 3),
        cost_usd=float(predictor.cost_usd()),
        details=_as_json(predictor.describe()),
        interval=validation_interval(predictor, splits.validation, learns_from_validation(predictor)),
    )
    return result


def _as_json(details: Any) -> dict[str, Any] | None:
    """describe() as JSON data: numpy numbers become numbers, anything else its text; never a failure."""
    from pricer_core.storage.atomic import strict_json

    if details is None:
        return None

    def plain(value: Any) -> Any:
        return value.item() if hasattr(value, "item") and callable(value.item) else str(value)

    try:
        data = json.loads(json.dumps(strict_json(details), default=plain, allow_nan=True))
    except (TypeError, ValueError) as error:  # keys that are not text, say
        return {"unreadable": f"describe() returned data that is not JSON ({type(error).__name__}: {str(error)[:120]})"}
    return strict_json(data) if isinstance(data, dict) else {"describe": data}


def _progress_bar(label: str, total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"  {label}", leave=False)


def offer_members(predictor: Any, members: dict[str, Any], registry: dict[str, Any]) -> None:
    """Hand a blend its members and the registry; a blend written before `registry` existed gets the members alone."""
    import inspect

    try:
        accepts_registry = "registry" in inspect.signature(predictor.offer_members).parameters
    except (TypeError, ValueError):
        accepts_registry = False
    if accepts_registry:
        predictor.offer_members(members, registry=registry)
    else:
        predictor.offer_members(members)


def main(job_file: str, result_file: str) -> int:
    import traceback

    from pricer_core.errors import one_line
    from pricer_core.settings import debug
    from pricer_core.storage.atomic import strict_json, write_text_atomic

    with open(job_file, "rb") as handle:
        job = pickle.load(handle)
    limit_memory(job.memory_gb)
    try:
        forward_plugins(job.forwarded)
        result = run_job(job)
        text = json.dumps(strict_json(result), allow_nan=False)
    except MemoryError:
        text = json.dumps({"status": "failed", "reason": f"ran out of memory (its limit is {job.memory_gb:g} GB, --memory-limit)"})
    except BaseException as error:  # SystemExit or KeyboardInterrupt from a plugin is its failure too
        if debug():
            traceback.print_exc()
        text = json.dumps({"status": "failed", "reason": one_line(error) if isinstance(error, Exception) else type(error).__name__})
    write_text_atomic(result_file, text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
