"""A static (one vector per token) version of all-MiniLM-L6-v2, distilled on this machine.

MiniLM reads a title in context at ~130 titles/s on 2 CPU cores; a static table prices one as the
mean of its tokens' vectors at thousands per second. The table is model2vec's idea: encode every
vocabulary token alone with the sentence model, centre the vectors and weigh the rarer (later) ids
up. model2vec's own distiller pins an older transformers than pricer's, so pricer distils here
(~40 s on 2 cores, once per machine). The table is kept in pricer's cache (or in
$PRICER_STATIC_TABLES: test suites that give every test its own cache share one table this way),
named by the weights' and the libraries' versions; a file that is not the table it claims to be is
distilled again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from pricer_core.item import Item

from . import embeddings

TABLES_ENV = "PRICER_STATIC_TABLES"
METHOD = "static-v1"  # centred token vectors, weighted by log(2 + token id), mean over the title's tokens
VOCABULARY_BATCH = 1024
logger = logging.getLogger(__name__)


def encoder_id() -> str:
    """Which table made a vector: saved with anything fitted on it."""
    return f"{embeddings.encoder_id()}+{METHOD}"


def _table_path() -> Path:
    from pricer_core.settings import cache_root

    versions = [encoder_id()] + [f"{name}=={_version(name)}" for name in ("sentence-transformers", "torch", "tokenizers")]
    digest = hashlib.sha256(" ".join(versions).encode()).hexdigest()[:16]
    return Path(os.environ.get(TABLES_ENV) or cache_root()) / f"static-minilm-{digest}.npy"


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def _tokenizer():
    """MiniLM's tokenizer, read once per process (reading tokenizer.json costs more than pricing one item)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(embeddings.model_folder() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def distil() -> np.ndarray:
    """Every vocabulary token encoded alone by MiniLM, centred, rarer ids weighed up: (vocabulary, DIMENSIONS)."""
    tokenizer = _tokenizer()
    tokens = [token for token, _ in sorted(tokenizer.get_vocab().items(), key=lambda pair: pair[1])]
    vectors = embeddings.encoder().encode(tokens, batch_size=VOCABULARY_BATCH, normalize_embeddings=False, show_progress_bar=False)
    vectors = np.asarray(vectors, dtype=np.float64)
    weights = np.log(2.0 + np.arange(len(tokens)))[:, None]
    return ((vectors - vectors.mean(axis=0)) * weights).astype(np.float32)


def _read_table(path: Path, rows: int) -> np.ndarray | None:
    """The cached table, or None unless it is exactly (rows, DIMENSIONS) finite float32s."""
    try:  # mapped, not read: a header that promises more than the file holds fails here, allocating nothing
        table = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as error:
        logger.warning("warning: static embedding table %s unreadable (%s); distilling again", path, str(error)[:120])
        return None
    if not isinstance(table, np.ndarray):  # a zip (.npz) read as a table: not ours
        table.close()
        logger.warning("warning: static embedding table %s is an archive, not a table; distilling again", path)
        return None
    if table.dtype != np.float32 or table.shape != (rows, embeddings.DIMENSIONS) or not np.isfinite(table).all():
        logger.warning("warning: static embedding table %s is not a (%d, %d) float32 table; distilling again", path, rows, embeddings.DIMENSIONS)
        return None
    return np.array(table)


@lru_cache(maxsize=1)
def vocabulary_table() -> np.ndarray:
    """The distilled table: read from the cache, else distilled and written there (a read-only cache only warns)."""
    from pricer_core.storage.atomic import atomic_file

    path, rows = _table_path(), _tokenizer().get_vocab_size()
    if path.is_file():
        table = _read_table(path, rows)
        if table is not None:
            return table
    logger.warning("distilling a static MiniLM table for the title-embedding column (once per machine, ~40 s)")
    table = distil()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path) as handle:
            np.save(handle, table, allow_pickle=False)
    except OSError as error:
        logger.warning("warning: static embedding table not cached at %s (%s)", path, error)
    return table


def embed_static(items: list[Item]) -> np.ndarray:
    """Unit-length mean of each title's token vectors, (items, DIMENSIONS) float32; a text with no token is zeros."""
    table = vocabulary_table()
    encoded = _tokenizer().encode_batch([embeddings.embedding_text(item) for item in items], add_special_tokens=False)
    vectors = np.zeros((len(items), embeddings.DIMENSIONS), dtype=np.float64)
    for row, encoding in enumerate(encoded):
        if encoding.ids:
            vectors[row] = table[encoding.ids].mean(axis=0, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
