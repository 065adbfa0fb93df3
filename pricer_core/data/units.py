"""Weights as Amazon writes them ("1.5 pounds", "12 Ounces") converted to pounds."""

from __future__ import annotations

import math
import re

_POUNDS_PER_UNIT = {
    "pounds": 1.0,
    "pound": 1.0,
    "lbs": 1.0,
    "lb": 1.0,
    "ounces": 1 / 16,
    "ounce": 1 / 16,
    "oz": 1 / 16,
    "grams": 1 / 453.592,
    "gram": 1 / 453.592,
    "g": 1 / 453.592,
    "milligrams": 1 / 453592,
    "milligram": 1 / 453592,
    "mg": 1 / 453592,
    "kilograms": 1 / 0.453592,
    "kilogram": 1 / 0.453592,
    "kg": 1 / 0.453592,
    "hundredths pounds": 1 / 100,
}
_AMOUNT_AND_UNIT = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s+(.+?)\s*$")


def weight_in_pounds(text: object) -> float | None:
    """"<amount> <unit>" to pounds; None for an unknown unit or a number that does not parse."""
    if not text or not isinstance(text, str):
        return None
    match = _AMOUNT_AND_UNIT.match(text)
    if not match:
        return None
    factor = _POUNDS_PER_UNIT.get(match.group(2).lower())
    if factor is None:
        return None
    try:
        pounds = float(match.group(1).replace(",", "")) * factor
    except ValueError:
        return None
    return pounds if math.isfinite(pounds) else None  # a 400-digit amount is inf, not a weight
