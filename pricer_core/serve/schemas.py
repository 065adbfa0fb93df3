"""What `POST /predict` accepts and what the server answers, as pydantic models.

An item comes in pricer's own fields or a shop's raw ones: `title` is required; `category`,
`description`, `features`, `details` and `weight` (pounds) are optional and become the item's text
exactly as `pricer curate` builds it from a raw row, so a model sees served items as it saw its
training rows. `full` (pricer's cleaned text), `summary` and `source` are taken as given; a `price`
is ignored, as `pricer predict` ignores it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pricer_core.item import FULL_TEXT_LIMIT, Item

TITLE_LIMIT = 2_000
DetailScalar = str | int | float | bool | None
DetailValue = DetailScalar | list[DetailScalar] | dict[str, DetailScalar]  # two levels: what Amazon's details hold
_UNION_TAGS = {"str", "int", "float", "bool", "none"}  # how pydantic names a union's branches in an error's location


class RequestProblem(ValueError):
    """A request the server will not price: `status` (401, 413 or 422), the field it names and one line saying why."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.field = field


class ItemIn(BaseModel):
    """One product to price."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: str | None = Field(default=None, max_length=200, description="Echoed back, to match replies to items.")
    title: str = Field(min_length=1, max_length=TITLE_LIMIT, examples=["Bosch 18V cordless drill with two batteries"])
    category: str = Field(default="", max_length=200, examples=["Tools & Home Improvement"])
    description: str | list[str] = Field(default="", description="Free text, or a list of paragraphs.")
    features: str | list[str] = Field(default="", description="Bullet points, or one text.")
    details: dict[str, DetailValue] | str = Field(default_factory=dict, description='Key-value facts, e.g. {"Brand": "Bosch", "Item Weight": "3.5 pounds"}.')
    weight: float | None = Field(default=None, ge=0, description="Pounds; read from details['Item Weight'] when absent.")
    full: str | None = Field(default=None, description="pricer's cleaned text; when given, used instead of description/features/details.")
    summary: str | None = Field(default=None, max_length=FULL_TEXT_LIMIT)
    source: str | None = Field(default=None, max_length=200, description="The catalogue it comes from; an ensemble may weigh a known source apart.")
    price: Any = Field(default=None, description="Ignored: the server prices the item.")

    @field_validator("title")
    @classmethod
    def _has_words(cls, value: str) -> str:
        from pricer_core.data.text import collapse_whitespace

        value = collapse_whitespace(value)
        if not value:
            raise ValueError("must hold a word, not only whitespace")
        return value

    def to_item(self, fallback_id: str) -> Item:
        """The Item a predictor reads: raw fields joined and scrubbed as curation does, text capped as readers cap it."""
        from pricer_core.data.cleaning import join_field, join_full_text, parse_details, remove_part_numbers
        from pricer_core.data.units import weight_in_pounds

        details = parse_details(self.details)
        if self.full is not None:
            full = self.full[:FULL_TEXT_LIMIT]
        else:
            joined = join_full_text(self.title, join_field(self.description), join_field(self.features), details)
            full = remove_part_numbers(joined)[:FULL_TEXT_LIMIT]
        weight = self.weight if self.weight is not None else weight_in_pounds(details.get("Item Weight"))
        return Item(  # the server's own unique id: clients' ids may repeat across gathered requests (theirs is echoed apart)
            id=fallback_id, title=self.title, category=self.category, full=full,
            weight=weight, summary=self.summary, source=self.source,
        )


class BatchIn(BaseModel):
    """Many products in one request: priced in one model call, replied in the same order."""

    model_config = ConfigDict(extra="forbid")

    items: list[ItemIn]


class PriceInterval(BaseModel):
    low: float
    high: float
    level: float = Field(description="Share of true prices such intervals covered on validation (split-conformal).")


class ModelTag(BaseModel):
    name: str
    plugin: str | None
    version: str | None


class Priced(BaseModel):
    id: str | None
    price: float | None = Field(description="Dollars, to the cent; null only when a per-item model could not price this item.")
    interval: PriceInterval | None = Field(description="Null when the model folder holds no interval.")
    error: str | None = None


class PricedOne(Priced):
    model: ModelTag


class PricedBatch(BaseModel):
    model: ModelTag
    predictions: list[Priced]


class Problem(BaseModel):
    detail: str
    field: str | None = None


@dataclass(frozen=True)
class ParsedRequest:
    """The items to price, the ids the client gave them (None where it gave none) and whether it sent a batch."""

    items: list[Item]
    ids: list[str | None]
    batch: bool


def parse_request(data: Any, max_items: int, fallback_ids: Iterator[str]) -> ParsedRequest:
    """Items to price from decoded JSON, each with a unique id from `fallback_ids` (the client's ids are kept in `ids`);
    RequestProblem naming the field otherwise."""
    if not isinstance(data, dict):
        raise RequestProblem(422, f"expected a JSON object (one item, or {{\"items\": [...]}}), got {_json_type(data)}")
    batch = "items" in data
    if batch and isinstance(data["items"], list) and len(data["items"]) > max_items:
        raise RequestProblem(413, f"a batch of {len(data['items']):,} items; at most {max_items:,} per request", "items")
    try:
        entries = BatchIn.model_validate(data).items if batch else [ItemIn.model_validate(data)]
    except ValidationError as error:
        raise _problem(error) from None
    if batch and not entries:
        raise RequestProblem(422, "items: empty; send at least one item", "items")
    items = []
    for position, entry in enumerate(entries):
        where = f"items[{position}]." if batch else ""
        try:
            items.append(entry.to_item(next(fallback_ids)))
        except ValidationError:  # pydantic refuses a lone surrogate ("\ud800") in the text these fields were joined into
            raise RequestProblem(422, f"{where}description, features or details: not valid Unicode text", f"{where}description") from None
        except RecursionError:
            raise RequestProblem(422, f"{where}details: nested too deep", f"{where}details") from None
    return ParsedRequest(items=items, ids=[entry.id for entry in entries], batch=batch)


def _problem(error: ValidationError) -> RequestProblem:
    """pydantic's first error as one line naming the field (items[3].title), with how many more fields are wrong.

    A field that takes several types fails once per type; that is one problem, said in the field's own words.
    """
    problems = error.errors(include_url=False, include_input=False)
    first = problems[0]
    field = _field_path(first["loc"]) or "body"
    fields = {_field_path(problem["loc"][: 3 if problem["loc"][:1] == ("items",) else 1]) for problem in problems}
    more = f" (and {len(fields) - 1} more fields)" if len(fields) > 1 else ""
    if first["type"] == "extra_forbidden":
        message = "unknown field; see /docs for the item's fields"
    elif any(isinstance(part, str) and ("[" in part or part in _UNION_TAGS) for part in first["loc"]):
        name = next((part for part in reversed(first["loc"]) if part in _ACCEPTED), "")
        message = f"expected {_ACCEPTED.get(name, 'text, a number, or a list or object of them')}"
    else:
        message = first["msg"]
    return RequestProblem(422, f"{field}: {message}{more}", field)


_ACCEPTED = {
    "description": "text or a list of texts",
    "features": "text or a list of texts",
    "details": "an object of text or number values (nested two levels at most), or its JSON text",
}


def _field_path(location: tuple[int | str, ...]) -> str:
    """("items", 3, "details", "str") → items[3].details: the union branch names pydantic adds are dropped."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "[" in part or part in _UNION_TAGS:
            continue
        else:
            path += f".{part}" if path else part
    return path


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(type(value), "null")
