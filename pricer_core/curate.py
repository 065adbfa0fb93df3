"""Clean raw Amazon Reviews 2023 metadata at scale and build the seed's lite/full datasets.

Local jsonl(.gz) files are read as blocks of whole lines (a few MB each); a pool of all cores
splits them, skips the rows without a price unparsed, parses the rest lazily, cleans them and
returns the kept Items as Arrow tables, which this process appends to one Arrow file on disk:
memory stays flat whatever the number of rows. Parquet files and the McAuley-Lab hub repo go
through `datasets` and its parallel `map`. Every dropped row is counted by reason; a malformed line
is reported with its file and line number and the run goes on.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .block_ring import BLOCK_BYTES, BlockRing, SlotRef
from .cleaning import NO_PRICE, DroppedRow, clean_raw_fields
from .item import stable_id
from .line_blocks import LineBlock, open_binary
from .raw_json import RawRowParser, has_null_price
from .readers import BAD_JSON, ReadReport, source_name
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


def run_report() -> ReadReport:
    """Counts for a whole curation run: the readers' report, summed over many files."""
    return ReadReport(path="", format="raw")


@dataclass
class CleanedBlock:
    """What one block of raw lines became. Lines and rows are counted from the block's start until
    `numbered` makes them the file's, in the process that knows where the block starts."""

    path: str
    newlines: int = 0
    rows: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line offset, what is wrong)
    unnumbered: list[tuple[int, int]] = field(default_factory=list)  # (table row, data row in block): no ASIN
    items: Any = None  # pyarrow.Table in Item column order

    def numbered(self, first_line: int, first_row: int) -> tuple[list[str], Any]:
        """(problems as "file:line: ..." lines, items whose ids come from their data row filled in).

        Rows are numbered as `read_items` numbers them (from 0, blank lines skipped), so an item
        without an ASIN gets the same id whichever way its file is read."""
        problems = [f"{self.path}:{first_line + offset}: {text}" for offset, text in self.problems]
        if not self.unnumbered:
            return problems, self.items
        import pyarrow as pa

        ids = self.items.column("id").to_pylist()
        for table_row, data_row in self.unnumbered:
            ids[table_row] = stable_id(source_name(self.path), first_row + data_row)
        return problems, self.items.set_column(0, "id", pa.array(ids, pa.string()))


@lru_cache(maxsize=1)
def _item_schema():
    from .hub import item_features

    return item_features().arrow_schema


@dataclass(frozen=True)
class SharedLineBlock:
    """A block whose bytes wait in the worker ring: only this crosses the pipe."""

    path: str
    ref: SlotRef


_parser: RawRowParser | None = None
_ring: BlockRing | None = None  # set before the pool forks; workers inherit it


def clean_block(block: LineBlock | SharedLineBlock) -> CleanedBlock:
    """Raw JSON lines → kept Items (an Arrow table) and the count of every dropped row by reason."""
    import pyarrow as pa

    global _parser
    if _parser is None:
        _parser = RawRowParser()
    parse = _parser.parse
    lines = (block.data if isinstance(block, LineBlock) else _ring.read(block.ref)).split(b"\n")
    source = source_name(block.path)
    result = CleanedBlock(block.path, newlines=len(lines) - 1)
    columns: dict[str, list[Any]] = {column: [] for column in ITEM_COLUMNS}
    no_price = 0
    for offset, line in enumerate(lines):
        if has_null_price(line):
            no_price += 1
            continue
        if not line.strip():
            continue
        result.rows += 1
        try:
            fields = clean_raw_fields(parse(line), source, None)
        except DroppedRow as dropped:
            result.dropped[dropped.reason] += 1
            continue
        except ValueError as error:  # bad JSON, bad UTF-8, not an object
            result.dropped[BAD_JSON] += 1
            result.problems.append((offset, f"{BAD_JSON} ({str(error).splitlines()[0][:80]})"))
            continue
        if fields["id"] is None:
            result.unnumbered.append((len(columns["id"]), result.rows + no_price - 1))
        for column in ITEM_COLUMNS:
            columns[column].append(fields[column])
    if no_price:
        result.rows += no_price
        result.dropped[NO_PRICE] += no_price
    result.items = pa.Table.from_pydict(columns, schema=_item_schema())
    return result


def _ring_tasks(paths: list[str], ring: BlockRing) -> Iterator[LineBlock | SharedLineBlock]:
    """Every file's blocks as tasks; the caller makes sure a slot is free before asking for the next."""
    for path in paths:
        with open_binary(path) as handle:
            for block in ring.blocks(handle):
                yield SharedLineBlock(path, block) if isinstance(block, SlotRef) else LineBlock(path, block)


def _cleaned_in_order(paths: list[str], workers: int) -> Iterator[CleanedBlock]:
    """Cleaned blocks in file order (dedupe keeps the first occurrence). With workers, blocks go out
    through the shared ring while earlier results come back; the ring's size bounds the memory."""
    import multiprocessing

    global _ring
    slots = 2 * workers + 2 if workers > 1 else 1
    _ring = ring = BlockRing(slots, BLOCK_BYTES)
    pool = None
    try:
        tasks = _ring_tasks(paths, ring)
        if workers <= 1:
            for task in tasks:
                cleaned = clean_block(task)
                if (slot := _slot_of(task)) is not None:
                    ring.release(slot)  # before the next block is read into it
                yield cleaned
            return
        _item_schema()  # built before forking, so workers inherit it
        pool = multiprocessing.get_context("fork").Pool(workers)
        pending: deque[tuple[Any, int | None]] = deque()
        while True:
            while pending and (len(pending) >= slots or not ring.has_free_slot() or pending[0][0].ready()):
                yield _collect(pending.popleft(), ring)
            task = next(tasks, None)
            if task is None:
                break
            pending.append((pool.apply_async(clean_block, (task,)), _slot_of(task)))
        while pending:
            yield _collect(pending.popleft(), ring)
        pool.close()
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _ring = None
        ring.close()


def _slot_of(task: LineBlock | SharedLineBlock) -> int | None:
    return task.ref.slot if isinstance(task, SharedLineBlock) else None


def _collect(entry: tuple[Any, int | None], ring: BlockRing) -> CleanedBlock:
    result, slot = entry
    cleaned = result.get()
    if slot is not None:
        ring.release(slot)
    return cleaned


def _clean_json_lines(paths: list[str], workers: int, cache_dir: str | None, report: ReadReport, progress: bool):
    """Clean across a pool and append the kept Items to one Arrow file, in file order."""
    import tempfile
    import uuid

    from datasets import Dataset
    from datasets.arrow_writer import ArrowWriter
    from tqdm.auto import tqdm

    from .hub import item_features

    folder = Path(cache_dir or tempfile.mkdtemp(prefix="pricer-curate-"))
    folder.mkdir(parents=True, exist_ok=True)
    arrow_path = folder / f"cleaned-{uuid.uuid4().hex[:12]}.arrow"
    with ArrowWriter(features=item_features(), path=str(arrow_path)) as writer, tqdm(desc="cleaning", unit=" rows", disable=not progress) as bar:
        next_line, next_row = dict.fromkeys(paths, 1), dict.fromkeys(paths, 0)
        for cleaned in _cleaned_in_order(paths, workers):
            problems, items = cleaned.numbered(next_line[cleaned.path], next_row[cleaned.path])
            next_line[cleaned.path] += cleaned.newlines
            next_row[cleaned.path] += cleaned.rows
            report.rows += cleaned.rows
            report.dropped.update(cleaned.dropped)
            report.problems.extend(problems)
            report.kept += items.num_rows
            if items.num_rows:
                writer.write_table(items)
            bar.update(cleaned.rows)
        writer.finalize()
    return Dataset.from_file(str(arrow_path))


def clean_row_batch(batch: dict[str, list[Any]], indices: list[int], source: str) -> dict[str, list[Any]]:
    """Rows `datasets` already parsed (parquet, hub files) → Item columns plus a reason column."""
    out: dict[str, list[Any]] = {column: [] for column in (*ITEM_COLUMNS, "reason")}
    columns = list(batch)
    for position, index in enumerate(indices):
        row = {column: batch[column][position] for column in columns}
        try:
            fields, reason = clean_raw_fields(row, source, index), None
        except DroppedRow as dropped:
            fields, reason = dict.fromkeys(ITEM_COLUMNS), dropped.reason
        for column in ITEM_COLUMNS:
            out[column].append(fields[column])
        out["reason"].append(reason)
    return out


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def clean_files(paths: list[str | Path], workers: int | None = None, cache_dir: str | None = None, progress: bool = True):
    """(Dataset of cleaned items, ReadReport) from local raw files (jsonl, jsonl.gz or parquet)."""
    from datasets import Dataset, concatenate_datasets

    paths = [str(path) for path in paths]
    json_paths = [path for path in paths if not path.endswith(".parquet")]
    parts = []
    report = run_report()
    workers = workers or default_workers()
    if json_paths:
        parts.append(_clean_json_lines(json_paths, workers, cache_dir, report, progress))
    for path in paths:
        if path.endswith(".parquet"):
            raw = Dataset.from_parquet(path, cache_dir=cache_dir)
            cleaned = raw.map(clean_row_batch, batched=True, batch_size=BATCH_ROWS, num_proc=_procs(workers, len(raw)), with_indices=True, remove_columns=raw.column_names, fn_kwargs={"source": source_name(path)}, desc="cleaning")
            parts.append(_split_kept(cleaned, report)[0])
    return (concatenate_datasets(parts) if len(parts) > 1 else parts[0]), report


def clean_hub_category(category: str, workers: int | None = None, repo: str = HUB_REPO):
    """The raw metadata of one category straight from the hub repo's data files (no remote code)."""
    from datasets import load_dataset

    raw = load_dataset(repo, data_files=f"raw/meta_categories/meta_{category}.jsonl", split="train")
    cleaned = raw.map(clean_row_batch, batched=True, batch_size=BATCH_ROWS, num_proc=_procs(workers or default_workers(), len(raw)), with_indices=True, remove_columns=raw.column_names, fn_kwargs={"source": f"meta_{category}"}, desc=f"cleaning {category}")
    return _split_kept(cleaned, run_report())


def _procs(workers: int, rows: int) -> int | None:
    return workers if workers > 1 and rows >= 2 * BATCH_ROWS else None


def _split_kept(cleaned, report: ReadReport):
    """Count reasons with Arrow (no Python loop over kept rows), then drop the bookkeeping columns."""
    reasons = cleaned.data.column("reason").to_pylist()
    report.rows += len(reasons)
    report.dropped.update(reason for reason in reasons if reason is not None)
    report.kept += sum(1 for reason in reasons if reason is None)
    kept = cleaned.filter(lambda batch: [reason is None for reason in batch["reason"]], batched=True, batch_size=10_000, input_columns=None)
    return kept.select_columns(list(ITEM_COLUMNS)), report


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


def save_splits(dataset_dict, out: str | Path) -> None:
    """save_to_disk into OUT.partial, then swap it in: a killed run never leaves half a dataset."""
    from .persistence import replace_folder, staging_folder

    out = Path(out)
    staging = staging_folder(out)
    dataset_dict.save_to_disk(str(staging))
    replace_folder(staging, out)


def lite(dataset_dict, train: int = 20_000, validation: int = 1_000, test: int = 1_000):
    """"lite" is a prefix of "full", as in the seed."""
    from datasets import DatasetDict

    sizes = {"train": train, "validation": validation, "test": test}
    return DatasetDict({split: dataset_dict[split].select(range(min(size, len(dataset_dict[split])))) for split, size in sizes.items()})
