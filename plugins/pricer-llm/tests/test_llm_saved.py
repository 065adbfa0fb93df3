"""Saved folders hold data, never a server or a path: a shared folder cannot send keys or texts anywhere."""

import dataclasses
import json
import pathlib

import numpy as np
import pytest

from pricer_core.item import Item
from pricer_llm.client import DEFAULT_LOCAL_API_BASE
from pricer_llm.predictors import KnnEmbed, LLMPredictor, LLMRag

from chat_standin import ChatStandIn

SECRETS = {"GROQ_API_KEY": "gsk-test-secret-groq", "OPENAI_API_KEY": "sk-test-secret-openai"}
ITEM = Item(id="drill", title="Cordless drill 20V", category="Tools")
NEW_CONFIG = {"model": "openai/smollm2", "own_server": True, "structured": True, "max_tokens": 40, "temperature": 0.0, "reasoning_effort": None}


@pytest.fixture
def keys(monkeypatch, tmp_path):
    """Real-looking keys in the environment, no server named by it, no stray .env or cache."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    for name in ("PRICER_LLM_API_BASE", "PRICER_LLM_MODEL", "OPENAI_API_BASE", "OPENAI_BASE_URL", "GROQ_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRICER_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return SECRETS


def _leaks(requests: list[dict]) -> bool:
    return any(secret in json.dumps(request) for request in requests for secret in SECRETS.values())


def _write_folder(folder: pathlib.Path, config: dict) -> pathlib.Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("kind", [LLMPredictor, LLMRag])
def test_an_old_folder_naming_a_server_is_refused_and_the_server_hears_nothing(keys, tmp_path, kind):
    with ChatStandIn() as capture:
        config = {"model": "openai/smollm2", "api_base": capture.base_url, "structured": True, "max_tokens": 40}
        if kind is LLMRag:
            config["k"] = 5
        folder = _write_folder(tmp_path / "shared", config)
        with pytest.raises(ValueError) as refused:
            kind.load(folder)
        message = str(refused.value)
        assert message.startswith(f"{folder / 'config.json'}: key 'api_base' refused") and "\n" not in message
        assert capture.requests == []


@pytest.mark.parametrize(
    "change, key",
    [
        ({"api_base": "CAPTURE"}, "api_base"),
        ({"base_url": "CAPTURE"}, "base_url"),
        ({"cache_path": "OUTSIDE"}, "cache_path"),
        ({"headers": {"x": "y"}}, "headers"),
        ({"model": "openai/CAPTURE"}, "model"),
        ({"model": "openai/../../v1"}, "model"),
        ({"model": "openai/smollm2 --api-base x"}, "model"),
        ({"max_tokens": "40"}, "max_tokens"),
        ({"reasoning_effort": "maximum"}, "reasoning_effort"),
    ],
)
def test_a_new_folder_with_anything_but_model_and_sampling_is_refused(keys, tmp_path, change, key):
    outside = tmp_path / "outside" / "replies.sqlite"
    with ChatStandIn() as capture:
        replaced = {name: value.replace("CAPTURE", capture.base_url).replace("OUTSIDE", str(outside)) if isinstance(value, str) else value for name, value in change.items()}
        folder = _write_folder(tmp_path / "shared", {**NEW_CONFIG, **replaced})
        with pytest.raises(ValueError) as refused:
            LLMPredictor.load(folder)
        assert str(refused.value).startswith(f"{folder / 'config.json'}: ") and repr(key) in str(refused.value)
        assert capture.requests == [] and not outside.parent.exists()


def test_a_missing_key_or_a_non_object_is_refused(keys, tmp_path):
    folder = _write_folder(tmp_path / "a", {key: value for key, value in NEW_CONFIG.items() if key != "own_server"})
    with pytest.raises(ValueError, match="'own_server' is missing"):
        LLMPredictor.load(folder)
    (folder / "config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        LLMPredictor.load(folder)


def test_a_saved_folder_holds_no_server_and_a_load_asks_only_the_server_of_this_run(keys, tmp_path, monkeypatch):
    with ChatStandIn(price=42.0) as capture, ChatStandIn(price=7.0) as chosen:
        predictor = LLMPredictor(api_base=capture.base_url, cache_path=str(tmp_path / "mine.sqlite"))
        assert predictor.predict([ITEM]) == [42.0]
        assert len(capture.requests) == 1 and capture.requests[0]["headers"]["authorization"] == "Bearer local"
        assert not _leaks(capture.requests)  # a loopback server never gets a real key
        predictor.save(tmp_path / "model")
        text = (tmp_path / "model" / "config.json").read_text()
        assert json.loads(text) == NEW_CONFIG
        assert "127.0.0.1" not in text and "mine.sqlite" not in text

        loaded = LLMPredictor.load(tmp_path / "model")  # nothing in this run names a server
        assert loaded.config()["api_base"] == DEFAULT_LOCAL_API_BASE and loaded.structured
        loaded._client.settings = dataclasses.replace(loaded._settings, retries=0, timeout=5)
        try:
            loaded.predict([ITEM])
        except Exception:
            pass  # nobody listens on the default local port here; what matters is who was not asked
        assert len(capture.requests) == 1

        monkeypatch.setenv("PRICER_LLM_API_BASE", chosen.base_url)
        assert LLMPredictor.load(tmp_path / "model").predict([ITEM]) == [7.0]
        monkeypatch.delenv("PRICER_LLM_API_BASE")
        by_argument = LLMPredictor.load(tmp_path / "model", api_base=chosen.base_url)
        assert by_argument.predict([ITEM]) == [7.0] and by_argument._client.usage.cached == 1  # same server, same request
        assert len(capture.requests) == 1 and len(chosen.requests) == 1 and not _leaks(chosen.requests)


def test_a_provider_model_saves_and_loads_with_no_server_at_all(keys, tmp_path):
    predictor = LLMPredictor()  # GROQ_API_KEY set, nothing else: Groq's default model at Groq's own host
    predictor.save(tmp_path / "model")
    assert json.loads((tmp_path / "model" / "config.json").read_text()) == {**NEW_CONFIG, "model": "groq/openai/gpt-oss-20b", "own_server": False, "structured": False, "reasoning_effort": "low"}
    loaded = LLMPredictor.load(tmp_path / "model")
    assert loaded.config() == predictor.config() and loaded.config()["api_base"] is None


def test_llm_rag_saves_settings_and_neighbours_only(keys, tmp_path, monkeypatch):
    with ChatStandIn() as capture:
        rag = LLMRag(k=2, api_base=capture.base_url, cache_path=str(tmp_path / "mine.sqlite"), max_tokens=30)
        assert not rag.cacheable  # the bench must not reuse a fit whose server a folder cannot carry
        rag._knn._vectors, rag._knn._prices, rag._knn._texts = np.eye(3, dtype=np.float32), np.array([1.0, 2.0, 3.0]), ["a", "b", "c"]
        rag.save(tmp_path / "model")
        assert json.loads((tmp_path / "model" / "config.json").read_text()) == {**NEW_CONFIG, "max_tokens": 30, "k": 2}
        assert sorted(path.name for path in (tmp_path / "model").rglob("*")) == ["config.json", "config.json", "knn", "neighbours.npz"]
        monkeypatch.setenv("PRICER_LLM_API_BASE", "http://127.0.0.1:9/v1")
        loaded = LLMRag.load(tmp_path / "model")
        assert loaded.config()["api_base"] == "http://127.0.0.1:9/v1" and loaded.k == 2
        assert loaded._knn._texts == ["a", "b", "c"] and loaded._knn._prices.tolist() == [1.0, 2.0, 3.0]
        assert capture.requests == []


class _RunsOnLoad:
    """Unpickling this would create a file: proof that a pickle ran."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_knn_folder_holding_a_pickle_is_refused_without_running_it(tmp_path):
    folder = _write_folder(tmp_path / "knn", {"k": 1, "texts": ["a"]})
    marker = tmp_path / "pickle-ran"
    np.savez(folder / "neighbours.npz", vectors=np.array([_RunsOnLoad(marker)], dtype=object), prices=np.array([1.0]))
    with pytest.raises(ValueError) as refused:
        KnnEmbed.load(folder)
    assert str(refused.value).startswith(str(folder / "neighbours.npz")) and "allow_pickle" in str(refused.value)
    assert not marker.exists()


def test_knn_folder_round_trip_and_mismatched_counts(tmp_path):
    knn = KnnEmbed(k=2)
    knn._vectors, knn._prices, knn._texts = np.eye(2, dtype=np.float32), np.array([5.0, 9.0]), ["x", "y"]
    knn.save(tmp_path / "knn")
    loaded = KnnEmbed.load(tmp_path / "knn")
    assert loaded.k == 2 and loaded._texts == ["x", "y"] and loaded._prices.tolist() == [5.0, 9.0] and loaded._vectors.tolist() == [[1, 0], [0, 1]]
    (tmp_path / "knn" / "config.json").write_text(json.dumps({"k": 2, "texts": ["x"]}))
    with pytest.raises(ValueError, match="2 vectors, 2 prices and 1 texts"):
        KnnEmbed.load(tmp_path / "knn")
    (tmp_path / "knn" / "config.json").write_text(json.dumps({"k": 2, "texts": ["x", "y"], "loader": "pickle"}))
    with pytest.raises(ValueError, match="unknown key 'loader'"):
        KnnEmbed.load(tmp_path / "knn")
