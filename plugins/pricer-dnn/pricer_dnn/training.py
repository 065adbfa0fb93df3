"""The course's recipe: L1 on standardised log price, AdamW, cosine schedule per epoch, clipping.

Checkpoints after every epoch hold model, optimiser, scheduler, epoch and RNG state, so a killed
run resumes to exactly the weights an uninterrupted run would have.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import Standardiser, TrainConfig
from .model import ResidualPricer
from .sparse_rows import SparseRows

CHECKPOINT_FILE = "checkpoint.pt"


def pick_device(requested: str | None = None) -> torch.device:
    """CUDA (this rank's GPU under torchrun), then Apple MPS, then CPU, unless the caller names one."""
    if requested and requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun job (rank 0 of 1 without one)."""

    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.active:
            torch.distributed.barrier()

    def sum(self, value: float, device: torch.device | None = None) -> float:
        """The value summed over all ranks (itself in one process); on the training device, as NCCL needs."""
        if not self.active:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=device)
        torch.distributed.all_reduce(tensor)
        return float(tensor.item())


def distributed_from_env() -> Distributed:
    """torchrun's RANK/WORLD_SIZE: the process group starts once, NCCL on GPUs and gloo on CPUs."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed()
    if not torch.distributed.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))  # this rank's GPU, before NCCL starts
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return Distributed(torch.distributed.get_rank(), torch.distributed.get_world_size())


def run_description(distributed: Distributed, device: torch.device, config: TrainConfig, checkpoint: Path | None, start_epoch: int) -> str:
    """What a long run is about to do, said once by rank 0: processes, backend, device, epochs, where checkpoints go."""
    if distributed.active:
        backend = torch.distributed.get_backend() if torch.distributed.is_initialized() else "none"
        processes = f"{distributed.world} processes (DistributedDataParallel, {backend} backend)"
    else:
        processes = "1 process"
    resumed = f", resuming after epoch {start_epoch}" if start_epoch else ""
    where = f"checkpoints: {checkpoint} (rank 0 writes after each epoch)" if checkpoint else "no checkpoints (set checkpoint_dir to resume a killed run)"
    return f"  training on {processes}, device {device}, {config.epochs} epochs{resumed}; {where}"


def _autocast(device: torch.device, enabled: bool):
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


def predict_standardised(model: ResidualPricer, rows: SparseRows, device: torch.device, batch_size: int = 1024, amp: bool = True) -> np.ndarray:
    model.eval()
    outputs = []
    with torch.no_grad(), _autocast(device, amp):
        for start in range(0, len(rows), batch_size):
            picked = np.arange(start, min(start + batch_size, len(rows)))
            outputs.append(model(*rows.batch(picked, device)).float().cpu().numpy())
    return np.concatenate(outputs) if outputs else np.zeros(0, dtype=np.float32)


def _save_atomic(content: dict, path: Path) -> None:
    from pricer_core.storage.atomic import atomic_file

    with atomic_file(path) as handle:
        torch.save(content, handle)


def _resume(model, optimiser, scheduler, checkpoint_path: Path | None, config: TrainConfig, device: torch.device) -> tuple[int, list[dict]]:
    """(first epoch to run, history so far) from the checkpoint, or (0, []) with the seeded RNG."""
    if not (checkpoint_path and checkpoint_path.exists()):
        torch.manual_seed(config.seed)
        return 0, []
    try:  # tensors and plain containers only: a crafted pickle is refused, never run
        state = torch.load(checkpoint_path, map_location=device, weights_only=True)
    except Exception as error:
        first = (str(error).strip().splitlines() or [""])[0][:160]
        raise ValueError(f"{checkpoint_path}: not a checkpoint pricer can read ({type(error).__name__}: {first}); delete it to start over") from None
    needed = {"model", "optimiser", "scheduler", "torch_rng", "epoch", "history", "train_config"}
    if not isinstance(state, dict) or not needed <= set(state):
        raise ValueError(f"{checkpoint_path}: not a checkpoint pricer wrote (missing fields); delete it to start over")
    if state["train_config"] != asdict(config):
        raise ValueError(f"{checkpoint_path}: checkpoint was made with other settings; delete it or use them")
    model.load_state_dict(state["model"])
    optimiser.load_state_dict(state["optimiser"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    return state["epoch"], state["history"]


def _train_epoch(forward, model, optimiser, rows: SparseRows, target_tensor, config: TrainConfig, epoch: int, device: torch.device, distributed: Distributed, progress: bool) -> float:
    """One pass in the epoch's fixed order; returns the mean training loss over all rows and ranks.

    Under torchrun each rank takes every world-th row of each global batch and its loss is scaled
    so that DDP's gradient average equals the gradient of the global batch's mean: the same steps
    as one process with the same batch size and learning rate.
    """
    model.train()
    # The order depends on the epoch only, so a resumed run (and every rank) sees the same batches.
    order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(config.seed + epoch)).numpy()
    batches = range(0, len(rows), config.batch_size)
    if progress and distributed.is_main:
        from tqdm import tqdm

        batches = tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False)
    loss_function = nn.L1Loss()
    total = 0.0
    for start in batches:
        picked = order[start : start + config.batch_size]
        local = picked[distributed.rank :: distributed.world]
        indices, offsets = rows.batch(local, device)
        target = target_tensor[local].to(device, non_blocking=True)
        optimiser.zero_grad(set_to_none=True)
        with _autocast(device, config.amp):
            predicted = forward(indices, offsets).float()
        if distributed.active:
            error_sum = (predicted - target).abs().sum()
            loss = error_sum * (distributed.world / picked.size)
            total += float(error_sum.item())
        else:
            loss = loss_function(predicted, target)
            total += loss.item() * picked.size
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimiser.step()
    return distributed.sum(total, device) / len(rows)


def train(
    model: ResidualPricer,
    rows: SparseRows,
    targets: np.ndarray,
    config: TrainConfig,
    device: torch.device,
    validation: tuple[SparseRows, np.ndarray, Standardiser] | None = None,
    checkpoint_dir: Path | None = None,
    progress: bool = True,
    after_epoch: Callable[[int, dict], None] | None = None,
    distributed: Distributed | None = None,
) -> list[dict]:
    """Train in place; returns per-epoch history (loss, validation MAE in dollars, seconds).

    Under `torchrun` (or with `distributed` given) the model is wrapped in DistributedDataParallel
    and rank 0 alone writes checkpoints; every rank resumes from the same checkpoint.
    """
    if len(rows) == 0:
        raise ValueError("cannot train on zero rows")
    if not np.all(np.isfinite(targets)):
        raise ValueError("training targets contain NaN or infinity")
    distributed = distributed or distributed_from_env()
    model.to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.t_max)
    checkpoint_path = checkpoint_dir / CHECKPOINT_FILE if checkpoint_dir else None
    start_epoch, history = _resume(model, optimiser, scheduler, checkpoint_path, config, device)
    if progress and distributed.is_main:
        print(run_description(distributed, device, config, checkpoint_path, start_epoch), flush=True)
    network = model
    if distributed.active:
        from torch.nn.parallel import DistributedDataParallel

        network = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    forward = torch.compile(network) if config.compile else network
    target_tensor = torch.from_numpy(targets.astype(np.float32))
    for epoch in range(start_epoch, config.epochs):
        started = time.perf_counter()
        train_loss = _train_epoch(forward, model, optimiser, rows, target_tensor, config, epoch, device, distributed, progress)
        scheduler.step()
        record = {"epoch": epoch + 1, "train_loss": train_loss, "seconds": time.perf_counter() - started}
        if validation is not None and len(validation[0]):
            val_rows, val_prices, standardiser = validation
            predicted = standardiser.decode(predict_standardised(model, val_rows, device, amp=config.amp))
            record["validation_mae"] = float(np.mean(np.abs(predicted - val_prices)))
        history.append(record)
        if progress and distributed.is_main:
            shown = f", validation MAE ${record['validation_mae']:.2f}" if "validation_mae" in record else ""
            print(f"  epoch {epoch + 1}: loss {record['train_loss']:.4f}{shown} ({record['seconds']:.0f}s)", flush=True)
        if checkpoint_path:
            _checkpoint(model, optimiser, scheduler, epoch, history, config, checkpoint_path, distributed)
        if after_epoch:
            after_epoch(epoch + 1, record)
        if not math.isfinite(record["train_loss"]):
            raise FloatingPointError(f"training diverged at epoch {epoch + 1} (loss {record['train_loss']})")
    return history


def _checkpoint(model, optimiser, scheduler, epoch: int, history: list[dict], config: TrainConfig, path: Path, distributed: Distributed) -> None:
    """Rank 0 writes (atomically); the others wait, so a resume after any kill reads a whole file."""
    if distributed.is_main:
        path.parent.mkdir(parents=True, exist_ok=True)
        _save_atomic(
            {
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "epoch": epoch + 1,
                "history": history,
                "train_config": asdict(config),
            },
            path,
        )
    distributed.barrier()
