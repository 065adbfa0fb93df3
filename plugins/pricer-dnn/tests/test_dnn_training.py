import numpy as np
import pytest
import torch

from pricer_dnn.model import NetConfig, ResidualPricer
from pricer_dnn.sparse_rows import hash_texts
from pricer_dnn.config import Standardiser, TrainConfig
from pricer_dnn.training import CHECKPOINT_FILE, pick_device, train
from pricer_core.testing import tiny_data


def data():
    train_items, _, _ = tiny_data(train_size=128)
    rows = hash_texts([item.full for item in train_items], n_features=512)
    prices = np.asarray([item.price for item in train_items])
    standardiser = Standardiser.fit(prices)
    return rows, standardiser.encode(prices)


def small_model(seed=0):
    torch.manual_seed(seed)
    return ResidualPricer(NetConfig(n_features=512, width=32, depth=2, dropout=0.1))


def test_training_lowers_the_loss():
    rows, targets = data()
    history = train(small_model(), rows, targets, TrainConfig(epochs=6, batch_size=16, t_max=6), torch.device("cpu"), progress=False)
    assert history[-1]["train_loss"] < history[0]["train_loss"] * 0.9


class Killed(Exception):
    pass


def test_resume_after_a_kill_gives_the_same_weights(tmp_path):
    rows, targets = data()
    config = TrainConfig(epochs=3, batch_size=16, t_max=3)
    straight = small_model()
    train(straight, rows, targets, config, torch.device("cpu"), progress=False)

    def kill_after_first_epoch(epoch, record):
        if epoch == 1:
            raise Killed

    interrupted = small_model()
    with pytest.raises(Killed):
        train(interrupted, rows, targets, config, torch.device("cpu"), checkpoint_dir=tmp_path, progress=False, after_epoch=kill_after_first_epoch)
    assert torch.load(tmp_path / CHECKPOINT_FILE, weights_only=True)["epoch"] == 1
    resumed = small_model(seed=123)  # a fresh process would start from other random weights
    history = train(resumed, rows, targets, config, torch.device("cpu"), checkpoint_dir=tmp_path, progress=False)
    assert [record["epoch"] for record in history] == [1, 2, 3]
    for (name, expected), actual in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(expected, actual), name


def test_checkpoint_with_other_settings_is_refused(tmp_path):
    rows, targets = data()
    train(small_model(), rows, targets, TrainConfig(epochs=1, batch_size=16), torch.device("cpu"), checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="other settings"):
        train(small_model(), rows, targets, TrainConfig(epochs=2, batch_size=32), torch.device("cpu"), checkpoint_dir=tmp_path, progress=False)


def test_nan_targets_and_empty_rows_are_errors():
    rows, targets = data()
    targets[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train(small_model(), rows, targets, TrainConfig(epochs=1), torch.device("cpu"), progress=False)
    with pytest.raises(ValueError, match="zero rows"):
        train(small_model(), hash_texts([], 512), np.zeros(0), TrainConfig(epochs=1), torch.device("cpu"), progress=False)


def test_device_choice_can_be_overridden():
    assert pick_device("cpu").type == "cpu"
    assert pick_device().type in {"cuda", "mps", "cpu"}


def test_a_crafted_checkpoint_is_refused_and_runs_nothing(tmp_path):
    from pricer_core.hostile import crafted_pickle

    rows, targets = data()
    marker = tmp_path / "ran"
    (tmp_path / CHECKPOINT_FILE).write_bytes(crafted_pickle(marker, wrap="model"))
    with pytest.raises(ValueError, match="not a checkpoint pricer can read"):
        train(small_model(), rows, targets, TrainConfig(epochs=1, batch_size=16), torch.device("cpu"), checkpoint_dir=tmp_path, progress=False)
    assert not marker.exists()
