"""Property-based fuzzing of saved model folders (Hypothesis, fixed seed, bounded examples).

Every shipped predictor is fitted small and saved once (the two that ask an LLM are loaded, not
asked to price: that needs a server); each example copies its folder, damages
it (a byte flipped, a file cut short, a zip directory that lies about a member's size, an array
header or a JSON number made enormous) and asks a long-lived loader process to load it and price
five items. That process runs under an address-space limit of its own imports plus 1 GiB, so a
bomb fails the test instead of the machine. Every case must end in a correct load or a refusal of
one line: never a signal, never a hang, never the memory limit.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import select
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

EXAMPLES = int(os.environ.get("PRICER_FUZZ_EXAMPLES", "12"))  # more for a longer hunt
LOADER = textwrap.dedent(
    """
    import json, resource, sys
    for module in sys.argv[2:]:
        __import__(module)  # the heavy imports first: the limit is on loading, not importing
    from pricer_core.contract.checks import check_predictions
    from pricer_core.errors import one_line
    from pricer_core.item import Item
    from pricer_core.storage.persistence import load_predictor
    items = [Item.model_validate(row) for row in json.loads(open(sys.argv[1]).read())]
    size = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize")) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + 2**30, size + 2**30))
    print(json.dumps({"outcome": "ready"}), flush=True)
    for line in sys.stdin:
        folder, _, mode = line.rstrip(chr(10)).partition(chr(9))
        try:
            predictor = load_predictor(folder)
            if mode == "price":
                check_predictions(predictor.predict(items), len(items), "loaded")
            reply = {"outcome": "ok"}
        except MemoryError:
            reply = {"outcome": "memory limit"}
        except Exception as error:
            reply = {"outcome": "refused", "message": one_line(error)}
        print(json.dumps(reply), flush=True)
    """
)


def _small_predictors() -> dict[str, tuple[object, list[str]]]:
    """name -> (an unfitted small predictor, modules its loader imports)."""
    from pricer_core.predictors.baselines import ConstantMean, UniformRandom

    built: dict[str, tuple[object, list[str]]] = {"constant-mean": (ConstantMean(), []), "random": (UniformRandom(), [])}
    try:
        from pricer_classic.predictors import BagOfWordsLinear, LinearPredictor, RandomForestPredictor, XGBoostPredictor
        from pricer_classic.stacking import StackedBagOfWords

        modules = ["sklearn.ensemble", "skops.io", "xgboost", "pricer_classic.predictors", "pricer_classic.stacking"]
        built.update({
            "linear": (LinearPredictor(), modules),
            "bow-linear": (BagOfWordsLinear(n_features=2**12), modules),
            "random-forest": (RandomForestPredictor(n_estimators=3, svd_components=4), modules),
            "xgboost": (XGBoostPredictor(n_estimators=10, svd_components=4), modules),
            "bow-stack": (StackedBagOfWords(n_features=2**12, folds=3, max_iter=20), modules),
        })
    except ImportError:
        pass
    try:
        from pricer_dnn.predictor import DnnPredictor
        from pricer_dnn.sparse_mlp import SparseMlpPredictor

        modules = ["torch", "pricer_dnn.predictor", "pricer_dnn.sparse_mlp"]
        built["dnn"] = (DnnPredictor(n_features=512, width=16, depth=1, epochs=1, batch_size=32, progress=False), modules)
        built["sparse-mlp"] = (SparseMlpPredictor(word_features=2**10, char_features=2**8, hidden=16, networks=2, epochs=1), modules)
    except ImportError:
        pass
    try:
        from pricer_llm.predictors import KnnEmbed, LLMPredictor, LLMRag

        if importlib.util.find_spec("sentence_transformers") is None:  # the encoder the three need
            raise ImportError("sentence-transformers")

        modules = ["sentence_transformers", "pricer_llm.predictors"]
        built["knn-embed"] = (KnnEmbed(k=3), modules)
        built["llm"] = (LLMPredictor(), modules)
        built["llm-rag"] = (LLMRag(k=2), modules)
    except ImportError:
        pass
    return built


PREDICTORS = list(_small_predictors()) + ["ensemble"]
LOAD_ONLY = {"llm", "llm-rag"}  # pricing needs an LLM server; their folders are still loaded


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    """Every predictor fitted on tiny data and saved once."""
    from pricer_core.testing import tiny_data
    from pricer_core.predictors.ensemble import Ensemble
    from pricer_core.storage.persistence import save_predictor

    train, validation, _ = tiny_data()
    root = tmp_path_factory.mktemp("saved")
    folders, fitted = {}, {}
    for name, (predictor, _) in _small_predictors().items():
        fitted[name] = predictor.fit(train, validation)
        save_predictor(predictor, root / name)
        folders[name] = root / name
    if {"linear", "bow-linear"} <= set(fitted):
        ensemble = Ensemble(members=["linear", "bow-linear"])
        ensemble.offer_members({name: fitted[name] for name in ensemble.members})
        save_predictor(ensemble.fit(train, validation), root / "ensemble")
        folders["ensemble"] = root / "ensemble"
    return folders


class Loader:
    """One long-lived loading process per predictor, under its memory limit."""

    def __init__(self, items_file: Path, modules: list[str]):
        self.process = subprocess.Popen(
            [sys.executable, "-c", LOADER, str(items_file), *modules],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.reply()["outcome"] == "ready"

    def reply(self, timeout: float = 120) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.process.kill()
            raise AssertionError(f"the loader hung for {timeout:g} s")
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            raise AssertionError(f"the loader died (exit {code}): {self.process.stderr.read()[-600:]}")
        return json.loads(line)

    def load(self, folder: Path, price: bool = True) -> dict:
        self.process.stdin.write(f"{folder}\t{'price' if price else 'load'}\n")
        self.process.stdin.flush()
        return self.reply()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def items_file(tmp_path_factory) -> Path:
    from pricer_core.data.loading import load_bundle

    path = tmp_path_factory.mktemp("items") / "items.json"
    path.write_text(json.dumps([item.model_copy(update={"price": None}).model_dump() for item in load_bundle().test[:5]]))
    return path


@pytest.fixture(scope="module")
def loaders(items_file):
    started: dict[str, Loader] = {}
    modules = {name: needed for name, (_, needed) in _small_predictors().items()}
    modules["ensemble"] = sorted({module for needed in modules.values() for module in needed})

    def loader(name: str) -> Loader:
        if name not in started:
            started[name] = Loader(items_file, modules[name])
        return started[name]

    yield loader
    for running in started.values():
        running.close()


# --- damage ----------------------------------------------------------------------------------------

BIG = [2**31 - 1, 2**32 - 2, 2**40, 10**12]


def flip(data: bytes, position: float, mask: int, _: int) -> bytes:
    if not data:
        return data
    at = min(int(position * len(data)), len(data) - 1)
    return data[:at] + bytes([data[at] ^ mask]) + data[at + 1 :]


def truncate(data: bytes, position: float, _: int, __: int) -> bytes:
    return data[: int(position * len(data))]


def enlarge_json_number(data: bytes, position: float, _: int, big: int) -> bytes:
    numbers = list(re.finditer(rb"-?\d+(\.\d+)?", data))
    if not numbers:
        return data
    match = numbers[min(int(position * len(numbers)), len(numbers) - 1)]
    return data[: match.start()] + str(big).encode() + data[match.end() :]


def enlarge_npy_shape(data: bytes, position: float, _: int, big: int) -> bytes:
    """The first dimension of an .npy header made `big`, padding kept so the header still parses."""
    match = re.search(rb"'shape': \((\d+)", data[:512])
    if not match:
        return data
    grown = str(big).encode()
    extra = len(grown) - len(match.group(1))
    end = data.index(b"\n", match.end())
    if data[end - extra : end] != b" " * extra:
        return data
    return data[: match.start(1)] + grown + data[match.end(1) : end - extra] + data[end:]


def lie_in_zip_directory(data: bytes, position: float, _: int, big: int) -> bytes:
    """One member's declared uncompressed size, in its local header and the central directory."""
    headers = [(match.start(), 22) for match in re.finditer(rb"PK\x03\x04", data)] + [(match.start(), 24) for match in re.finditer(rb"PK\x01\x02", data)]
    if not headers:
        return data
    start, offset = headers[min(int(position * len(headers)), len(headers) - 1)]
    value = min(big, 2**32 - 2).to_bytes(4, "little")
    return data[: start + offset] + value + data[start + offset + 4 :]


def rewrite_zip_members(data: bytes, change, position: float, mask: int, big: int) -> bytes:
    """Apply `change` to one member of a zip (an .npy of an .npz, say) and rebuild a valid zip around it."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [(info, archive.read(info.filename)) for info in archive.infolist()]
    except Exception:
        return data
    if not members:
        return data
    chosen = min(int(position * len(members)), len(members) - 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for index, (info, content) in enumerate(members):
            archive.writestr(info, change(content, position, mask, big) if index == chosen else content)
    return out.getvalue()


DAMAGE = {
    "flip": flip,
    "truncate": truncate,
    "json-number": enlarge_json_number,
    "npy-shape": enlarge_npy_shape,
    "zip-lies": lie_in_zip_directory,
    "zip-member-npy-shape": lambda data, p, m, b: rewrite_zip_members(data, enlarge_npy_shape, p, m, b),
    "zip-member-flip": lambda data, p, m, b: rewrite_zip_members(data, flip, p, m, b),
}


def damaged_copy(folder: Path, target: Path, kind: str, file_pick: int, position: float, mask: int, big: int) -> str:
    shutil.copytree(folder, target)
    files = sorted(path for path in target.rglob("*") if path.is_file())
    victim = files[file_pick % len(files)]
    victim.write_bytes(DAMAGE[kind](victim.read_bytes(), position, mask, big))
    return f"{kind} {victim.relative_to(target)} at {position:.3f} (mask {mask}, big {big})"


@pytest.mark.parametrize("name", PREDICTORS)
def test_a_damaged_model_folder_loads_or_is_refused_in_one_line(name, saved, loaders, tmp_path_factory):
    if name not in saved:
        pytest.skip(f"{name}: its members' plugin is not installed")
    loader = loaders(name)
    price = name not in LOAD_ONLY
    assert loader.load(saved[name], price) == {"outcome": "ok"}  # the undamaged folder loads and prices
    scratch = tmp_path_factory.mktemp(f"fuzz-{name}")
    counter = iter(range(10**6))
    outcomes: list[str] = []

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(
        kind=st.sampled_from(sorted(DAMAGE)),
        file_pick=st.integers(0, 10**6),
        position=st.floats(0, 1),
        mask=st.integers(1, 255),
        big=st.sampled_from(BIG),
    )
    def damaged(kind, file_pick, position, mask, big):
        target = scratch / str(next(counter))
        what = damaged_copy(saved[name], target, kind, file_pick, position, mask, big)
        reply = loader.load(target, price)
        outcomes.append(reply["outcome"])
        assert reply["outcome"] in ("ok", "refused"), f"{name}, {what}: {reply}"
        if reply["outcome"] == "refused":
            assert "\n" not in reply["message"] and len(reply["message"]) <= 500, f"{name}, {what}: {reply}"
        shutil.rmtree(target)

    damaged()
    assert "refused" in outcomes  # the damage reached something a loader reads
