"""Text normalisation shared by readers, dedupe and the bundle recipe."""

from __future__ import annotations

import re

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PRICE_TRAILER = re.compile(r"\s*Price is \$[\d,]+(?:\.\d+)?\s*$")
_QUESTION_HEADERS = (
    "How much does this cost to the nearest dollar?",
    "What does this cost to the nearest dollar?",
    "How much does this cost?",
)


def normalise_title(title: str) -> str:
    """Lower case with runs of non-alphanumerics collapsed to one space: the dedupe key."""
    return _NON_ALNUM.sub(" ", title.lower()).strip()


def title_words(title: str) -> frozenset[str]:
    return frozenset(normalise_title(title).split())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def strip_scaffolding(prompt: str) -> str:
    """Remove the course's question header and the trailing "Price is $N.00" (it holds the answer)."""
    text = prompt.strip()
    for header in _QUESTION_HEADERS:
        if text.startswith(header):
            text = text[len(header):].lstrip()
            break
    return _PRICE_TRAILER.sub("", text).strip()


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace to one space, trimmed (str.split is several times faster than a regex here)."""
    return " ".join(text.split())
