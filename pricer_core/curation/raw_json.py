"""Parse a raw Amazon metadata line into just the fields cleaning reads.

A raw row is mostly image and video lists that no rule looks at. simdjson (pysimdjson) validates
the whole line but builds Python objects only for the fields asked for: ~2.4x faster than
`json.loads` on these rows (benchmarks/bench_curate.py). Without pysimdjson, `json.loads` it is.
"""

from __future__ import annotations

import json
from typing import Any

RAW_FIELDS = ("price", "title", "details", "description", "features", "parent_asin", "main_category")
_NULL_PRICES = (b'"price": null,', b'"price": null}', b'"price":null,', b'"price":null}')


def has_null_price(line: bytes) -> bool:
    """True when a raw JSON line certainly has no price, decided without parsing it.

    Exact: in JSON text `"price"` can only be a key or a whole string value, so with a single
    occurrence that is followed by null, either the top-level price is null or it is absent (the key
    was nested); cleaning says "no price" in both cases. One pass over the line, in C.
    """
    at = line.find(b'"price"')
    return at >= 0 and line.startswith(_NULL_PRICES, at) and line.find(b'"price"', at + 7) < 0


class RawRowParser:
    """`parse(line)` → {field: plain Python value} for RAW_FIELDS; ValueError for a line that is not a
    JSON object (bad JSON, bad UTF-8, nested too deep, a list). One parser per process: it reuses
    its buffers."""

    def __init__(self) -> None:
        try:
            import simdjson
        except ImportError:
            self._simdjson = None
        else:
            self._simdjson = simdjson
            self._parser = simdjson.Parser()

    def parse(self, line: bytes) -> dict[str, Any]:
        if self._simdjson is None:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            return {key: row.get(key) for key in RAW_FIELDS}
        return self._parse_lazily(line)

    def _parse_lazily(self, line: bytes) -> dict[str, Any]:
        try:
            document = self._parser.parse(line)
        except RuntimeError as error:  # DEPTH_ERROR: nested deeper than 1024 levels
            raise ValueError(str(error)) from None
        try:
            if not isinstance(document, self._simdjson.Object):
                raise ValueError("not a JSON object")
            return {key: _plain(document.get(key), self._simdjson) for key in RAW_FIELDS}
        finally:
            del document  # the parser cannot be reused while a document of it is alive


def _plain(value: Any, simdjson: Any) -> Any:
    if isinstance(value, simdjson.Object):
        return value.as_dict()
    if isinstance(value, simdjson.Array):
        return value.as_list()
    return value
