"""Files a stranger made, checked before anything reads them: regular files only, sizes bounded,
archives judged by their directory before a byte is inflated.

A model folder someone shares, or an input someone sends, must not hang pricer (a FIFO), read
without end (a character device), or allocate what its headers claim (a zip bomb, a sparse
3 GiB JSON). Every check here looks at metadata only (lstat, the zip's central directory).
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

MAX_JSON_BYTES = 64 * 2**20  # a JSON file in a model folder; the largest pricer writes is ~2 MB
MAX_INFLATED_BYTES = 4 * 2**30  # all members of one archive once inflated (numpy .npz, torch .pt, skops)
MAX_INFLATION = 50  # and at most this many times the archive's own size (the stored formats are ~1x)
MAX_MODEL_FILES = 10_000
NPY_HEADER_BYTES = 10_000 + 16  # numpy's own bound on a header (max_header_size), with its preamble


class UnsafeFile(ValueError):
    """A file pricer refuses to read; the message is one line naming it."""


def file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def regular_file(path: str | Path) -> os.stat_result:
    """Its stat if `path` is a regular file (links followed); UnsafeFile naming what it is otherwise."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise UnsafeFile(f"{path}: no such file") from None
    except OSError as error:
        raise UnsafeFile(f"{path}: cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise UnsafeFile(f"{path}: is {file_kind(status.st_mode)}, not a regular file")
    return status


def read_bounded_text(path: str | Path, limit: int = MAX_JSON_BYTES) -> str:
    """A regular file's UTF-8 text, refused before reading when it is larger than `limit` bytes."""
    size = regular_file(path).st_size
    if size > limit:
        raise UnsafeFile(f"{path}: {size:,} bytes, more than the {limit:,} this file may have")
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew since the check
        raise UnsafeFile(f"{path}: more than the {limit:,} bytes this file may have")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnsafeFile(f"{path}: not UTF-8 text (byte {error.start})") from None


def check_archive(path: str | Path, size: int) -> None:
    """A zip (npz, torch, skops) whose directory promises no more than the bounds, checked before inflating.

    Readers inflate a member to the size its directory entry declares, so bounding the declared
    sizes bounds the memory; a member that inflates past its declaration fails its CRC check.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError) as error:
        raise UnsafeFile(f"{path}: not a readable archive ({type(error).__name__})") from None
    declared = sum(member.file_size for member in members)
    bound = min(MAX_INFLATED_BYTES, max(2**20, MAX_INFLATION * size))
    if declared > bound:
        raise UnsafeFile(f"{path}: its members would inflate to {declared:,} bytes, more than the {bound:,} allowed for a {size:,}-byte archive")
    npy_members = [member for member in members if member.filename.endswith(".npy")]
    if npy_members:
        with zipfile.ZipFile(path) as archive:
            for member in npy_members:
                try:
                    with archive.open(member) as handle:
                        head = handle.read(NPY_HEADER_BYTES)
                except Exception as error:  # a bad member is numpy's to report; its header is what is checked here
                    raise UnsafeFile(f"{path}: member {member.filename} unreadable ({type(error).__name__})") from None
                check_npy_header(head, member.file_size, f"{path}: member {member.filename}")


def check_npy_header(head: bytes, size: int, where: str) -> None:
    """An .npy header may not promise more data than its file holds: numpy allocates the promise first."""
    import io

    from numpy.lib import format as npy

    stream = io.BytesIO(head)
    try:
        version = npy.read_magic(stream)
        read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _, dtype = read_header(stream, max_header_size=NPY_HEADER_BYTES)
    except Exception as error:  # what numpy would read differently is refused, not waved through
        raise UnsafeFile(f"{where}: not an array header pricer can check ({type(error).__name__})") from None
    count = 1
    for dimension in shape:
        count *= int(dimension)
    if dtype.hasobject:
        raise UnsafeFile(f"{where}: holds Python objects, which only a pickle restores (allow_pickle is off)")
    if count * max(dtype.itemsize, 1) > size:
        raise UnsafeFile(f"{where}: its header promises a {shape} array of {dtype}, more than the {size:,} bytes it holds")


def check_model_files(directory: str | Path) -> None:
    """Every entry of a model folder is a folder or a regular file within its bound; UnsafeFile otherwise."""
    count = 0
    for root, folders, files in os.walk(directory, followlinks=False):
        for name in folders + files:
            path = Path(root) / name
            count += 1
            if count > MAX_MODEL_FILES:
                raise UnsafeFile(f"{directory}: more than {MAX_MODEL_FILES:,} files; not a model folder")
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise UnsafeFile(f"{path}: is {file_kind(mode)}; a model folder holds regular files only")
            size = os.lstat(path).st_size
            if name.endswith(".json") and size > MAX_JSON_BYTES:
                raise UnsafeFile(f"{path}: {size:,} bytes, more than the {MAX_JSON_BYTES:,} a model's JSON file may have")
            if _is_zip(path):
                check_archive(path, size)
            elif name.endswith(".npy"):
                with open(path, "rb") as handle:
                    check_npy_header(handle.read(NPY_HEADER_BYTES), size, str(path))


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
