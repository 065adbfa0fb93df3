import pytest

from pricer_core.item import Item
from pricer_core.contract.testing import PREDICTOR_RULES, check_predictor, tiny_data
from pricer_llm.predictors import KnnEmbed


@pytest.mark.parametrize("rule", PREDICTOR_RULES)
def test_knn_embed_conformance(rule):
    check_predictor(KnnEmbed, rules=[rule])


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


@pytest.mark.parametrize("rule", ["declares-name-and-needs", "empty-train-error", "fit-returns-self", "predict-count", "save-load-new-process"])
def test_llm_conformance_against_the_live_server(local_env, rule, tmp_path, monkeypatch):
    from pricer_llm.predictors import LLMPredictor

    monkeypatch.setenv("PRICER_CACHE", str(tmp_path))
    train, validation, test = tiny_data(train_size=20, validation_size=4, test_size=3)
    check_predictor(LLMPredictor, rules=[rule], data=(train, validation, test))
