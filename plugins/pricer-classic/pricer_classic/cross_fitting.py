"""Cross-fitting: a first-stage model's out-of-fold prices, for a second stage to learn from.

A second stage trained on the first stage's prices for rows it learnt from would see errors far
smaller than it meets on new items, and learn to trust it blindly. Each training row is priced
instead by a copy fitted without its fold; the model kept for prediction is fitted on all rows.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pricer_core.contract.predictor import Predictor
from pricer_core.item import Item


def cross_fit(build: Callable[[], Predictor], train: list[Item], folds: int, seed: int, workers: int = 1) -> tuple[np.ndarray, Predictor]:
    """(out-of-fold price of every training row, the model fitted on all of them); folds fixed by seed.

    With `workers` > 1 the fits run in threads: the ridge's sparse solver spends its time in scipy
    code that releases the GIL. Each fit is the one it would be alone, so the prices do not change;
    the models are built in fold order (the kept one last) before any fit starts.
    """
    fold_of = np.random.default_rng(seed).permutation(len(train)) % folds
    models = [build() for _ in range(folds + 1)]

    def fit_one(fold: int) -> tuple[np.ndarray, list[float]]:
        if fold == folds:
            models[fold].fit(train, [])
            return np.array([], dtype=int), []
        held_out = np.nonzero(fold_of == fold)[0]
        learn = [train[index] for index in np.nonzero(fold_of != fold)[0]]
        return held_out, models[fold].fit(learn, []).predict([train[index] for index in held_out])

    out_of_fold = np.zeros(len(train))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, folds + 1))) as pool:
        for held_out, prices in pool.map(fit_one, range(folds + 1)):
            out_of_fold[held_out] = prices
    return out_of_fold, models[folds]
