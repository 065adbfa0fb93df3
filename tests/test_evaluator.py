import threading

import pytest

from pricer_core.predictors.baselines import ConstantMean
from pricer_core.evaluation.evaluator import NoPrediction, PredictionError, evaluate
from pricer_core.contract.predictor import Predictor

from .conftest import make_items


class Echo(Predictor):
    """Predicts from the text (never the price); records which threads it ran on."""

    name = "echo"
    per_item = True

    def __init__(self):
        self.threads = set()
        self.seen_prices = []

    def fit(self, train, validation):
        return self

    def predict(self, items):
        self.threads.add(threading.get_ident())
        self.seen_prices.extend(item.price for item in items)
        if items[0].id == "item-3":
            raise NoPrediction("reply had no number")
        return [float(len(items[0].title))]

    def save(self, directory):
        pass

    @classmethod
    def load(cls, directory):
        return cls()


def test_per_item_predictor_runs_in_threads_and_never_sees_prices():
    items = make_items(20)
    predictor = Echo()
    evaluation = evaluate(predictor, items, workers=4)
    assert set(predictor.seen_prices) == {None}
    assert evaluation.failures == {"item-3": "reply had no number"}
    assert evaluation.metrics["coverage"] == pytest.approx(19 / 20)
    record = evaluation.records[0]
    assert record["truth"] == items[0].price and record["prediction"] == len(items[0].title)
    assert evaluation.records[3]["prediction"] is None


def test_batch_predictor_scored_with_interval():
    items = make_items(30)
    evaluation = evaluate(ConstantMean().fit(items, []), items)
    low, high = evaluation.metrics["mae_ci95"]
    assert low <= evaluation.metrics["mae"] <= high
    assert {record["colour"] for record in evaluation.records} <= {"green", "orange", "red"}


class Broken(ConstantMean):
    def __init__(self, output):
        super().__init__()
        self.output = output

    def predict(self, items):
        return self.output(items)


@pytest.mark.parametrize(
    "output, message",
    [
        (lambda items: [1.0] * (len(items) - 1), "prices for"),
        (lambda items: [float("nan")] * len(items), "not finite"),
        (lambda items: [-1.0] * len(items), "negative"),
        (lambda items: ["cheap"] * len(items), "not a number"),
    ],
)
def test_contract_violations_are_prediction_errors(output, message):
    items = make_items(5)
    with pytest.raises(PredictionError, match=message):
        evaluate(Broken(output).fit(items, []), items)
