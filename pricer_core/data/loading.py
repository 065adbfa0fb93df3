"""Where splits come from: the bundled dataset, a folder of split files, a saved DatasetDict, or a hub id.

One entry point, `load_splits`, so the bench, `pricer train` and the Python API read data the same
way; `data/hub.py` holds the DatasetDict and hub round-trip it calls.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pricer_core.item import Item
from pricer_core.data.readers import DataError, read_items
from pricer_core.data.splits import SPLIT_NAMES, Splits

BUNDLE_NAME = "pricer-bundle-v1"


def bundle_dir() -> Path:
    return Path(str(resources.files("pricer_core") / "data" / "bundle"))


def load_bundle() -> Splits:
    """The bundled dataset: the course's official test[:250] and ~15k de-leaked training rows."""
    return load_split_dir(bundle_dir(), name=BUNDLE_NAME)


def load_split_dir(directory: str | Path, name: str | None = None) -> Splits:
    """A folder of train/validation/test JSON-lines files (pricer format), or a saved DatasetDict."""
    directory = Path(directory)
    if (directory / "dataset_dict.json").exists():
        from pricer_core.data.hub import load_local

        return load_local(directory)
    splits: dict[str, list[Item]] = {}
    for split in SPLIT_NAMES:
        candidates = [directory / f"{split}.jsonl.gz", directory / f"{split}.jsonl"]
        path = next((candidate for candidate in candidates if candidate.exists()), None)
        if path is None:
            raise DataError(f"{directory}: no {split}.jsonl(.gz)")
        splits[split], _ = read_items(path, format="pricer", strict=True)
    return Splits(name=name or directory.name, **splits)


def load_splits(data: str | Path | None) -> Splits:
    """The bundle (None), a folder of splits, or a hub dataset id; DataError (one line) otherwise."""
    if data is None:
        return load_bundle()
    if Path(data).exists():
        if not Path(data).is_dir():
            raise DataError(f"{data}: is a file; --data takes a folder of train/validation/test splits or a hub id")
        return load_split_dir(data)
    from pricer_core.data.hub import from_hub, is_hub_id

    text = str(data)
    if not is_hub_id(text):
        raise DataError(f"{data}: no such folder (and not a hub dataset id of the form user/name)")

    try:
        return from_hub(text)
    except DataError:
        raise
    except Exception as error:  # the hub's own errors are long; one line says what failed
        first = (str(error).strip().splitlines() or [""])[0][:160]
        raise DataError(f"{data}: not a local folder, and the hub could not load it ({type(error).__name__}: {first})") from None


def load_manifest() -> dict:
    return json.loads((bundle_dir() / "manifest.json").read_text())
