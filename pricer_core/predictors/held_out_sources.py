"""Unseen-source weights by stacking under leave-one-source-out, the ensemble's honest option.

Per training source (those with `min_source_rows` labelled rows), every member is fitted on the
other sources and prices that source's first `held_out_rows` rows; convex weights are fitted on
those prices, each source counting equally. Hiding the source on validation rows (the default) is
only a proxy for a new catalogue: a member that memorised those rows' text still looks good. This
costs one fit per source per member, and measured no better on leave-one-source-out
(docs/experiments.md), so it is off by default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pricer_core.contract.predictor import Predictor
from pricer_core.errors import one_line
from pricer_core.item import Item
from pricer_core.predictors.weighting import fit_convex_weights, log_matrix, mae, no_worse_than_best_member


@dataclass
class HeldOutWeights:
    """The weights (None when there are none, and `note` says why), what the dollar check chose, and
    each source's MAE per member and for the blend."""

    weights: tuple[dict[str, float], float] | None
    chosen: str | None = None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    note: str | None = None


def held_out_source_weights(
    names: list[str],
    train: list[Item],
    validation: list[Item],
    fit_member: Callable[[str, list[Item], list[Item]], Predictor],
    held_out_rows: int,
    min_source_rows: int,
) -> HeldOutWeights:
    """Fewer than two such sources, or a member that fails to refit, gives no weights, never an error."""
    import numpy as np

    from pricer_core.data.splits import Splits, source_folds
    from pricer_core.evaluation.evaluator import predict_all

    folds = source_folds(Splits("ensemble", train, validation, []), held_out_rows, min_source_rows)
    if len(folds) < 2:
        return HeldOutWeights(None, note=f"hidden-source weights: {len(folds)} source(s) with {min_source_rows} labelled rows, held-out-source weights need two")
    columns: dict[str, list[float]] = {name: [] for name in names}
    prices: list[float] = []
    row_weights: list[float] = []
    spans: dict[str, slice] = {}  # each source's rows in the stacked columns
    scores: dict[str, dict[str, float]] = {}
    try:
        for source, fold in folds:
            blind = [item.model_copy(update={"price": None}) for item in fold.test]
            priced = {name: predict_all(fit_member(name, fold.train, fold.validation), blind)[0] for name in names}
            rows = [row for row in range(len(blind)) if all(priced[name][row] is not None for name in names)]
            truth = np.asarray([fold.test[row].price for row in rows])
            scores[source] = {name: mae([priced[name][row] for row in rows], truth) for name in names}
            for name in names:
                columns[name].extend(priced[name][row] for row in rows)
            spans[source] = slice(len(prices), len(prices) + len(rows))
            prices.extend(truth)
            row_weights.extend([1 / max(len(rows), 1)] * len(rows))
    except Exception as error:  # a member that cannot be refitted costs these weights, never the fit
        return HeldOutWeights(None, note=f"hidden-source weights (held-out-source refit failed: {one_line(error, 160)})")
    matrix, truth = log_matrix([columns[name] for name in names]), np.asarray(prices)
    weights, chosen = no_worse_than_best_member(
        fit_convex_weights(matrix, np.log1p(truth), names, row_weights), {name: matrix[:, column] for column, name in enumerate(names)}, truth
    )
    blend = np.expm1(matrix @ [weights[0][name] for name in names])
    for source, rows in spans.items():
        scores[source]["ensemble"] = mae(list(blend[rows]), truth[rows])
    return HeldOutWeights(weights, chosen, scores)
