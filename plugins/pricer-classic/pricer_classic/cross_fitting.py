"""Cross-fitting: a first-stage model's out-of-fold prices, for a second stage to learn from.

A second stage trained on the first stage's prices for rows it learnt from would see errors far
smaller than it meets on new items, and learn to trust it blindly. Each training row is priced
instead by a copy fitted without its fold; the model kept for prediction is fitted on all rows.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np

from pricer_core.contract.predictor import Predictor
from pricer_core.item import Item


def fold_assignment(rows: int, folds: int, seed: int) -> np.ndarray:
    """Each row's fold, fixed by the seed: every cross-fitted column of one fit splits the rows alike."""
    return np.random.default_rng(seed).permutation(rows) % folds


def cross_fit(build: Callable[[], Predictor], train: list[Item], folds: int, seed: int, workers: int = 1) -> tuple[np.ndarray, Predictor]:
    """(out-of-fold price of every training row, the model fitted on all of them); folds fixed by seed.

    With `workers` > 1 the fits run in threads: the ridge's sparse solver spends its time in scipy
    code that releases the GIL. Each fit is the one it would be alone, so the prices do not change;
    the models are built in fold order (the kept one last) before any fit starts. The first error
    (or Ctrl-C) is raised at once and the fits not yet started are cancelled.
    """
    fold_of = fold_assignment(len(train), folds, seed)
    models: list[Predictor | None] = [build() for _ in range(folds + 1)]

    def fit_one(fold: int) -> tuple[np.ndarray, list[float]]:
        if fold == folds:
            models[fold].fit(train, [])
            return np.array([], dtype=int), []
        model, models[fold] = models[fold], None  # a fold's model is dropped once it has priced its rows
        held_out = np.nonzero(fold_of == fold)[0]
        learn = [train[index] for index in np.nonzero(fold_of != fold)[0]]
        return held_out, model.fit(learn, []).predict([train[index] for index in held_out])

    out_of_fold = np.zeros(len(train))
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, folds + 1)))
    try:
        for future in as_completed([pool.submit(fit_one, fold) for fold in range(folds + 1)]):
            held_out, prices = future.result()  # each fit writes its own rows, so the order is free
            out_of_fold[held_out] = prices
    except BaseException:  # Ctrl-C, SIGTERM or a fold's error: stop now, not after the fits still queued
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return out_of_fold, models[folds]
