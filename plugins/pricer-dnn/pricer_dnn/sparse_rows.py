"""Hashed binary bag-of-words kept as CSR index arrays: the input never becomes dense.

800k rows × ~60 distinct words × 2 bytes (int16 indices when n_features ≤ 32767) is ~100 MB,
against ~16 GB for the course's dense float32 matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

HASH_CHUNK_ROWS = 10_000


@dataclass
class SparseRows:
    indptr: np.ndarray
    indices: np.ndarray
    n_features: int

    def __len__(self) -> int:
        return self.indptr.size - 1

    def nbytes(self) -> int:
        return self.indptr.nbytes + self.indices.nbytes

    def batch(self, rows: np.ndarray, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """(flat indices, offsets) for F.embedding_bag, for the chosen rows in their order."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        offsets = np.zeros(rows.size, dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        flat = np.concatenate([self.indices[start:end] for start, end in zip(starts, ends)]) if rows.size else np.zeros(0)
        pieces = torch.from_numpy(flat.astype(np.int64)), torch.from_numpy(offsets)
        if torch.device(device).type == "cuda":  # pinned pages let the copy overlap the previous step
            pieces = tuple(piece.pin_memory() for piece in pieces)
        return tuple(piece.to(device, non_blocking=True) for piece in pieces)

    def dense(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Only for tests and the dense comparison benchmark."""
        rows = np.arange(len(self)) if rows is None else rows
        matrix = np.zeros((rows.size, self.n_features), dtype=np.float32)
        for position, row in enumerate(rows):
            matrix[position, self.indices[self.indptr[row] : self.indptr[row + 1]]] = 1.0
        return matrix


def hash_texts(texts: list[str], n_features: int) -> SparseRows:
    """HashingVectorizer(binary, English stop words) in chunks, so peak memory stays near the output."""
    from sklearn.feature_extraction.text import HashingVectorizer

    hasher = HashingVectorizer(n_features=n_features, stop_words="english", binary=True, alternate_sign=False, norm=None)
    index_type = np.int16 if n_features <= np.iinfo(np.int16).max else np.int32
    pieces, lengths = [], []
    for start in range(0, len(texts), HASH_CHUNK_ROWS):
        chunk = hasher.transform(texts[start : start + HASH_CHUNK_ROWS])
        pieces.append(chunk.indices.astype(index_type))
        lengths.append(np.diff(chunk.indptr))
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    if texts:
        np.cumsum(np.concatenate(lengths), out=indptr[1:])
    indices = np.concatenate(pieces) if pieces else np.zeros(0, dtype=index_type)
    return SparseRows(indptr, indices, n_features)
