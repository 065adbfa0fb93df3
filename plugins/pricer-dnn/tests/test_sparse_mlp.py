import numpy as np
import pytest

from pricer_core.contract.testing import PREDICTOR_RULES, check_predictor, tiny_data
from pricer_core.storage.persistence import ModelFolderError, load_predictor
from pricer_dnn.sparse_mlp import SparseMlpPredictor, _binarised
from crafted_config import saved_with_a_crafted_setting


def small():
    return SparseMlpPredictor(word_features=2**12, char_features=2**10, hidden=32, networks=2, epochs=2)


small.name, small.needs = SparseMlpPredictor.name, SparseMlpPredictor.needs


@pytest.mark.parametrize("rule", PREDICTOR_RULES)
def test_conformance(rule):
    check_predictor(small, rules=[rule])


def test_it_learns_the_price_level_of_what_it_was_shown():
    train, validation, _ = tiny_data()
    predictor = small().fit(train, validation)
    predicted = np.asarray(predictor.predict(validation))
    truth = np.asarray([item.price for item in validation])
    median_guess = np.abs(np.median([item.price for item in train]) - truth).mean()
    assert np.abs(predicted - truth).mean() < median_guess  # better than the training median


def test_binarised_rows_keep_which_features_are_present_at_unit_length():
    from scipy import sparse

    matrix = sparse.csr_matrix(np.array([[0.0, 3.0, 0.5], [2.0, 0.0, 0.0]], dtype=np.float32))
    binary = _binarised(matrix).toarray()
    assert np.allclose(binary, [[0, 2**-0.5, 2**-0.5], [1, 0, 0]])


def test_it_is_opt_in_and_bad_settings_are_clear():
    assert SparseMlpPredictor.opt_in
    with pytest.raises(ValueError, match="unknown setting"):
        SparseMlpPredictor(layers=2)
    with pytest.raises(ValueError, match="hidden must be at least 1"):
        SparseMlpPredictor(hidden=0)
    with pytest.raises(ValueError, match="lr must be positive"):
        SparseMlpPredictor(lr=-1.0)


@pytest.mark.parametrize("setting, value", [("hidden", 10**6), ("word_features", 10**8), ("networks", 3)])
def test_a_config_that_does_not_match_its_networks_is_refused_before_allocating(tmp_path, setting, value):
    folder = saved_with_a_crafted_setting(small, tmp_path / "m", setting, value)
    with pytest.raises((ValueError, ModelFolderError), match="do not match the saved networks"):
        load_predictor(folder)
