"""From cleaned rows to splits: dedupe, the course's price-weighted sample, the lite prefix."""

from __future__ import annotations

from typing import Any

from pricer_core.data.readers import DataError
from pricer_core.data.text import normalise_title

CATEGORY_FACTORS = {"Tools_and_Home_Improvement": 0.5, "Automotive": 0.05}


def dedupe(dataset, batch_rows: int = 10_000):
    """Drop repeated titles, then repeated full texts (normalised titles; first occurrence wins).

    Reads the two columns a batch at a time and remembers 128-bit hashes, not texts: 800k rows
    cost ~100 MB of sets instead of the ~3 GB their full texts would.
    """
    from xxhash import xxh3_128_intdigest  # a dependency of datasets

    seen_titles: set[int] = set()
    seen_texts: set[int] = set()
    keep = []
    index = 0
    for batch in dataset.select_columns(["title", "full"]).iter(batch_size=batch_rows):
        for title, full in zip(batch["title"], batch["full"]):
            title_key = xxh3_128_intdigest(normalise_title(title).encode())
            text_key = xxh3_128_intdigest(full.encode())
            if title_key not in seen_titles and text_key not in seen_texts:
                seen_titles.add(title_key)
                seen_texts.add(text_key)
                keep.append(index)
            index += 1
    return dataset.select(keep)


def sample_weights(prices, categories) -> Any:
    """The seed's sampling weights: (min-max normalised price)², Tools ×0.5, Automotive ×0.05."""
    import numpy as np

    prices = np.asarray(prices, dtype=float)
    if prices.size == 0:
        return prices
    span = prices.max() - prices.min()
    weights = ((prices - prices.min()) / span) ** 2 if span > 0 else np.ones_like(prices)
    factors = np.asarray([CATEGORY_FACTORS.get(category, 1.0) for category in categories])
    return weights * factors


def build_splits(dataset, train: int, validation: int, test: int, seed: int = 42):
    """Price-weighted sample without replacement, shuffled, cut into train/validation/test."""
    import numpy as np

    from datasets import DatasetDict

    total = train + validation + test
    if len(dataset) == 0:
        raise ValueError("no items to sample from")
    weights = sample_weights(dataset["price"], dataset["category"])
    available = int((weights > 0).sum())
    if total > available:
        raise ValueError(f"asked for {total} items but only {available} have a non-zero sampling weight")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(dataset), size=total, replace=False, p=weights / weights.sum())
    picked = dataset.select(chosen.tolist())
    return DatasetDict(
        {
            "train": picked.select(range(train)),
            "validation": picked.select(range(train, train + validation)),
            "test": picked.select(range(train + validation, total)),
        }
    )


def sampleable(dataset) -> int:
    """How many items have a non-zero sampling weight (the cheapest item never has one)."""
    if len(dataset) == 0:
        return 0
    return int((sample_weights(dataset["price"], dataset["category"]) > 0).sum())


def scaled_sizes(available: int, train: int, validation: int, test: int) -> tuple[int, int, int]:
    """The sizes asked for or, when fewer items can be sampled, all of them in the same proportions.

    Each split asked for keeps at least one item; the largest split absorbs the rounding.
    """
    asked = (train, validation, test)
    if min(asked) < 0:
        raise ValueError(f"split sizes must be >= 0, got {train}/{validation}/{test}")
    total = sum(asked)
    if total <= available:
        return asked
    needed = sum(1 for size in asked if size)
    if available < needed:
        raise DataError(f"only {available} items can be sampled (non-zero price weight); {needed} splits need at least one each")
    sizes = [max(1, round(size * available / total)) if size else 0 for size in asked]
    largest = asked.index(max(asked))
    sizes[largest] += available - sum(sizes)
    while sizes[largest] < 1:  # many tiny splits rounded up: take back from the others
        donor = max((index for index in range(3) if index != largest), key=lambda index: sizes[index])
        sizes[donor] -= 1
        sizes[largest] += 1
    return tuple(sizes)


def lite(dataset_dict, train: int = 20_000, validation: int = 1_000, test: int = 1_000):
    """"lite" is a prefix of "full", as in the seed."""
    from datasets import DatasetDict

    sizes = {"train": train, "validation": validation, "test": test}
    return DatasetDict({split: dataset_dict[split].select(range(min(size, len(dataset_dict[split])))) for split, size in sizes.items()})
