"""Hostile files (issue #30's cases): a crafted model folder or input ends in one line and exit 1,
never a crash, a hang or memory without end, and no price is misread."""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pricer_core.data.cleaning import AMBIGUOUS_PRICE, DroppedRow, parse_price
from pricer_core.data.readers import DataError, read_items
from pricer_core.storage.persistence import ModelFolderError, load_predictor, read_meta, save_predictor

PRICER = [sys.executable, "-m", "pricer_core"]


def run_pricer(*args: str, cwd: Path | None = None, memory_gb: float | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:
        if memory_gb:
            size = int(memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return subprocess.run([*PRICER, *args], capture_output=True, text=True, timeout=300, cwd=cwd, preexec_fn=limit)


def one_line_exit_1(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, (result.returncode, result.stderr[-500:])
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-500:]
    return lines[0]


@pytest.fixture(scope="module")
def items_file(tmp_path_factory) -> Path:
    from pricer_core.data.readers import write_items
    from pricer_core.data.loading import load_bundle

    path = tmp_path_factory.mktemp("items") / "items.jsonl"
    write_items(path, load_bundle().test[:5])
    return path


def fitted_folder(tmp_path: Path, predictor) -> Path:
    from pricer_core.testing import tiny_data

    train, validation, _ = tiny_data()
    predictor.fit(train, validation)
    folder = tmp_path / "model"
    save_predictor(predictor, folder)
    return folder


# --- trees that would walk off their arrays ------------------------------------------------------


def test_a_forest_with_out_of_range_indices_is_refused_before_scikit_learn_walks_it(tmp_path, items_file):
    classic = pytest.importorskip("pricer_classic.predictors")
    predictor = classic.RandomForestPredictor(n_estimators=3, svd_components=4)
    folder = fitted_folder(tmp_path, predictor)
    for field, value in (("left_child", 2**40), ("feature", 2**40)):
        crafted = tmp_path / f"crafted-{field}"
        tree = predictor._model.estimators_[1].tree_
        state = tree.__getstate__()
        pristine = state["nodes"].copy()
        nodes = pristine.copy()
        nodes[field][0] = value
        tree.__setstate__({**state, "nodes": nodes})
        save_predictor(predictor, crafted)
        tree.__setstate__({**state, "nodes": pristine})
        line = one_line_exit_1(run_pricer("predict", str(crafted), str(items_file)))
        assert "forest.skops: tree 1" in line
    assert run_pricer("predict", str(folder), str(items_file)).returncode == 0


def test_boosted_trees_with_a_child_past_the_end_are_refused(tmp_path, items_file):
    stacking = pytest.importorskip("pricer_classic.stacking")
    predictor = stacking.StackedBagOfWords(n_features=2**12, folds=3, max_iter=30)
    fitted_folder(tmp_path, predictor)
    tree = predictor._trees._predictors[0][0]
    inner = next(index for index, node in enumerate(tree.nodes) if not node["is_leaf"])
    tree.nodes["left"][inner] = 10**6
    save_predictor(predictor, tmp_path / "crafted")
    line = one_line_exit_1(run_pricer("predict", str(tmp_path / "crafted"), str(items_file)))
    assert "boosted tree 0: a child index points outside the tree" in line


# --- size bombs: refused from the directory, before a byte is inflated -----------------------------


def deflate_bomb(path: Path, member: str, megabytes: int) -> None:
    """A small zip whose one member inflates to `megabytes` of zeros."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(member, "w", force_zip64=True) as handle:
            chunk = bytes(2**20)
            for _ in range(megabytes):
                handle.write(chunk)


def test_an_npz_or_torch_archive_that_would_inflate_past_its_bound_is_refused(tmp_path, items_file):
    classic = pytest.importorskip("pricer_classic.predictors")
    folder = fitted_folder(tmp_path, classic.LinearPredictor())
    deflate_bomb(folder / "model" / "linear.npz", "coef.npy", 300)
    assert (folder / "model" / "linear.npz").stat().st_size < 2**20
    line = one_line_exit_1(run_pricer("predict", str(folder), str(items_file), memory_gb=2.5))
    assert "linear.npz: its members would inflate to 314,572,800 bytes" in line
    dnn = pytest.importorskip("pricer_dnn.predictor")
    folder = tmp_path / "dnn"
    save_predictor(dnn.DnnPredictor(n_features=256, width=8, depth=1, epochs=1, batch_size=32, progress=False).fit(*_tiny()), folder)
    weights = next(path for path in (folder / "model").iterdir() if path.suffix == ".pt")
    deflate_bomb(weights, "archive/data/0", 300)
    line = one_line_exit_1(run_pricer("predict", str(folder), str(items_file), memory_gb=3))
    assert f"{weights.name}: its members would inflate" in line


def _tiny():
    from pricer_core.testing import tiny_data

    train, validation, _ = tiny_data()
    return train, validation


def test_a_sparse_giant_json_is_refused_by_its_size_without_reading_it(tmp_path, items_file):
    from pricer_core.predictors.baselines import ConstantMedian

    folder = fitted_folder(tmp_path, ConstantMedian())
    with open(folder / "pricer.json", "r+b") as handle:
        handle.truncate(3 * 2**30)  # no disk used: a hole
    with pytest.raises(ModelFolderError, match=r"pricer.json: 3,221,225,472 bytes, more than the"):
        load_predictor(folder)
    with pytest.raises(ModelFolderError, match=r"pricer.json: 3,221,225,472 bytes, more than the 1,048,576"):
        read_meta(folder)
    shutil.rmtree(folder)
    folder = fitted_folder(tmp_path, ConstantMedian())
    state = next((folder / "model").iterdir())
    with open(state, "r+b") as handle:
        handle.truncate(3 * 2**30)
    with pytest.raises(ModelFolderError, match=r"more than the 67,108,864 a model's JSON file may have"):
        load_predictor(folder)


@pytest.mark.parametrize("command", ["read", "curate"])
def test_one_endless_line_in_a_small_gz_is_a_counted_drop_in_bounded_memory(tmp_path, command):
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        for _ in range(200):
            handle.write(b"a" * 2**20)  # 200 MB, no newline
    assert path.stat().st_size < 2**20
    args = ["read", str(path)] if command == "read" else ["curate", str(path), "--out", str(tmp_path / "out"), "--train", "1", "--validation", "1", "--test", "1"]
    result = run_pricer(*args, memory_gb=1.5)
    assert "line too long" in result.stdout + result.stderr, (result.stdout[-500:], result.stderr[-500:])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]  # curate also draws a progress bar there
    assert result.returncode == 1 and len(errors) == 1 and "line too long: 1" in result.stdout + errors[0]  # no row kept: one line, exit 1


# --- special files -------------------------------------------------------------------------------


def test_a_fifo_or_device_in_a_model_folder_is_named_not_read(tmp_path):
    from pricer_core.predictors.baselines import ConstantMedian

    folder = fitted_folder(tmp_path, ConstantMedian())
    state = next((folder / "model").iterdir())
    state.unlink()
    os.mkfifo(state)
    with pytest.raises(ModelFolderError, match="is a FIFO; a model folder holds regular files only"):
        load_predictor(folder)
    state.unlink()
    try:
        os.mknod(state, 0o600 | 0o020000, os.makedev(1, 5))  # a character device like /dev/zero
    except PermissionError:
        return
    with pytest.raises(ModelFolderError, match="is a character device"):
        load_predictor(folder)


def test_a_fifo_or_dev_zero_as_input_is_named_as_such(tmp_path):
    fifo = tmp_path / "input.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="input.jsonl: is a FIFO, not a regular file"):
        read_items(fifo)
    line = one_line_exit_1(run_pricer("read", "/dev/zero"))
    assert "/dev/zero: is a character device, not a regular file" in line


# --- prices in one documented format -------------------------------------------------------------


@pytest.mark.parametrize(("text", "price"), [("$1.99", 1.99), ("$ 12", 12.0), ("1,299.99", None), ("$999.49", 999.49), ("12", 12.0), ("  7.5 ", 7.5), (".99", 0.99), ("12.", 12.0)])
def test_the_documented_price_formats_read(text, price):
    if price is None:  # 1,299.99 is read, then out of the accepted range
        with pytest.raises(DroppedRow, match="out of range"):
            parse_price(text)
    else:
        assert parse_price(text) == price


@pytest.mark.parametrize("text", ["2,99", "1.234,56", "١٢٣", "1,23,456", "1,2", "1.2.3"])
def test_an_ambiguous_written_price_is_a_counted_drop_never_a_guess(text, tmp_path):
    with pytest.raises(DroppedRow) as dropped:
        parse_price(text)
    assert dropped.value.reason == AMBIGUOUS_PRICE
    path = tmp_path / "rows.jsonl"
    rows = [{"text": "A sturdy steel drill for the workshop\nTwelve volts, two batteries, a case.", "price": value} for value in (text, "$5.00")]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    items, report = read_items(path)
    assert [item.price for item in items] == [5.0] and report.dropped[AMBIGUOUS_PRICE] == 1


# --- the fit cache keys on a plugin's data files ----------------------------------------------------


def test_a_plugins_data_file_is_part_of_its_code_key(tmp_path, monkeypatch):
    from pricer_core.bench.fit_cache import code_sha256

    package = tmp_path / "pricer_fake_settings"
    package.mkdir()
    (package / "__init__.py").write_text("from pricer_core.predictors.baselines import ConstantMean\n\nclass Reads(ConstantMean):\n    name = 'reads'\n")
    (package / "settings.json").write_text('{"shrink": 0.1}')
    monkeypatch.syspath_prepend(str(tmp_path))
    import pricer_fake_settings

    before = code_sha256(pricer_fake_settings.Reads)
    (package / "settings.json").write_text('{"shrink": 0.9}')
    assert before is not None and code_sha256(pricer_fake_settings.Reads) != before
    sys.modules.pop("pricer_fake_settings", None)


# --- the smaller ones ------------------------------------------------------------------------------


def test_a_users_folder_link_inside_a_pricer_folder_is_refused_and_kept(tmp_path):
    from pricer_core.storage.atomic import OutputError
    from pricer_core.bench.runner import run_bench

    out = tmp_path / "o"
    run_bench(predictors=["constant-mean"], size=5, out=out, echo=lambda _: None)
    (tmp_path / "photos").mkdir()
    (out / "photos").symlink_to(tmp_path / "photos")
    with pytest.raises(OutputError, match=r"holds files pricer did not write there \(photos\)"):
        run_bench(predictors=["constant-mean"], size=5, out=out, echo=lambda _: None)
    assert (out / "photos").is_symlink()


def test_a_corrupt_dataset_dict_names_the_folder(tmp_path):
    from pricer_core.data.hub import save_local
    from pricer_core.data.splits import Splits
    from pricer_core.data.loading import load_bundle

    bundle = load_bundle()
    folder = tmp_path / "splits"
    save_local(folder, Splits("s", bundle.train[:20], bundle.validation[:5], bundle.test[:5]))
    (folder / "dataset_dict.json").write_text("{broken")
    line = one_line_exit_1(subprocess.run([sys.executable, "-m", "pricer_core.bench", "--data", str(folder), "--out", str(tmp_path / "o"), "-p", "constant-mean"], capture_output=True, text=True, timeout=300))
    assert f"{folder}: not a readable DatasetDict" in line


def test_read_keeping_no_row_exits_1(tmp_path):
    path = tmp_path / "nothing.jsonl"
    path.write_text('{"id": "a", "title": "x", "full": "", "price": "2,99"}\n')
    line = one_line_exit_1(run_pricer("read", str(path)))
    assert "no row was kept" in line


def test_an_out_under_a_file_is_refused_before_the_work(tmp_path, shared_data):
    (tmp_path / "afile.txt").write_text("mine")
    line = one_line_exit_1(run_pricer("read", str(shared_data / "llm_engineering_official_test_2000.jsonl.gz"), "--out", str(tmp_path / "afile.txt" / "p.jsonl")))
    assert "afile.txt is a file, not a folder" in line and (tmp_path / "afile.txt").read_text() == "mine"
