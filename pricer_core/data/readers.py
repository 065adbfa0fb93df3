"""Read the four input formats (raw Amazon metadata, course rows, fine-tuning prompts, pricer items) into Items, counting every row not used.

`read_items(path)` detects the format from the first row (or takes `format=`). Malformed lines (bad
JSON, JSON nested too deep, bytes that are not UTF-8) are counted and described as "file:line: ..."
one-liners; `strict=True` raises on the first instead. A gzip stream that is truncated or corrupt
always raises `DataError` naming the last whole line read: a file that ends early is never passed
off as a shorter file. `require_price=False` (what `pricer predict` needs) keeps rows without a
usable price as Items with price None.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from pricer_core.data.cleaning import NO_TITLE, TOO_SHORT, DroppedRow
from pricer_core.data.cleaning import clean_raw_row, parse_details, price_or_none
from pricer_core.item import FULL_TEXT_LIMIT, Item, stable_id
from pricer_core.curation.line_blocks import MAX_LINE_BYTES, OVERLONG_LINE, is_gzip
from pricer_core.data.text import collapse_whitespace, strip_scaffolding
from pricer_core.data.units import weight_in_pounds
from pricer_core.errors import short_text

Format = Literal["raw", "course", "finetune", "pricer"]
FORMATS: tuple[str, ...] = ("raw", "course", "finetune", "pricer")
BAD_JSON = "bad JSON"
BAD_ENCODING = "bad encoding"
INVALID_FIELD = "invalid field"
LINE_TOO_LONG = "line too long"
MIN_TEXT_CHARS = 20

_INSTRUCTION_LINE = re.compile(
    r"^(Estimate the|You are a|Respond (only )?with|Below are the details|How much does this cost|"
    r"What does this cost)",
    re.IGNORECASE,
)
_KEY_VALUE_LINE = re.compile(r"^(Title|Category|Brand|Description|Details|Weight|Summary|Features):\s*(.*)$")
_SUMMARY_KEYS = ("Title", "Category", "Brand", "Description", "Details")


class DataError(ValueError):
    """Input that cannot be read; the message (one line) names the file and line."""


def read_error(path: str | Path, last_line: int, error: BaseException) -> DataError:
    """A file whose bytes stop decoding: where it stopped, so nobody mistakes it for a shorter file."""
    what = "truncated or corrupt gzip" if is_gzip(path) else "read error"
    where = f"after line {last_line}, the last whole line read" if last_line else "before its first line"
    return DataError(f"{path}: {what} {where} ({type(error).__name__}: {short_text(error, 120)})")


@dataclass
class ReadReport:
    """What happened to every row of one file."""

    path: str
    format: str
    rows: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    unpriced: int = 0  # kept rows whose price is None (what require_price=False lets through)

    def summary(self) -> str:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in self.dropped.most_common())
        where = f"{Path(self.path).name} ({self.format}): " if self.path else ""
        unpriced = f" ({self.unpriced} without a usable price)" if self.unpriced else ""
        return f"{where}{self.kept}/{self.rows} rows kept{unpriced}" + (f"; dropped {reasons}" if reasons else "")


def source_name(path: str | Path) -> str:
    """File name without .jsonl/.json/.gz/.parquet: the provenance a predictor may rely on."""
    name = Path(path).name
    for suffix in (".gz", ".jsonl", ".json", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


UTF8_BOM = b"\xef\xbb\xbf"  # Windows editors start UTF-8 files with it; JSON parsers refuse it


def without_bom(line: bytes) -> bytes:
    """A line without a leading UTF-8 byte-order mark: otherwise a file's row 1 is lost as bad JSON.

    Every line, not only the first: `cat` of such files puts a mark at the start of each one.
    """
    return line[len(UTF8_BOM):] if line.startswith(UTF8_BOM) else line


def _open_exact(path: str | Path):
    """Plain or gzip bytes through the standard library, which hands over every whole line it can
    decompress before the damage in a truncated file (isal's reader drops its last buffer)."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def readable_lines(path: str | Path) -> int:
    """How many whole lines of a damaged file come out before it stops decoding."""
    count = 0
    with _open_exact(path) as handle:
        try:
            while chunk := handle.read1(1 << 20):
                count += chunk.count(b"\n")
        except Exception:
            pass
    return count


def iter_byte_lines(path: str | Path) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for every line, split on b"\\n" only, as curation splits them; None for a
    line longer than MAX_LINE_BYTES, whose bytes are skipped in chunks so memory stays bounded.

    A read that fails (gzip truncated or corrupt) raises DataError naming the last whole line.
    """
    regular_input(path)
    line_number = 0
    with _open_exact(path) as handle:
        while True:
            try:
                line: bytes | None = handle.readline(MAX_LINE_BYTES + 1)
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass
                    line = None
            except Exception as error:  # EOFError, BadGzipFile, zlib.error, isal's IsalError: only I/O is in here
                raise read_error(path, line_number, error) from None
            if line == b"":
                return
            line_number += 1
            yield line_number, None if line is None else without_bom(line)


def regular_input(path: str | Path) -> None:
    """Only a regular file is read as input: a FIFO would hang, /dev/zero would never end."""
    from pricer_core.storage.bounded import UnsafeFile, regular_file

    try:
        regular_file(path)
    except UnsafeFile as error:
        raise DataError(str(error)) from None


def parse_json_line(line: bytes | None) -> dict[str, Any] | str:
    """One line as a JSON object, or the text of what is wrong with it, prefixed by its drop reason
    (None: a line past MAX_LINE_BYTES, see `iter_byte_lines`)."""
    if line is None or line == OVERLONG_LINE:
        return f"{LINE_TOO_LONG} (over {MAX_LINE_BYTES:,} bytes)"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"{BAD_ENCODING} (not UTF-8 at byte {error.start + 1})"
    try:
        row = json.loads(text)
    except json.JSONDecodeError as error:
        return f"{BAD_JSON} ({error.msg} at column {error.colno})"
    except RecursionError:
        return f"{BAD_JSON} (nested too deep)"
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        return f"{BAD_JSON} ({short_text(error, 80)})"
    return row if isinstance(row, dict) else f"{BAD_JSON} (not a JSON object)"


def iter_json_lines(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row) for every non-blank line; a row that is not a JSON object comes as its
    error text, which starts with its drop reason (BAD_JSON or BAD_ENCODING)."""
    for line_number, line in iter_byte_lines(path):
        if line is None or line.strip():
            yield line_number, parse_json_line(line)


def drop_reason(problem: str) -> str:
    """The counted bucket of an `iter_json_lines` error text."""
    for reason in (BAD_ENCODING, LINE_TOO_LONG):
        if problem.startswith(reason):
            return reason
    return BAD_JSON


def detect_format(row: dict[str, Any]) -> Format:
    if "main_category" in row or "parent_asin" in row:
        return "raw"
    if "full" in row and "id" in row:
        return "pricer"
    if "prompt" in row and "title" in row:
        return "course"
    if "text" in row and "price" in row:
        return "finetune"
    raise ValueError(f"unknown row format with fields {sorted(row)[:8]}")


def course_row_to_item(row: dict[str, Any], source: str, row_number: int, require_price: bool = True) -> Item:
    """A 2024 course item: the prompt minus its question and answer is the text."""
    title = collapse_whitespace(str(row.get("title") or ""))
    if not title:
        raise DroppedRow(NO_TITLE)
    price = price_or_none(row.get("price"), require_price)
    full = strip_scaffolding(str(row.get("prompt") or ""))[:FULL_TEXT_LIMIT]
    if len(full) < MIN_TEXT_CHARS:
        raise DroppedRow(TOO_SHORT)
    return Item(
        id=stable_id(source, row_number),
        title=title,
        category=str(row.get("category") or ""),
        price=price,
        full=full,
        weight=weight_in_pounds(parse_details(row.get("details")).get("Item Weight")),
        source=source,
    )


def finetune_row_to_item(row: dict[str, Any], source: str, row_number: int, require_price: bool = True) -> Item:
    """Fine-tuning text in any of its four prompt styles: instructions stripped, fields parsed."""
    price = price_or_none(row.get("price"), require_price)
    body = strip_scaffolding(str(row.get("text") or ""))
    lines = [line.strip() for line in body.splitlines()]
    lines = [line for line in lines if line and not _INSTRUCTION_LINE.match(line)]
    fields: dict[str, str] = {}
    for line in lines:
        match = _KEY_VALUE_LINE.match(line)
        if match and match.group(1) not in fields:
            fields[match.group(1)] = match.group(2).strip()
    if "Title" in fields:
        title = fields["Title"]
    else:
        title = lines[0] if lines else ""
    if not title:
        raise DroppedRow(NO_TITLE)
    full = "\n".join(lines)[:FULL_TEXT_LIMIT]
    if len(full) < MIN_TEXT_CHARS:
        raise DroppedRow(TOO_SHORT)
    is_summary = all(key in fields for key in _SUMMARY_KEYS)
    return Item(
        id=stable_id(source, row_number),
        title=collapse_whitespace(title),
        category=fields.get("Category", ""),
        price=price,
        full=full,
        weight=weight_in_pounds(fields["Weight"]) if "Weight" in fields else None,
        summary="\n".join(f"{key}: {fields[key]}" for key in _SUMMARY_KEYS) if is_summary else None,
        source=source,
    )


def pricer_row_to_item(row: dict[str, Any], source: str, row_number: int, require_price: bool = True) -> Item:
    """Our own format. Its price was always optional; without require_price a bad one becomes None."""
    try:
        return Item.model_validate(row)
    except ValidationError as error:
        if require_price or not any(problem["loc"][:1] == ("price",) for problem in error.errors()):
            raise
    return Item.model_validate({**row, "price": None})


_CONVERTERS = {
    "raw": clean_raw_row,
    "course": course_row_to_item,
    "finetune": finetune_row_to_item,
    "pricer": pricer_row_to_item,
}


def iter_items(
    path: str | Path,
    format: Format | None = None,
    strict: bool = False,
    report: ReadReport | None = None,
    require_price: bool = True,
) -> Iterator[Item]:
    """Stream Items from one file, filling `report` as it goes."""
    for _, item in iter_numbered_items(path, format, strict, report, require_price):
        yield item


def iter_numbered_items(
    path: str | Path,
    format: Format | None = None,
    strict: bool = False,
    report: ReadReport | None = None,
    require_price: bool = True,
) -> Iterator[tuple[int, Item]]:
    """(data row number, Item): the row number is the provenance the bundle manifest records.

    Every non-blank line is counted in `report.rows` and ends up either kept or in `report.dropped`.
    """
    source = source_name(path)
    report = report if report is not None else ReadReport(str(path), format or "?")
    row_number = -1
    for line_number, row in iter_json_lines(path):
        row_number += 1
        report.rows += 1
        where = f"{path}:{line_number}"
        if isinstance(row, str):
            problem = f"{where}: {row}"
            if strict:
                raise DataError(problem)
            report.dropped[drop_reason(row)] += 1
            report.problems.append(problem)
            continue
        if format is None:
            try:
                format = detect_format(row)
            except ValueError as error:
                raise DataError(f"{where}: {short_text(error)}") from None
            report.format = format
        try:
            item = _CONVERTERS[format](row, source, row_number, require_price)
        except DroppedRow as dropped:
            report.dropped[dropped.reason] += 1
            continue
        except ValidationError as error:
            first = error.errors()[0]
            problem = short_text(f"{where}: field {'.'.join(map(str, first['loc']))}: {first['msg']}")
            if strict:
                raise DataError(problem) from None
            report.dropped[INVALID_FIELD] += 1
            report.problems.append(problem)
            continue
        except RecursionError:  # a field nested so deep that re-encoding it overflows the stack
            problem = f"{where}: {BAD_JSON} (a field is nested too deep)"
            if strict:
                raise DataError(problem) from None
            report.dropped[BAD_JSON] += 1
            report.problems.append(problem)
            continue
        report.kept += 1
        if item.price is None:
            report.unpriced += 1
        yield row_number, item


def read_items(
    path: str | Path, format: Format | None = None, strict: bool = False, require_price: bool = True
) -> tuple[list[Item], ReadReport]:
    """All usable Items of a file and the report of what was not used.

    With `require_price=False` a row is never dropped for its price: missing, null, "None", a range
    or an out-of-range price gives an Item with price None (the other rules still apply), for
    pricing rows that have no price yet. `report.unpriced` counts them.
    """
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    regular_input(path)  # "no such file", or what it is instead (a FIFO, a device, a folder)
    report = ReadReport(str(path), format or "?")
    items = list(iter_items(path, format, strict, report, require_price))
    return items, report


def write_items(path: str | Path, items: list[Item]) -> None:
    """Pricer-format JSON lines (gzip when the name ends in .gz), written atomically."""
    from pricer_core.storage.atomic import atomic_file

    path = Path(path)
    with atomic_file(path) as raw:
        # mtime 0 and no file name in the header: the same items always give the same bytes.
        compressed = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) if path.suffix == ".gz" else None
        handle = io.TextIOWrapper(compressed or raw, encoding="utf-8")
        for item in items:
            handle.write(item.model_dump_json(exclude_none=True) + "\n")
        handle.flush()
        handle.detach()  # leaves `raw` open for atomic_file to sync and rename
        if compressed is not None:
            compressed.close()
