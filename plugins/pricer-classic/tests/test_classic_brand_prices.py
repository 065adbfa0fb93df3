import math

import numpy as np
import pytest

from pricer_classic.brand_prices import SMOOTHING, BrandPrices, brand_of
from pricer_classic.cross_fitting import fold_assignment
from pricer_core.item import Item


def item(index: int, title: str, full: str = "", price: float = 10.0) -> Item:
    return Item(id=str(index), title=title, full=full, price=price)


def test_the_stated_brand_wins_over_the_first_title_word():
    assert brand_of(item(1, "Genuine Mazda Floor Mat", "Mat\nOEM Manufacturer Mazda, Brand Mazda, Model X")) == "mazda"
    assert brand_of(item(2, "Fridge tray", "Tray. Brand Name Frigidaire, Part Weight 6 pounds")) == "frigidaire"
    assert brand_of(item(3, "Motorcraft YB3125 Fan Clutch", "no details here")) == "motorcraft"
    assert brand_of(item(4, "!!!")) == ""
    assert brand_of(item(5, "Batteries", "Manufacturer Amazon, Brand AmazonBasics, Weight 1 pounds")) == "amazonbasics"
    assert brand_of(item(6, "Camera", "Indoor camera. Brand eufy, Model C120")) == "eufy"
    assert brand_of(item(7, "The New 2-Pack Acme garden hose", "Brand New Condition, 50 feet")) == "acme"


def test_a_brand_price_is_its_mean_log_price_shrunk_towards_the_overall_mean():
    table = BrandPrices.fitted(["a", "a", "b"], np.array([2.0, 4.0, 9.0]))
    prior = 5.0
    columns = table.columns(["a", "b", "never-seen"])
    assert columns[0] == pytest.approx([(6.0 + SMOOTHING * prior) / (2 + SMOOTHING), math.log1p(2)])
    assert columns[1] == pytest.approx([(9.0 + SMOOTHING * prior) / (1 + SMOOTHING), math.log1p(1)])
    assert columns[2] == pytest.approx([prior, 0.0])


def test_a_training_row_is_never_encoded_with_its_own_price():
    """Every brand appears once: out of fold, each row sees only the mean of the other folds' rows."""
    items = [item(index, f"brand{index} thing") for index in range(50)]
    log_prices = np.arange(50, dtype=float)
    out_of_fold, table = BrandPrices.fit_out_of_fold(items, log_prices, folds=5, seed=7)
    fold_of = fold_assignment(50, 5, 7)
    for index in range(50):
        others = log_prices[fold_of != fold_of[index]]
        assert out_of_fold[index] == pytest.approx([others.mean(), 0.0])  # unseen in the other folds: their mean
    assert table.transform(items[:1])[0] == pytest.approx([(0.0 + SMOOTHING * log_prices.mean()) / (1 + SMOOTHING), math.log1p(1)])


def test_the_table_round_trips_through_its_state():
    table = BrandPrices.fitted(["a", "b", "a"], np.array([1.0, 2.0, 3.0]))
    again = BrandPrices.from_state(table.state())
    assert np.array_equal(again.columns(["a", "b", "c"]), table.columns(["a", "b", "c"]))


@pytest.mark.parametrize(
    "state, field",
    [
        ([], "brands"),
        ({"prior": 1.0}, "brands"),
        ({"prior": "x", "brands": {}}, "prior"),
        ({"prior": float("inf"), "brands": {}}, "prior"),
        ({"prior": 1.0, "brands": {"a": [1.0]}}, "brand 'a'"),
        ({"prior": 1.0, "brands": {"a": [float("nan"), 2]}}, "brand 'a'"),
        ({"prior": 1.0, "brands": {"a": [1.0, 0]}}, "brand 'a'"),
        ({"prior": 1.0, "brands": {"a": [1.0, 2.5]}}, "brand 'a'"),
        ({"prior": 1.0, "brands": {"a": [1.0, 10**400]}}, "brand 'a'"),
        ({"prior": 1.0, "brands": {"a": [True, 2]}}, "brand 'a'"),
        ({"prior": 1.0, "brands": {"a": [1e308, 1]}}, "brand 'a'"),  # finite, but inf once the trees read it as float32
        ({"prior": 1.0, "brands": {"a": [10**400, 1]}}, "brand 'a'"),
        ({"prior": 1e300, "brands": {}}, "prior"),
    ],
)
def test_a_crafted_table_is_one_error_naming_the_field(state, field):
    with pytest.raises(ValueError, match=field):
        BrandPrices.from_state(state)
