"""Checks on a saved network before anything is allocated for it: a model folder is data.

torch.load(weights_only=True) already refuses code; these checks refuse sizes. A crafted
config.json could ask for a terabyte network, and crafted tensors can share one storage or be
stride-0 views, so neither the file's size nor its shapes alone bound what loading allocates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def check_state_matches(build: Callable[[], Any], state: Any, where: Path) -> None:
    """`state` must hold exactly the tensors `build()` has, of the same shapes, each with storage of its own.

    The network is built on the meta device, which allocates nothing, so the comparison is free
    whatever the config asks for; callers first check counts (layers, networks) cheaply.
    """
    import torch

    with torch.device("meta"):
        shapes = {key: tuple(value.shape) for key, value in build().state_dict().items()}
    if not isinstance(state, dict) or set(state) != set(shapes):
        raise ValueError(f"the saved network does not match its settings: other layers ({where})")
    if any(not isinstance(state[key], torch.Tensor) or tuple(state[key].shape) != shape for key, shape in shapes.items()):
        raise ValueError(f"the saved network does not match its settings: other shapes ({where})")
    storages = {tensor.untyped_storage().data_ptr(): tensor.untyped_storage().nbytes() for tensor in state.values()}
    if sum(storages.values()) < sum(tensor.numel() * tensor.element_size() for tensor in state.values()):
        raise ValueError(f"the saved network's tensors share or overrun their storage ({where})")
