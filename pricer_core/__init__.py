"""pricer: predict a product's price from its text with interchangeable predictor plugins.

Public names are loaded on first use so `import pricer_core` stays fast (no numpy, plotly or
datasets until a function needs them).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Item": "item",
    "Predictor": "predictor",
    "Preprocessor": "predictor",
    "ProcessReport": "predictor",
    "Needs": "predictor",
    "hookimpl": "hookspecs",
    "read_items": "readers",
    "write_items": "readers",
    "DataError": "readers",
    "Splits": "splits",
    "load_bundle": "splits",
    "load_splits": "splits",
    "evaluate": "evaluator",
    "NoPrediction": "evaluator",
    "metrics": "metrics",
    "colour": "metrics",
    "run_bench": "bench",
    "push_to_hub": "hub",
    "from_hub": "hub",
    "save_predictor": "persistence",
    "load_predictor": "persistence",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pricer_core' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
