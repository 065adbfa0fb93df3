"""How the ensemble weighs its members: least squares in log space, a convex blend for sources never
seen, and the last word in dollars, the metric the bench reports: a blend that does not beat its
best member's MAE on the rows it was fitted on gives way to that member."""

from __future__ import annotations

from typing import Any


def fit_log_weights(matrix, truth, names: list[str]) -> tuple[dict[str, float], float]:
    """Non-negative weights and a free intercept minimising squared log error (NNLS)."""
    import numpy as np
    from scipy.optimize import nnls

    design = np.hstack([matrix, np.ones((matrix.shape[0], 1)), -np.ones((matrix.shape[0], 1))])
    solution, _ = nnls(design, truth)
    return {name: float(weight) for name, weight in zip(names, solution[:-2])}, float(solution[-2] - solution[-1])


def fit_convex_weights(matrix, truth, names: list[str], row_weights=None) -> tuple[dict[str, float], float]:
    """Non-negative weights summing to one, no intercept: a blend that cannot move the price level.

    For a source never seen, the validation mix's price level says nothing about the new one; an
    intercept fitted on it would pull every new catalogue towards the old sources' prices.
    `row_weights` weigh the squared errors (held-out sources count equally, whatever their size).
    """
    import numpy as np
    from scipy.optimize import nnls

    if row_weights is not None:
        scale = np.sqrt(np.asarray(row_weights, dtype=float))
        matrix, truth = matrix * scale[:, None], truth * scale
    stiffness = 1e3 * max(1.0, float(np.abs(matrix).max()))  # one heavy row holds the sum at one
    design = np.vstack([matrix, np.full((1, matrix.shape[1]), stiffness)])
    solution, _ = nnls(design, np.append(truth, stiffness))
    solution = solution / solution.sum() if solution.sum() > 0 else np.full(len(names), 1 / len(names))
    return {name: float(weight) for name, weight in zip(names, solution)}, 0.0


def mae(predictions: list[float], prices) -> float:
    import numpy as np

    return float(np.mean(np.abs(np.asarray(predictions) - prices)))


def log_matrix(columns: list[list[float]]):
    import numpy as np

    return np.log1p(np.maximum(np.asarray(columns, dtype=float).T, 0))



def no_worse_than_best_member(
    pair: tuple[dict[str, float], float], logs: dict[str, Any], prices: Any
) -> tuple[tuple[dict[str, float], float], str]:
    """The weights with the lowest dollar MAE on these rows among the fitted blend, each member alone
    and, for two members, a convex grid in log space; a tie goes to the single member.

    Log least squares fits what log errors reward; the bench ranks dollars, where a blend of a
    member that is good on cheap items with one good on dear ones can lose to either (issue #29's
    dnn + xgboost on unseen sources). Returns the weights and which candidate won.
    """
    import numpy as np

    weights, intercept = pair
    names = list(weights)
    columns = np.column_stack([logs[name] for name in names])

    def dollars(vector: list[float], shift: float) -> float:
        return mae(list(np.maximum(np.expm1(columns @ np.asarray(vector) + shift), 0)), prices)

    candidates: list[tuple[str, list[float], float]] = []
    for position, name in enumerate(names):
        candidates.append((f"{name} alone", [1.0 if index == position else 0.0 for index in range(len(names))], 0.0))
    if len(names) == 2:
        candidates += [(f"convex {step / 20:.2f}", [step / 20, 1 - step / 20], 0.0) for step in range(1, 20)]
    candidates.append(("fitted blend", [weights[name] for name in names], intercept))
    scored = [(dollars(vector, shift), order, label, vector, shift) for order, (label, vector, shift) in enumerate(candidates)]
    best = min(scored, key=lambda row: (round(row[0], 9), row[1]))
    _, _, label, vector, shift = best
    return ({name: float(value) for name, value in zip(names, vector)}, float(shift)), label
