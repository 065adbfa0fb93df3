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

from pricer_core.contract.predictor import fit_checked
from pricer_core.data.splits import Splits, content_sha256
from pricer_core.errors import one_line
from pricer_core.plugins.registry import Registration
from pricer_core.storage.persistence import load_predictor, read_meta, save_predictor


def code_sha256(predictor_class: type) -> str | None:
    """The files of every package the predictor's class comes from (its bases' too), of the
    packages it names in `code_packages`, and of pricer_core; None when some of it cannot be read.

    A plugin edited without a version bump (the usual case while developing one) must not be served
    the fit its old code made. None means "do not cache this fit": a predictor whose code cannot be
    fingerprinted (typed into a notebook, say) is refitted, never served an old fit.
    """
    import importlib.util
    import sys

    named = tuple(getattr(predictor_class, "code_packages", ()))
    tops = {"pricer_core", *named}
    tops |= {base.__module__.partition(".")[0] for base in predictor_class.__mro__ if base.__module__ not in ("builtins", "abc")}
    digest = hashlib.sha256()
    try:
        for top in sorted(tops):
            module = sys.modules.get(top)
            if module is not None:
                roots, origin = getattr(module, "__path__", None) or [], getattr(module, "__file__", None)
            else:
                spec = importlib.util.find_spec(top) if top in named else None  # named, imported only mid-fit
                if spec is None and top in named:
                    continue  # not installed, so not run
                if spec is None:
                    return None
                roots, origin = spec.submodule_search_locations or [], spec.origin
            if roots:
                files = [(Path(root), path) for root in roots for path in package_files(Path(root))]
            elif origin:  # a one-file module
                files = [(Path(origin).parent, Path(origin))]
            else:
                return None
            for root, path in files:
                if path.is_symlink() and not path.exists():  # an editor's lock file, not code
                    continue
                digest.update(f"{top}/{path.relative_to(root)}\n".encode())
                digest.update(path.read_bytes())
    except (OSError, ValueError):
        return None
    return digest.hexdigest()


def package_files(root: Path) -> list[Path]:
    """Every file of a package, its data files too (a settings JSON its fit reads), not the bytecode."""
    return sorted(
        path for path in root.rglob("*")
        if "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo", ".swp", ".tmp", ".log")
        and not path.name.startswith(".") and not path.name.endswith("~") and path.is_file()  # regular files only: a FIFO would hang
    )


def fit_key(registration: Registration, config: dict[str, Any], splits: Splits, version: str | None, code: str) -> str:
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
) -> tuple[Any, float, bool, Path | None]:
    """(fitted predictor, fit seconds, whether it came from the cache, its cache folder or None);
    an unusable cache entry is refitted."""
    folder = key = None
    if cache_dir and predictor.cacheable:
        code = code_sha256(type(predictor))
        if code is None:
            echo(f"  {registration.name}: its code cannot be fingerprinted, so its fit is not cached")
        else:
            key = fit_key(registration, predictor.config(), splits, version, code)
            folder = cache_dir / "fits" / f"{registration.name}-{key}"
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
            return loaded, fit_seconds, True, folder
    echo(f"  {registration.name}: fitting on {len(splits.train)} train / {len(splits.validation)} validation items")
    started = time.perf_counter()
    fit_checked(predictor, splits.train, splits.validation, registration.name)
    seconds = time.perf_counter() - started
    if folder is not None:
        try:
            save_predictor(predictor, folder, {"fit_seconds": seconds, "key": key}, force=True)
        except Exception as error:  # a full disk loses the cache entry, not the fit
            echo(f"  {registration.name}: fitted, but not cached ({one_line(error)})")
            folder = None
    return predictor, seconds, False, folder
