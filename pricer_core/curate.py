"""Clean raw Amazon Reviews 2023 metadata at scale and build the seed's lite/full datasets.

Local jsonl(.gz) files are read once in this process (rows without a price are counted without
being parsed), the rest is cleaned in batches of 1000 across a pool of all cores, and kept Items
are written straight to an Arrow file: memory stays flat whatever the number of rows. Parquet
files and the McAuley-Lab hub repo go through `datasets` and its parallel `map`. Every dropped row is counted by reason;
a malformed line is reported with its file and line number and the run goes on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .cleaning import NO_PRICE, DroppedRow, clean_raw_row, has_null_price
from .readers import BAD_JSON, ReadReport, open_binary, source_name
from .text import normalise_title

HUB_REPO = "McAuley-Lab/Amazon-Reviews-2023"
BATCH_ROWS = 1000
SEED_CATEGORIES = (
    "Automotive",
    "Electronics",
    "Office_Products",
    "Tools_and_Home_Improvement",
    "Cell_Phones_and_Accessories",
    "Toys_and_Games",
    "Appliances",
    "Musical_Instruments",
)
CATEGORY_FACTORS = {"Tools_and_Home_Improvement": 0.5, "Automotive": 0.05}
ITEM_COLUMNS = ("id", "title", "category", "price", "full", "weight", "summary", "source")

try:  # orjson parses ~3x faster; the standard library is the fallback
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads


def run_report() -> ReadReport:
    """Counts for a whole curation run: the readers' report, summed over many files."""
    return ReadReport(path="", format="raw")


def _line_batches(paths: list[str], report: ReadReport) -> Iterator[dict[str, list[Any]]]:
    """Batches of the raw lines that need parsing. Rows without a price (most of them) are counted
    here, in the reading process, and never cross to a worker."""
    batch: dict[str, list[Any]] = {"line": [], "source": [], "path": [], "line_number": []}
    for path in paths:
        source = source_name(path)
        # Bytes, not text: the price-less majority is never decoded; orjson/json parse bytes directly.
        with open_binary(path) as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                report.rows += 1
                if has_null_price(line):
                    report.dropped[NO_PRICE] += 1
                    continue
                for key, value in (("line", line), ("source", source), ("path", path), ("line_number", line_number)):
                    batch[key].append(value)
                if len(batch["line"]) == BATCH_ROWS:
                    yield batch
                    batch = {key: [] for key in batch}
    if batch["line"]:
        yield batch


def _clean_json_lines(paths: list[str], workers: int, cache_dir: str | None, report: ReadReport):
    """Read in this process, clean across a pool, write kept Items straight to an Arrow file."""
    import multiprocessing
    import tempfile
    import uuid

    from datasets import Dataset
    from datasets.arrow_writer import ArrowWriter

    from .hub import item_features

    folder = Path(cache_dir or tempfile.mkdtemp(prefix="pricer-curate-"))
    folder.mkdir(parents=True, exist_ok=True)
    arrow_path = folder / f"cleaned-{uuid.uuid4().hex[:12]}.arrow"
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        batches = _line_batches(paths, report)
        results = pool.imap(clean_line_batch, batches) if pool else map(clean_line_batch, batches)
        with ArrowWriter(features=item_features(), path=str(arrow_path)) as writer:
            for out in results:
                keep = [position for position, reason in enumerate(out["reason"]) if reason is None]
                for position, reason in enumerate(out["reason"]):
                    if reason is not None:
                        report.dropped[reason] += 1
                        if out["problem"][position]:
                            report.problems.append(out["problem"][position])
                report.kept += len(keep)
                writer.write_batch({column: [out[column][position] for position in keep] for column in ITEM_COLUMNS})
            writer.finalize()
    finally:
        if pool:
            pool.close()
            pool.join()
    return Dataset.from_file(str(arrow_path))


def clean_line_batch(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """One batch of raw JSON lines → Item columns, with a reason column for the dropped ones."""
    out: dict[str, list[Any]] = {column: [] for column in ITEM_COLUMNS}
    out["reason"], out["problem"] = [], []
    for line, source, path, line_number in zip(batch["line"], batch["source"], batch["path"], batch["line_number"]):
        reason = problem = None
        item = None
        try:
            row = _loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            item = clean_raw_row(row, source, line_number)
        except DroppedRow as dropped:
            reason = dropped.reason
        except ValueError as error:  # json.JSONDecodeError and orjson.JSONDecodeError are ValueErrors
            reason, problem = BAD_JSON, f"{path}:{line_number}: {BAD_JSON} ({str(error).splitlines()[0][:80]})"
        _append(out, item, reason, problem)
    return out


def clean_row_batch(batch: dict[str, list[Any]], source: str) -> dict[str, list[Any]]:
    """Same as clean_line_batch for rows `datasets` already parsed (hub files)."""
    out: dict[str, list[Any]] = {column: [] for column in ITEM_COLUMNS}
    out["reason"], out["problem"] = [], []
    columns = list(batch)
    for position in range(len(batch[columns[0]]) if columns else 0):
        row = {column: batch[column][position] for column in columns}
        try:
            _append(out, clean_raw_row(row, source, position), None, None)
        except DroppedRow as dropped:
            _append(out, None, dropped.reason, None)
    return out


def _append(out: dict[str, list[Any]], item, reason: str | None, problem: str | None) -> None:
    for column in ITEM_COLUMNS:
        out[column].append(getattr(item, column) if item is not None else None)
    out["reason"].append(reason)
    out["problem"].append(problem)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def clean_files(paths: list[str | Path], workers: int | None = None, cache_dir: str | None = None):
    """(Dataset of cleaned items, ReadReport) from local raw files (jsonl, jsonl.gz or parquet)."""
    from datasets import Dataset, concatenate_datasets

    paths = [str(path) for path in paths]
    json_paths = [path for path in paths if not path.endswith(".parquet")]
    parts = []
    report = run_report()
    workers = workers or default_workers()
    if json_paths:
        parts.append(_clean_json_lines(json_paths, workers, cache_dir, report))
    for path in paths:
        if path.endswith(".parquet"):
            raw = Dataset.from_parquet(path, cache_dir=cache_dir)
            cleaned = raw.map(clean_row_batch, batched=True, batch_size=BATCH_ROWS, num_proc=_procs(workers, len(raw)), remove_columns=raw.column_names, fn_kwargs={"source": source_name(path)}, desc="cleaning")
            parts.append(_split_kept(cleaned, report)[0])
    return (concatenate_datasets(parts) if len(parts) > 1 else parts[0]), report


def clean_hub_category(category: str, workers: int | None = None, repo: str = HUB_REPO):
    """The raw metadata of one category straight from the hub repo's data files (no remote code)."""
    from datasets import load_dataset

    raw = load_dataset(repo, data_files=f"raw/meta_categories/meta_{category}.jsonl", split="train")
    cleaned = raw.map(clean_row_batch, batched=True, batch_size=BATCH_ROWS, num_proc=_procs(workers or default_workers(), len(raw)), remove_columns=raw.column_names, fn_kwargs={"source": f"meta_{category}"}, desc=f"cleaning {category}")
    return _split_kept(cleaned, run_report())


def _procs(workers: int, rows: int) -> int | None:
    return workers if workers > 1 and rows >= 2 * BATCH_ROWS else None


def _split_kept(cleaned, report: ReadReport):
    """Count reasons with Arrow (no Python loop over kept rows), then drop the bookkeeping columns."""
    reasons = cleaned.data.column("reason").to_pylist()
    report.rows += len(reasons)
    report.dropped.update(reason for reason in reasons if reason is not None)
    report.kept += sum(1 for reason in reasons if reason is None)
    problems = cleaned.data.column("problem").drop_null().to_pylist()
    report.problems.extend(problems)
    kept = cleaned.filter(lambda batch: [reason is None for reason in batch["reason"]], batched=True, batch_size=10_000, input_columns=None)
    return kept.select_columns(list(ITEM_COLUMNS)), report


def dedupe(dataset):
    """Drop repeated titles, then repeated full texts (normalised titles; first occurrence wins)."""
    seen_titles: set[str] = set()
    seen_texts: set[int] = set()
    keep = []
    for index, (title, full) in enumerate(zip(dataset["title"], dataset["full"])):
        key = normalise_title(title)
        text_key = hash(full)
        if key in seen_titles or text_key in seen_texts:
            continue
        seen_titles.add(key)
        seen_texts.add(text_key)
        keep.append(index)
    return dataset.select(keep)


def sample_weights(prices, categories) -> Any:
    """The seed's sampling weights: (min-max normalised price)², Tools ×0.5, Automotive ×0.05."""
    import numpy as np

    prices = np.asarray(prices, dtype=float)
    span = prices.max() - prices.min()
    weights = ((prices - prices.min()) / span) ** 2 if span > 0 else np.ones_like(prices)
    factors = np.asarray([CATEGORY_FACTORS.get(category, 1.0) for category in categories])
    return weights * factors


def build_splits(dataset, train: int, validation: int, test: int, seed: int = 42):
    """Price-weighted sample without replacement, shuffled, cut into train/validation/test."""
    import numpy as np

    from datasets import DatasetDict

    total = train + validation + test
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


def lite(dataset_dict, train: int = 20_000, validation: int = 1_000, test: int = 1_000):
    """"lite" is a prefix of "full", as in the seed."""
    from datasets import DatasetDict

    sizes = {"train": train, "validation": validation, "test": test}
    return DatasetDict({split: dataset_dict[split].select(range(min(size, len(dataset_dict[split])))) for split, size in sizes.items()})
