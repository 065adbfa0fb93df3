"""`ensemble`: a non-negative blend of other predictors in log-price space, weighted on validation.

Members are never refitted for the ensemble: it takes them from the bench's pool of fitted
predictors (or the fit cache) and fits only its weights, by non-negative least squares of
log(price + 1) on the members' log predictions plus an intercept; a source with enough validation
rows gets weights of its own. Any single member with weight 1 is a feasible solution in every
group, so on validation the blend's squared log error is at most the best member's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .item import Item
from .predictor import Predictor, require_training_items

PREFERRED_MEMBERS = ("dnn", "llm")
NOT_MEMBERS = {"ensemble", "constant-mean", "constant-median", "random"}

# The bench puts every predictor it fitted here, so the ensemble reuses them instead of refitting.
FITTED_POOL: dict[str, Predictor] = {}


def _fit_weights(matrix, truth, names: list[str]) -> tuple[dict[str, float], float]:
    """Non-negative weights and a free intercept minimising squared log error (NNLS)."""
    import numpy as np
    from scipy.optimize import nnls

    design = np.hstack([matrix, np.ones((matrix.shape[0], 1)), -np.ones((matrix.shape[0], 1))])
    solution, _ = nnls(design, truth)
    return {name: float(weight) for name, weight in zip(names, solution[:-2])}, float(solution[-2] - solution[-1])


def _log_matrix(columns: list[list[float]]):
    import numpy as np

    return np.log1p(np.maximum(np.asarray(columns, dtype=float).T, 0))


class Ensemble(Predictor):
    """Blend of fitted members; weights fitted on validation, non-negative, in log space."""

    name = "ensemble"
    cacheable = False  # fitting is only the weights; members may change between runs

    def __init__(self, members: list[str] | None = None, max_members: int = 2, max_validation: int = 400, min_source_rows: int = 100):
        if max_members < 2:
            raise ValueError(f"ensemble: max_members must be at least 2, got {max_members}")
        self.members = list(members) if members else None
        self.max_members = max_members
        self.max_validation = max_validation
        self.min_source_rows = min_source_rows
        self.source_weights: dict[str, tuple[dict[str, float], float]] = {}
        self._predictors: dict[str, Predictor] = {}
        self.weights: dict[str, float] = {}
        self.intercept = 0.0
        self.validation_scores: dict[str, float] = {}

    def config(self) -> dict[str, Any]:
        return {"members": self.members, "max_members": self.max_members, "max_validation": self.max_validation, "min_source_rows": self.min_source_rows}

    def _candidates(self) -> dict[str, Predictor]:
        """Fitted predictors of this run; per-item (LLM) ones only when asked for, as each call costs."""
        wanted = set(self.members or PREFERRED_MEMBERS)
        return {
            name: predictor
            for name, predictor in FITTED_POOL.items()
            if name not in NOT_MEMBERS and (not getattr(predictor, "per_item", False) or name in wanted)
        }

    def describe(self) -> dict[str, Any]:
        """What results.json shows: the weights and each member's validation MAE beside the blend's."""
        return {"weights": self.weights, "intercept": self.intercept, "source_weights": self.source_weights, "validation_mae": self.validation_scores}

    def fit(self, train: list[Item], validation: list[Item]) -> Ensemble:
        import numpy as np

        require_training_items(train)
        scored = [item for item in validation if item.price is not None]
        if not scored:
            raise ValueError("ensemble: weights are fitted on validation, and it is empty")
        pool = self._candidates()
        if self.members:
            missing = [name for name in self.members if name not in pool]
            if missing:
                raise ValueError(f"ensemble: members {missing} were not fitted in this run (run them in the same bench)")
            chosen = self.members
        elif all(name in pool for name in PREFERRED_MEMBERS):
            chosen = list(PREFERRED_MEMBERS)
        else:
            chosen = list(pool)
        if len(chosen) < 2:
            raise ValueError(f"ensemble: needs at least two fitted members, have {sorted(pool)}")
        if any(getattr(pool[name], "per_item", False) for name in chosen):
            scored = scored[: self.max_validation]  # each LLM call costs time or money
        blind = [item.model_copy(update={"price": None}) for item in scored]
        predictions = {name: pool[name].predict(blind) for name in chosen}
        prices = np.asarray([item.price for item in scored])
        truth = np.log1p(prices)
        for name, values in predictions.items():
            self.validation_scores[name] = float(np.mean(np.abs(np.asarray(values) - prices)))
        if not self.members and len(chosen) > self.max_members:
            chosen = sorted(chosen, key=self.validation_scores.get)[: self.max_members]
        matrix = _log_matrix([predictions[name] for name in chosen])
        self._predictors = {name: pool[name] for name in chosen}
        self.weights, self.intercept = _fit_weights(matrix, truth, chosen)
        # Sources with enough validation rows get weights of their own: members are not equally good everywhere.
        sources = np.asarray([item.source or "" for item in scored])
        self.source_weights = {}
        for source in sorted(set(sources)):
            rows = sources == source
            if rows.sum() >= self.min_source_rows:
                self.source_weights[source] = _fit_weights(matrix[rows], truth[rows], chosen)
        blended = self._blend(matrix, list(sources))
        self.validation_scores["ensemble"] = float(np.mean(np.abs(np.expm1(blended) - prices)))
        self.validation_rmsle = {"ensemble": float(np.sqrt(np.mean((blended - truth) ** 2)))}
        for position, name in enumerate(chosen):
            self.validation_rmsle[name] = float(np.sqrt(np.mean((matrix[:, position] - truth) ** 2)))
        return self

    def _blend(self, matrix, sources: list[str]):
        import numpy as np

        blended = np.empty(matrix.shape[0])
        for row, source in enumerate(sources):
            weights, intercept = self.source_weights.get(source, (self.weights, self.intercept))
            blended[row] = matrix[row] @ [weights[name] for name in self.weights] + intercept
        return blended

    def predict(self, items: list[Item]) -> list[float]:
        if not self._predictors:
            raise RuntimeError("ensemble: predict called before fit")
        columns = [self._predictors[name].predict(items) for name in self.weights]
        blended = self._blend(_log_matrix(columns), [item.source or "" for item in items])
        return [max(0.0, math.expm1(value)) for value in blended]

    def save(self, directory: str | Path) -> None:
        from .persistence import save_predictor

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, predictor in self._predictors.items():
            save_predictor(predictor, directory / "members" / name)
        state = {"weights": self.weights, "intercept": self.intercept, "source_weights": self.source_weights, "validation_scores": self.validation_scores, **self.config()}
        (directory / "weights.json").write_text(json.dumps(state, indent=1))

    @classmethod
    def load(cls, directory: str | Path) -> Ensemble:
        from .persistence import load_predictor

        directory = Path(directory)
        state = json.loads((directory / "weights.json").read_text())
        ensemble = cls(state["members"], state["max_members"], state["max_validation"], state["min_source_rows"])
        ensemble.weights, ensemble.intercept, ensemble.validation_scores = state["weights"], state["intercept"], state["validation_scores"]
        ensemble.source_weights = {source: (weights, intercept) for source, (weights, intercept) in state["source_weights"].items()}
        ensemble._predictors = {name: load_predictor(directory / "members" / name) for name in ensemble.weights}
        return ensemble
