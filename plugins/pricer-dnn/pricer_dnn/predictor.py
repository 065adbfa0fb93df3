"""`dnn`: the residual network as a pricer predictor, with `course` and `default` presets."""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from pricer_core.storage.atomic import atomic_file
from pricer_core.item import Item
from pricer_core.contract.checks import read_config_fields
from pricer_core.contract.predictor import FROM_PRESET, Predictor, check_setting_type, current_preset, require_training_items

from .config import NetConfig, Standardiser, TrainConfig
from .saved_tensors import check_state_matches

WEIGHTS_FILE = "weights.pt"
CONFIG_FILE = "config.json"

PRESETS: dict[str, dict[str, Any]] = {
    # Exactly the seed: 5000 hashed words, 4096 wide, 8 residual blocks (289,128,449 parameters).
    "course": {"n_features": 5000, "width": 4096, "depth": 8, "dropout": 0.2, "epochs": 5, "batch_size": 64, "lr": 1e-3, "meta_tokens": False},
    # Sized for 2 CPU cores and ~13k rows: a few minutes, and the row's source and category as words.
    "default": {"n_features": 2**14, "width": 512, "depth": 2, "dropout": 0.2, "epochs": 10, "batch_size": 128, "lr": 1e-3, "meta_tokens": True},
}
NET_KEYS = {field.name for field in fields(NetConfig)}
TRAIN_KEYS = {field.name for field in fields(TrainConfig)}
SETTING_DEFAULTS: dict[str, Any] = {
    **{field.name: field.default for field in (*fields(NetConfig), *fields(TrainConfig))},
    "meta_tokens": False,
    # GPUs want bigger batches: batch_scale k trains with batch k × batch_size and learning rate k × lr
    # (the linear scaling rule), so the course's recipe keeps its shape on a device 8× wider.
    "batch_scale": 1,
}


POSITIVE = ("n_features", "width", "epochs", "batch_size", "t_max")


def resolve_settings(preset: str, given: dict[str, Any]) -> dict[str, Any]:
    """The preset's settings over SETTING_DEFAULTS, with each one given checked and put over them."""
    resolved = {**SETTING_DEFAULTS, **PRESETS[preset]}
    for key, value in given.items():
        if value is FROM_PRESET:
            continue
        check_setting_type("dnn", key, value, resolved[key])  # the message quotes the preset's value
        if key in POSITIVE and value < 1:
            raise ValueError(f"dnn: setting {key} must be at least 1, got {value}")
        resolved[key] = value
    return resolved


def document(item: Item, meta_tokens: bool) -> str:
    """The text the network hashes; with meta_tokens the source and category become words too."""
    text = item.document()
    if not meta_tokens:
        return text
    source = "".join(ch for ch in (item.source or "unknown") if ch.isalnum())
    category = "".join(ch for ch in item.category if ch.isalnum()) or "none"
    return f"zzsource{source} zzcategory{category}\n{text}"


class DnnPredictor(Predictor):
    """The course's residual network on hashed words; sparse input, checkpointed, device-agnostic."""

    name = "dnn"
    # Not in the default run: leave-one-source-out over the full default set ranks it below xgboost and bow-stack.
    opt_in = "leave-one-source-out ranks it below xgboost and bow-stack, and its fit is the slowest (docs/experiments.md)"

    def __init__(
        self,
        preset: str = "default",
        device: str = "auto",
        checkpoint_dir: str | None = None,
        progress: bool = True,
        *,
        n_features: int = FROM_PRESET,
        width: int = FROM_PRESET,
        depth: int = FROM_PRESET,
        dropout: float = FROM_PRESET,
        epochs: int = FROM_PRESET,
        batch_size: int = FROM_PRESET,
        lr: float = FROM_PRESET,
        weight_decay: float = 0.01,
        t_max: int = 10,
        clip: float = 1.0,
        seed: int = 42,
        amp: bool = True,
        compile: bool = False,
        meta_tokens: bool = FROM_PRESET,
        batch_scale: int = 1,
    ) -> None:
        """Each setting a preset sets defaults to FROM_PRESET, the preset's value; the resolved value is stored
        under its own name, so get_params() shows what the model uses and clone() rebuilds it exactly."""
        given = {key: value for key, value in locals().items() if key in SETTING_DEFAULTS}
        preset = current_preset("dnn", preset)
        if preset not in PRESETS:
            raise ValueError(f"dnn: unknown preset {preset!r}; choose from {sorted(PRESETS)}")
        self.preset = preset
        self.device = device
        self.checkpoint_dir = checkpoint_dir
        self.progress = progress
        for key, value in resolve_settings(preset, given).items():
            setattr(self, key, value)
        self._model = None
        self._standardiser: Standardiser | None = None
        self.history: list[dict] = []

    def config(self) -> dict[str, Any]:
        """The fit cache's key: every setting but where checkpoints go and whether a bar is drawn."""
        return {key: value for key, value in self.get_params().items() if key not in ("checkpoint_dir", "progress")}

    @property
    def settings(self) -> dict[str, Any]:
        """Every network and training setting as resolved (what a folder's config.json keeps)."""
        return {key: getattr(self, key) for key in SETTING_DEFAULTS}

    @property
    def net_config(self) -> NetConfig:
        return NetConfig(**{key: getattr(self, key) for key in NET_KEYS})

    @property
    def train_config(self) -> TrainConfig:
        config = TrainConfig(**{key: getattr(self, key) for key in TRAIN_KEYS})
        scale = self.batch_scale
        if scale < 1:
            raise ValueError(f"dnn: batch_scale must be at least 1, got {scale}")
        return replace(config, batch_size=config.batch_size * scale, lr=config.lr * scale) if scale != 1 else config

    def _rows(self, items: list[Item]):
        from .sparse_rows import hash_texts

        return hash_texts([document(item, self.meta_tokens) for item in items], self.n_features)

    def fit(self, train: list[Item], validation: list[Item]) -> DnnPredictor:
        import torch

        from .model import ResidualPricer
        from .training import pick_device
        from .training import train as run_training

        prices = np.asarray(require_training_items(train), dtype=float)
        if any(not document(item, False).strip() for item in train):
            raise ValueError("dnn: a training item has empty text")
        self._standardiser = Standardiser.fit(prices)
        device = pick_device(self.device)
        torch.manual_seed(self.train_config.seed)
        self._model = ResidualPricer(self.net_config)
        validation = [item for item in validation if item.price is not None]
        validation_data = (
            (self._rows(validation), np.asarray([item.price for item in validation]), self._standardiser) if validation else None
        )
        checkpoint = Path(self.checkpoint_dir) if self.checkpoint_dir else None
        self.history = run_training(
            self._model, self._rows(train), self._standardiser.encode(prices), self.train_config, device,
            validation_data, checkpoint, self.progress,
        )
        return self

    def predict(self, items: list[Item]) -> list[float]:
        from .training import pick_device, predict_standardised

        if self._model is None or self._standardiser is None:
            raise RuntimeError("dnn: predict called before fit")
        if not items:
            return []
        device = pick_device(self.device)
        self._model.to(device)
        values = predict_standardised(self._model, self._rows(items), device, amp=self.train_config.amp)
        return [float(value) for value in self._standardiser.decode(values.astype(np.float64))]

    def save(self, directory: str | Path) -> None:
        import torch

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_file(directory / WEIGHTS_FILE) as handle:
            torch.save(self._model.state_dict(), handle)
        config = {
            "preset": self.preset,
            "settings": self.settings,
            "standardiser": asdict(self._standardiser),
            "history": self.history,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=1))

    @classmethod
    def load(cls, directory: str | Path, device: str = "auto") -> DnnPredictor:
        """Loads on whatever device this machine has (weights mapped there, tensors only)."""
        import torch

        from .model import ResidualPricer
        from .training import pick_device

        directory = Path(directory)
        config = read_config_fields(directory / CONFIG_FILE, {"preset": str, "settings": dict, "standardiser": dict, "history": list})
        preset = current_preset("dnn", config["preset"], warn=False)  # folders saved before the rename
        unknown = set(config["settings"]) - set(SETTING_DEFAULTS)
        if unknown:
            raise ValueError(f"dnn: unknown setting(s) {sorted(unknown)}; known: {sorted(SETTING_DEFAULTS)}")
        predictor = cls(preset, device=device, progress=False, **config["settings"])
        predictor._standardiser = Standardiser.from_state(config["standardiser"], directory / CONFIG_FILE)
        predictor.history = config["history"]
        state = torch.load(directory / WEIGHTS_FILE, map_location=pick_device(device), weights_only=True)
        blocks = {key.split(".")[1] for key in state if isinstance(key, str) and key.startswith("blocks.")} if isinstance(state, dict) else set()
        if len(blocks) != predictor.net_config.depth:  # counted first: a meta network of 10^9 blocks is no check
            raise ValueError(f"the saved network does not match its settings: {len(blocks)} blocks, depth {predictor.net_config.depth} ({directory})")
        check_state_matches(lambda: ResidualPricer(predictor.net_config), state, directory / WEIGHTS_FILE)
        model = ResidualPricer(predictor.net_config)
        model.load_state_dict(state)
        predictor._model = model
        return predictor

