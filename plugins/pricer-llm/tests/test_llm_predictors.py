import pytest

from pricer_core.contract.predictor import learns_from_validation, validation_free_twin
from pricer_core.item import Item
from pricer_core.testing import parametrize_with_checks, tiny_data
from pricer_llm.predictors import KnnEmbed, LLMPredictor


@parametrize_with_checks([KnnEmbed])
def test_knn_embed_conformance(predictor, check):
    check(predictor)


def test_knn_embed_prices_from_similar_titles():
    train = [
        Item(id="1", title="Cordless power drill 20V", category="Tools", price=120.0),
        Item(id="2", title="Cordless hammer drill 18V", category="Tools", price=140.0),
        Item(id="3", title="Pack of 10 pencils", category="Office", price=3.0),
        Item(id="4", title="Box of HB pencils", category="Office", price=4.0),
    ]
    predictor = KnnEmbed(k=2).fit(train, [])
    drill, pencil = predictor.predict([Item(id="a", title="Brushless cordless drill", category="Tools"), Item(id="b", title="Yellow pencils, 12 count", category="Office")])
    assert 100 < drill < 150 and 2 < pencil < 5


def test_knn_embed_says_it_learns_validation_and_its_twin_does_not():
    """A validation row is its own nearest neighbour: judged on validation, knn-embed would look exact."""
    train = [Item(id="1", title="Cordless power drill 20V", category="Tools", price=120.0), Item(id="2", title="Box of HB pencils", category="Office", price=4.0)]
    validation = [Item(id="3", title="Cast iron skillet, 12 inch", category="Kitchen", price=35.0)]
    learner = KnnEmbed(k=1).fit(train, validation)
    twin = validation_free_twin(learner).fit(train, validation)
    assert learns_from_validation(learner) and not learns_from_validation(twin)
    assert learner.predict(validation) == pytest.approx([35.0])  # its own price
    assert len(twin._prices) == len(train) and min(abs(twin.predict(validation)[0] - price) for price in (120.0, 4.0)) < 1e-6


def few_items():
    return tiny_data(train_size=20, validation_size=4, test_size=3)


LIVE_RULES = ["declares-name-and-needs", "empty-train-error", "fit-returns-self", "predict-count", "save-load-new-process"]


@parametrize_with_checks([LLMPredictor], rules=LIVE_RULES, data=few_items)
def test_llm_conformance_against_the_live_server(local_env, predictor, check, tmp_path, monkeypatch):
    monkeypatch.setenv("PRICER_CACHE", str(tmp_path))
    check(predictor)
