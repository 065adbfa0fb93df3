"""Raw JSON-lines files as bytes (plain or gzip), and the block of whole lines a worker cleans.

gzip goes through python-isal's inflater when it is installed (~2.7x faster than zlib on Amazon
metadata, benchmarks/bench_curate.py), else through the standard library. `BlockRing` cuts the
bytes into blocks; a `LineBlock` carries one through the pipe when it does not fit a ring slot.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# A longer line is a counted drop ("line too long"), read past in chunks: one line never sets the
# peak memory. Raw Amazon rows run to ~100 KB; the longest in ../shared/data is far below this.
MAX_LINE_BYTES = 4 * 2**20
OVERLONG_LINE = b"\x00pricer: line too long\x00"  # what the block reader puts in such a line's place


@dataclass(frozen=True)
class LineBlock:
    """Whole lines of one file, sent through the pipe. Line numbers are counted by whoever splits
    the block (a worker), so the reading process never scans the bytes it hands out."""

    path: str
    data: bytes


def is_gzip(path: str | Path) -> bool:
    with open(path, "rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def open_binary(path: str | Path) -> BinaryIO:
    """Plain or gzip bytes, told apart by content rather than by name."""
    if not is_gzip(path):
        return open(path, "rb")
    try:
        from isal import igzip
    except ImportError:
        return gzip.open(path, "rb")
    return igzip.open(path, "rb")
