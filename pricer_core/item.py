"""The one record every part of pricer passes around."""

from __future__ import annotations

import hashlib
import math

from pydantic import BaseModel, ConfigDict, Field, field_validator

FULL_TEXT_LIMIT = 4000
TRAINING_QUESTION = "What does this cost to the nearest dollar?"
PRICE_PREFIX = "Price is $"


def stable_id(source: str, row: int | str) -> str:
    """Id from provenance, so rebuilding the same files gives the same ids."""
    return hashlib.sha1(f"{source}:{row}".encode()).hexdigest()[:16]


class Item(BaseModel):
    """A product with its price; `summary` is filled by an LLM preprocessor when one runs."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str = Field(min_length=1)
    title: str
    category: str = ""
    price: float | None = None
    full: str = Field(default="", max_length=FULL_TEXT_LIMIT)
    weight: float | None = None
    summary: str | None = None
    source: str | None = None

    @field_validator("price", "weight")
    @classmethod
    def _finite_non_negative(cls, value: float | None) -> float | None:
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError(f"must be a finite number >= 0, got {value!r}")
        return value

    @field_validator("id", "title", "category", "full", "summary", "source")
    @classmethod
    def _encodable(cls, value: str | None) -> str | None:
        """A lone surrogate ("\\ud800" in JSON) is not text: it would fail every write and hash later."""
        if value is not None:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as error:
                raise ValueError(f"not valid Unicode text (lone surrogate at character {error.start})") from None
        return value

    @property
    def text(self) -> str:
        """What a text model should read: the summary if there is one, else the cleaned text."""
        return self.summary or self.full or self.title

    def document(self, category: bool = False) -> str:
        """What a bag-of-words model reads: the title (unless the text already starts with it), the
        category if asked, then the summary or the cleaned text. The one text view of the plugins."""
        body = self.summary or self.full
        head = self.title if not body.startswith(self.title) else ""
        return "\n".join(part for part in (head, self.category if category else "", body) if part)

    def test_prompt(self) -> str:
        """Prompt that ends where the model must write the price."""
        return f"{TRAINING_QUESTION}\n\n{self.text}\n\n{PRICE_PREFIX}"

    def training_prompt(self) -> str:
        """Prompt with the answer, for fine-tuning."""
        if self.price is None:
            raise ValueError(f"item {self.id}: no price, cannot build a training prompt")
        return f"{self.test_prompt()}{round(self.price)}.00"
