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


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("folds", [2, 5])
def test_every_row_is_priced_by_a_model_that_never_saw_it_and_the_kept_model_saw_all(folds, workers):
    out_of_fold, kept = cross_fit(Remembers, ITEMS, folds, seed=0, workers=workers)
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


def test_fold_threads_sharing_one_counts_memo_price_every_row_as_one_thread_without_it():
    """Threads and the shared hashing change only the time: every price is bit-for-bit the same."""
    from functools import partial

    from pricer_classic.features import CountsMemo
    from pricer_classic.predictors import BagOfWordsLinear
    from pricer_core.testing import tiny_data

    train, _, test = tiny_data()
    alone, alone_kept = cross_fit(partial(BagOfWordsLinear, seed=0), train, 4, seed=0)
    memo = CountsMemo()
    threaded, threaded_kept = cross_fit(lambda: BagOfWordsLinear(seed=0).share_counts(memo), train, 4, seed=0, workers=4)
    threaded_kept.share_counts(None)
    assert threaded.tolist() == alone.tolist()
    assert threaded_kept.predict(test) == alone_kept.predict(test)


def test_workers_fit_the_folds_at_the_same_time():
    """Two folds meet at a barrier: with one worker they never would, and the barrier times out."""
    import threading

    meeting = threading.Barrier(2, timeout=10)

    class Meets(Remembers):
        def fit(self, train, validation):
            if len(train) < len(ITEMS):
                meeting.wait()
            return super().fit(train, validation)

    out_of_fold, kept = cross_fit(Meets, ITEMS, 2, seed=0, workers=2)
    assert out_of_fold.tolist() == [0.0] * len(ITEMS) and kept.predict(ITEMS) == [1.0] * len(ITEMS)


@pytest.mark.parametrize("predictor", ["xgboost", "bow-stack"])
def test_the_predictors_n_jobs_is_the_number_of_fold_threads(predictor, monkeypatch):
    import pricer_classic.tree_features as tree_features
    import pricer_classic.stacking as stacking
    from pricer_core.testing import tiny_data

    seen = []

    def recording(build, train, folds, seed, workers=1):
        seen.append(workers)
        return cross_fit(build, train, folds, seed, workers)

    monkeypatch.setattr(tree_features, "cross_fit", recording)
    monkeypatch.setattr(stacking, "cross_fit", recording)
    train, _, _ = tiny_data()
    if predictor == "xgboost":
        from pricer_classic.trees import XGBoostPredictor

        XGBoostPredictor(n_estimators=5, svd_components=4, n_jobs=3).fit(train, [])
    else:
        stacking.StackedBagOfWords(max_iter=5, n_jobs=3).fit(train, [])
    assert seen == [3]


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_a_fold_that_raises_cancels_the_fits_not_yet_started(error):
    started = []

    class First(Remembers):
        def fit(self, train, validation):
            started.append(len(train))
            raise error("stop")

    with pytest.raises(error):
        cross_fit(First, ITEMS, 5, seed=0, workers=1)
    assert len(started) == 1


def test_a_fold_that_raises_is_reported_while_another_fit_still_runs():
    """The error reaches the caller before a slow fold finishes: the slow one is released only after."""
    import threading

    calls, released, waited = [], threading.Event(), []
    lock = threading.Lock()

    class OneSlowOneBroken(Remembers):
        def fit(self, train, validation):
            with lock:
                calls.append(None)
                first = len(calls) == 1
            if first:
                waited.append(released.wait(timeout=20))
                return super().fit(train, validation)
            raise ValueError("broken fold")

    with pytest.raises(ValueError, match="broken fold"):
        cross_fit(OneSlowOneBroken, ITEMS, 3, seed=0, workers=2)
    released.set()
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread.name.startswith("ThreadPoolExecutor"):
            thread.join(timeout=20)
    assert waited == [True]
