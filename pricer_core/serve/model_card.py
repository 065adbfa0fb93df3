"""A model folder loaded once for serving, with what `GET /model` says about it.

The predictor comes from `load_predictor`, the same rules as `pricer predict` (data, never code; one
line for a bad folder). What else the folder's pricer.json holds is read as data and checked: an
`interval` (the bench's split-conformal half-width in log price), the `data` it was fitted on by
hash and its `bench` figures. A malformed one refuses the folder, as a malformed weight would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pricer_core.contract.checks import is_finite_number
from pricer_core.contract.predictor import Predictor
from pricer_core.storage.persistence import ModelFolderError, load_predictor, read_meta


@dataclass(frozen=True)
class IntervalRule:
    """Prices within exp(±half_width_log) of the prediction (in log1p space) cover `level` of truths."""

    level: float
    half_width_log: float

    def around(self, price: float) -> dict[str, float]:
        from pricer_core.evaluation.conformal import interval

        low, high = interval(price, self.half_width_log)
        return {"low": round(low, 2), "high": round(high, 2), "level": self.level}


@dataclass(frozen=True)
class LoadedModel:
    """A fitted predictor and the facts about it that a client may ask for."""

    predictor: Predictor
    meta: dict[str, Any]
    interval: IntervalRule | None
    details: dict[str, Any] | None

    @property
    def tag(self) -> dict[str, str | None]:
        """Name, plugin and version: what every reply carries, so a client knows which model priced it."""
        return {"name": self.predictor.name, "plugin": self.meta.get("plugin"), "version": self.meta.get("plugin_version")}

    def card(self) -> dict[str, Any]:
        """`GET /model`: the predictor, where it comes from, what it learned from and how it scored."""
        return {
            "predictor": self.predictor.name,
            "plugin": self.meta.get("plugin"),
            "version": self.meta.get("plugin_version"),
            "saved": self.meta.get("saved"),
            "fit_seconds": self.meta.get("fit_seconds") if is_finite_number(self.meta.get("fit_seconds")) else None,
            "per_item": bool(getattr(self.predictor, "per_item", False)),
            "data": _data_hashes(self.meta),
            "interval": {"level": self.interval.level, "half_width_log": self.interval.half_width_log} if self.interval else None,
            "bench": self.meta.get("bench"),
            "details": self.details,
        }


def load_model(directory: str | Path) -> LoadedModel:
    """The folder as `pricer predict` loads it, plus its checked extras; ModelFolderError (one line) otherwise."""
    predictor = load_predictor(directory)
    meta = read_meta(directory)
    path = Path(directory) / "pricer.json"
    bench = meta.get("bench")
    if bench is not None and not isinstance(bench, dict):
        raise ModelFolderError(f"{path}: field bench: expected an object of figures")
    return LoadedModel(predictor=predictor, meta=meta, interval=_interval_rule(meta.get("interval"), path), details=_details(predictor))


def _interval_rule(value: Any, path: Path) -> IntervalRule | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ModelFolderError(f"{path}: field interval: expected {{level, half_width_log}}")
    level, half_width = value.get("level"), value.get("half_width_log")
    if not is_finite_number(level) or not 0 < level < 1:
        raise ModelFolderError(f"{path}: field interval.level: expected a number between 0 and 1, got {level!r}")
    if not is_finite_number(half_width) or half_width < 0 or half_width > 50:  # exp(50) dollars is no interval
        raise ModelFolderError(f"{path}: field interval.half_width_log: expected a finite number in [0, 50], got {half_width!r}")
    return IntervalRule(level=float(level), half_width_log=float(half_width))


def _data_hashes(meta: dict[str, Any]) -> dict[str, str] | None:
    """`data` as saved, or any top-level *_sha256 text and the fit cache's key (which covers the data); None when absent."""
    found: dict[str, str] = {}
    data = meta.get("data")
    if isinstance(data, dict):
        found.update({str(key): value for key, value in data.items() if isinstance(value, str)})
    found.update({key: value for key, value in meta.items() if key.endswith("_sha256") and isinstance(value, str)})
    if isinstance(meta.get("key"), str):
        found["fit_key"] = meta["key"]
    return found or None


def _details(predictor: Predictor) -> dict[str, Any] | None:
    """`describe()` as JSON data (an ensemble's weights, say), computed once; never a failure to serve."""
    import json

    from pricer_core.errors import one_line
    from pricer_core.storage.atomic import strict_json

    try:
        details = predictor.describe()
        if details is None:
            return None
        text = json.dumps(strict_json(details), default=lambda value: value.item() if hasattr(value, "item") else str(value))
        data = json.loads(text, parse_constant=lambda _: None)
        return strict_json(data) if isinstance(data, dict) else {"describe": data}
    except Exception as error:  # a describe() that fails or is not JSON says why instead
        return {"unreadable": one_line(error)}

