"""Writes that never leave half a file and never destroy what a user had.

Every file pricer writes goes to a temporary sibling first and is renamed over the target, so a
killed run leaves the old file or the new one. Every output folder is built beside its target and
swapped in only when the target is absent, empty, or was written by pricer (it holds `MARKER`);
anything else needs `force=True` (the CLI's `--force`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

MARKER = ".pricer-output"


class OutputError(ValueError):
    """An output folder pricer will not replace; the message says why and what to do."""


@contextmanager
def atomic_file(path: str | Path) -> Iterator[BinaryIO]:
    """A binary handle on a temporary sibling, fsynced and renamed over `path` on success, removed on failure.

    Readers see the old content or the new, never a prefix; the one place pricer writes a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_file(path) as file:
        file.write(data)


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def strict_json(value: Any) -> Any:
    """The value with NaN and infinities as null: `json.dumps(allow_nan=False)` then never fails on them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    return value


def write_json_atomic(path: str | Path, content: Any, indent: int | None = 1) -> None:
    """Strict JSON (no NaN), written atomically."""
    write_text_atomic(path, json.dumps(strict_json(content), indent=indent, allow_nan=False))


def check_output(target: str | Path, force: bool = False) -> Path:
    """The resolved target if pricer may replace it; OutputError (one line) otherwise."""
    resolved = Path(target).expanduser().resolve()
    here = Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise OutputError(f"{target}: is the current folder or one above it; give --out a folder of its own")
    if resolved.exists():
        if not resolved.is_dir():
            raise OutputError(f"{target}: is a file, not a folder")
        if not force and not (resolved / MARKER).exists() and any(resolved.iterdir()):
            raise OutputError(
                f"{target}: holds files pricer did not write; choose another folder or pass --force to replace it"
            )
    return resolved


@contextmanager
def output_folder(target: str | Path, force: bool = False, kind: str = "output") -> Iterator[Path]:
    """Yield an empty staging folder; on success swap it in as `target`, on any exit remove it.

    The target is checked before the work starts and again just before the swap.
    """
    resolved = check_output(target, force)
    staging = resolved.with_name(f".{resolved.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        (staging / MARKER).write_text(json.dumps({"written_by": "pricer", "kind": kind}) + "\n")
        check_output(resolved, force)
        swap_folder(staging, resolved)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap_folder(staging: Path, target: Path) -> None:
    """Put a fully written folder in place; the old one is moved aside first and removed after."""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
