"""A brand's price level, learnt from the training rows and cross-fitted, as two columns for trees.

The same words cost $5 under one brand and $500 under another. A ridge adds a brand's word weight to
everything else the row says; a tree can split on the brand's typical log price instead. Each
training row is encoded from the other folds only: otherwise a brand seen once would hand the trees
its own row's price, and they would learn to trust a column that is worthless on new items.
"""

from __future__ import annotations

import math
import re

import numpy as np

from pricer_core.contract.checks import is_finite_number
from pricer_core.item import Item

from .cross_fitting import fold_assignment

# The course's text carries Amazon's details as "..., Manufacturer Amazon, Brand AmazonBasics, ..."
_STATED_BRAND = re.compile(r"\bBrand(?: Name)?[:\s]+(\w[\w&\-\.' ]{1,30}?)(?:,|\n|$)")
_STATED_MAKER = re.compile(r"\bManufacturer[:\s]+(\w[\w&\-\.' ]{1,30}?)(?:,|\n|$)")
_TITLE_WORD = re.compile(r"[a-z0-9][\w&\-']*")
# Title words that open a title without naming its brand
_NOT_BRANDS = frozenset({"a", "an", "the", "new", "for", "with", "genuine", "oem", "original", "premium", "upgraded", "replacement", "compatible", "pack", "set", "pcs"})
SMOOTHING = 10  # rows of the overall mean mixed into every brand's: a brand seen twice stays near the mean
LARGEST_LOG_PRICE = 50.0  # e^50 dollars: a saved mean beyond it is crafted, and would overflow the trees' float32
COLUMNS = ("brand_log_price", "brand_log_rows")


def brand_of(item: Item) -> str:
    """The brand the text states (Brand before Manufacturer), else the title's first word that can be a
    brand (most titles start with it); lower case."""
    text = item.summary or item.full
    stated = _STATED_BRAND.search(text) or _STATED_MAKER.search(text)
    if stated and not stated.group(1).lower().startswith("new"):  # "Brand New Condition"
        return stated.group(1).strip().lower()
    words = [word for word in _TITLE_WORD.findall(item.title.lower()) if word not in _NOT_BRANDS and not word[0].isdigit()]
    return words[0] if words else ""


class BrandPrices:
    """Per brand: the sum of training log prices and the row count; the overall mean for the rest."""

    def __init__(self, totals: dict[str, tuple[float, int]] | None = None, prior: float = 0.0) -> None:
        self.totals = totals or {}
        self.prior = prior

    @classmethod
    def fitted(cls, brands: list[str], log_prices: np.ndarray) -> BrandPrices:
        totals: dict[str, tuple[float, int]] = {}
        for brand, value in zip(brands, log_prices):
            total, count = totals.get(brand, (0.0, 0))
            totals[brand] = (total + float(value), count + 1)
        return cls(totals, float(np.mean(log_prices)) if len(log_prices) else 0.0)

    def columns(self, brands: list[str]) -> np.ndarray:
        """[smoothed mean log price, log(1 + rows)] per brand; a brand never seen gets the overall mean and 0."""
        rows = []
        for brand in brands:
            total, count = self.totals.get(brand, (0.0, 0))
            rows.append([(total + SMOOTHING * self.prior) / (count + SMOOTHING), math.log1p(count)])
        return np.asarray(rows, dtype=np.float32).reshape(len(brands), len(COLUMNS))

    def transform(self, items: list[Item]) -> np.ndarray:
        return self.columns([brand_of(item) for item in items])

    @classmethod
    def fit_out_of_fold(cls, items: list[Item], log_prices: np.ndarray, folds: int, seed: int) -> tuple[np.ndarray, BrandPrices]:
        """(every training row's columns from the folds it is not in, the table of all rows for new items)."""
        brands = [brand_of(item) for item in items]
        fold_of = fold_assignment(len(items), folds, seed)
        out_of_fold = np.zeros((len(items), len(COLUMNS)), dtype=np.float32)
        for fold in range(folds):
            learn, held_out = np.nonzero(fold_of != fold)[0], np.nonzero(fold_of == fold)[0]
            table = cls.fitted([brands[index] for index in learn], log_prices[learn])
            out_of_fold[held_out] = table.columns([brands[index] for index in held_out])
        return out_of_fold, cls.fitted(brands, log_prices)

    def state(self) -> dict:
        return {"prior": self.prior, "brands": {brand: [total, count] for brand, (total, count) in self.totals.items()}}

    @classmethod
    def from_state(cls, state: object) -> BrandPrices:
        """Checked field by field: a crafted table is one ValueError naming what is wrong, not a crash at predict."""
        if not isinstance(state, dict) or not isinstance(state.get("brands"), dict):
            raise ValueError("brand prices: 'brands' must be an object of brand -> [sum of log prices, rows]")
        prior = state.get("prior")
        if not _log_price(prior):
            raise ValueError(f"brand prices: 'prior' must be a log price within ±{LARGEST_LOG_PRICE:g}, got {str(prior)[:40]!r}")
        totals = {}
        for brand, entry in state["brands"].items():
            if not (
                isinstance(entry, list) and len(entry) == 2 and type(entry[1]) is int and 0 < entry[1] < 2**53
                and is_finite_number(entry[0]) and _log_price(entry[0] / entry[1])
            ):
                raise ValueError(f"brand prices: brand {brand[:40]!r} must be [sum of log prices, positive row count], got {str(entry)[:60]}")
            totals[brand] = (float(entry[0]), entry[1])
        return cls(totals, float(prior))


def _log_price(value: object) -> bool:
    return is_finite_number(value) and abs(value) <= LARGEST_LOG_PRICE
