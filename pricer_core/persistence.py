"""Save a fitted predictor with enough metadata to load it anywhere, atomically."""

from __future__ import annotations

import importlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

from .predictor import Predictor

META_FILE = "pricer.json"
MODEL_DIR = "model"


def factory_path(factory: Any) -> str:
    return f"{factory.__module__}:{factory.__qualname__}"


def import_factory(path: str) -> Any:
    module_name, _, qualname = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def save_predictor(predictor: Predictor, directory: str | Path, extra: dict[str, Any] | None = None) -> None:
    """Write model/ and pricer.json into a temporary folder, then swap it in: never half a model."""
    directory = Path(directory)
    staging = staging_folder(directory)
    staging.mkdir(parents=True)
    predictor.save(staging / MODEL_DIR)
    meta = {
        "name": predictor.name,
        "class": factory_path(type(predictor)),
        "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **(extra or {}),
    }
    (staging / META_FILE).write_text(json.dumps(meta, indent=1))
    replace_folder(staging, directory)


def staging_folder(directory: Path) -> Path:
    """An empty sibling folder to write into before `replace_folder` swaps it in."""
    staging = directory.with_name(directory.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    return staging


def replace_folder(staging: Path, directory: Path) -> None:
    """Swap a fully written folder in: a crash before this leaves the old folder, never half a new one."""
    if directory.exists():
        shutil.rmtree(directory)
    staging.rename(directory)


def read_meta(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / META_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: not a saved pricer predictor")
    return json.loads(path.read_text())


def load_predictor(directory: str | Path) -> Predictor:
    """Rebuild a predictor saved by `save_predictor`, in this or any other process."""
    meta = read_meta(directory)
    return import_factory(meta["class"]).load(Path(directory) / MODEL_DIR)
