"""`ensemble`: a non-negative blend of other predictors in log-price space, weighted on validation.

Members come from two places, never from hidden state: the bench offers the predictors it fitted
in this run (`offer_members`), and any named member not offered is created from the plugin
registry and fitted here, so `pricer train ensemble --set members='["bow-linear","xgboost"]'`
works alone. Weights come from non-negative least squares of log(price + 1) on the members' log
predictions plus an intercept; a source with enough validation rows gets weights of its own. Each
set of weights then has to earn its place in dollars, the metric the bench ranks by: where a member
alone (or a convex mix of two) has a lower MAE on the rows the set was fitted on, that wins
(weighting.py), so on validation the ensemble never loses to its best member.

With `unseen_source_weights` (on by default), a source the ensemble never saw (a user's own catalogue)
gets a third set of weights, fitted on the validation rows predicted with their source hidden
from the members: members that lean on a source's own weights lose their edge there, and the
blend learns to trust the ones that travel.
Weights fitted on seen-source rows would trust exactly the members that fail on a new source.
These weights sum to one with no intercept, so a new source's price level comes from the members.
`unseen_weights_from="held-out-sources"` fits them instead on members refitted without each training
source in turn (stacking under leave-one-source-out): honest, one fit per source per member, and
measured no better on leave-one-source-out, so off by default (`held_out_sources.py`).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from pricer_core.item import Item
from pricer_core.contract.checks import is_finite_number
from pricer_core.contract.predictor import Predictor, check_settings, declared_settings, fit_checked, learns_from_validation, require_training_items, role_of, validation_free_twin
from pricer_core.errors import one_line
from pricer_core.evaluation.evaluator import predict_all
from pricer_core.predictors.held_out_sources import held_out_source_weights
from pricer_core.predictors.weighting import fit_convex_weights, fit_log_weights, log_matrix, mae, no_worse_than_best_member

UNSEEN_SOURCE = "pricer:unseen-source"  # no training file has this source: members see it as new
UNSEEN_WEIGHTS_FROM = ("hidden-source", "held-out-sources")


def _checked_weights(pair: Any, members: dict[str, float] | None, where: str) -> tuple[dict[str, float], float]:
    """A saved [weights, intercept] pair, checked: finite numbers, and the same members as the global weights.

    A crafted weights.json gets one line naming the field, never a KeyError or NaN prices later.
    """
    if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], dict):
        raise ValueError(f"{where}: expected [{{member: weight}}, intercept]")
    weights, intercept = pair
    numbers = [*weights.values(), intercept]
    if not all(is_finite_number(value) for value in numbers):
        raise ValueError(f"{where}: every weight and the intercept must be a finite number")
    if members is not None and set(weights) != set(members):
        raise ValueError(f"{where}: members {sorted(weights)} differ from the ensemble's {sorted(members)}")
    return {str(name): float(value) for name, value in weights.items()}, float(intercept)


def _unseen(item: Item) -> Item:
    return item.model_copy(update={"source": UNSEEN_SOURCE})


class Ensemble(Predictor):
    """Blend of fitted members; weights fitted on validation, non-negative, in log space."""

    name = "ensemble"
    role = "blend"
    cacheable = False  # fitting is only the weights; the offered members may change between runs

    def __init__(
        self,
        members: list[str] | None = None,
        max_members: int = 2,
        max_validation: int = 400,
        min_source_rows: int = 100,
        member_settings: dict[str, dict[str, Any]] | None = None,
        unseen_source_weights: bool = True,
        unseen_weights_from: str = "hidden-source",
        held_out_rows: int = 200,
    ):
        if max_members < 2:
            raise ValueError(f"ensemble: max_members must be at least 2, got {max_members}")
        if members is not None and (not isinstance(members, list) or not all(isinstance(name, str) for name in members)):
            raise ValueError(f"ensemble: members must be a list of predictor names, got {members!r}")
        if member_settings is not None and not (isinstance(member_settings, dict) and all(isinstance(name, str) and isinstance(given, dict) for name, given in member_settings.items())):
            raise ValueError(f"ensemble: member_settings must map member names to settings objects, got {member_settings!r}")
        if unseen_weights_from not in UNSEEN_WEIGHTS_FROM:
            raise ValueError(f"ensemble: unseen_weights_from must be one of {', '.join(UNSEEN_WEIGHTS_FROM)}, got {unseen_weights_from!r}")
        if isinstance(held_out_rows, bool) or not isinstance(held_out_rows, int) or held_out_rows < 1:
            raise ValueError(f"ensemble: held_out_rows must be a positive integer, got {held_out_rows!r}")
        self.members = list(members) if members else None
        self.max_members = max_members
        self.max_validation = max_validation
        self.min_source_rows = min_source_rows
        self.member_settings = dict(member_settings or {})
        # On by default: a user's own catalogue is a source never seen (docs/experiments.md).
        self.unseen_source_weights = unseen_source_weights
        # "held-out-sources": members refitted once per training source with that source held out,
        # and the unseen-source weights fitted on what they priced there (honest, one fit per source).
        self.unseen_weights_from = unseen_weights_from
        self.held_out_rows = held_out_rows
        self.held_out_scores: dict[str, dict[str, float]] = {}
        self.source_weights: dict[str, tuple[dict[str, float], float]] = {}
        self._offered: dict[str, Predictor] = {}
        self._registry: dict[str, Any] | None = None  # name → registration; collected once when none is given
        self._predictors: dict[str, Predictor] = {}
        self.weights: dict[str, float] = {}
        self.intercept = 0.0
        self.unseen_weights: tuple[dict[str, float], float] | None = None
        self.unseen_source_note: str | None = None  # why there are no unseen-source weights, when a member failed
        self.known_sources: list[str] = []
        self.validation_scores: dict[str, float] = {}
        self.failed_items = 0
        self.judged_by_twin: list[str] = []  # members that learned validation prices, weighed by a twin that did not
        self.weights_chosen: dict[str, str] = {}  # per weight set: the fitted blend, a convex mix or one member alone

    @property
    def learn_from_validation(self) -> bool:
        """Its weights come from twins, but it prices with the members: one that learned validation
        prices makes validation residuals too small for an interval."""
        return any(learns_from_validation(member) for member in self._predictors.values())

    def offer_members(self, fitted: dict[str, Predictor], registry: dict[str, Any] | None = None) -> None:
        """The bench hands over what it fitted in this run (only blendable predictors are kept) and the
        registry it runs on, which builds any member it did not fit (and every held-out-source refit)."""
        self._offered = {name: predictor for name, predictor in fitted.items() if role_of(predictor) == "model"}
        if registry is not None:
            self._registry = dict(registry)

    def _member_registry(self) -> dict[str, Any]:
        """The registry given, else the installed plugins, collected once (not once per member and source)."""
        if self._registry is None:
            from pricer_core.plugins.registry import collect

            self._registry = dict(collect().predictors)
        return self._registry

    def _chosen_members(self, train: list[Item], validation: list[Item]) -> dict[str, Predictor]:
        """Named members (offered, else fitted here), or every offered batch predictor."""
        if not self.members:
            # Per-item (LLM) members only when named: every call costs time or money.
            return {name: p for name, p in self._offered.items() if not getattr(p, "per_item", False)}
        chosen = {}
        for name in self.members:
            chosen[name] = self._offered[name] if name in self._offered else self._fit_member(name, train, validation)
        return chosen

    def _fit_member(self, name: str, train: list[Item], validation: list[Item]) -> Predictor:
        registry = self._member_registry()
        if name not in registry:
            raise ValueError(f"ensemble: member {name!r} is not a registered predictor; available: {', '.join(registry)}")
        if role_of(registry[name].factory) != "model":
            raise ValueError(f"ensemble: {name!r} cannot be a member of a blend")
        return fit_checked(registry[name].create(**self.member_settings.get(name, {})), train, validation, f"ensemble: member {name}")

    def describe(self) -> dict[str, Any]:
        """What results.json shows: the weights and each member's validation MAE beside the blend's."""
        return {
            "weights": self.weights,
            "intercept": self.intercept,
            "source_weights": self.source_weights,
            "unseen_weights": self.unseen_weights,
            "unseen_source_note": self.unseen_source_note,
            "validation_mae": self.validation_scores,
            "held_out_source_mae": self.held_out_scores,
            "validation_items_without_prediction": self.failed_items,
            "judged_by_twin_without_validation": self.judged_by_twin,
            "weights_chosen_in_dollars": self.weights_chosen,
        }

    def fit(self, train: list[Item], validation: list[Item]) -> Ensemble:
        import numpy as np

        require_training_items(train)
        scored = [item for item in validation if item.price is not None]
        if not scored:
            raise ValueError("ensemble: weights are fitted on validation, and it is empty")
        pool = self._chosen_members(train, validation)
        if len(pool) < 2:
            raise ValueError(f"ensemble: needs at least two fitted members, have {sorted(pool)}")
        self.per_item = any(getattr(member, "per_item", False) for member in pool.values())
        if self.per_item:
            scored = scored[: self.max_validation]  # each LLM call costs time or money
        scored, predictions, hidden_predictions = self._validation_columns(pool, train, validation, scored)
        prices = np.asarray([item.price for item in scored])
        self.validation_scores = {name: mae(values, prices) for name, values in predictions.items()}
        unseen_scores = {name: mae(values, prices) for name, values in hidden_predictions.items()}
        known_members = chosen = list(pool)
        if not self.members and len(chosen) > self.max_members:
            # The best members where the source is known, and the best where it is not.
            known_members = sorted(chosen, key=self.validation_scores.get)[: self.max_members]
            best_unseen = sorted(unseen_scores, key=unseen_scores.get)[: self.max_members]
            chosen = known_members + [name for name in best_unseen if name not in known_members]
        self._predictors = {name: pool[name] for name in chosen}
        self._offered = {}  # the rest of the run's models are not kept alive by the ensemble
        self.known_sources = sorted({item.source or "" for item in train})
        self._fit_weights(known_members, chosen, predictions, prices, [item.source or "" for item in scored], unseen_scores, hidden_predictions, train, validation)
        return self

    def _validation_columns(self, pool: dict[str, Predictor], train: list[Item], validation: list[Item], scored: list[Item]):
        """The validation rows every member priced, with each member's prices for them, as they are and
        with the source hidden. An item a member could not price is counted and left out, never fatal."""
        blind = [item.model_copy(update={"price": None}) for item in scored]
        judges = self._judges(pool, train, validation)
        columns = {name: predict_all(judges[name], blind)[0] for name in pool}
        # The same rows with the source hidden: what members do on a catalogue they never saw.
        # Per-item (LLM) members would pay for every call twice; there the global weights serve.
        hidden = {} if self.per_item or not self.unseen_source_weights else self._hidden_source_columns(judges, blind)
        usable = [
            row for row in range(len(scored))
            if all(columns[name][row] is not None and (not hidden or hidden[name][row] is not None) for name in pool)
        ]
        self.failed_items = len(scored) - len(usable)
        if not usable:
            raise ValueError("ensemble: no validation item got a price from every member")
        predictions = {name: [columns[name][row] for row in usable] for name in pool}
        hidden_predictions = {name: [hidden[name][row] for row in usable] for name in hidden}
        return [scored[row] for row in usable], predictions, hidden_predictions

    def _fit_weights(self, known_members, chosen, predictions, prices, sources: list[str], unseen_scores, hidden_predictions, train, validation) -> None:
        """Global weights, unseen-source weights and each large source's own; each set must beat its
        best member in dollars. Then the blend's own validation scores.

        Known sources blend the known members only, in the same order: a member chosen for new
        sources alone never enters their sums, so their prices are exactly those without the option."""
        import numpy as np

        truth = np.log1p(prices)
        logs = {name: log_matrix([predictions[name]])[:, 0] for name in chosen}
        known = np.column_stack([logs[name] for name in known_members])
        known_logs = {name: logs[name] for name in known_members}
        self.weights_chosen = {}
        (self.weights, self.intercept), self.weights_chosen["global"] = no_worse_than_best_member(
            fit_log_weights(known, truth, known_members), known_logs, prices
        )
        self.unseen_weights = None
        if hidden_predictions:
            self._fit_unseen_weights(chosen, hidden_predictions, unseen_scores, prices, train, validation)
        # Sources with enough validation rows get weights of their own: members are not equally good everywhere.
        by_source = np.asarray(sources)
        self.source_weights = {}
        for source in sorted(set(sources)):
            rows = by_source == source
            if rows.sum() >= self.min_source_rows:
                self.source_weights[source], self.weights_chosen[source] = no_worse_than_best_member(
                    fit_log_weights(known[rows], truth[rows], known_members), {name: column[rows] for name, column in known_logs.items()}, prices[rows]
                )
        blended = self._blend(logs, sources)
        self.validation_scores["ensemble"] = mae(np.expm1(blended), prices)
        self.validation_rmsle = {"ensemble": float(np.sqrt(np.mean((blended - truth) ** 2)))}
        for name in chosen:
            self.validation_rmsle[name] = float(np.sqrt(np.mean((logs[name] - truth) ** 2)))

    def _fit_unseen_weights(self, chosen, hidden_predictions, unseen_scores, prices, train: list[Item], validation: list[Item]) -> None:
        """Convex weights for a source never seen, from the rows priced with their source hidden (or
        from held-out-source refits, with `unseen_weights_from="held-out-sources"`)."""
        import numpy as np

        hidden_matrix = log_matrix([hidden_predictions[name] for name in chosen])
        hidden_logs = {name: hidden_matrix[:, column] for column, name in enumerate(chosen)}
        self.unseen_weights, self.weights_chosen["unseen source"] = no_worse_than_best_member(
            fit_convex_weights(hidden_matrix, np.log1p(prices), chosen), hidden_logs, prices
        )
        unseen_blend = hidden_matrix @ [self.unseen_weights[0][name] for name in chosen] + self.unseen_weights[1]
        for name in chosen:
            self.validation_scores[f"{name} (source hidden)"] = unseen_scores[name]
        self.validation_scores["ensemble (source hidden)"] = mae(np.expm1(unseen_blend), prices)
        if self.unseen_weights_from == "held-out-sources":
            self.unseen_weights = self._held_out_source_weights(chosen, train, validation) or self.unseen_weights

    def _judges(self, pool: dict[str, Predictor], train: list[Item], validation: list[Item]) -> dict[str, Predictor]:
        """Who prices the validation rows for the weights: each member, or, for a member that learned
        those rows' prices, its twin fitted on train alone (weights from held-out rows, applied to the
        member fitted on more rows: stacking's usual refit)."""
        judges = {}
        self.judged_by_twin = []
        for name, member in pool.items():
            if learns_from_validation(member):
                judges[name] = fit_checked(validation_free_twin(member), train, validation, f"ensemble: member {name}")
                self.judged_by_twin.append(name)
            else:
                judges[name] = member
        return judges

    def _hidden_source_columns(self, pool: dict[str, Predictor], blind: list[Item]) -> dict[str, list[float | None]]:
        """Every member's prices for the validation rows with their source hidden, or none at all.

        A member that cannot price a source it never saw leaves the ensemble without unseen-source
        weights (new sources then get the global ones), never without a fit.
        """
        from pricer_core.contract.checks import PredictionError
        from pricer_core.evaluation.evaluator import predict_all

        hidden = [_unseen(item) for item in blind]
        try:
            return {name: predict_all(member, hidden)[0] for name, member in pool.items()}
        except (PredictionError, ValueError, RuntimeError) as error:
            self.unseen_source_note = f"no unseen-source weights: {one_line(error, 160)}"
            return {}

    def _held_out_source_weights(self, names: list[str], train: list[Item], validation: list[Item]) -> tuple[dict[str, float], float] | None:
        """Unseen-source weights from members refitted without each source (`held_out_sources.py`);
        None keeps the hidden-source ones, with the reason in unseen_source_note."""
        import numpy as np

        outcome = held_out_source_weights(names, train, validation, self._fit_member, self.held_out_rows, self.min_source_rows)
        self.held_out_scores = outcome.scores
        if outcome.weights is None:
            self.unseen_source_note = outcome.note
            return None
        self.weights_chosen["unseen source"] = outcome.chosen
        for name in [*names, "ensemble"]:
            self.validation_scores[f"{name} (held-out sources)"] = float(np.mean([scores[name] for scores in outcome.scores.values()]))
        return outcome.weights

    def _weights_for(self, source: str) -> tuple[dict[str, float], float]:
        """Its own weights for a source with enough rows, the unseen-source ones for a new source, else global."""
        if source in self.source_weights:
            return self.source_weights[source]
        if self.unseen_weights is not None and source not in self.known_sources:
            return self.unseen_weights
        return self.weights, self.intercept

    def _blend(self, logs: dict[str, Any], sources: list[str]):
        """Each source's weights over the log columns of exactly its own members, in their order."""
        import numpy as np

        blended = np.empty(len(sources))
        groups: dict[str, list[int]] = {}
        for row, source in enumerate(sources):
            groups.setdefault(source, []).append(row)
        for source, rows in groups.items():
            weights, intercept = self._weights_for(source)
            used = [name for name, weight in weights.items() if weight != 0]  # a member weighed 0 is not asked
            matrix = np.column_stack([logs[name][rows] for name in used]) if used else np.zeros((len(rows), 0))
            blended[rows] = matrix @ np.asarray([weights[name] for name in used]) + intercept
        return blended

    def predict(self, items: list[Item]) -> list[float]:
        """Per-item members may raise NoPrediction for an item: with per_item set, the evaluator counts it.

        Only the members some item's weights use are asked: a member kept for new sources is not
        run (nor can it fail) for a batch whose sources are all known.
        """
        if not self._predictors:
            raise RuntimeError("ensemble: predict called before fit")
        sources = [item.source or "" for item in items]
        needed = dict.fromkeys(name for source in set(sources) for name, weight in self._weights_for(source)[0].items() if weight != 0)
        logs = {name: log_matrix([self._predictors[name].predict(items)])[:, 0] for name in self._predictors if name in needed}
        return [max(0.0, math.expm1(value)) for value in self._blend(logs, sources)]

    def save(self, directory: str | Path) -> None:
        from pricer_core.storage.persistence import save_predictor

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, predictor in self._predictors.items():
            save_predictor(predictor, directory / "members" / name)
        state = {
            "member_names": list(self._predictors),
            "weights": self.weights,
            "intercept": self.intercept,
            "source_weights": self.source_weights,
            "unseen_weights": self.unseen_weights,
            "known_sources": self.known_sources,
            "validation_scores": self.validation_scores,
            "judged_by_twin": self.judged_by_twin,
            "weights_chosen": self.weights_chosen,
            "per_item": bool(getattr(self, "per_item", False)),
            **self.get_params(),
        }
        (directory / "weights.json").write_text(json.dumps(state, indent=1))

    @classmethod
    def load(cls, directory: str | Path) -> Ensemble:
        """weights.json is data: every field is checked, and a crafted one is one line naming it."""
        where = Path(directory) / "weights.json"
        state = json.loads(where.read_text())
        if not isinstance(state, dict):
            raise ValueError(f"{where}: expected a JSON object")
        try:
            return cls._from_state(Path(directory), state, where)
        except KeyError as error:
            raise ValueError(f"{where}: field {error} is missing") from None

    @classmethod
    def _from_state(cls, directory: Path, state: dict[str, Any], where: Path) -> Ensemble:
        from pricer_core.storage.persistence import load_predictor

        for name in ("members", "max_members", "max_validation", "min_source_rows"):  # saved by every version
            if name not in state:
                raise KeyError(name)
        # A setting newer than the folder takes its default, except unseen-source weights, which such folders lack.
        settings = {"unseen_source_weights": False, **{name: state[name] for name in declared_settings(cls)[0] if name in state}}
        check_settings(f"{where}: ensemble", cls, settings)
        ensemble = cls(**settings)
        ensemble.weights, ensemble.intercept = _checked_weights([state["weights"], state["intercept"]], None, f"{where}: weights")
        names = state.get("member_names", list(ensemble.weights))  # folders saved before it: the weights' members
        for name in [*ensemble.weights, *(names if isinstance(names, list) else [])]:
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) or ".." in name:
                raise ValueError(f"{where}: member {name!r} is not a predictor name")
        if not isinstance(names, list) or len(ensemble.weights) < 2 or not set(ensemble.weights) <= set(names):
            raise ValueError(f"{where}: weights must name at least two members, all of them in member_names")
        ensemble.validation_scores = state["validation_scores"]
        if not isinstance(state["source_weights"], dict):
            raise ValueError(f"{where}: source_weights must be an object of source → [weights, intercept]")
        ensemble.source_weights = {
            str(source): _checked_weights(pair, ensemble.weights, f"{where}: source_weights[{source!r}]") for source, pair in state["source_weights"].items()
        }
        ensemble.per_item = bool(state.get("per_item", False))
        unseen = state.get("unseen_weights")  # absent in folders saved before unseen-source weights
        ensemble.unseen_weights = _checked_weights(unseen, dict.fromkeys(names), f"{where}: unseen_weights") if unseen else None
        known = state.get("known_sources", [])
        if not isinstance(known, list) or not all(isinstance(source, str) for source in known):
            raise ValueError(f"{where}: known_sources must be a list of source names")
        ensemble.known_sources = known
        judged = state.get("judged_by_twin", [])  # absent in folders saved before twins
        if not (isinstance(judged, list) and all(isinstance(name, str) for name in judged) and set(judged) <= set(names)):
            raise ValueError(f"{where}: judged_by_twin must be a list of member names")
        ensemble.judged_by_twin = judged
        chosen = state.get("weights_chosen", {})  # absent in folders saved before the dollar check
        if not (isinstance(chosen, dict) and all(isinstance(key, str) and isinstance(value, str) for key, value in chosen.items())):
            raise ValueError(f"{where}: weights_chosen must be an object of weight set → what was chosen")
        ensemble.weights_chosen = chosen
        ensemble._predictors = {}
        for name in names:
            member = load_predictor(directory / "members" / name)
            if member.name != name:
                raise ValueError(f"{directory}: member folder {name} holds {member.name}")
            ensemble._predictors[name] = member
        return ensemble
