"""torchrun with 2 CPU processes (gloo) takes the same steps as one process on the same global batch."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pricer_dnn.config import Standardiser, TrainConfig
from pricer_dnn.model import NetConfig, ResidualPricer
from pricer_dnn.sparse_rows import hash_texts
from pricer_dnn.training import CHECKPOINT_FILE, Distributed, train
from pricer_core.testing import tiny_data

CONFIG = dict(epochs=3, batch_size=15, t_max=3, amp=False)  # 128 rows: the last batch is odd-sized

SCRIPT = '''
import sys
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
from test_dnn_distributed import CONFIG, data, small_model
from pricer_dnn.config import TrainConfig
from pricer_dnn.training import train

out, checkpoint, kill_after, progress = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
rows, targets = data()
torch.manual_seed(1234 + int(__import__("os").environ["RANK"]))  # ranks start apart; DDP syncs them
model = small_model()

def stop(epoch, record):
    if epoch == kill_after:
        raise SystemExit(3)

train(model, rows, targets, TrainConfig(**CONFIG), torch.device("cpu"), checkpoint_dir=None if checkpoint == "-" else __import__("pathlib").Path(checkpoint), progress=progress, after_epoch=stop)
if __import__("os").environ["RANK"] == "0":
    torch.save(model.state_dict(), out)
'''


def data():
    train_items, _, _ = tiny_data(train_size=128)
    rows = hash_texts([item.full for item in train_items], n_features=512)
    prices = np.asarray([item.price for item in train_items])
    return rows, Standardiser.fit(prices).encode(prices)


def small_model(seed=0):
    torch.manual_seed(seed)
    return ResidualPricer(NetConfig(n_features=512, width=32, depth=2, dropout=0.0))


def torchrun(tmp_path: Path, out: Path, checkpoint: str = "-", kill_after: int = 0, progress: bool = False) -> subprocess.CompletedProcess:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        str(script), str(Path(__file__).parent), str(out), checkpoint, str(kill_after), "1" if progress else "0",
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)


def assert_same_weights(expected: dict, actual: dict) -> None:
    for name, tensor in expected.items():
        torch.testing.assert_close(actual[name], tensor, rtol=1e-4, atol=1e-5, msg=name)


@pytest.fixture(scope="module")
def one_process_weights():
    rows, targets = data()
    model = small_model()
    train(model, rows, targets, TrainConfig(**CONFIG), torch.device("cpu"), progress=False, distributed=Distributed())
    return model.state_dict()


def test_two_gloo_processes_match_one_process(tmp_path, one_process_weights):
    result = torchrun(tmp_path, tmp_path / "two.pt")
    assert result.returncode == 0, result.stderr[-3000:]
    assert_same_weights(one_process_weights, torch.load(tmp_path / "two.pt", weights_only=True))


def test_a_killed_two_process_run_resumes_to_the_same_weights(tmp_path, one_process_weights):
    checkpoint = tmp_path / "checkpoint"
    killed = torchrun(tmp_path, tmp_path / "never.pt", str(checkpoint), kill_after=1)
    assert killed.returncode != 0 and not (tmp_path / "never.pt").exists()
    assert torch.load(checkpoint / CHECKPOINT_FILE, weights_only=True)["epoch"] == 1
    resumed = torchrun(tmp_path, tmp_path / "resumed.pt", str(checkpoint), progress=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # a long run says what it is doing, once (rank 0): processes, backend, where its checkpoints go
    said = [line for line in resumed.stdout.splitlines() if "training on" in line]
    assert len(said) == 1, resumed.stdout[-2000:]
    assert "2 processes (DistributedDataParallel, gloo backend)" in said[0] and "resuming after epoch 1" in said[0]
    assert str(checkpoint / CHECKPOINT_FILE) in said[0]
    assert_same_weights(one_process_weights, torch.load(tmp_path / "resumed.pt", weights_only=True))
