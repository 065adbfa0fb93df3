"""Cleaning raw Amazon Reviews 2023 metadata at scale, in parallel, with flat memory.

Local jsonl(.gz) files are read as blocks of whole lines (a few MB each); a pool of all cores
splits them, skips the rows without a price unparsed, parses the rest lazily, cleans them and
returns the kept Items as Arrow tables, which this process appends to one Arrow file on disk:
memory stays flat whatever the number of rows. Parquet files and the McAuley-Lab hub repo go
through `datasets` and its parallel `map`. Every dropped row is counted by reason; a malformed line
is reported with its file and line number and the run goes on; a gzip that ends early or is corrupt
stops the run with a DataError naming the last whole line read.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pricer_core.curation.block_ring import BLOCK_BYTES, BlockRing, SlotRef
from pricer_core.data.cleaning import NO_PRICE, DroppedRow, clean_raw_fields
from pricer_core.item import stable_id
from pricer_core.curation.line_blocks import LineBlock, open_binary
from pricer_core.curation.raw_json import RawRowParser, has_null_price
from pricer_core.data.readers import BAD_JSON, ReadReport, drop_reason, parse_json_line, read_error, readable_lines, regular_input, source_name, without_bom
from pricer_core.errors import short_text

HUB_REPO = "McAuley-Lab/Amazon-Reviews-2023"
BATCH_ROWS = 1000
ITEM_COLUMNS = ("id", "title", "category", "price", "full", "weight", "summary", "source")


def empty_report() -> ReadReport:
    """A zeroed report for a whole curation run: the readers' counts, summed over many files as they are read."""
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
    from pricer_core.data.hub import item_features

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
        line = without_bom(line)
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
        except (ValueError, RecursionError) as error:  # bad JSON, bad UTF-8, not an object, too deep
            problem = _line_problem(line, error)
            result.dropped[drop_reason(problem)] += 1
            result.problems.append((offset, problem))
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


def _line_problem(line: bytes, error: BaseException) -> str:
    """What is wrong with a line the fast parser refused, in the words `read_items` uses for it."""
    problem = parse_json_line(line)  # the slow parser, only on the rare bad line
    return problem if isinstance(problem, str) else f"{BAD_JSON} ({short_text(error, 80) or type(error).__name__})"


class _ReadFailed(Exception):
    """A file stopped decoding (truncated or corrupt gzip); raised once the blocks already sent
    have been cleaned and counted."""

    def __init__(self, path: str, cause: BaseException):
        super().__init__(path)
        self.path, self.cause = path, cause


def _ring_tasks(paths: list[str], ring: BlockRing) -> Iterator[LineBlock | SharedLineBlock]:
    """Every file's blocks as tasks; the caller makes sure a slot is free before asking for the next."""
    for path in paths:
        with open_binary(path) as handle:
            try:
                for block in ring.blocks(handle):
                    yield SharedLineBlock(path, block) if isinstance(block, SlotRef) else LineBlock(path, block)
            except Exception as error:  # EOFError, BadGzipFile, IsalError: only reading is in here
                raise _ReadFailed(path, error) from None


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
        pool = multiprocessing.get_context("fork").Pool(workers, initializer=_default_sigterm)
        pending: deque[tuple[Any, int | None]] = deque()
        failure = None
        while True:
            while pending and (len(pending) >= slots or not ring.has_free_slot() or pending[0][0].ready()):
                yield _collect(pending.popleft(), ring)
            try:
                task = next(tasks, None)
            except _ReadFailed as error:  # the blocks already sent are counted first
                failure, task = error, None
            if task is None:
                break
            pending.append((pool.apply_async(clean_block, (task,)), _slot_of(task)))
        while pending:
            yield _collect(pending.popleft(), ring)
        pool.close()
        if failure is not None:
            raise failure
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


def _default_sigterm() -> None:
    """A forked worker dies on SIGTERM (pool.terminate) instead of unwinding like the command that forked it."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _clean_json_lines(paths: list[str], workers: int, cache_dir: str | None, report: ReadReport, progress: bool):
    """Clean across a pool and append the kept Items to one Arrow file, in file order.

    Without `cache_dir` the file goes to a new pricer-curate-* temporary folder: removed at once if
    cleaning fails, else when the interpreter exits (the returned Dataset maps the file until then).
    """
    import atexit
    import tempfile
    import uuid

    from datasets import Dataset
    from datasets.arrow_writer import ArrowWriter
    from tqdm.auto import tqdm

    from pricer_core.data.hub import item_features

    temporary = None if cache_dir else tempfile.mkdtemp(prefix="pricer-curate-")
    folder = Path(cache_dir or temporary)
    folder.mkdir(parents=True, exist_ok=True)
    arrow_path = folder / f"cleaned-{uuid.uuid4().hex[:12]}.arrow"
    next_line, next_row = dict.fromkeys(paths, 1), dict.fromkeys(paths, 0)
    try:
        with ArrowWriter(features=item_features(), path=str(arrow_path)) as writer, tqdm(desc="cleaning", unit=" rows", disable=not progress) as bar:
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
        dataset = Dataset.from_file(str(arrow_path))
    except _ReadFailed as failed:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            arrow_path.unlink(missing_ok=True)
        # isal drops the lines it decompressed in the read that failed: count them again exactly
        raise read_error(failed.path, readable_lines(failed.path), failed.cause) from None
    except BaseException:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            arrow_path.unlink(missing_ok=True)
        raise
    if temporary:
        atexit.register(shutil.rmtree, temporary, True)
    return dataset


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
    """(Dataset of cleaned items, ReadReport) from local raw files (jsonl, jsonl.gz or parquet).

    report.kept + sum(report.dropped.values()) == report.rows, the non-blank lines read. A gzip that
    ends early or is corrupt raises DataError naming the file and its last whole line.
    """
    from datasets import Dataset, concatenate_datasets

    paths = [str(path) for path in paths]
    for path in paths:
        regular_input(path)  # a FIFO or a device is named as one, before any worker starts
    json_paths = [path for path in paths if not path.endswith(".parquet")]
    parts = []
    report = empty_report()
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
    return _split_kept(cleaned, empty_report())


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


