"""The seed's recipe: L1 on standardised log price, AdamW, cosine schedule per epoch, clipping.

Checkpoints after every epoch hold model, optimiser, scheduler, epoch and RNG state, so a killed
run resumes to exactly the weights an uninterrupted run would have.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import Standardiser, TrainConfig
from .model import ResidualPricer
from .sparse_rows import SparseRows

CHECKPOINT_FILE = "checkpoint.pt"


def pick_device(requested: str | None = None) -> torch.device:
    """CUDA, then Apple MPS, then CPU, unless the caller names one."""
    if requested and requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


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
    temporary = path.with_name(path.name + ".tmp")
    torch.save(content, temporary)
    temporary.replace(path)


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
) -> list[dict]:
    """Train in place; returns per-epoch history (loss, validation MAE in dollars, seconds)."""
    if len(rows) == 0:
        raise ValueError("cannot train on zero rows")
    if not np.all(np.isfinite(targets)):
        raise ValueError("training targets contain NaN or infinity")
    model.to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.t_max)
    history: list[dict] = []
    start_epoch = 0
    checkpoint_path = checkpoint_dir / CHECKPOINT_FILE if checkpoint_dir else None
    if checkpoint_path and checkpoint_path.exists():
        try:  # tensors and plain containers only: a crafted pickle is refused, never run
            state = torch.load(checkpoint_path, map_location=device, weights_only=True)
        except Exception as error:
            first = (str(error).strip().splitlines() or [""])[0][:160]
            raise ValueError(f"{checkpoint_path}: not a checkpoint pricer can read ({type(error).__name__}: {first}); delete it to start over") from None
        if state["train_config"] != asdict(config):
            raise ValueError(f"{checkpoint_path}: checkpoint was made with other settings; delete it or use them")
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        start_epoch, history = state["epoch"], state["history"]
    else:
        torch.manual_seed(config.seed)
    forward = torch.compile(model) if config.compile else model
    target_tensor = torch.from_numpy(targets.astype(np.float32))
    loss_function = nn.L1Loss()
    for epoch in range(start_epoch, config.epochs):
        model.train()
        started = time.perf_counter()
        # The order depends on the epoch only, so a resumed run sees the same batches.
        order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(config.seed + epoch)).numpy()
        batches = range(0, len(rows), config.batch_size)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False)
        total, count = 0.0, 0
        for start in batches:
            picked = order[start : start + config.batch_size]
            indices, offsets = rows.batch(picked, device)
            target = target_tensor[picked].to(device)
            optimiser.zero_grad(set_to_none=True)
            with _autocast(device, config.amp):
                loss = loss_function(forward(indices, offsets).float(), target)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            optimiser.step()
            total += loss.item() * picked.size
            count += picked.size
        scheduler.step()
        record = {"epoch": epoch + 1, "train_loss": total / count, "seconds": time.perf_counter() - started}
        if validation is not None and len(validation[0]):
            val_rows, val_prices, standardiser = validation
            predicted = standardiser.decode(predict_standardised(model, val_rows, device, amp=config.amp))
            record["validation_mae"] = float(np.mean(np.abs(predicted - val_prices)))
        history.append(record)
        if progress:
            shown = f", validation MAE ${record['validation_mae']:.2f}" if "validation_mae" in record else ""
            print(f"  epoch {epoch + 1}: loss {record['train_loss']:.4f}{shown} ({record['seconds']:.0f}s)", flush=True)
        if checkpoint_path:
            checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
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
                checkpoint_path,
            )
        if after_epoch:
            after_epoch(epoch + 1, record)
        if not math.isfinite(record["train_loss"]):
            raise FloatingPointError(f"training diverged at epoch {epoch + 1} (loss {record['train_loss']})")
    return history
