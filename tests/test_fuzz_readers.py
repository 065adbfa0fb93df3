"""Hostile input for every reader and for curation: random bytes, and the real files of ../shared/data
(their first 50 lines) with bytes flipped, lines deleted or repeated, deep nesting, bad UTF-8 and
broken gzip. Whatever comes in, the only error is a one-line DataError naming the file, and every
non-blank line read is either kept or counted as dropped.
"""

from __future__ import annotations

import gzip
import json
import zlib
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricer_core.data.readers import FORMATS, DataError, read_items

SEED_LINES = 50
FUZZ = settings(
    derandomize=True,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
)
WEIRD_VALUES = [
    None, "None", "", "null", "nan", "-", True, 0, -1, 0.49, 999.5, 1e308, 10**400, "1e999", "$1,299.00",
    "10.99 - 15.99", [], [1, "2"], {}, {"a": {"b": None}}, "\ud800", "x" * 5000, "{", '{"Item Weight": "1e400 pounds"}',
    "[" * 3000, '{"a": ' + "[" * 5000 + "]" * 5000 + "}",
]
_names = count()


@pytest.fixture(scope="module")
def seeds(shared_data) -> dict[str, list[bytes]]:
    """The first lines of every shared file, as bytes without their newline."""
    out = {}
    for path in sorted(shared_data.glob("*.jsonl.gz")):
        with gzip.open(path) as handle:
            out[path.name] = [next(handle).rstrip(b"\n") for _ in range(SEED_LINES)]
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def deep(depth: int) -> bytes:
    return b'{"title": ' + b"[" * depth + b"]" * depth + b"}"


@st.composite
def mutated_lines(draw, seeds: dict[str, list[bytes]], min_lines: int = 1) -> list[bytes]:
    name = draw(st.sampled_from(sorted(seeds)))
    lines = list(seeds[name][: draw(st.integers(min_lines, SEED_LINES))])
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["flip", "delete", "duplicate", "deep", "utf8", "cut", "junk", "blank", "field", "crlf"]))
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        if not lines:
            lines.append(b"")
        line = lines[at]
        offset = draw(st.integers(0, len(line)))
        if kind == "flip" and line:
            position = min(offset, len(line) - 1)
            lines[at] = line[:position] + bytes([line[position] ^ draw(st.integers(1, 255))]) + line[position + 1 :]
        elif kind == "delete":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, line)
        elif kind == "deep":
            lines.insert(at, deep(draw(st.sampled_from([10, 900, 1100, 10_000]))))
        elif kind == "utf8":
            lines[at] = line[:offset] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe9t\xe9", b"\xed\xa0\x80", b"\x00"])) + line[offset:]
        elif kind == "cut":
            lines[at] = line[:offset]
        elif kind == "junk":
            lines.insert(at, draw(st.binary(max_size=200)).replace(b"\n", b""))
        elif kind == "blank":
            lines.insert(at, draw(st.sampled_from([b"", b"  ", b"\t", b"\r", b"\x0c"])))
        elif kind == "field":
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and row:
                key = draw(st.sampled_from(sorted(row) + ["price", "details", "title", "text"]))
                row[key] = draw(st.sampled_from(WEIRD_VALUES))
                lines[at] = json.dumps(row).encode()
        elif kind == "crlf":
            lines[at] = line + b"\r"
    return lines


@st.composite
def hostile_files(draw, seeds: dict[str, list[bytes]], min_lines: int = 1) -> tuple[bytes, bytes | None]:
    """(the file's bytes, the lines it should decode to, or None if its gzip is broken)."""
    lines = draw(mutated_lines(seeds, min_lines))
    content = b"\n".join(lines) + draw(st.sampled_from([b"\n", b""]))
    container = draw(st.sampled_from(["plain", "gzip", "gzip", "cut gzip", "flipped gzip"]))
    if container == "plain":
        return content, content
    packed = gzip.compress(content, mtime=0)
    if container == "gzip":
        return packed, content
    if container == "cut gzip":
        packed = packed[: draw(st.integers(3, len(packed) - 1))]
    else:
        position = draw(st.integers(10, len(packed) - 1))  # past the header's magic, flags and mtime
        packed = packed[:position] + bytes([packed[position] ^ draw(st.integers(1, 255))]) + packed[position + 1 :]
    return packed, _decompressed(packed)


def _decompressed(packed: bytes) -> bytes | None:
    try:
        return gzip.decompress(packed)
    except (OSError, EOFError, zlib.error):
        return None


def non_blank_lines(content: bytes) -> int:
    """Lines with something on them once a leading byte-order mark is dropped, as the readers do."""
    from pricer_core.data.readers import without_bom

    return sum(1 for line in content.split(b"\n") if without_bom(line).strip())


def write(workdir: Path, data: bytes) -> Path:
    path = workdir / f"fuzz-{next(_names)}.jsonl.gz"
    path.write_bytes(data)
    return path


def check_data_error(error: DataError, path: Path) -> None:
    message = str(error)
    assert str(path) in message and "\n" not in message, message


def check_reader(path: Path, expected: bytes | None, format: str | None, require_price: bool) -> int | None:
    """Read one hostile file; the rows it counted, or None when it refused the file."""
    try:
        items, report = read_items(path, format=format, require_price=require_price)
    except DataError as error:
        check_data_error(error, path)
        return None
    assert report.kept + sum(report.dropped.values()) == report.rows
    assert len(items) == report.kept
    if expected is not None:
        assert report.rows == non_blank_lines(expected)
    return report.rows


def test_every_reader_survives_mutated_real_files(seeds, workdir):
    """Each hostile file through auto-detection and each of the four formats, priced or not."""
    outcomes = []

    @settings(FUZZ, max_examples=400)
    @given(st.data())
    def run(data):
        raw, expected = data.draw(hostile_files(seeds))
        path = write(workdir, raw)
        for format in (None, *FORMATS):
            outcomes.append(check_reader(path, expected, format, data.draw(st.booleans())) is None)
        path.unlink()

    run()
    refused = sum(outcomes)
    assert len(outcomes) >= 2000 and 100 < refused < len(outcomes) - 1000, (len(outcomes), refused)


@settings(FUZZ, max_examples=300)
@given(raw=st.binary(max_size=3000), packed=st.booleans(), format=st.sampled_from([None, *FORMATS]))
def test_random_bytes_never_escape_as_anything_but_data_error(workdir, raw, packed, format):
    data = gzip.compress(raw, mtime=0) if packed else raw
    path = write(workdir, data)
    rows = check_reader(path, raw if packed or raw[:2] != b"\x1f\x8b" else None, format, True)
    assert rows is not None or format is None or (raw[:2] == b"\x1f\x8b" and not packed)
    path.unlink()


@pytest.fixture(scope="module")
def curate_ready(workdir):
    """Import datasets and pyarrow once, before the deadline clock runs."""
    from pricer_core.curation.parallel_clean import clean_files

    warm = write(workdir, b'{"price": null}\n')
    clean_files([warm], workers=1, cache_dir=str(workdir / "cache"), progress=False)
    return clean_files


def check_curation(clean_files, path: Path, expected: bytes | None, cache: Path, workers: int = 1) -> str:
    try:
        dataset, report = clean_files([path], workers=workers, cache_dir=str(cache), progress=False)
    except DataError as error:
        check_data_error(error, path)
        assert expected is None, "only a broken gzip stops curation"
        return "refused"
    assert report.kept + sum(report.dropped.values()) == report.rows
    assert len(dataset) == report.kept
    if expected is not None:
        assert report.rows == non_blank_lines(expected)
        reader_rows = check_reader(path, expected, "raw", True)
        assert reader_rows in (None, report.rows)
    return "read"


def test_curation_survives_mutated_real_files(seeds, workdir, curate_ready):
    outcomes = []

    @settings(FUZZ, max_examples=400)
    @given(st.data())
    def run(data):
        raw, expected = data.draw(hostile_files(seeds))
        path = write(workdir, raw)
        outcomes.append(check_curation(curate_ready, path, expected, workdir / "cache"))
        path.unlink()

    run()
    assert len(outcomes) >= 400 and 20 < outcomes.count("refused") < len(outcomes) - 200, (len(outcomes), outcomes.count("refused"))


def test_curation_with_two_workers_on_hostile_files(seeds, workdir, curate_ready, monkeypatch):
    """Forked workers: a few fixed hostile files (small blocks so several go through the pool)."""
    from pricer_core.curation import parallel_clean

    monkeypatch.setattr(parallel_clean, "BLOCK_BYTES", 8_000)
    raw_name = next(name for name in seeds if "raw_meta" in name)
    lines = seeds[raw_name] * 4
    broken = lines[:30] + [b"\xff\xfe", deep(10_000), b"{", b""] + lines[30:]
    content = b"\n".join(broken) + b"\n"
    packed = gzip.compress(content, mtime=0)
    for data, expected in [(content, content), (packed, content), (packed[: len(packed) // 2], None)]:
        path = write(workdir, data)
        check_curation(curate_ready, path, expected, workdir / "cache2", workers=2)
    path = write(workdir, packed)
    _, report = curate_ready([path], workers=2, cache_dir=str(workdir / "cache2"), progress=False)
    assert report.rows == non_blank_lines(content) and report.dropped["bad encoding"] == 1 and report.dropped["bad JSON"] == 2


def test_the_whole_curate_pipeline_on_hostile_files(seeds, workdir, curate_ready):
    """clean, dedupe, sample, write: raw seeds (5 and 7 priced rows of their first 50 lines)."""
    from pricer_core.curation.curate import curate

    raw_seeds = {name: lines for name, lines in seeds.items() if "raw_meta" in name}
    written = []

    @settings(FUZZ, max_examples=40, deadline=10_000)
    @given(st.data())
    def run(data):
        raw, expected = data.draw(hostile_files(raw_seeds, min_lines=SEED_LINES))
        path = write(workdir, raw)
        out = workdir / f"out-{next(_names)}"
        try:
            report = curate([path], out=out, train=1, validation=1, test=1, workers=1, progress=False, echo=lambda line: None)
        except DataError as error:
            message = str(error)
            assert "\n" not in message and (str(path) in message or message.startswith(("no usable items", "only "))), message
            assert not out.exists()
            return
        assert report.kept + sum(report.dropped.values()) == report.rows
        assert report.sizes == {"train": 1, "validation": 1, "test": 1}
        if expected is not None:
            assert report.rows == non_blank_lines(expected)
        assert (out / "dataset_dict.json").exists()
        written.append(out)

    run()
    assert len(written) >= 10  # most hostile files still leave enough rows to write a dataset
