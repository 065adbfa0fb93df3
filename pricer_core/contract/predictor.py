"""The contracts every predictor and preprocessor honours.

A predictor is fitted on train/validation, predicts dollars for a list of items and saves to a
folder that loads in a fresh process. It declares what it needs in `needs`, so the bench can skip
it with a reason (no key, no GPU, no summaries) instead of failing.
"""

from __future__ import annotations

import importlib.util
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pricer_core.item import Item


class NoPrediction(Exception):
    """Raised by a per-item predictor for an item it could not price: counted, never a silent 0."""


@dataclass(frozen=True)
class Needs:
    """What must be present for a predictor to run; `missing()` says what is not."""

    summaries: bool = False
    env: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    gpu: bool = False

    def missing(self, items: list[Item] | None = None) -> str | None:
        """Reason the predictor cannot run here, or None when everything is present."""
        for variable in self.env:
            if not os.environ.get(variable):
                return f"environment variable {variable} is not set"
        for module in self.modules:
            if importlib.util.find_spec(module) is None:
                return f"Python module {module} is not installed"
        if self.gpu and not _gpu_available():
            return "needs a GPU and none is available"
        if self.summaries and items is not None and any(not item.summary for item in items):
            return "needs LLM summaries; run a summary preprocessor first"
        return None


def _gpu_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available() or torch.backends.mps.is_available())


class Predictor(ABC):
    """Base class for price predictors: subclass, set `name`, implement the four methods.

    `per_item = True` tells the evaluator to call `predict([item])` from a thread pool (network-bound
    predictors such as LLMs); otherwise it calls `predict(items)` once.
    """

    name: ClassVar[str] = ""
    needs: ClassVar[Needs] = Needs()
    per_item: ClassVar[bool] = False
    # The bench reuses a fit from its cache when settings and data match; False refits every run.
    cacheable: ClassVar[bool] = True
    # Packages besides its own (and its bases') whose code its fit runs: their source is part of the cache key.
    code_packages: ClassVar[tuple[str, ...]] = ()
    # "model": scored and blendable; "baseline": scored, never a blend's member; "blend": combines
    # others, so the bench fits it after them and offers them first (`offer_members`).
    role: ClassVar[str] = "model"
    # Why it is left out of a bench run that names no predictors (too slow for the default run, say);
    # `-p NAME` still runs it. None: part of the default set.
    opt_in: ClassVar[str | None] = None

    @classmethod
    def unavailable(cls, **settings: Any) -> str | None:
        """Why it cannot run here with these settings (beyond `needs`), e.g. no server answers; None if it can."""
        return None

    @abstractmethod
    def fit(self, train: list[Item], validation: list[Item]) -> Predictor:
        """Learn from the training items; return self."""

    @abstractmethod
    def predict(self, items: list[Item]) -> list[float]:
        """One price in dollars per item, in order."""

    @abstractmethod
    def save(self, directory: str | Path) -> None:
        """Write everything `load` needs into directory (created if missing)."""

    @classmethod
    @abstractmethod
    def load(cls, directory: str | Path) -> Predictor:
        """Rebuild a fitted predictor from a folder written by `save`."""

    def get_params(self) -> dict[str, Any]:
        """Its settings as built: each `__init__` keyword, read back from the attribute of the same name.

        So `clone` can build a twin with other settings; the kit checks that every setting is an
        explicit keyword (no `**settings`) and that the round trip holds."""
        defaults, _ = declared_settings(type(self))
        missing = [name for name in defaults if not hasattr(self, name)]
        if missing:
            raise AttributeError(f"{self.name}: store each __init__ setting as an attribute of the same name (missing: {', '.join(missing)})")
        return {name: getattr(self, name) for name in defaults}

    def config(self) -> dict[str, Any]:
        """What the bench's fit cache keys on: the settings. Override only when a setting resolves from
        the environment (an LLM's default model), so the key names what was really used."""
        if not declared_settings(type(self))[1]:
            try:
                return self.get_params()
            except AttributeError:
                pass
        # A plugin that predates explicit keywords (its **settings are not in the signature): its public attributes.
        return {key: value for key, value in vars(self).items() if not key.startswith("_")}

    def cost_usd(self) -> float:
        """Dollars spent on paid APIs so far (0 for local models)."""
        return 0.0

    def describe(self) -> dict[str, Any] | None:
        """Details for results.json (an ensemble's weights, say); None when there is nothing to add."""
        return None

    def offer_members(self, fitted: dict[str, Predictor], registry: dict[str, Any] | None = None) -> None:
        """For `role = "blend"`: the predictors the bench fitted in this run, before `fit` is called, and
        the registry (name → registration) to build any other member from."""

    def bypass_caches(self) -> None:
        """Called for `--no-cache`: answer from the source, never from a stored reply (LLM predictors override)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Plugins written before `role` and the `learn_from_validation` setting keep working, with one warning."""
        super().__init_subclass__(**kwargs)
        legacy = [name for name in ("blends", "blendable", "learns_from_validation", "without_validation") if name in vars(cls)]
        if not legacy:
            return
        import warnings

        if "role" not in vars(cls) and ("blends" in vars(cls) or "blendable" in vars(cls)):
            blends, blendable = getattr(cls, "blends", cls.role == "blend"), getattr(cls, "blendable", cls.role == "model")
            cls.role = "blend" if blends else "model" if blendable else "baseline"
        warnings.warn(
            f"{cls.__name__}: {', '.join(legacy)} will be removed; use role = 'blend' or 'baseline', and a "
            "learn_from_validation setting (docs/plugins.md)",
            FutureWarning,
            stacklevel=3,  # the class statement (ABCMeta.__new__ sits between)
        )


ROLES = ("model", "baseline", "blend")


def role_of(factory: Any) -> str:
    """A registered factory's role ("model" for a plain function that builds a predictor)."""
    role = getattr(factory, "role", "model")
    return role if role in ROLES else "model"


def learns_from_validation(predictor: Any) -> bool:
    """Whether its fit also learned the validation rows' prices: its `learn_from_validation` setting.

    Those rows then cannot judge it: the bench gives it no conformal interval, and a blend weighs
    it by `validation_free_twin` instead."""
    legacy = getattr(type(predictor), "learns_from_validation", None)
    if callable(legacy):  # a plugin written before the setting
        return bool(legacy(predictor))
    return bool(getattr(predictor, "learn_from_validation", False))


def validation_free_twin(predictor: Predictor) -> Predictor:
    """An unfitted twin with the same settings that learns from train alone."""
    legacy = getattr(type(predictor), "without_validation", None)
    if callable(legacy):  # a plugin written before the setting
        return legacy(predictor)
    if "learn_from_validation" not in declared_settings(type(predictor))[0]:
        raise NotImplementedError(f"{predictor.name}: learns from validation but has no learn_from_validation setting to turn off")
    return clone(predictor, learn_from_validation=False)


def clone(predictor: Predictor, **changes: Any) -> Predictor:
    """A new, unfitted predictor of the same class and settings, with `changes` applied (as scikit-learn's clone).

    A duck-typed predictor (no Predictor base) is read the same way, from its signature."""
    settings = predictor.get_params() if isinstance(predictor, Predictor) else Predictor.get_params(predictor)
    if "preset" in changes:  # another preset fills its own values, except where changes name them
        declared = declared_settings(type(predictor))[0]
        settings = {name: value for name, value in settings.items() if declared.get(name) is not FROM_PRESET}
    return type(predictor)(**{**settings, **changes})


def fit_checked(predictor: Predictor, train: list[Item], validation: list[Item], owner: str) -> Predictor:
    """`predictor.fit`, refusing a fit that returns anything but the predictor itself (the contract's rule)."""
    if predictor.fit(train, validation) is not predictor:
        raise TypeError(f"{owner}: fit must return self")
    return predictor


@dataclass
class ProcessReport:
    """Tokens and dollars a preprocessor spent, and items it could not process."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)


class Preprocessor(ABC):
    """Fills `summary` (or another field) on items; reports what it cost."""

    name: ClassVar[str] = ""
    needs: ClassVar[Needs] = Needs()

    @abstractmethod
    def process(self, items: list[Item]) -> list[Item]:
        """Return the items with the field filled; items it could not process come back unchanged."""

    def report(self) -> ProcessReport:
        return ProcessReport()

    def bypass_caches(self) -> None:
        """Called for `--no-cache`: ask the source, never a stored reply (LLM preprocessors override)."""


def require_training_items(train: list[Item]) -> list[float]:
    """Prices of the training items, with the errors every predictor should give on bad input."""
    if not train:
        raise ValueError("cannot fit on an empty training set")
    prices = []
    for item in train:
        if item.price is None:
            raise ValueError(f"training item {item.id}: no price")
        prices.append(item.price)
    return prices


class _FromPreset:
    """The default of a setting that a preset fills in: unlike None, which no setting may take."""

    def __repr__(self) -> str:
        return "FROM_PRESET"

    def __reduce__(self) -> str:
        return "FROM_PRESET"  # pickled and copied as the one module-level object


FROM_PRESET: Any = _FromPreset()


def check_setting_type(owner: str, key: str, value: Any, default: Any) -> None:
    """A setting must have its default's type (ints pass for floats): `alpha="notjson"` fails here, not mid-fit.

    None passes only where the default is None: `--set epochs=null` would otherwise fail mid-fit.
    A FROM_PRESET default is checked by the predictor, against its preset's value.
    """
    if default is None or default is FROM_PRESET:
        return
    if value is None:
        raise ValueError(f"{owner}: setting {key}=None must be {type(default).__name__} like its default {default!r}")
    if isinstance(default, bool) or isinstance(value, bool):
        matches = isinstance(value, bool) and isinstance(default, bool)
    elif isinstance(default, float):
        matches = isinstance(value, (int, float))
    else:
        matches = isinstance(value, type(default))
    if not matches:
        raise ValueError(f"{owner}: setting {key}={value!r} must be {type(default).__name__} like its default {default!r}")


def declared_settings(factory: Any) -> tuple[dict[str, Any], bool]:
    """(setting → default) from the `__init__` signature, as scikit-learn's get_params reads them,
    and whether it also takes **settings (a plugin that predates explicit keywords: it checks those itself)."""
    import inspect

    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return {}, True
    defaults, open_ended = {}, False
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            open_ended = True
        elif parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            defaults[parameter.name] = None if parameter.default is parameter.empty else parameter.default
    return defaults, open_ended


RENAMED_PRESETS = {"seed": "course"}  # "seed" also named the random seed, in the same signature


def current_preset(owner: str, preset: str, warn: bool = True) -> str:
    """A preset's current name. An old one still works, with one deprecation line (a FutureWarning, shown to users)."""
    new = RENAMED_PRESETS.get(preset)
    if new is None:
        return preset
    if warn:
        import warnings

        warnings.warn(f"{owner}: preset {preset!r} is now called {new!r} (the course's recipe); {preset!r} will be removed", FutureWarning, stacklevel=3)
    return new


def check_settings(owner: str, factory: Any, settings: dict[str, Any]) -> None:
    """Unknown or wrongly typed settings are one ValueError naming them, before anything runs."""
    declared, open_ended = declared_settings(factory)
    unknown = sorted(set(settings) - set(declared))
    if unknown and not open_ended:
        raise ValueError(f"{owner}: unknown setting(s) {unknown}; known: {sorted(declared)}")
    for key, value in settings.items():
        if key in declared:
            check_setting_type(owner, key, value, declared[key])
