import pytest

from pricer_classic.cross_fitting import cross_fit
from pricer_core.contract.predictor import Predictor
from pricer_core.item import Item


class Remembers(Predictor):
    """Prices an item 1 if it was among its training rows, else 0: shows who saw what."""

    name = "remembers"

    def fit(self, train, validation):
        self.seen = {item.id for item in train}
        return self

    def predict(self, items):
        return [1.0 if item.id in self.seen else 0.0 for item in items]

    def save(self, directory):
        raise NotImplementedError

    @classmethod
    def load(cls, directory):
        raise NotImplementedError


ITEMS = [Item(id=str(i), title=f"thing {i}", full=f"thing {i}", price=1.0) for i in range(23)]


@pytest.mark.parametrize("folds", [2, 5])
def test_every_row_is_priced_by_a_model_that_never_saw_it_and_the_kept_model_saw_all(folds):
    out_of_fold, kept = cross_fit(Remembers, ITEMS, folds, seed=0)
    assert out_of_fold.tolist() == [0.0] * len(ITEMS)
    assert kept.predict(ITEMS) == [1.0] * len(ITEMS)


def test_folds_are_fixed_by_the_seed_and_their_held_out_rows_cover_every_row_once():
    def training_sets(seed):
        fitted = []

        def build():
            fitted.append(Remembers())
            return fitted[-1]

        cross_fit(build, ITEMS, 3, seed)
        return [model.seen for model in fitted[:3]]  # the last one is the kept model

    assert training_sets(1) == training_sets(1) != training_sets(2)
    held_out = [{item.id for item in ITEMS} - seen for seen in training_sets(1)]
    assert sorted(identifier for rows in held_out for identifier in rows) == sorted(item.id for item in ITEMS)
    assert sorted(len(rows) for rows in held_out) == [7, 8, 8]
