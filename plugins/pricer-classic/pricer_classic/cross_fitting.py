"""Cross-fitting: a first-stage model's out-of-fold prices, for a second stage to learn from.

A second stage trained on the first stage's prices for rows it learnt from would see errors far
smaller than it meets on new items, and learn to trust it blindly. Each training row is priced
instead by a copy fitted without its fold; the model kept for prediction is fitted on all rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pricer_core.contract.predictor import Predictor
from pricer_core.item import Item


def cross_fit(build: Callable[[], Predictor], train: list[Item], folds: int, seed: int) -> tuple[np.ndarray, Predictor]:
    """(out-of-fold price of every training row, the model fitted on all of them); folds fixed by seed."""
    fold_of = np.random.default_rng(seed).permutation(len(train)) % folds
    out_of_fold = np.zeros(len(train))
    for fold in range(folds):
        held_out = np.nonzero(fold_of == fold)[0]
        learn = [train[index] for index in np.nonzero(fold_of != fold)[0]]
        out_of_fold[held_out] = build().fit(learn, []).predict([train[index] for index in held_out])
    return out_of_fold, build().fit(train, [])
