"""Read the four input formats of SPEC section 1 into Items, counting every row not used.

`read_items(path)` detects the format from the first row (or takes `format=`). Malformed lines are
counted and described as "file:line: ..." one-liners; `strict=True` raises on the first instead.
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

from .cleaning import NO_TITLE, TOO_SHORT, DroppedRow
from .cleaning import clean_raw_row, parse_details, parse_price
from .item import FULL_TEXT_LIMIT, Item, stable_id
from .line_blocks import is_gzip
from .text import collapse_whitespace, strip_scaffolding
from .units import weight_in_pounds

Format = Literal["raw", "course", "finetune", "pricer"]
FORMATS: tuple[str, ...] = ("raw", "course", "finetune", "pricer")
BAD_JSON = "bad JSON"
INVALID_FIELD = "invalid field"
MIN_TEXT_CHARS = 20

_INSTRUCTION_LINE = re.compile(
    r"^(Estimate the|You are a|Respond (only )?with|Below are the details|How much does this cost|"
    r"What does this cost)",
    re.IGNORECASE,
)
_KEY_VALUE_LINE = re.compile(r"^(Title|Category|Brand|Description|Details|Weight|Summary|Features):\s*(.*)$")
_SUMMARY_KEYS = ("Title", "Category", "Brand", "Description", "Details")


class DataError(ValueError):
    """Input that cannot be read; the message names the file and line."""


@dataclass
class ReadReport:
    """What happened to every row of one file."""

    path: str
    format: str
    rows: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in self.dropped.most_common())
        where = f"{Path(self.path).name} ({self.format}): " if self.path else ""
        return f"{where}{self.kept}/{self.rows} rows kept" + (f"; dropped {reasons}" if reasons else "")


def source_name(path: str | Path) -> str:
    """File name without .jsonl/.json/.gz/.parquet: the provenance a predictor may rely on."""
    name = Path(path).name
    for suffix in (".gz", ".jsonl", ".json", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def open_text(path: str | Path):
    """Plain or gzip JSON lines, told apart by content rather than by name."""
    return gzip.open(path, "rt", encoding="utf-8") if is_gzip(path) else open(path, encoding="utf-8")


def iter_json_lines(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row) for every non-blank line; a row that is not a JSON object comes as its error text."""
    with open_text(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                yield line_number, f"{BAD_JSON} ({error.msg} at column {error.colno})"
                continue
            yield line_number, row if isinstance(row, dict) else "not a JSON object"


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


def course_row_to_item(row: dict[str, Any], source: str, row_number: int) -> Item:
    """A 2024 course item: the prompt minus its question and answer is the text."""
    title = collapse_whitespace(str(row.get("title") or ""))
    if not title:
        raise DroppedRow(NO_TITLE)
    price = parse_price(row.get("price"))
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


def finetune_row_to_item(row: dict[str, Any], source: str, row_number: int) -> Item:
    """Fine-tuning text in any of its four prompt styles: instructions stripped, fields parsed."""
    price = parse_price(row.get("price"))
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


def pricer_row_to_item(row: dict[str, Any], source: str, row_number: int) -> Item:
    return Item.model_validate(row)


_CONVERTERS = {
    "raw": clean_raw_row,
    "course": course_row_to_item,
    "finetune": finetune_row_to_item,
    "pricer": pricer_row_to_item,
}


def iter_items(
    path: str | Path, format: Format | None = None, strict: bool = False, report: ReadReport | None = None
) -> Iterator[Item]:
    """Stream Items from one file, filling `report` as it goes."""
    for _, item in iter_numbered_items(path, format, strict, report):
        yield item


def iter_numbered_items(
    path: str | Path, format: Format | None = None, strict: bool = False, report: ReadReport | None = None
) -> Iterator[tuple[int, Item]]:
    """(data row number, Item): the row number is the provenance the bundle manifest records."""
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
            report.dropped[BAD_JSON] += 1
            report.problems.append(problem)
            continue
        if format is None:
            try:
                format = detect_format(row)
            except ValueError as error:
                raise DataError(f"{where}: {error}") from None
            report.format = format
        try:
            item = _CONVERTERS[format](row, source, row_number)
        except DroppedRow as dropped:
            report.dropped[dropped.reason] += 1
            continue
        except ValidationError as error:
            first = error.errors()[0]
            problem = f"{where}: field {'.'.join(map(str, first['loc']))}: {first['msg']}"
            if strict:
                raise DataError(problem) from None
            report.dropped[INVALID_FIELD] += 1
            report.problems.append(problem)
            continue
        report.kept += 1
        yield row_number, item


def read_items(
    path: str | Path, format: Format | None = None, strict: bool = False
) -> tuple[list[Item], ReadReport]:
    """All usable Items of a file and the report of what was not used."""
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if not Path(path).is_file():
        raise DataError(f"{path}: no such file")
    report = ReadReport(str(path), format or "?")
    items = list(iter_items(path, format, strict, report))
    return items, report


def write_items(path: str | Path, items: list[Item]) -> None:
    """Pricer-format JSON lines (gzip when the name ends in .gz), written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as raw:
        if path.suffix == ".gz":
            # mtime 0 and no file name in the header: the same items always give the same bytes.
            binary = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0)
        else:
            binary = raw
        with io.TextIOWrapper(binary, encoding="utf-8") as handle:
            for item in items:
                handle.write(item.model_dump_json(exclude_none=True) + "\n")
            handle.flush()
            if binary is not raw:
                binary.close()
    temporary.replace(path)
