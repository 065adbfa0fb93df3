"""Train/validation/test as one value, its fingerprints, and the one definition of a held-out source.

Where splits come from (the bundle, a folder, a DatasetDict, a hub id) is `data/loading.py`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pricer_core.item import Item

SPLIT_NAMES = ("train", "validation", "test")
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
