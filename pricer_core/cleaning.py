"""Rules that turn one raw Amazon Reviews 2023 metadata row into an `Item` (SPEC section 3).

Each rule is a small function so tests can pin it down; `clean_raw_row` applies them in order and
returns either an Item or the reason the row was dropped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .item import FULL_TEXT_LIMIT, Item, stable_id
from .text import collapse_whitespace
from .units import weight_in_pounds

MIN_PRICE = 0.50
MAX_PRICE = 999.49
MIN_FULL_CHARS = 600
FIELD_CHAR_LIMIT = 3000
DROPPED_DETAIL_KEYS = frozenset(
    {"Part Number", "Best Sellers Rank", "Batteries Included?", "Batteries Required?", "Item model number"}
)

_PART_NUMBER_CANDIDATE = re.compile(r"\b[A-Z0-9]{7,}\b")
_HAS_CAPITAL = re.compile(r"[A-Z]")
_HAS_DIGIT = re.compile(r"[0-9]")
_SPACES = re.compile(r"[ \t]{2,}")

# Drop reasons, shared with readers so reports use one vocabulary.
NO_PRICE = "no price"
BAD_PRICE = "price not a single number"
OUT_OF_RANGE = "price out of range"
TOO_SHORT = "too short"
NO_TITLE = "no title"


class DroppedRow(Exception):
    """A row that is valid JSON but not a usable item; `reason` is the counted bucket."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_price(value: Any) -> float:
    """Raw price (number, "$1,299.00", null, "None") to dollars; ranges and junk are rejected."""
    if value is None:
        raise DroppedRow(NO_PRICE)
    if isinstance(value, bool):
        raise DroppedRow(BAD_PRICE)
    if isinstance(value, (int, float)):
        price = float(value)
    else:
        text = str(value).strip().replace("$", "").replace(",", "")
        if not text or text.lower() in {"none", "null", "nan", "-"}:
            raise DroppedRow(NO_PRICE)
        try:
            price = float(text)
        except ValueError:
            raise DroppedRow(BAD_PRICE) from None
    if price != price:  # NaN
        raise DroppedRow(NO_PRICE)
    if not MIN_PRICE <= price <= MAX_PRICE:
        raise DroppedRow(OUT_OF_RANGE)
    return price


def parse_details(value: Any) -> dict[str, Any]:
    """Details arrive as a dict or a JSON string; anything else counts as no details."""
    if isinstance(value, dict):
        details = value
    elif isinstance(value, str) and value.strip():
        try:
            details = json.loads(value)
        except json.JSONDecodeError:
            return {}
        if not isinstance(details, dict):
            return {}
    else:
        return {}
    return {key: val for key, val in details.items() if key not in DROPPED_DETAIL_KEYS}


def join_field(value: Any) -> str:
    """A list-of-strings field as one line, whitespace collapsed, capped at 3000 characters."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = " ".join(str(part) for part in value if part is not None)
    return collapse_whitespace(str(value))[:FIELD_CHAR_LIMIT]


def remove_part_numbers(text: str) -> str:
    """Drop tokens of 7+ capitals/digits holding a capital and a digit, judged within the token."""

    def keep_or_drop(match: re.Match[str]) -> str:
        token = match.group(0)
        return "" if _HAS_CAPITAL.search(token) and _HAS_DIGIT.search(token) else token

    return _SPACES.sub(" ", _PART_NUMBER_CANDIDATE.sub(keep_or_drop, text))


def build_full_text(title: str, description: str, features: str, details: dict[str, Any]) -> str:
    details_json = json.dumps(details, separators=(",", ":"), ensure_ascii=False) if details else ""
    parts = [part for part in (title, description, features, details_json) if part]
    return remove_part_numbers("\n".join(parts))[:FULL_TEXT_LIMIT]


_NULL_PRICES = ('"price": null,', '"price": null}', '"price":null,', '"price":null}')
_NULL_PRICES_BYTES = tuple(pattern.encode() for pattern in _NULL_PRICES)


def has_null_price(line: str | bytes) -> bool:
    """True when a raw JSON line certainly has no price, decided without parsing it.

    Exact: in JSON text `"price"` can only be a key or a whole string value, so with a single
    occurrence that is followed by null, either the top-level price is null or it is absent (the key
    was nested); `clean_raw_row` says "no price" in both cases. Plain substring tests run in C.
    """
    if isinstance(line, bytes):
        return line.count(b'"price"') == 1 and any(pattern in line for pattern in _NULL_PRICES_BYTES)
    return line.count('"price"') == 1 and any(pattern in line for pattern in _NULL_PRICES)


def clean_raw_row(row: dict[str, Any], source: str, row_number: int) -> Item:
    """Apply every rule; raises DroppedRow with the reason when the row is not usable."""
    price = parse_price(row.get("price"))  # first: most raw rows have none, and the fast path relies on it
    title = collapse_whitespace(str(row.get("title") or ""))
    if not title:
        raise DroppedRow(NO_TITLE)
    details = parse_details(row.get("details"))
    full = build_full_text(title, join_field(row.get("description")), join_field(row.get("features")), details)
    if len(full) < MIN_FULL_CHARS:
        raise DroppedRow(TOO_SHORT)
    return Item(
        id=str(row.get("parent_asin") or stable_id(source, row_number)),
        title=title,
        category=str(row.get("main_category") or ""),
        price=price,
        full=full,
        weight=weight_in_pounds(details.get("Item Weight")),
        source=source,
    )
