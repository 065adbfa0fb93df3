"""Numbers a bag of words cannot read: size, power, capacity, pack count, year.

Hashing turns "12 W" and "1200 W" into unrelated columns, so no word model learns that the second
heater costs more. These columns hand the trees the numbers themselves, on a log scale, and NaN
where the text states none (XGBoost learns a path of its own for a missing value).
"""

from __future__ import annotations

import math
import re

import numpy as np

from pricer_core.item import Item

_NUMBER = r"(?<![\w.])(\d{1,9}(?:\.\d{1,6})?)"  # a whole number, never the tail of a part number
# Every repeat is bounded (digits, spaces): a hostile run of spaces or digits cannot make a pattern backtrack for long.
_LENGTH_UNIT = r"\s{0,3}(?:\"|''|in(?:ch(?:es)?)?|cms?|mm)?\s{0,3}"
_DIMENSIONS = re.compile(
    _NUMBER + _LENGTH_UNIT + r"[xX×]\s{0,3}" + _NUMBER + _LENGTH_UNIT + r"[xX×]\s{0,3}" + _NUMBER
    + r"\s{0,3}(inches|inch|in\b|cms?\b|centimeters|mm\b|millimeters)?"
)
_INCHES_PER = {"c": 1 / 2.54, "m": 1 / 25.4}  # by the unit's first letter; none or inches: 1
_TERABYTES = re.compile(_NUMBER + r"\s{0,3}tb\b", re.IGNORECASE)
# (column, pattern, read in the title only): the title names what the item is, the body also what it fits
_QUANTITIES: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    ("watts", re.compile(_NUMBER + r"\s{0,3}-?\s{0,3}(?:w|watts?)\b(?!\s{0,3}[xX×])", re.IGNORECASE), False),  # "24 W x 10 H" is a width
    ("volts", re.compile(_NUMBER + r"\s{0,3}-?\s{0,3}(?:v|volts?)\b", re.IGNORECASE), False),
    ("milliamp_hours", re.compile(_NUMBER + r"\s{0,3}mah\b", re.IGNORECASE), False),
    ("gigabytes", re.compile(_NUMBER + r"\s{0,3}gb\b", re.IGNORECASE), False),
    ("horsepower", re.compile(_NUMBER + r"\s{0,3}(?:hp|horsepower)\b", re.IGNORECASE), False),
    ("amps", re.compile(_NUMBER + r"\s{0,3}(?:amps?|amperes?)\b", re.IGNORECASE), False),  # a bare "A" ends model numbers (305A)
    ("gallons", re.compile(_NUMBER + r"\s{0,3}(?:gal|gallons?)\b", re.IGNORECASE), False),
    ("inches_in_title", re.compile(_NUMBER + r"\s{0,3}-?\s{0,3}(?:inch|inches|in\.|\")", re.IGNORECASE), True),
    (
        "pack_in_title",
        re.compile(
            r"(?:pack of|set of|(?<!\w)pk|count|pcs|pieces|piece|pack|ct)\s{0,3}(?:of\s{0,3})?:?\s{0,3}" + _NUMBER
            + r"|" + _NUMBER + r"\s{0,3}-?\s{0,3}(?:pack|pk|pcs|pieces|piece|count|ct|set)\b",
            re.IGNORECASE,
        ),
        True,
    ),
)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-3]\d)\b")
_FIRST_AVAILABLE = re.compile(r"Available\s+[A-Za-z]+\s+\d{1,2},\s+(\d{4})\b")
_LARGEST = 1e12  # a stated quantity beyond this is a part number, not a size

COLUMNS = (
    "log_volume_cubic_inches",
    "log_longest_side_inches",
    *(f"log_{name}" for name, _, _ in _QUANTITIES),
    "year_first_available",
    "latest_year_mentioned",
    "digits_in_title",
)


def item_numbers(items: list[Item]) -> np.ndarray:
    """One row per item, one column per name in COLUMNS (float32, NaN where the text has no such number)."""
    return np.asarray([_row(item) for item in items], dtype=np.float32).reshape(len(items), len(COLUMNS))


def _row(item: Item) -> list[float]:
    text = item.document()  # the title and the summary or cleaned text, as every text model reads them
    row = _dimensions(text)
    for name, pattern, title_only in _QUANTITIES:
        value = _largest(pattern, item.title if title_only else text)
        if name == "gigabytes":
            terabytes = _largest(_TERABYTES, text)
            value = max(value or 0.0, terabytes * 1000) if terabytes is not None else value
        row.append(_log(value))
    available = _FIRST_AVAILABLE.search(text)
    years = [int(year) for year in _YEAR.findall(text)]
    row.append(float(available.group(1)) if available else math.nan)
    row.append(float(max(years)) if years else math.nan)
    row.append(float(sum(character.isdigit() for character in item.title)))
    return row


def _dimensions(text: str) -> list[float]:
    """Volume and longest side in inches from the first "A x B x C <unit>" in the text."""
    match = _DIMENSIONS.search(text)
    if match is None:
        return [math.nan, math.nan]
    sides = [float(match.group(index)) for index in (1, 2, 3)]
    scale = _INCHES_PER.get((match.group(4) or "i")[0].lower(), 1.0)
    return [_log(math.prod(sides) * scale**3), _log(max(sides) * scale)]


def _largest(pattern: re.Pattern[str], text: str) -> float | None:
    values = [float(next(group for group in match.groups() if group is not None)) for match in pattern.finditer(text)]
    return max(values) if values else None


def _log(value: float | None) -> float:
    return math.log1p(value) if value is not None and 0 <= value < _LARGEST else math.nan
