"""A ridge on sentence embeddings of the title, cross-fitted, as one column for trees.

Hashed words know "cordless drill" and "impact driver" only as different columns; a sentence
embedding puts them near each other, so a catalogue that names things in its own words still lands
near similar training items. Like the text ridge, each training row's column comes from the folds it
is not in, so the trees learn how far to trust it from honest errors. The encoder (all-MiniLM-L6-v2
from pricer-llm's `embeddings` extra) is saved by name and version: vectors from other weights would
be read as if they were the same, so a folder fitted on one refuses to load with another.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pricer_core.item import Item

from .cross_fitting import fold_assignment

ALPHA = 1.0  # the vectors are unit length; the fit was flat between 0.3 and 3 in exploration
INSTALL_HINT = "xgboost.embedding_ridge needs sentence embeddings: pip install 'pricer-llm[embeddings]'"


def _embeddings():
    """pricer-llm's embedding module, or one line that says what to install."""
    try:
        from pricer_llm import embeddings
    except ImportError as error:
        raise RuntimeError(f"{INSTALL_HINT} ({error})") from None
    return embeddings


def title_vectors(items: list[Item]) -> np.ndarray:
    return _embeddings().embed_cached(items)


def current_encoder() -> str:
    return _embeddings().encoder_id()


class EmbeddingRidge:
    """Log price as a linear function of the title's embedding: coefficients, intercept, and the encoder."""

    def __init__(self, coef: np.ndarray, intercept: float, encoder: str):
        self.coef, self.intercept, self.encoder = coef, intercept, encoder

    @classmethod
    def fitted(cls, vectors: np.ndarray, log_prices: np.ndarray, encoder: str) -> EmbeddingRidge:
        from sklearn.linear_model import Ridge

        model = Ridge(alpha=ALPHA).fit(vectors, log_prices)
        return cls(np.asarray(model.coef_, dtype=np.float64), float(model.intercept_), encoder)

    @classmethod
    def fit_out_of_fold(cls, items: list[Item], log_prices: np.ndarray, folds: int, seed: int) -> tuple[np.ndarray, EmbeddingRidge]:
        """(every training row's log price from the folds it is not in, the ridge of all rows for new items)."""
        vectors, encoder = title_vectors(items), current_encoder()
        fold_of = fold_assignment(len(items), folds, seed)
        out_of_fold = np.zeros(len(items), dtype=np.float32)
        for fold in range(folds):
            learn, held_out = fold_of != fold, fold_of == fold
            out_of_fold[held_out] = cls.fitted(vectors[learn], log_prices[learn], encoder).log_prices(vectors[held_out])
        return out_of_fold[:, None], cls.fitted(vectors, log_prices, encoder)

    def log_prices(self, vectors: np.ndarray) -> np.ndarray:
        return (vectors @ self.coef + self.intercept).astype(np.float32)

    def transform(self, items: list[Item]) -> np.ndarray:
        if not items:
            return np.zeros((0, 1), dtype=np.float32)
        return self.log_prices(title_vectors(items))[:, None]

    def save(self, path: Path) -> None:
        np.savez(path, coef=self.coef, intercept=np.float64(self.intercept), encoder=np.str_(self.encoder))

    @classmethod
    def load(cls, path: Path) -> EmbeddingRidge:
        """Checked: arrays only (no pickles), finite, the encoder's width, and the encoder installed now."""
        with np.load(path, allow_pickle=False) as arrays:
            if set(arrays.files) != {"coef", "intercept", "encoder"}:
                raise ValueError(f"{path.name}: expected arrays coef, intercept, encoder; found {sorted(arrays.files)}")
            coef, intercept, encoder = arrays["coef"], arrays["intercept"], arrays["encoder"]
            if coef.dtype.kind != "f" or coef.ndim != 1 or not np.isfinite(coef).all() or np.abs(coef).max(initial=0) > 1e6:
                raise ValueError(f"{path.name}: coef must be finite floats of one dimension")
            if intercept.shape != () or intercept.dtype.kind != "f" or not np.isfinite(intercept) or abs(float(intercept)) > 50:
                raise ValueError(f"{path.name}: intercept must be one finite log price")
            if encoder.shape != () or encoder.dtype.kind != "U":
                raise ValueError(f"{path.name}: encoder must be one string")
        embeddings = _embeddings()
        if coef.shape[0] != embeddings.DIMENSIONS:
            raise ValueError(f"{path.name}: {coef.shape[0]} coefficients, the encoder gives {embeddings.DIMENSIONS} numbers")
        if str(encoder) != current_encoder():
            raise ValueError(f"{path.name}: fitted on {str(encoder)[:80]!r} vectors, this machine has {current_encoder()!r}; refit the model")
        return cls(coef.astype(np.float64), float(intercept), str(encoder))
