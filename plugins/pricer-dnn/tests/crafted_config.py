import json
from pathlib import Path

from pricer_core.testing import tiny_data
from pricer_core.storage.persistence import save_predictor


def saved_with_a_crafted_setting(factory, folder: Path, setting: str, value) -> Path:
    """A model fitted on tiny data and saved, then its config.json edited as an attacker would."""
    train, validation, _ = tiny_data()
    save_predictor(factory().fit(train, validation), folder)
    config_file = folder / "model" / "config.json"
    config = json.loads(config_file.read_text())
    config["settings"][setting] = value
    config_file.write_text(json.dumps(config))
    return folder
