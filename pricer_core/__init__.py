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
    "Predictor": "contract.predictor",
    "Preprocessor": "contract.predictor",
    "ProcessReport": "contract.predictor",
    "Needs": "contract.predictor",
    "hookimpl": "plugins.hookspecs",
    "read_items": "data.readers",
    "write_items": "data.readers",
    "DataError": "data.readers",
    "Splits": "data.splits",
    "load_bundle": "data.loading",
    "load_splits": "data.loading",
    "evaluate": "evaluation.evaluator",
    "NoPrediction": "contract.predictor",
    "clone": "contract.predictor",
    "FROM_PRESET": "contract.predictor",
    "metrics": "evaluation.metrics",
    "colour": "evaluation.metrics",
    "run_bench": "bench.runner",
    "push_to_hub": "data.hub",
    "save_splits": "data.hub",
    "from_hub": "data.hub",
    "save_predictor": "storage.persistence",
    "load_predictor": "storage.persistence",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pricer_core' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
