import gzip
import json

import pytest
from click.testing import CliRunner

from pricer_core.cli.commands import main
from pricer_core.curation.parallel_clean import clean_files
from pricer_core.curation.sampling import build_splits, dedupe, lite, sample_weights
from pricer_core.data.hub import from_hub
from pricer_core.item import stable_id

RAW_FILES = [
    "amazon2023_raw_meta_Health_and_Personal_Care_sample_1714.jsonl.gz",
    "amazon2023_raw_meta_Health_and_Personal_Care_sample_1001_older.jsonl.gz",
]


@pytest.mark.parametrize("workers", [1, 2])
def test_clean_files_counts_match_the_per_row_reader(shared_data, tmp_path, workers):
    dataset, report = clean_files([shared_data / name for name in RAW_FILES], workers=workers, cache_dir=str(tmp_path))
    assert (report.rows, report.kept, dict(report.dropped)) == (2715, 274, {"no price": 2266, "too short": 175})
    assert len(dataset) == 274 and dataset.column_names[:4] == ["id", "title", "category", "price"]


def test_malformed_line_is_reported_and_the_run_goes_on(shared_data, tmp_path):
    lines = gzip.open(shared_data / RAW_FILES[0], "rt").read().splitlines()[:300]
    lines.insert(5, '{"title": "broken", "price": 3')
    path = tmp_path / "raw.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")
    dataset, report = clean_files([path], workers=1, cache_dir=str(tmp_path / "cache"))
    assert report.dropped["bad JSON"] == 1 and report.rows == 301
    assert report.problems[0].startswith(f"{path}:6: bad JSON")


def mixed_raw_file(shared_data, path):
    """Real raw rows with what a big file has somewhere: blank lines, a broken line, a priced row
    without an ASIN, and a line far longer than the small blocks the tests force."""
    lines = gzip.open(shared_data / RAW_FILES[0], "rt").read().splitlines()[:400]
    priced = [line for line in lines if '"price": null' not in line]
    no_asin = json.loads(priced[0]) | {"description": ["long enough to keep " * 40]}
    no_asin.pop("parent_asin")
    long_row = json.loads(priced[1]) | {"parent_asin": "LONGROW", "description": ["long enough to keep " * 40]}
    long_row["images"] = [{"large": "x" * 200} for _ in range(200)]
    lines[10:10] = ["", "  ", '{"title": "broken", "price": 3']
    lines[50:50] = [json.dumps(no_asin), json.dumps(long_row)]
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines))  # no final newline
    return sum(1 for line in lines[:50] if line.strip())  # the data row of the row without an ASIN


@pytest.mark.parametrize("workers", [1, 2])
def test_small_blocks_give_what_the_per_row_reader_gives(shared_data, tmp_path, monkeypatch, workers):
    from pricer_core.curation import parallel_clean
    from pricer_core.data.readers import read_items

    path = tmp_path / "mixed.jsonl.gz"
    no_asin_row = mixed_raw_file(shared_data, path)
    monkeypatch.setattr(parallel_clean, "BLOCK_BYTES", 20_000)  # ~8 rows a block; the long row is ~45 kB
    dataset, report = clean_files([path], workers=workers, cache_dir=str(tmp_path / "cache"), progress=False)
    expected, expected_report = read_items(path, format="raw")
    assert [item.model_dump() for item in expected] == dataset.to_list()
    assert (report.rows, report.kept, report.dropped) == (expected_report.rows, expected_report.kept, expected_report.dropped)
    assert [problem.split(": ")[0] for problem in report.problems] == [f"{path}:13"]
    assert "LONGROW" in dataset["id"]
    assert [item_id for item_id in dataset["id"] if len(item_id) == 16] == [stable_id("mixed", no_asin_row)]


def test_parquet_through_datasets_gives_the_same_items_as_the_json_lines(shared_data, tmp_path):
    from datasets import load_dataset

    jsonl = shared_data / RAW_FILES[0]
    parquet = tmp_path / f"{jsonl.name.removesuffix('.jsonl.gz')}.parquet"
    load_dataset("json", data_files=str(jsonl), split="train", cache_dir=str(tmp_path / "hf")).to_parquet(str(parquet))
    from_lines, lines_report = clean_files([jsonl], workers=1, cache_dir=str(tmp_path / "a"), progress=False)
    from_parquet, parquet_report = clean_files([parquet], workers=2, cache_dir=str(tmp_path / "b"), progress=False)
    assert from_parquet.to_list() == from_lines.to_list()
    assert (parquet_report.rows, parquet_report.kept, parquet_report.dropped) == (lines_report.rows, lines_report.kept, lines_report.dropped)


def test_a_category_from_a_hub_repo_layout_gives_the_same_items_as_its_file(shared_data, tmp_path):
    """The hub path, offline: `datasets` reads a folder laid out like McAuley-Lab/Amazon-Reviews-2023."""
    from pricer_core.curation.parallel_clean import clean_hub_category

    repo = tmp_path / "Amazon-Reviews-2023"
    category_file = repo / "raw" / "meta_categories" / "meta_Health_and_Personal_Care.jsonl"
    category_file.parent.mkdir(parents=True)
    category_file.write_bytes(gzip.open(shared_data / RAW_FILES[0]).read())
    from_hub, hub_report = clean_hub_category("Health_and_Personal_Care", workers=1, repo=str(repo))
    from_file, file_report = clean_files([category_file], workers=2, cache_dir=str(tmp_path / "c"), progress=False)  # plain jsonl, ring
    assert from_hub.to_list() == from_file.to_list() and len(from_file) > 100
    assert (hub_report.rows, hub_report.kept, hub_report.dropped) == (file_report.rows, file_report.kept, file_report.dropped)
    result = CliRunner().invoke(main, ["curate", "--category", "Health_and_Personal_Care", "--repo", str(repo), "--out", str(tmp_path / "ds"), "--train", "50", "--validation", "10", "--test", "10"])
    assert result.exit_code == 0, result.output
    assert f"Health_and_Personal_Care: {hub_report.summary()}" in result.output


def test_dedupe_then_weighted_split_is_deterministic(shared_data, tmp_path):
    dataset, _ = clean_files([shared_data / name for name in RAW_FILES], workers=1, cache_dir=str(tmp_path))
    unique = dedupe(dataset)
    assert len(unique) == len(set(unique["title"])) < len(dataset)
    first = build_splits(unique, 100, 20, 20, seed=42)
    second = build_splits(unique, 100, 20, 20, seed=42)
    assert first["test"]["id"] == second["test"]["id"]
    assert not set(first["train"]["id"]) & set(first["test"]["id"])
    small = lite(first, 50, 10, 10)
    assert small["train"]["id"] == first["train"]["id"][:50]


def test_sampling_weights_follow_the_seed():
    weights = sample_weights([1.0, 3.0, 5.0, 5.0], ["Toys", "Toys", "Automotive", "Tools_and_Home_Improvement"])
    assert weights.tolist() == pytest.approx([0.0, 0.25, 0.05, 0.5])


def test_curate_command_round_trips_through_from_hub(shared_data, tmp_path):
    out = tmp_path / "ds"
    result = CliRunner().invoke(main, ["curate", *[str(shared_data / name) for name in RAW_FILES], "--out", str(out), "--train", "100", "--validation", "20", "--test", "20", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "274/2715 rows kept; dropped no price: 2266, too short: 175" in result.output
    splits = from_hub(str(out))
    assert len(splits.train) == 100 and len(splits.test) == 20
    from datasets import load_from_disk

    on_disk = load_from_disk(str(out))
    assert [item.id for item in splits.test] == on_disk["test"]["id"]
    assert splits.test[0].model_dump() == {key: on_disk["test"][0][key] for key in splits.test[0].model_dump()}


def test_saved_splits_replace_the_old_folder_whole(shared_data, tmp_path):
    import os

    from pricer_core.storage.atomic import MARKER, OutputError
    from pricer_core.data.hub import write_dataset_dict

    dataset, _ = clean_files([shared_data / RAW_FILES[0]], workers=1, cache_dir=str(tmp_path / "c"), progress=False)
    out = tmp_path / "ds"
    write_dataset_dict(build_splits(dedupe(dataset), 60, 10, 10), out)
    (tmp_path / f".ds.partial-{os.getpid()}").mkdir()  # what a killed earlier run leaves behind
    write_dataset_dict(build_splits(dedupe(dataset), 30, 5, 5), out)
    from datasets import load_from_disk

    assert len(load_from_disk(str(out))["train"]) == 30 and (out / MARKER).exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["c", "ds"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="holds files pricer did not write"):
        write_dataset_dict(build_splits(dedupe(dataset), 30, 5, 5), mine)
    assert (mine / "notes.txt").read_text() == "keep me"


def raw_lines(shared_data, count=None):
    return gzip.open(shared_data / RAW_FILES[0]).read().splitlines(keepends=True)[:count]


@pytest.mark.parametrize("workers", [1, 2])
def test_truncated_gzip_is_one_line_naming_the_last_whole_line(shared_data, tmp_path, monkeypatch, workers):
    import tempfile
    import zlib

    from pricer_core.curation import parallel_clean
    from pricer_core.data.readers import DataError

    packed = gzip.compress(b"".join(raw_lines(shared_data)))
    cut = packed[: len(packed) * 2 // 3]
    whole_lines = zlib.decompressobj(wbits=31).decompress(cut).count(b"\n")
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(cut)
    monkeypatch.setattr(parallel_clean, "BLOCK_BYTES", 50_000)  # many blocks: some are cleaned before the end
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with pytest.raises(DataError) as raised:
        clean_files([path], workers=workers, progress=False)
    assert str(raised.value).startswith(f"{path}: truncated or corrupt gzip after line {whole_lines}, the last whole line read (EOFError")
    with pytest.raises(DataError) as per_row:
        from pricer_core.data.readers import read_items

        read_items(path)
    assert str(per_row.value) == str(raised.value)  # both readers say the same
    assert list((tmp_path / "tmp").iterdir()) == []  # no pricer-curate-* folder left behind


def run_curate(*args):
    return CliRunner().invoke(main, ["curate", *map(str, args), "--workers", "1"])


def one_error_line(result):
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1 and len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_curate_command_errors_are_one_line(shared_data, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(b"".join(raw_lines(shared_data)))[:20_000])
    line = one_error_line(run_curate(cut, "--out", tmp_path / "a"))
    assert line.startswith(f"error: {cut}: truncated or corrupt gzip after line ") and "BufferError" not in line
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert one_error_line(run_curate(empty, "--out", tmp_path / "b")) == "error: no usable items in the input (files: 0/0 rows kept)"
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"price": null}\n{broken\n\xff\xfe\n')
    line = one_error_line(run_curate(bad, "--out", tmp_path / "c"))
    assert line == "error: no usable items in the input (files: 0/3 rows kept; dropped bad JSON: 1, bad encoding: 1, no price: 1)"
    monkeypatch.chdir(tmp_path)
    for out in (".", ".."):
        assert "is the current folder or one above it" in one_error_line(run_curate(shared_data / RAW_FILES[0], "--out", out))
    assert list((tmp_path / "tmp").iterdir()) == [] and not any((tmp_path / name).exists() for name in "abc")


def test_a_folder_of_the_users_is_never_replaced_without_force(shared_data, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    line = one_error_line(run_curate(shared_data / RAW_FILES[0], "--out", out, "--train", "20", "--validation", "5", "--test", "5"))
    assert line == f"error: {out}: holds files pricer did not write; choose another folder or pass --force to replace it"
    assert (out / "notes.txt").read_text() == "keep me"
    forced = run_curate(shared_data / RAW_FILES[0], "--out", out, "--train", "20", "--validation", "5", "--test", "5", "--force")
    assert forced.exit_code == 0, forced.output
    assert not (out / "notes.txt").exists() and (out / "dataset_dict.json").exists()
    again = run_curate(shared_data / RAW_FILES[0], "--out", out, "--train", "10", "--validation", "5", "--test", "5")
    assert again.exit_code == 0, again.output  # pricer wrote it: replacing needs no --force


def test_default_sizes_on_a_small_file_take_everything_in_the_seeds_proportions(shared_data, tmp_path):
    from datasets import load_from_disk

    result = run_curate(*[shared_data / name for name in RAW_FILES], "--out", tmp_path / "ds", "--lite")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    # 257 unique items, the cheapest has weight 0: 256 to share out 800:10:10
    assert warnings == [
        "warning: only 256 items can be sampled (non-zero price weight), fewer than the 820000 asked for: "
        "taking 250/3/3 (train/validation/test), in the proportions asked for"
    ]
    assert "257 items after removing duplicate titles and texts (17 removed)" in result.output
    on_disk = load_from_disk(str(tmp_path / "ds"))
    assert {name: len(split) for name, split in on_disk.items()} == {"train": 250, "validation": 3, "test": 3}
    lite_disk = load_from_disk(str(tmp_path / "ds-lite"))
    assert lite_disk["train"]["id"] == on_disk["train"]["id"]  # the lite prefix of a small set is all of it
    assert (tmp_path / "ds-lite" / ".pricer-output").exists()


@pytest.mark.parametrize(
    "available, asked, expected",
    [
        (128, (800_000, 10_000, 10_000), (124, 2, 2)),
        (1000, (800_000, 10_000, 10_000), (976, 12, 12)),
        (3, (800_000, 10_000, 10_000), (1, 1, 1)),
        (50, (100, 20, 20), (36, 7, 7)),
        (50, (10, 5, 5), (10, 5, 5)),
        (10, (0, 30, 10), (0, 8, 2)),
    ],
)
def test_scaled_sizes_keep_the_proportions(available, asked, expected):
    from pricer_core.curation.sampling import scaled_sizes

    assert scaled_sizes(available, *asked) == expected
    assert sum(expected) == min(available, sum(asked))


def test_scaled_sizes_refuse_fewer_items_than_splits():
    from pricer_core.curation.sampling import scaled_sizes
    from pricer_core.data.readers import DataError

    with pytest.raises(DataError, match="only 2 items can be sampled"):
        scaled_sizes(2, 100, 1, 1)


def test_curate_function_is_the_pipeline_and_cleans_up_on_interrupt(shared_data, tmp_path, monkeypatch):
    import tempfile

    from pricer_core.curation import curate

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    lines = []
    report = curate.curate([shared_data / RAW_FILES[0]], out=tmp_path / "ds", train=40, validation=5, test=5, workers=1, lite=True, progress=False, echo=lines.append)
    assert (report.rows, report.kept, report.sizes) == (1714, 131, {"train": 40, "validation": 5, "test": 5})
    assert report.kept + sum(report.dropped.values()) == report.rows
    assert report.out == tmp_path / "ds" and report.lite_out == tmp_path / "ds-lite"
    assert lines[0] == f"files: {report.reports[0][1].summary()}" and lines[-1] == f"wrote {tmp_path / 'ds-lite'}: train 40, validation 5, test 5"
    assert list((tmp_path / "tmp").iterdir()) == []

    def interrupted(dataset):
        raise KeyboardInterrupt

    monkeypatch.setattr(curate, "dedupe", interrupted)
    with pytest.raises(KeyboardInterrupt):
        curate.curate([shared_data / RAW_FILES[0]], out=tmp_path / "other", train=40, validation=5, test=5, workers=1, progress=False, echo=lines.append)
    assert list((tmp_path / "tmp").iterdir()) == [] and not (tmp_path / "other").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ds", "ds-lite", "tmp"]


STALLED_CURATE = """
import sys, time
from pricer_core.curation import curate
from pricer_core.cli.commands import main

def stall(dataset):  # the cleaned rows are in the temporary Arrow file by now
    print("stalled", flush=True)
    time.sleep(120)

curate.dedupe = stall
main(sys.argv[1:])
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_killed_curate_removes_its_temporary_folder_and_writes_nothing(shared_data, tmp_path, workers):
    import os
    import signal
    import subprocess
    import sys

    (tmp_path / "tmp").mkdir()
    command = [sys.executable, "-c", STALLED_CURATE, "curate", str(shared_data / RAW_FILES[0]), "--out", str(tmp_path / "ds"), "--workers", workers]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(tmp_path / "tmp")})
    assert "stalled" in iter(lambda: process.stdout.readline().strip(), "")
    assert [path.name.startswith("pricer-curate-") for path in (tmp_path / "tmp").iterdir()] == [True]
    process.send_signal(signal.SIGTERM)
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM and errors.splitlines()[-1] == "terminated"
    assert list((tmp_path / "tmp").iterdir()) == [] and sorted(path.name for path in tmp_path.iterdir()) == ["tmp"]


def test_a_byte_order_mark_loses_no_raw_row(shared_data, tmp_path):
    lines = gzip.open(shared_data / RAW_FILES[0], "rb").read().splitlines()
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\n".join(b"\xef\xbb\xbf" + line for line in lines) + b"\n")
    _, marked = clean_files([path], workers=1, cache_dir=str(tmp_path / "c1"), progress=False)
    _, plain = clean_files([shared_data / RAW_FILES[0]], workers=1, cache_dir=str(tmp_path / "c2"), progress=False)
    assert (marked.rows, marked.kept, dict(marked.dropped)) == (plain.rows, plain.kept, dict(plain.dropped))
