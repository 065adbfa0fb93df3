"""Plain settings and the target transform: no torch here, so registering the plugin stays fast."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NetConfig:
    n_features: int = 5000
    width: int = 4096
    depth: int = 8
    dropout: float = 0.2


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    t_max: int = 10
    clip: float = 1.0
    seed: int = 42
    amp: bool = True
    compile: bool = False


@dataclass
class Standardiser:
    """log(price + 1), standardised with the training mean and std; decoding never goes below 0."""

    mean: float
    std: float

    @classmethod
    def from_state(cls, state: dict, where: object) -> Standardiser:
        """From a saved folder: exactly a finite mean and a finite, positive std, or one line naming the field."""
        from pricer_core.contract.checks import is_finite_number

        if set(state) != {"mean", "std"} or not all(is_finite_number(state[key]) for key in state) or state["std"] <= 0:
            raise ValueError(f"{where}: field standardiser must be {{\"mean\": number, \"std\": positive number}}")
        return cls(float(state["mean"]), float(state["std"]))

    @classmethod
    def fit(cls, prices: np.ndarray) -> Standardiser:
        logs = np.log1p(prices)
        return cls(float(logs.mean()), float(logs.std()) or 1.0)

    def encode(self, prices: np.ndarray) -> np.ndarray:
        return ((np.log1p(prices) - self.mean) / self.std).astype(np.float32)

    def decode(self, values: np.ndarray) -> np.ndarray:
        return np.maximum(np.expm1(values * self.std + self.mean), 0.0)
