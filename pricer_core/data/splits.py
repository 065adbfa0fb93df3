"""Train/validation/test as one value, and the bundled benchmark dataset that ships with pricer."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pricer_core.item import Item
from pricer_core.data.readers import DataError, read_items

SPLIT_NAMES = ("train", "validation", "test")
BUNDLE_NAME = "pricer-bundle-v1"
MIN_SOURCE_ROWS = 100  # a source with fewer labelled rows is too small to be held out and scored


@dataclass
class Splits:
    """The three splits a predictor is fitted and judged on."""

    name: str
    train: list[Item]
    validation: list[Item]
    test: list[Item]

    def sizes(self) -> dict[str, int]:
        return {split: len(getattr(self, split)) for split in SPLIT_NAMES}


def source_folds(splits: Splits, sample_size: int, min_rows: int = MIN_SOURCE_ROWS) -> list[tuple[str, Splits]]:
    """(held-out source, splits without it and with its first `sample_size` labelled rows as the test).

    Every source of train + validation with at least `min_rows` labelled rows, in name order. The
    one definition of "a source never seen": the bench's leave-one-source-out and the ensemble's
    held-out-source weights both use it.
    """
    from collections import Counter

    labelled = [item for item in splits.train + splits.validation if item.price is not None]
    counts = Counter(item.source or "" for item in labelled)
    result = []
    for source in sorted(name for name, count in counts.items() if count >= min_rows):
        held_out = [item for item in labelled if (item.source or "") == source][:sample_size]
        train = [item for item in splits.train if (item.source or "") != source]
        validation = [item for item in splits.validation if (item.source or "") != source]
        result.append((source, Splits(f"{splits.name}-without-{source}", train, validation, held_out)))
    return result


def ids_sha256(items: list[Item]) -> str:
    """Fingerprint of which items, in which order: two runs compare only if these match."""
    return hashlib.sha256("\n".join(item.id for item in items).encode()).hexdigest()


def content_sha256(items: list[Item]) -> str:
    """Fingerprint of every field of every item, in order: the same ids with other prices differ."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.model_dump_json().encode())
        digest.update(b"\n")
    return digest.hexdigest()


def bundle_dir() -> Path:
    return Path(str(resources.files("pricer_core") / "data" / "bundle"))


def load_bundle() -> Splits:
    """The bundled dataset (SPEC section 1): official test[:250] and ~15k de-leaked training rows."""
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
    text = str(data)
    if text.startswith((".", "/", "~")) or text.count("/") != 1 or text.endswith((".gz", ".jsonl", ".json", ".parquet")):
        raise DataError(f"{data}: no such folder (and not a hub dataset id of the form user/name)")
    from pricer_core.data.hub import from_hub

    try:
        return from_hub(text)
    except DataError:
        raise
    except Exception as error:  # the hub's own errors are long; one line says what failed
        first = (str(error).strip().splitlines() or [""])[0][:160]
        raise DataError(f"{data}: not a local folder, and the hub could not load it ({type(error).__name__}: {first})") from None


def load_manifest() -> dict:
    return json.loads((bundle_dir() / "manifest.json").read_text())
