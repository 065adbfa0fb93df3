"""pricer_core/contract/predictor.py: settings from the signature, clone, role, the validation
setting, FROM_PRESET, and plugins written before them."""

import copy
import pickle
import warnings

import pytest

from pricer_core.contract.checks import read_config_fields
from pricer_core.contract.predictor import FROM_PRESET, Predictor, clone, learns_from_validation, role_of, validation_free_twin
from pricer_core.predictors.baselines import ConstantMean
from pricer_core.predictors.ensemble import Ensemble


class Scaled(ConstantMean):
    name = "scaled"

    def __init__(self, scale: float = 1.0, learn_from_validation: bool = False):
        super().__init__()
        self.scale, self.learn_from_validation = scale, learn_from_validation


def test_the_fit_cache_key_is_the_settings_and_clone_rebuilds_them():
    predictor = Scaled(scale=2.0)
    assert predictor.config() == predictor.get_params() == {"scale": 2.0, "learn_from_validation": False}
    twin = clone(predictor, scale=3.0)
    assert type(twin) is Scaled and twin is not predictor and twin.get_params() == {"scale": 3.0, "learn_from_validation": False}


def test_the_validation_twin_is_the_same_settings_without_validation():
    learner = Scaled(scale=2.0, learn_from_validation=True)
    twin = validation_free_twin(learner)
    assert learns_from_validation(learner) and not learns_from_validation(twin) and twin.scale == 2.0
    with pytest.raises(NotImplementedError, match="no learn_from_validation setting"):
        validation_free_twin(ConstantMean())


def test_a_plugin_taking_settings_as_keyword_arguments_keeps_every_one_in_its_cache_key():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        class OldStyle(ConstantMean):
            name = "old-style"

            def __init__(self, **settings):
                super().__init__()
                self.settings = settings

    assert OldStyle(depth=3).config() != OldStyle(depth=9).config()
    assert OldStyle(depth=3).config() == {"settings": {"depth": 3}}


def test_old_role_flags_are_read_through_inheritance_and_never_over_an_explicit_role():
    with pytest.warns(FutureWarning) as caught:

        class OldBlend(ConstantMean):
            name, blends = "old-blend", True

        class OldBlendChild(OldBlend):
            blendable = False

        class NewBlendOldFlag(Ensemble):
            role, blendable = "blend", False

    assert role_of(OldBlend) == "blend" and role_of(OldBlendChild) == "blend" and role_of(NewBlendOldFlag) == "blend"
    assert all(warning.filename == __file__ for warning in caught)  # the warning points at the plugin's class


def test_clone_to_another_preset_takes_that_presets_values():
    classic = pytest.importorskip("pricer_classic.predictors")
    default = classic.LinearPredictor()
    course = clone(default, preset="course")
    assert course.get_params() == classic.LinearPredictor(preset="course").get_params()
    assert clone(default, preset="course", alpha=2.0).alpha == 2.0
    xgboost = clone(classic.XGBoostPredictor(), preset="course")  # settings the course preset lacks are dropped, not refused
    assert xgboost.get_params() == classic.XGBoostPredictor(preset="course").get_params()


def test_from_preset_is_one_object_however_it_travels():
    assert pickle.loads(pickle.dumps(FROM_PRESET)) is FROM_PRESET
    assert copy.deepcopy(FROM_PRESET) is FROM_PRESET and copy.copy(FROM_PRESET) is FROM_PRESET
    assert repr(FROM_PRESET) == "FROM_PRESET"


@pytest.mark.parametrize(
    "text, words",
    [
        ("[1, 2]", "expected a JSON object"),
        ('{"preset": "default", "seed": 42, "params": null}', "field params must be an object"),
        ('{"preset": "default", "seed": 42, "params": "abc"}', "field params must be an object"),
        ('{"preset": ["a"], "seed": 42, "params": {}}', "field preset must be a string"),
        ('{"preset": "default", "seed": true, "params": {}}', "field seed must be an integer"),
    ],
)
def test_a_crafted_config_file_is_one_line_naming_the_field(tmp_path, text, words):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=words) as caught:
        read_config_fields(path, {"preset": str, "seed": int, "params": dict})
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_predictor_base_has_no_setting_to_read_back():
    assert Predictor.get_params(ConstantMean()) == {}
