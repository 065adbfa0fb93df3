"""`sparse-mlp`: the Mercari Price Suggestion winners' recipe, sized for ~15k rows and 2 cores.

TF-IDF of word 1–2-grams (with the row's source and category as words) and of the title's
character 2–4-grams, into one 256-unit hidden layer and two of 64, trained a few epochs with a
batch that doubles each epoch, on L1 of the standardised log price (so it predicts the median,
which is what dollar MAE rewards). Four networks with different seeds, every second one on
binarised inputs, averaged: the diversity is where the recipe's accuracy comes from.

Opt-in: four networks take minutes on 2 cores, over the default bench's budget, and as measured
here it is not yet better than xgboost (docs/experiments.md).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from pricer_core.contract.checks import check_npz_sizes, read_config_fields
from pricer_core.contract.predictor import Predictor, check_setting_type, declared_settings, require_training_items
from pricer_core.item import Item
from pricer_core.storage.atomic import atomic_file

from .config import Standardiser
from .predictor import document
from .saved_tensors import check_state_matches

WEIGHTS_FILE = "networks.pt"
FEATURES_FILE = "idf.npz"
CONFIG_FILE = "config.json"

MAX_NETWORKS = 16  # the recipe uses 4; more only multiplies time and size
POSITIVE = ("word_features", "char_features", "hidden", "epochs", "first_batch", "networks")


class _Features:
    """Hashed TF-IDF blocks; only the IDF vectors are state, so a saved model is two arrays."""

    def __init__(self, word_features: int, char_features: int):
        from sklearn.feature_extraction.text import HashingVectorizer

        common = {"alternate_sign": False, "norm": None, "lowercase": True}
        self.words = HashingVectorizer(n_features=word_features, ngram_range=(1, 2), stop_words="english", **common)
        self.chars = HashingVectorizer(n_features=char_features, analyzer="char_wb", ngram_range=(2, 4), **common)
        self.idf: list[np.ndarray] = []

    def _counts(self, items: list[Item]):
        return [self.words.transform([document(item, True) for item in items]), self.chars.transform([item.title for item in items])]

    def fit_transform(self, items: list[Item]):
        counts = self._counts(items)
        self.idf = [np.log((1 + len(items)) / (1 + np.bincount(block.indices, minlength=block.shape[1]))) + 1 for block in counts]
        return self._weigh(counts)

    def transform(self, items: list[Item]):
        return self._weigh(self._counts(items))

    def _weigh(self, counts):
        """Sublinear TF × IDF, each block scaled to unit length, side by side."""
        from scipy import sparse
        from sklearn.preprocessing import normalize

        blocks = []
        for block, idf in zip(counts, self.idf):
            block = block.astype(np.float32).tocsr()
            block.data = np.log1p(block.data)
            blocks.append(normalize(block @ sparse.diags(idf.astype(np.float32)), norm="l2"))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)


def _binarised(matrix):
    """The same rows with every present feature set to 1/sqrt(count): presence, not weight."""
    from sklearn.preprocessing import normalize

    binary = matrix.copy()
    binary.data[:] = 1.0
    return normalize(binary, norm="l2")


def _views(matrix) -> tuple:
    """(TF-IDF rows, binarised rows): even-numbered networks read the first, odd ones the second."""
    return matrix, _binarised(matrix)


def _network(inputs: int, hidden: int):
    """Sparse input → hidden → 64 → 64 → 1; the first layer is an embedding bag with sparse gradients."""
    import torch
    from torch import nn

    class SparseMlp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.EmbeddingBag(inputs, hidden, mode="sum", sparse=True)
            self.bias = nn.Parameter(torch.zeros(hidden))
            self.rest = nn.Sequential(nn.ReLU(), nn.Linear(hidden, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
            nn.init.normal_(self.first.weight, std=(2 / hidden) ** 0.5 / 4)

        def forward(self, indices, offsets, weights):
            return self.rest(self.first(indices, offsets, per_sample_weights=weights) + self.bias).squeeze(-1)

    return SparseMlp()


def _batch(matrix, rows: np.ndarray):
    import torch

    part = matrix[rows]
    return (torch.from_numpy(part.indices.astype(np.int64)), torch.from_numpy(part.indptr[:-1].astype(np.int64)), torch.from_numpy(part.data))


class SparseMlpPredictor(Predictor):
    """Four small sparse MLPs on TF-IDF words and title characters; L1 on log price; averaged."""

    name = "sparse-mlp"
    opt_in = "four networks, about two minutes on 2 cores"

    def __init__(
        self,
        *,
        word_features: int = 2**16,  # hashed word 1–2-grams (source and category tokens among them)
        char_features: int = 2**14,  # hashed character 2–4-grams of the title
        hidden: int = 256,
        epochs: int = 3,
        first_batch: int = 32,  # doubles every epoch: small steps early, averaged ones late
        lr: float = 3e-3,
        networks: int = 4,
        seed: int = 42,
    ) -> None:
        """Every setting checked here, so a wrong one (or a crafted config.json) fails before any fit or load."""
        given = {key: value for key, value in locals().items() if key in DEFAULTS}
        for key, value in given.items():
            _check_setting(key, value)
            setattr(self, key, value)
        self._features: _Features | None = None
        self._networks: list = []
        self._standardiser: Standardiser | None = None

    @property
    def settings(self) -> dict[str, Any]:
        """Every setting by name (what a folder's config.json keeps)."""
        return {key: getattr(self, key) for key in DEFAULTS}

    def fit(self, train: list[Item], validation: list[Item]) -> SparseMlpPredictor:
        import torch

        prices = np.asarray(require_training_items(train), dtype=float)
        self._standardiser = Standardiser.fit(prices)
        target = torch.from_numpy(self._standardiser.encode(prices))
        self._features = _Features(self.word_features, self.char_features)
        views = _views(self._features.fit_transform(train))
        self._networks = [self._train_one(views[number % 2], target, self.seed + number) for number in range(self.networks)]
        return self

    def _train_one(self, matrix, target, seed: int):
        import torch

        order = np.random.default_rng(seed)
        with torch.random.fork_rng(devices=[]):  # seeded initial weights, the caller's generator left as it was
            torch.manual_seed(seed)
            network = _network(matrix.shape[1], self.hidden)
        dense = [parameter for name, parameter in network.named_parameters() if not name.startswith("first.")]
        optimisers = [torch.optim.SparseAdam([network.first.weight], lr=self.lr), torch.optim.Adam(dense, lr=self.lr)]
        network.train()
        for epoch in range(self.epochs):
            size = self.first_batch * 2**epoch
            rows = order.permutation(matrix.shape[0])
            for start in range(0, rows.size, size):
                chosen = rows[start : start + size]
                loss = torch.nn.functional.l1_loss(network(*_batch(matrix, chosen)), target[chosen])
                for optimiser in optimisers:
                    optimiser.zero_grad()
                loss.backward()
                for optimiser in optimisers:
                    optimiser.step()
        network.eval()
        with torch.no_grad():  # kept at the precision it is saved in, so a loaded model predicts the same
            network.first.weight.copy_(network.first.weight.half().float())
        return network

    def predict(self, items: list[Item]) -> list[float]:
        import torch

        if not self._networks or self._features is None or self._standardiser is None:
            raise RuntimeError("sparse-mlp: predict called before fit")
        if not items:
            return []
        views = _views(self._features.transform(items))
        rows = np.arange(len(items))
        with torch.no_grad():
            outputs = [network(*_batch(views[number % 2], rows)).numpy() for number, network in enumerate(self._networks)]
        return [float(value) for value in self._standardiser.decode(np.mean(outputs, axis=0).astype(np.float64))]

    def save(self, directory: str | Path) -> None:
        import torch

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_file(directory / WEIGHTS_FILE) as handle:
            # The first layer is nearly all of the size, and already rounded to half precision after training.
            torch.save([{key: value.half() if key == "first.weight" else value for key, value in network.state_dict().items()} for network in self._networks], handle)
        with atomic_file(directory / FEATURES_FILE) as handle:
            np.savez_compressed(handle, words=self._features.idf[0], chars=self._features.idf[1])
        config = {"settings": self.settings, "standardiser": asdict(self._standardiser)}
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=1))

    @classmethod
    def load(cls, directory: str | Path) -> SparseMlpPredictor:
        """Tensors and arrays only, each checked against the settings before anything is built."""
        import torch

        directory = Path(directory)
        config = read_config_fields(directory / CONFIG_FILE, {"settings": dict, "standardiser": dict})
        unknown = set(config["settings"]) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"sparse-mlp: unknown setting(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
        predictor = cls(**config["settings"])
        predictor._standardiser = Standardiser.from_state(config["standardiser"], directory / CONFIG_FILE)
        settings = predictor.settings
        inputs = settings["word_features"] + settings["char_features"]
        check_npz_sizes(directory / FEATURES_FILE, {"words": settings["word_features"] * 8, "chars": settings["char_features"] * 8})
        states = torch.load(directory / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        if not isinstance(states, list) or len(states) != settings["networks"]:
            raise ValueError(f"the saved networks do not match the settings: networks {settings['networks']} ({directory})")
        for state in states:
            check_state_matches(lambda: _network(inputs, settings["hidden"]), state, directory / WEIGHTS_FILE)
        with np.load(directory / FEATURES_FILE, allow_pickle=False) as arrays:
            idf = [arrays["words"], arrays["chars"]]
        if idf[0].shape != (settings["word_features"],) or idf[1].shape != (settings["char_features"],):
            raise ValueError(f"the saved arrays do not match the settings ({directory / FEATURES_FILE})")
        predictor._features = _Features(settings["word_features"], settings["char_features"])
        predictor._features.idf = idf
        for state in states:
            network = _network(inputs, settings["hidden"])
            network.load_state_dict(state)
            network.eval()
            predictor._networks.append(network)
        return predictor


def _check_setting(key: str, value: Any) -> None:
    """Its default's type, and a size the recipe can run: 0 features or 1000 networks fail here, not mid-fit."""
    check_setting_type("sparse-mlp", key, value, DEFAULTS[key])
    if key in POSITIVE and value < 1:
        raise ValueError(f"sparse-mlp: setting {key} must be at least 1, got {value}")
    if key == "lr" and not value > 0:
        raise ValueError(f"sparse-mlp: setting lr must be positive, got {value}")
    if key == "networks" and value > MAX_NETWORKS:
        raise ValueError(f"sparse-mlp: setting networks is at most {MAX_NETWORKS}, got {value}")


DEFAULTS: dict[str, Any] = declared_settings(SparseMlpPredictor)[0]  # setting → default, read from the signature
