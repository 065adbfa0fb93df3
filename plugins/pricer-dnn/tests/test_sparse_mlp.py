import numpy as np
import pytest

from pricer_core.contract.predictor import check_settings
from pricer_core.testing import parametrize_with_checks, tiny_data
from pricer_core.storage.persistence import ModelFolderError, load_predictor, save_predictor
from pricer_dnn.sparse_mlp import SparseMlpPredictor, _binarised
from crafted_config import saved_with_a_crafted_setting


def small():
    return SparseMlpPredictor(word_features=2**12, char_features=2**10, hidden=32, networks=2, epochs=2)


small.name, small.needs = SparseMlpPredictor.name, SparseMlpPredictor.needs


@parametrize_with_checks([small])
def test_conformance(predictor, check):
    check(predictor)


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
    with pytest.raises(TypeError, match="layers"):  # settings are explicit keywords
        SparseMlpPredictor(layers=2)
    with pytest.raises(ValueError, match="unknown setting"):  # what --set and the bench check first
        check_settings("sparse-mlp", SparseMlpPredictor, {"layers": 2})
    with pytest.raises(ValueError, match="hidden must be at least 1"):
        SparseMlpPredictor(hidden=0)
    with pytest.raises(ValueError, match="lr must be positive"):
        SparseMlpPredictor(lr=-1.0)


@pytest.mark.parametrize("setting, value", [("hidden", 10**6), ("word_features", 10**8), ("networks", 3)])
def test_a_config_that_does_not_match_its_networks_is_refused_before_allocating(tmp_path, setting, value):
    folder = saved_with_a_crafted_setting(small, tmp_path / "m", setting, value)
    with pytest.raises((ValueError, ModelFolderError), match="not match (the|its) settings"):
        load_predictor(folder)


def test_a_loaded_model_predicts_exactly_what_the_fitted_one_did(tmp_path):
    train, validation, test = tiny_data()
    fitted = small().fit(train, validation)
    save_predictor(fitted, tmp_path / "m")
    assert load_predictor(tmp_path / "m").predict(test) == fitted.predict(test)


def test_crafted_networks_are_refused_and_run_nothing(tmp_path):
    from pricer_core.hostile import crafted_pickle

    train, validation, _ = tiny_data()
    save_predictor(small().fit(train, validation), tmp_path / "m")
    marker = tmp_path / "ran"
    (tmp_path / "m" / "model" / "networks.pt").write_bytes(crafted_pickle(marker, wrap="w"))
    with pytest.raises(ModelFolderError):
        load_predictor(tmp_path / "m")
    assert not marker.exists()


def test_one_tensor_shared_by_every_network_is_refused(tmp_path):
    """torch.save stores a shared storage once: 16 networks in the file size of one would pass a size check."""
    import torch

    train, validation, _ = tiny_data()
    save_predictor(small().fit(train, validation), tmp_path / "m")
    weights = tmp_path / "m" / "model" / "networks.pt"
    states = torch.load(weights, weights_only=True)
    shared = states[0]["first.weight"]
    expanded = {key: value for key, value in states[0].items()}
    expanded["first.weight"] = shared[:1].clone().expand_as(shared)  # a stride-0 view: one row of storage for the whole layer
    torch.save([expanded, states[1]], weights)
    with pytest.raises((ValueError, ModelFolderError), match="share or overrun"):
        load_predictor(tmp_path / "m")


def test_a_missing_setting_value_is_a_clear_error():
    with pytest.raises(ValueError, match="hidden=None must be int"):
        SparseMlpPredictor(hidden=None)
    with pytest.raises(ValueError, match="at most 16"):
        SparseMlpPredictor(networks=1000)
