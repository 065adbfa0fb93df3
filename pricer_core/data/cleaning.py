"""Rules that turn one raw Amazon Reviews 2023 metadata row into an `Item`, as the course curates them.

Each rule is a small function so tests can pin it down; `clean_raw_row` applies them in order and
returns either an Item or the reason the row was dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pricer_core.item import FULL_TEXT_LIMIT, Item, stable_id
from pricer_core.data.text import collapse_whitespace
from pricer_core.data.units import weight_in_pounds

MIN_PRICE = 0.50
MAX_PRICE = 999.49
MIN_FULL_CHARS = 600
FIELD_CHAR_LIMIT = 3000
DROPPED_DETAIL_KEYS = frozenset(
    {"Part Number", "Best Sellers Rank", "Batteries Included?", "Batteries Required?", "Item model number"}
)

# A whole token of 7+ capitals/digits. Written to start with a character class (the word-boundary
# test comes as a lookbehind after it) so the regex engine tries only at capitals and digits; with
# the cheaper in-token test and the skipped space pass, the rule runs ~2x faster than
# r"\b[A-Z0-9]{7,}\b" + a regex test per token (benchmarks/bench_curate.py prints it).
_PART_NUMBER_CANDIDATE = re.compile(r"[A-Z0-9](?<!\w[A-Z0-9])[A-Z0-9]{6,}(?!\w)")
_SPACES = re.compile(r"[ \t]{2,}")

# Drop reasons, shared with readers so reports use one vocabulary.
NO_PRICE = "no price"
BAD_PRICE = "price not a single number"
AMBIGUOUS_PRICE = "price in an ambiguous format"
OUT_OF_RANGE = "price out of range"
TOO_SHORT = "too short"
NO_TITLE = "no title"


class DroppedRow(Exception):
    """A row that is valid JSON but not a usable item; `reason` is the counted bucket."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# The written prices pricer reads (README, "Prices"): optional "$", ASCII digits, commas only as
# thousands separators in groups of three, a dot only as the decimal point: "$1,299.99", "1299.99",
# "12", ".99", "12.", "1.5e2". "2,99" (a European decimal comma), "1.234,56", "1,23,456" and digits of other
# scripts ("١٢٣", which float() would take) are dropped as ambiguous, never guessed.
_WRITTEN_PRICE = re.compile(r"\$?\s*(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def parse_price(value: Any) -> float:
    """Raw price (number, "$1,299.00", null, "None") to dollars; ranges, junk and ambiguous text are rejected."""
    if value is None:
        raise DroppedRow(NO_PRICE)
    if isinstance(value, bool):
        raise DroppedRow(BAD_PRICE)
    if isinstance(value, int) and abs(value) > 10**9:  # float() of a 400-digit int overflows
        raise DroppedRow(OUT_OF_RANGE)
    if isinstance(value, (int, float)):
        price = float(value)
    else:
        text = str(value).strip()
        if not text or text.lower() in {"none", "null", "nan", "-", "$"}:
            raise DroppedRow(NO_PRICE)
        if not _WRITTEN_PRICE.fullmatch(text):
            looks_numeric = any(character.isdigit() for character in text) and not re.search(r"[^\d\s$,.]", text)
            raise DroppedRow(AMBIGUOUS_PRICE if looks_numeric else BAD_PRICE)
        price = float(text.lstrip("$").strip().replace(",", ""))
    if price != price:  # NaN
        raise DroppedRow(NO_PRICE)
    if not MIN_PRICE <= price <= MAX_PRICE:
        raise DroppedRow(OUT_OF_RANGE)
    return price


def price_or_none(value: Any, require_price: bool = True) -> float | None:
    """`parse_price`, or None instead of a drop when the price is not required (pricing new rows)."""
    if require_price:
        return parse_price(value)
    try:
        return parse_price(value)
    except DroppedRow:
        return None


def parse_details(value: Any) -> dict[str, Any]:
    """Details arrive as a dict or a JSON string; anything else counts as no details."""
    if isinstance(value, dict):
        details = value
    elif isinstance(value, str) and value.strip():
        try:
            details = json.loads(value)
        except (ValueError, RecursionError):  # bad JSON, nested too deep, a 5000-digit number
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
    text = _PART_NUMBER_CANDIDATE.sub(_drop_if_mixed, text)
    return _SPACES.sub(" ", text) if "  " in text or "\t" in text else text  # the test is ~10x cheaper


def _drop_if_mixed(match: re.Match[str]) -> str:
    # The token holds only capitals and digits: it mixes both unless it is all digits or all letters.
    token = match.group(0)
    return token if token.isdigit() or token.isalpha() else ""


def join_full_text(title: str, description: str, features: str, details: dict[str, Any]) -> str:
    """Title, description, features and compact details JSON, one per line, before scrubbing."""
    details_json = json.dumps(details, separators=(",", ":"), ensure_ascii=False) if details else ""
    return "\n".join(part for part in (title, description, features, details_json) if part)


def clean_raw_fields(
    row: Mapping[str, Any], source: str, row_number: int | None, require_price: bool = True
) -> dict[str, Any]:
    """Apply every rule and return the Item's fields; raises DroppedRow with the reason.

    Curation writes these straight to Arrow: every value is already what `Item` would validate
    (price in range, text within its cap, finite weight), so a million pydantic objects are skipped.
    A row without an ASIN gets its id from its row number; with `row_number=None` the id is left
    None for the caller, who learns the number later, to fill in. With `require_price=False` a row
    without a usable price keeps price None instead of being dropped.
    """
    price = price_or_none(row.get("price"), require_price)  # first: most raw rows have none
    title = collapse_whitespace(str(row.get("title") or ""))
    if not title:
        raise DroppedRow(NO_TITLE)
    details = parse_details(row.get("details"))
    joined = join_full_text(title, join_field(row.get("description")), join_field(row.get("features")), details)
    if len(joined) < MIN_FULL_CHARS:  # scrubbing only shortens: a third of priced rows end here, unscrubbed
        raise DroppedRow(TOO_SHORT)
    full = remove_part_numbers(joined)[:FULL_TEXT_LIMIT]
    if len(full) < MIN_FULL_CHARS:
        raise DroppedRow(TOO_SHORT)
    return {
        "id": _row_id(row.get("parent_asin"), source, row_number),
        "title": title,
        "category": str(row.get("main_category") or ""),
        "price": price,
        "full": full,
        "weight": weight_in_pounds(details.get("Item Weight")),
        "summary": None,
        "source": source,
    }


def _row_id(asin: Any, source: str, row_number: int | None) -> str | None:
    if asin:
        return str(asin)
    return None if row_number is None else stable_id(source, row_number)


def clean_raw_row(row: Mapping[str, Any], source: str, row_number: int, require_price: bool = True) -> Item:
    """One raw row as a validated Item; raises DroppedRow with the reason when it is not usable."""
    return Item(**clean_raw_fields(row, source, row_number, require_price))
