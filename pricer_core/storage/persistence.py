"""Save a fitted predictor as data, and load it back without running anything the folder names.

A model folder holds `pricer.json` (format, predictor name, plugin and its version) and `model/`,
which only the predictor's own `load` reads, in formats that cannot execute on load (JSON, npz,
native booster files, skops with an allow-list, `torch.load(weights_only=True)`). The class to
rebuild is found by predictor name in the installed plugin registry, never imported from a string
in the folder; a folder from another format or another plugin version is refused with one line.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pricer_core.storage.atomic import output_folder, write_json_atomic
from pricer_core.contract.predictor import Predictor
from pricer_core.errors import short_text

META_FILE = "pricer.json"
META_LIMIT = 2**20  # pricer.json is a few hundred bytes
MODEL_DIR = "model"
FORMAT = 2


class ModelFolderError(ValueError):
    """A folder that is not a model this pricer can load; the message is one line naming it."""


def _registration(name: str):
    from pricer_core.plugins.registry import collect

    plugin_set = collect()
    registration = plugin_set.predictors.get(name)
    version = None
    if registration is not None:
        version = next((record.version for record in plugin_set.plugins if record.name == registration.plugin), None)
    return registration, version


def save_predictor(predictor: Predictor, directory: str | Path, extra: dict[str, Any] | None = None, force: bool = False) -> None:
    """Write model/ and pricer.json beside the target, then swap it in: never half a model, never over a user's files."""
    registration, version = _registration(predictor.name)
    with output_folder(directory, force, kind="model") as staging:
        predictor.save(staging / MODEL_DIR)
        meta = {
            "format": FORMAT,
            "name": predictor.name,
            "plugin": registration.plugin if registration else None,
            "plugin_version": version,
            "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **(extra or {}),
        }
        write_json_atomic(staging / META_FILE, meta)


def read_meta(directory: str | Path) -> dict[str, Any]:
    """pricer.json as a dict; ModelFolderError (one line) if it is missing, unreadable or not ours."""
    from pricer_core.storage.bounded import UnsafeFile, read_bounded_text

    path = Path(directory) / META_FILE
    if not path.exists() and not path.is_symlink():
        raise ModelFolderError(f"{path}: no such file; not a model folder saved by pricer")
    try:
        meta = json.loads(read_bounded_text(path, META_LIMIT))
    except UnsafeFile as error:
        raise ModelFolderError(str(error)) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ModelFolderError(f"{path}: unreadable ({type(error).__name__}: {str(error)[:120]})") from None
    if not isinstance(meta, dict):
        raise ModelFolderError(f"{path}: not a JSON object")
    if meta.get("format") != FORMAT:
        raise ModelFolderError(f"{path}: format {meta.get('format')!r}, this pricer reads format {FORMAT}; refit the model")
    if not isinstance(meta.get("name"), str):
        raise ModelFolderError(f"{path}: field name: missing or not a string")
    return meta


def load_predictor(directory: str | Path, factory: type[Predictor] | None = None) -> Predictor:
    """Rebuild a predictor saved by `save_predictor`; the class comes from the registry (or `factory`), never from the folder."""
    directory = Path(directory)
    from pricer_core.storage.bounded import UnsafeFile, check_model_files

    links = [path for path in [directory, *directory.rglob("*")] if path.is_symlink()]
    if links:  # a link could make the loader read anything on this machine
        raise ModelFolderError(f"{directory}: holds a symbolic link ({links[0]}); a model folder must hold its own files")
    meta = read_meta(directory)  # bounded by itself
    name = meta["name"]
    try:  # FIFOs, devices, oversized JSON and archives that would inflate past their bound: before any loader runs
        check_model_files(directory)
    except UnsafeFile as error:
        raise ModelFolderError(f"{directory}: cannot load {name} ({error})") from None
    if factory is None:
        registration, version = _registration(name)
        if registration is None:
            raise ModelFolderError(f"{directory}: predictor {name!r} is not registered by any installed plugin")
        if meta.get("plugin") != registration.plugin or meta.get("plugin_version") != version:
            raise ModelFolderError(
                f"{directory}: saved by plugin {meta.get('plugin')} {meta.get('plugin_version')}, "
                f"installed is {registration.plugin} {version}; refit it with this version"
            )
        factory = registration.factory
    elif getattr(factory, "name", None) != name:
        raise ModelFolderError(f"{directory}: holds predictor {name!r}, not {getattr(factory, 'name', factory)!r}")
    try:
        return factory.load(directory / MODEL_DIR)
    except ModelFolderError:
        raise
    except Exception as error:  # any unreadable state is one line naming the folder
        raise ModelFolderError(f"{directory}: cannot load {name} ({type(error).__name__}: {short_text(error, 240)})") from error
