"""The conformance kit for predictor plugins, in the spirit of scikit-learn's check_estimator.

One pytest test per (predictor, check), each named `<predictor>-<rule>`:

    from pricer_core.testing import parametrize_with_checks

    @parametrize_with_checks([MyPredictor, lambda: MyPredictor(alpha=2.0)])
    def test_contract(predictor, check):
        check(predictor)

or every rule at once: `check_predictor(MyPredictor)` raises ConformanceError naming the broken rule.
A predictor is given as its class or as a function that returns a new, unfitted one.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pricer_core.item import Item
from pricer_core.contract.checks import PredictionError, check_predictions
from pricer_core.contract.predictor import FROM_PRESET, ROLES, Needs, Predictor, clone, declared_settings, learns_from_validation, validation_free_twin

PREDICTOR_RULES = (
    "declares-name-and-needs",
    "settings-stored-as-given",
    "fit-returns-self",
    "predict-count",
    "predict-finite",
    "predict-non-negative",
    "deterministic",
    "save-load-new-process",
    "empty-train-error",
    "validation-twin",
)


class ConformanceError(AssertionError):
    """A predictor broke a rule of the contract; the message starts with the rule's name."""

    def __init__(self, rule: str, message: str):
        super().__init__(f"[{rule}] {message}")
        self.rule = rule


def tiny_data(train_size: int = 240, validation_size: int = 40, test_size: int = 16) -> tuple[list[Item], list[Item], list[Item]]:
    """Real items from the bundle, small enough for any predictor to fit in seconds."""
    from pricer_core.data.loading import load_bundle

    splits = load_bundle()
    train = splits.train[: train_size // 2] + splits.train[-(train_size - train_size // 2):]
    return train, splits.validation[:validation_size], [item.model_copy(update={"price": None}) for item in splits.test[:test_size]]


def _fit(factory: Callable[[], Predictor], train: list[Item], validation: list[Item]) -> Predictor:
    predictor = factory()
    fitted = predictor.fit(train, validation)
    if fitted is not predictor:
        raise ConformanceError("fit-returns-self", f"fit returned {type(fitted).__name__}, not self")
    return predictor


def _predictions(predictor: Predictor, items: list[Item]) -> list[float]:
    try:
        return check_predictions(predictor.predict(items), len(items), predictor.name)
    except PredictionError as error:
        raise ConformanceError(error.rule, str(error)) from None


def _same(first: list[float], second: list[float], tolerance: float = 1e-6) -> bool:
    return all(math.isclose(a, b, rel_tol=tolerance, abs_tol=1e-6) for a, b in zip(first, second))


def _load_in_new_process(directory: Path, items: list[Item], cls: type) -> list[float]:
    """The class is named by the kit's caller (code under test), never read from the folder."""
    items_path = directory / "items.jsonl"
    items_path.write_text("".join(item.model_dump_json() + "\n" for item in items))
    script = (
        "import importlib, json, sys\n"
        "from pricer_core.item import Item\n"
        "from pricer_core.storage.persistence import load_predictor\n"
        "factory = importlib.import_module(sys.argv[3])\n"
        "for part in sys.argv[4].split('.'):\n"
        "    factory = getattr(factory, part)\n"
        "predictor = load_predictor(sys.argv[1], factory)\n"
        "items = [Item.model_validate_json(line) for line in open(sys.argv[2])]\n"
        "print(json.dumps([float(p) for p in predictor.predict(items)]))\n"
    )
    command = [sys.executable, "-c", script, str(directory / "saved"), str(items_path), cls.__module__, cls.__qualname__]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConformanceError("save-load-new-process", f"loading in a new process failed: {last}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def check_predictor(
    factory: Callable[[], Predictor],
    rules: list[str] | tuple[str, ...] = PREDICTOR_RULES,
    data: tuple[list[Item], list[Item], list[Item]] | None = None,
) -> None:
    """Run the chosen rules; raise ConformanceError naming the first rule broken."""
    from pricer_core.storage.persistence import save_predictor

    unknown = set(rules) - set(PREDICTOR_RULES)
    if unknown:
        raise ValueError(f"unknown rules {sorted(unknown)}; known: {PREDICTOR_RULES}")
    train, validation, test = data or tiny_data()
    if "declares-name-and-needs" in rules:
        declared = factory if isinstance(factory, type) else type(factory())  # a function returning one: its class declares
        if not isinstance(getattr(declared, "name", None), str) or not declared.name:
            raise ConformanceError("declares-name-and-needs", "the predictor class needs a non-empty string `name`")
        if not isinstance(getattr(declared, "needs", None), Needs):
            raise ConformanceError("declares-name-and-needs", "`needs` must be a pricer_core.Needs")
        if getattr(declared, "role", "model") not in ROLES:
            raise ConformanceError("declares-name-and-needs", f"`role` must be one of {', '.join(ROLES)}, got {declared.role!r}")
    if "settings-stored-as-given" in rules:
        _check_settings_round_trip(factory())
    if "empty-train-error" in rules:
        try:
            factory().fit([], validation)
        except ValueError:
            pass
        except Exception as error:
            raise ConformanceError("empty-train-error", f"fit([]) raised {type(error).__name__}, expected ValueError") from error
        else:
            raise ConformanceError("empty-train-error", "fit([]) did not raise ValueError")
    prediction_rules = {"fit-returns-self", "predict-count", "predict-finite", "predict-non-negative", "deterministic", "save-load-new-process"}
    if "validation-twin" in rules and learns_from_validation(factory()):  # a setting, known before any fit
        _check_validation_twin(_fit(factory, train, validation), train, validation, test)
    if not prediction_rules & set(rules):
        return
    predictor = _fit(factory, train, validation)
    first = _predictions(predictor, test)
    if "deterministic" in rules:
        second = _predictions(_fit(factory, train, validation), test)
        if not _same(first, second):
            raise ConformanceError("deterministic", "two fits on the same data gave different predictions")
    if "save-load-new-process" in rules:
        with tempfile.TemporaryDirectory() as folder:
            save_predictor(predictor, Path(folder) / "saved")
            loaded = _load_in_new_process(Path(folder), test, type(predictor))
        if not _same(first, loaded, tolerance=1e-4):
            raise ConformanceError("save-load-new-process", "the loaded predictor predicts differently")


def _check_settings_round_trip(predictor: Predictor) -> None:
    """Settings are explicit `__init__` keywords, each kept under its own name: `get_params()` reads
    them back and `clone()` rebuilds the same. `**settings` would let a typo through unchecked."""
    _, open_ended = declared_settings(type(predictor))
    if open_ended:
        raise ConformanceError("settings-stored-as-given", f"{type(predictor).__name__}.__init__ takes **settings; declare each setting as a keyword")
    try:
        params = predictor.get_params()
        stored = Predictor.get_params(predictor)
        twin = clone(predictor)
        again = twin.get_params()
    except Exception as error:
        raise ConformanceError("settings-stored-as-given", f"get_params()/clone() failed: {type(error).__name__}: {error}") from None
    if params != stored:
        raise ConformanceError("settings-stored-as-given", "get_params() must be each __init__ keyword read from the attribute of the same name")
    unresolved = sorted(name for name, value in params.items() if value is FROM_PRESET)
    if unresolved:
        raise ConformanceError("settings-stored-as-given", f"store the value the preset fills, not FROM_PRESET: {', '.join(unresolved)}")
    if type(twin) is not type(predictor) or twin is predictor or again != params:
        raise ConformanceError("settings-stored-as-given", "clone() must build a new predictor of the same class whose get_params() are the same")


class Check:
    """One rule of the kit as a callable: `check(factory)` runs it; its repr is the rule's name (pytest's id)."""

    def __init__(self, rule: str, data: tuple[list[Item], list[Item], list[Item]] | None = None):
        if rule not in PREDICTOR_RULES:
            raise ValueError(f"unknown rule {rule!r}; known: {PREDICTOR_RULES}")
        self.rule, self.data = rule, data

    def __call__(self, factory: Callable[[], Predictor]) -> None:
        check_predictor(factory, rules=[self.rule], data=self.data)

    def __repr__(self) -> str:
        return self.rule


class LazyDataCheck(Check):
    """A check whose data is made when it runs, not when pytest collects it (data may need a server)."""

    def __init__(self, rule: str, make_data: Callable[[], tuple[list[Item], list[Item], list[Item]]]):
        super().__init__(rule)
        self.make_data = make_data

    def __call__(self, factory: Callable[[], Predictor]) -> None:
        check_predictor(factory, rules=[self.rule], data=self.make_data())


def applicable_rules(factory: Callable[[], Predictor]) -> list[str]:
    """The rules that test something for this predictor: the validation twin only for one that learns from validation."""
    learns = learns_from_validation(factory())
    return [rule for rule in PREDICTOR_RULES if rule != "validation-twin" or learns]


def parametrize_with_checks(
    factories: list[Callable[[], Predictor]],
    rules: list[str] | tuple[str, ...] | None = None,
    data: Callable[[], tuple[list[Item], list[Item], list[Item]]] | None = None,
):
    """A pytest parametrize mark: one test per (predictor, applicable rule), with the ids `<name>-<rule>`.

    `rules` narrows the rules (a predictor that needs a server, say, checks the ones that do not
    fit twice); `data` is a function returning (train, validation, test), called when a check runs."""
    import pytest

    cases, ids = [], []
    for factory in factories:
        name = getattr(factory, "name", None) or factory().name
        for rule in applicable_rules(factory):
            if rules is not None and rule not in rules:
                continue
            cases.append((factory, LazyDataCheck(rule, data) if data else Check(rule)))
            ids.append(f"{name}-{rule}")
    return pytest.mark.parametrize(("predictor", "check"), cases, ids=ids)


def _check_validation_twin(predictor: Predictor, train: list[Item], validation: list[Item], test: list[Item]) -> None:
    """A predictor that learns validation prices can be rebuilt with `learn_from_validation=False` and
    still price (the ensemble weighs it by that twin)."""
    try:
        twin = validation_free_twin(predictor)
    except (NotImplementedError, TypeError, ValueError) as error:
        raise ConformanceError("validation-twin", str(error)) from None
    if type(twin) is not type(predictor) or twin is predictor or learns_from_validation(twin):
        raise ConformanceError("validation-twin", "the twin must be a new predictor of the same class that does not learn from validation")
    try:
        _predictions(_fit(lambda: twin, train, validation), test)
    except ConformanceError as error:
        raise ConformanceError("validation-twin", f"the twin without validation breaks {error}") from None


def assert_clear_error(call: Callable[[], Any], *words: str) -> None:
    """Helper for plugin tests: the call raises ValueError and the message names every word."""
    try:
        call()
    except ValueError as error:
        missing = [word for word in words if word.lower() not in str(error).lower()]
        if missing:
            raise AssertionError(f"error {error!s} does not mention {missing}") from error
    else:
        raise AssertionError("expected a ValueError")
