import json
import subprocess
import sys

import pytest

from pricer_core.contract.predictor import check_settings
from pricer_core.item import Item
from pricer_core.storage.persistence import save_predictor
from pricer_core.testing import parametrize_with_checks, tiny_data
from pricer_dnn.predictor import DnnPredictor, document
from crafted_config import saved_with_a_crafted_setting


def small():
    return DnnPredictor(n_features=1024, width=32, depth=1, epochs=2, batch_size=32, progress=False)


small.name, small.needs = DnnPredictor.name, DnnPredictor.needs


@parametrize_with_checks([small])
def test_conformance(predictor, check):
    check(predictor)


def test_meta_tokens_put_source_and_category_in_the_text():
    item = Item(id="a", title="Drill", category="Tools_and_Home", full="Drill\ncordless", source="my-file_1")
    assert document(item, True).startswith("zzsourcemyfile1 zzcategoryToolsandHome\n")
    assert document(item, False) == "Drill\ncordless"


def test_saved_on_one_process_loads_and_predicts_in_another(tmp_path):
    train, validation, test = tiny_data()
    predictor = small().fit(train, validation)
    assert len(predictor.history) == 2 and "validation_mae" in predictor.history[-1]
    save_predictor(predictor, tmp_path / "m")
    (tmp_path / "items.jsonl").write_text("".join(item.model_dump_json() + "\n" for item in test))
    script = (
        "import json, sys\nfrom pricer_core.item import Item\nfrom pricer_dnn.predictor import DnnPredictor\n"
        "p = DnnPredictor.load(sys.argv[1] + '/model', device='cpu')\n"
        "print(json.dumps(p.predict([Item.model_validate_json(l) for l in open(sys.argv[2])])))"
    )
    output = subprocess.run([sys.executable, "-c", script, str(tmp_path / "m"), str(tmp_path / "items.jsonl")], capture_output=True, text=True, check=True)
    assert json.loads(output.stdout) == pytest.approx(predictor.predict(test), rel=1e-5)


def test_bad_inputs_are_clear_errors():
    train, validation, _ = tiny_data()
    with pytest.raises(ValueError, match="empty training set"):
        small().fit([], validation)
    with pytest.raises(ValueError, match="empty text"):
        small().fit(train[:5] + [Item(id="e", title=" ", price=3.0)], validation)
    with pytest.raises(TypeError, match="layers"):  # settings are explicit keywords
        DnnPredictor(layers=3)
    with pytest.raises(ValueError, match="unknown setting"):  # what --set and the bench check first
        check_settings("dnn", DnnPredictor, {"layers": 3})
    with pytest.raises(ValueError, match="unknown preset"):
        DnnPredictor(preset="giant")


def test_crafted_weights_are_refused_and_run_nothing(tmp_path):
    from pricer_core.hostile import crafted_pickle
    from pricer_core.storage.persistence import ModelFolderError, load_predictor

    train, validation, _ = tiny_data()
    save_predictor(small().fit(train, validation), tmp_path / "m")
    marker = tmp_path / "ran"
    (tmp_path / "m" / "model" / "weights.pt").write_bytes(crafted_pickle(marker, wrap="w"))
    with pytest.raises(ModelFolderError, match="cannot load dnn"):
        load_predictor(tmp_path / "m")
    assert not marker.exists()


@pytest.mark.parametrize("setting, value", [("width", 10**6), ("n_features", 10**7), ("depth", 400)])
def test_a_config_asking_for_a_bigger_net_than_its_weights_is_refused_before_allocating(tmp_path, setting, value):
    from pricer_core.storage.persistence import ModelFolderError, load_predictor

    folder = saved_with_a_crafted_setting(small, tmp_path / "m", setting, value)  # width 10^6 × 1024 inputs: 4 GB
    with pytest.raises((ValueError, ModelFolderError), match="does not match its settings"):
        load_predictor(folder)


def test_wrongly_typed_settings_fail_at_construction():
    with pytest.raises(ValueError, match="epochs='5' must be int"):
        DnnPredictor(epochs="5")


def test_batch_scale_grows_batch_and_learning_rate_together():
    scaled = DnnPredictor(preset="course", batch_scale=8).train_config
    assert (scaled.batch_size, scaled.lr) == (512, pytest.approx(8e-3))
    assert DnnPredictor(preset="course").train_config.batch_size == 64
    with pytest.raises(ValueError, match="batch_scale must be at least 1"):
        DnnPredictor(batch_scale=0).train_config


def test_settings_no_preset_sets_have_their_defaults_in_the_signature_and_survive_a_preset_change():
    from pricer_core import FROM_PRESET, clone
    from pricer_core.contract.predictor import declared_settings
    from pricer_dnn.predictor import PRESETS, SETTING_DEFAULTS

    declared = declared_settings(DnnPredictor)[0]
    in_presets = {key for preset in PRESETS.values() for key in preset}
    for key, default in SETTING_DEFAULTS.items():
        assert declared[key] == (FROM_PRESET if key in in_presets else default), key
    twin = clone(DnnPredictor(seed=7, amp=False, batch_scale=2, epochs=3), preset="course")
    assert (twin.seed, twin.amp, twin.batch_scale) == (7, False, 2)
    assert (twin.epochs, twin.width) == (PRESETS["course"]["epochs"], PRESETS["course"]["width"])


@pytest.mark.parametrize("standardiser", [{"mean": "x", "std": 1.0}, {"mean": 1.0, "std": 0}, {"mean": 1.0}, {"mean": 1.0, "std": 1.0, "extra": 2}])
def test_a_crafted_standardiser_is_one_line_naming_the_field(tmp_path, standardiser):
    import json

    from pricer_core.storage.persistence import ModelFolderError, load_predictor

    train, validation, _ = tiny_data()
    folder = tmp_path / "m"
    save_predictor(small().fit(train, validation), folder)
    config_file = folder / "model" / "config.json"
    config = json.loads(config_file.read_text())
    config_file.write_text(json.dumps({**config, "standardiser": standardiser}))
    with pytest.raises(ModelFolderError, match="field standardiser must be"):
        load_predictor(folder)
