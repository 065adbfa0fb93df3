"""The fit cache: a fitted predictor is reused only for the same predictor, settings, plugin version,
code and every field of every train/validation item; an entry that cannot be loaded is dropped and refitted."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pricer_core.data.splits import Splits, content_sha256
from pricer_core.errors import one_line
from pricer_core.plugins.registry import Registration
from pricer_core.storage.persistence import load_predictor, read_meta, save_predictor


def code_sha256(predictor_class: type) -> str:
    """The source of the package that defines the predictor, and of pricer_core which it builds on.

    A plugin edited without a version bump (the usual case while developing one) must not be served
    the fit its old code made. Code in a third package that the predictor calls is not covered.
    """
    import sys

    digest = hashlib.sha256()
    for top in sorted({"pricer_core", predictor_class.__module__.partition(".")[0]}):
        module = sys.modules.get(top)
        roots = [Path(path) for path in getattr(module, "__path__", [])]
        files = [path for root in roots for path in sorted(root.rglob("*.py"))]
        if not roots and getattr(module, "__file__", None):  # a one-file plugin module
            files = [Path(module.__file__)]
        for path in files:
            digest.update(f"{top}/{path.relative_to(path.parent if not roots else roots[0])}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fit_key(registration: Registration, config: dict[str, Any], splits: Splits, version: str | None, code: str = "") -> str:
    """Same predictor, settings, plugin version, code and every field of every train/validation item → reuse the fit."""
    payload = {
        "name": registration.name,
        "plugin": registration.plugin,
        "version": version,
        "code": code,
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
    key = fit_key(registration, predictor.config(), splits, version, code_sha256(type(predictor)))
    folder = cache_dir / "fits" / f"{registration.name}-{key}" if cache_dir and predictor.cacheable else None
    if folder is not None and (folder.exists() or folder.is_symlink()):
        try:
            meta = read_meta(folder)
            if meta.get("key") != key or meta.get("name") != registration.name:
                raise ValueError(f"entry holds {meta.get('name')} with key {meta.get('key')}, not this fit")
            loaded = load_predictor(folder)
            fit_seconds = float(meta.get("fit_seconds", 0.0))
        except Exception as error:  # a stale or broken cache entry is dropped and refitted, never fatal
            echo(f"  {registration.name}: cached fit unusable ({one_line(error)}); refitting")
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)
            else:
                folder.unlink(missing_ok=True)
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
        try:
            save_predictor(predictor, folder, {"fit_seconds": seconds, "key": key}, force=True)
        except Exception as error:  # a full disk loses the cache entry, not the fit
            echo(f"  {registration.name}: fitted, but not cached ({one_line(error)})")
    return predictor, seconds, False
