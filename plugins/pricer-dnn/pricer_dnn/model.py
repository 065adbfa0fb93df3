"""The network: sparse first layer, residual blocks, one output. Read it at a glance."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .config import NetConfig


class SparseLinear(nn.Module):
    """Linear layer for binary sparse rows given as (indices, offsets): a sum of weight rows.

    The same maths as nn.Linear on the dense 0/1 vector (weight is stored transposed, in × out),
    without ever building the dense N × n_features matrix.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        bound = 1 / in_features**0.5
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, indices: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return F.embedding_bag(indices, self.weight, offsets, mode="sum") + self.bias


class ResidualBlock(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(width, width),
            nn.LayerNorm(width),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(width, width),
            nn.LayerNorm(width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class ResidualPricer(nn.Module):
    """Hashed words → width → `depth` residual blocks → standardised log price."""

    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        self.input = SparseLinear(config.n_features, config.width)
        self.input_norm = nn.LayerNorm(config.width)
        self.input_dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(ResidualBlock(config.width, config.dropout) for _ in range(config.depth))
        self.output = nn.Linear(config.width, 1)

    def forward(self, indices: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        x = self.input_dropout(F.relu(self.input_norm(self.input(indices, offsets))))
        for block in self.blocks:
            x = block(x)
        return self.output(x).squeeze(-1)


def parameter_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())
