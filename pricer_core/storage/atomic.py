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
    if path.is_symlink() or (path.exists() and not path.is_file()):
        resolved = path.resolve()
        if resolved.exists() and not resolved.is_file():  # /dev/null, a pipe: write to it, never replace it
            with open(resolved, "wb") as file:
                yield file
            return
        path = resolved  # a link to a file: the file it points to is replaced, the link stays
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        _match_umask(Path(temporary))
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


def _written_files(folder: Path) -> list[str]:
    """Every file under `folder`, relative, sorted: what the marker records pricer wrote."""
    # a link to a folder counts as a file: a user's link inside a pricer folder is theirs, never removed unsaid
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if (path.is_symlink() or not path.is_dir()) and path.name != MARKER)


def _marker(folder: Path) -> dict[str, Any] | None:
    try:
        content = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return content if isinstance(content, dict) and isinstance(content.get("files"), list) else None


def check_output(target: str | Path, force: bool = False, kind: str = "output") -> Path:
    """The resolved target if pricer may replace it; OutputError (one line) otherwise.

    Replaceable without `force`: absent, empty, or a folder pricer wrote as this same kind of
    output that holds nothing but the files pricer wrote there (its marker lists them).
    """
    resolved = Path(target).expanduser().resolve()
    here = Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise OutputError(f"{target}: is the current folder or one above it; give --out a folder of its own")
    home = Path.home().resolve()
    if resolved == home or resolved in home.parents:  # not even with --force
        raise OutputError(f"{target}: is your home folder or one above it; give --out a folder of its own")
    if not resolved.exists() or force:
        if resolved.exists() and not resolved.is_dir():
            raise OutputError(f"{target}: is a file, not a folder")
        return resolved
    if not resolved.is_dir():
        raise OutputError(f"{target}: is a file, not a folder")
    if not any(resolved.iterdir()):
        return resolved
    marker = _marker(resolved)
    if marker is None:
        raise OutputError(f"{target}: holds files pricer did not write; choose another folder or pass --force to replace it")
    if marker.get("kind") != kind:
        raise OutputError(f"{target}: holds a {marker.get('kind')} pricer wrote, not a {kind}; choose another folder or pass --force")
    added = sorted(set(_written_files(resolved)) - set(marker["files"]))
    if added:
        raise OutputError(f"{target}: holds files pricer did not write there ({', '.join(added[:3])}); move them or pass --force")
    return resolved


@contextmanager
def output_folder(target: str | Path, force: bool = False, kind: str = "output") -> Iterator[Path]:
    """Yield an empty staging folder; on success swap it in as `target`, on any exit remove it.

    The target is checked before the work starts and again just before the swap.
    """
    resolved = check_output(target, force, kind)
    # Named by process: what a killed earlier run with this pid left behind is cleared first.
    staging = resolved.with_name(f".{resolved.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        marker = {"written_by": "pricer", "kind": kind, "files": _written_files(staging)}
        (staging / MARKER).write_text(json.dumps(marker) + "\n")
        check_output(resolved, force, kind)
        swap_folder(staging, resolved)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def output_lock(target: str | Path, kind: str = "output") -> Iterator[None]:
    """One run at a time per output folder: a second one stops at once with one line.

    An flock on `.NAME.lock` beside the target, removed when the run ends; the kernel drops the
    lock of a killed run, so a stale file never blocks the next one.
    """
    import fcntl

    resolved = Path(target).expanduser().resolve()
    resolved.parent.mkdir(parents=True, exist_ok=True)
    lock_path = resolved.with_name(f".{resolved.name}.lock")
    while True:
        handle = open(lock_path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise OutputError(f"{target}: another pricer {kind} run ({holder}) is writing it; wait for it to end or choose another --out") from None
        try:  # the file we locked may have been removed by the run that just ended: lock the new one
            if os.stat(lock_path).st_ino == os.fstat(handle.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        handle.close()
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    try:
        yield
    finally:
        lock_path.unlink(missing_ok=True)
        handle.close()


def swap_folder(staging: Path, target: Path) -> None:
    """Put a fully written folder in place; the old one is moved aside first and removed after."""
    _match_umask(staging)
    if not target.exists():
        staging.rename(target)
        return
    old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
    target.replace(old)  # onto the fresh empty folder: never over anything a user had
    try:
        staging.rename(target)
    except BaseException:
        old.replace(target)  # put the previous folder back where it was
        raise
    shutil.rmtree(old, ignore_errors=True)


def _read_umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


UMASK = _read_umask()  # read once at import: setting it later, even briefly, would race other threads


def _match_umask(path: Path) -> None:
    """Temporary files and folders are created private (0600/0700); what lands gets the user's usual mode."""
    path.chmod((0o777 if path.is_dir() else 0o666) & ~UMASK)


def check_output_file(target: str | Path, force: bool = False, inputs: tuple[str | Path, ...] = ()) -> Path:
    """An output file must not be one of the inputs, and an existing file is replaced only with `force`."""
    path = Path(target).expanduser()
    resolved = path.resolve()
    if any(resolved == Path(source).expanduser().resolve() for source in inputs):
        raise OutputError(f"{target}: is also an input of this command; write to another file")
    if resolved.is_dir():
        raise OutputError(f"{target}: is a folder, not a file")
    blocking = next((parent for parent in resolved.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:  # said before the work, not as a FileExistsError after it
        raise OutputError(f"{target}: cannot be written, {blocking} is a file, not a folder")
    if resolved.is_file() and not force:
        raise OutputError(f"{target}: exists; choose another file or pass --force to replace it")
    return path
