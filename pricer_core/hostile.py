"""Hostile files for loader tests: pickles that run code when loaded.

A loader test puts one where a loader reads, loads, and asserts the marker file never appears:
pricer's model folders are data, never code. Kept apart from the conformance kit (`testing.py`),
which checks what a predictor must do, not what a file must not.
"""

from __future__ import annotations

from pathlib import Path


class CodeOnLoad:
    """An object whose unpickling creates `marker`: put it where a loader reads, then assert the file never appears."""

    def __init__(self, marker: str | Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def crafted_pickle(marker: str | Path, wrap: str | None = None) -> bytes:
    """Pickle bytes that run code when loaded (they create `marker`): the hostile file for a loader test."""
    import pickle

    payload = CodeOnLoad(marker)
    return pickle.dumps({wrap: payload} if wrap else payload)
