"""The course's summary and price prompts, and the parser of price replies."""

from __future__ import annotations

import json
import math
import re

from pricer_core.item import Item

SUMMARY_SYSTEM_PROMPT = (
    "Summarise the product below for a pricing expert. Reply with exactly five lines and nothing else:\n"
    "Title: a short, precise product title\n"
    "Category: the product category\n"
    "Brand: the brand, or Unknown\n"
    "Description: one sentence describing the product\n"
    "Details: one sentence on its key features\n"
    "Do not include part numbers or model numbers."
)
PRICE_PROMPT = "Estimate the price of this product. Respond with the price, no explanation"
SUMMARY_KEYS = ("Title", "Category", "Brand", "Description", "Details")
PRICE_SCHEMA = {
    "type": "object",
    "properties": {"price": {"type": "number", "minimum": 0}},
    "required": ["price"],
}

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def summary_messages(item: Item) -> list[dict[str, str]]:
    return [{"role": "system", "content": SUMMARY_SYSTEM_PROMPT}, {"role": "user", "content": item.full or item.title}]


def price_messages(item: Item, examples: list[tuple[str, float]] = ()) -> list[dict[str, str]]:
    """The price prompt; with examples (retrieval), similar items and their prices come first."""
    context = ""
    if examples:
        shown = "\n\n".join(f"{text}\nPrice: ${price:.2f}" for text, price in examples)
        context = f"For context, here are similar items and their prices:\n\n{shown}\n\n"
    return [{"role": "user", "content": f"{context}{PRICE_PROMPT}\n\n{item.text}"}]


def parse_price(reply: str | None) -> float | None:
    """First number in the reply after removing "$" and thousands commas; JSON {"price": x} too; None if none."""
    if not reply:
        return None
    text = reply.strip()
    if text.startswith("{"):
        try:
            reply_object = json.loads(text)
        except json.JSONDecodeError:
            reply_object = None
        if isinstance(reply_object, dict):
            value = reply_object.get("price")
            valid = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf
            return float(value) if valid else None
    match = _NUMBER.search(text.replace("$", "").replace(",", ""))
    if not match:
        return None
    value = float(match.group(0))
    # A model can write 1e400 or a 400-digit number: that is no price, not an infinite one.
    return value if 0 <= value < math.inf else None


def is_five_line_summary(text: str) -> bool:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return len(lines) == 5 and all(line.startswith(f"{key}:") for line, key in zip(lines, SUMMARY_KEYS))


def tidy_summary(text: str) -> str:
    """Keep the five keyed lines when the model wrapped them in chatter; else the text as it came."""
    lines = [line.strip().lstrip("*- ").replace("**", "") for line in text.strip().splitlines()]
    keyed = {}
    for line in lines:
        for key in SUMMARY_KEYS:
            if line.startswith(f"{key}:") and key not in keyed:
                keyed[key] = line
    if len(keyed) == len(SUMMARY_KEYS):
        return "\n".join(keyed[key] for key in SUMMARY_KEYS)
    return text.strip()


SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {key.lower(): {"type": "string", "minLength": 1, "maxLength": 160} for key in SUMMARY_KEYS},
    "required": [key.lower() for key in SUMMARY_KEYS],
}


def summary_from_reply(reply: str) -> str:
    """A structured reply ({"title": ..., ...}) as the five lines; any other reply tidied as text."""
    text = reply.strip()
    if text.startswith("{"):
        try:
            fields = json.loads(text)
        except json.JSONDecodeError:
            fields = None
        if isinstance(fields, dict) and all(isinstance(fields.get(key.lower()), str) for key in SUMMARY_KEYS):
            return "\n".join(f"{key}: {' '.join(fields[key.lower()].split())}" for key in SUMMARY_KEYS)
    return tidy_summary(text)
