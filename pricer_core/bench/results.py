"""The bench's results as typed records: results.json, the leaderboard and the report all read these.

`BenchResults.to_json()` is exactly what results.json holds (schema 1: optional per-predictor
fields are left out when unset, NaN and infinities become null), and `BenchResults.from_json`
reads a results.json back.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


RESULTS_SCHEMA = 1
OPTIONAL_FIELDS = ("cached_fit", "coverage", "details", "interval")


class Metrics(BaseModel):
    """Dollar metrics over the items that got a prediction."""

    mae: float
    mae_ci95: list[float]
    mse: float | None = None
    rmse: float | None = None
    rmsle: float | None = None  # undefined (None) where the sample cannot give them, e.g. R² of one item
    r2: float | None = None
    hit_rate: float | None = None


class PredictorResult(BaseModel):
    """One leaderboard row: how a predictor did, or why it did not run."""

    model_config = ConfigDict(validate_assignment=True)

    name: str
    plugin: str | None = None
    status: Literal["ok", "failed", "skipped"] = "ok"
    reason: str | None = None
    metrics: Metrics | None = None
    n: int = 0
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    cost_usd: float = 0.0
    cached_fit: bool | None = None
    coverage: float | None = None
    details: dict[str, Any] | None = None
    interval: dict[str, Any] | None = None

    @property
    def scored(self) -> bool:
        return self.status == "ok" and self.metrics is not None

    def to_json(self) -> dict[str, Any]:
        content = self.model_dump(mode="json")
        for key in OPTIONAL_FIELDS:
            if content[key] is None:
                del content[key]
        return content


class PairedDifference(BaseModel):
    """MAE(a) − MAE(b) over the same items, with its paired bootstrap 95% interval."""

    a: str
    b: str
    difference: float
    ci95: list[float]
    significant: bool


class DatasetInfo(BaseModel):
    name: str
    sizes: dict[str, int]
    sample_ids_sha256: str
    train_price: dict[str, float]
    sample_price: dict[str, float]


class SourceScore(BaseModel):
    """One predictor on one held-out source (leave-one-source-out)."""

    source: str
    n: int
    mae: float | None = None
    mae_ci95: list[float] | None = None
    error: str | None = None
    errors: list[float] | None = None  # prediction − truth per held-out item, in sample order: for paired comparisons


class LosoPredictor(BaseModel):
    name: str
    mean_mae: float | None = None  # over the sources it scored on; None if it failed on any
    sources: list[SourceScore]


class LosoResults(BaseModel):
    sample_size: int
    sources: dict[str, int]  # source → held-out items scored
    predictors: list[LosoPredictor]
    paired: list[PairedDifference]  # over every held-out item of every source


class BenchResults(BaseModel):
    """Everything one bench run found, with the provenance to tell whether two runs compare."""

    schema_version: int = RESULTS_SCHEMA
    created: str
    git: str | None
    versions: dict[str, str]  # python, every library a figure can depend on, and the plugins (bench/provenance.py)
    dataset: DatasetInfo
    seed: int
    predictors: list[PredictorResult]
    paired: list[PairedDifference]
    leave_one_source_out: LosoResults | None = None  # with --loso: each training source held out in turn
    abstention_price: float | None = None  # what an item a predictor abstained on is scored at: the training median
    lock: dict[str, Any] | None = None  # constraints.txt's sha256 and the versions that differ from it; None outside a checkout

    def to_json(self) -> dict[str, Any]:
        from pricer_core.storage.atomic import strict_json

        return strict_json(
            {
                "schema": self.schema_version,
                "created": self.created,
                "git": self.git,
                "versions": self.versions,
                **({"lock": self.lock} if self.lock is not None else {}),
                "dataset": self.dataset.model_dump(mode="json"),
                "seed": self.seed,
                **({"abstention_price": self.abstention_price} if self.abstention_price is not None else {}),
                "predictors": [entry.to_json() for entry in self.predictors],
                "paired": [pair.model_dump(mode="json") for pair in self.paired],
                **({"leave_one_source_out": self.leave_one_source_out.model_dump(mode="json")} if self.leave_one_source_out else {}),
            }
        )

    @classmethod
    def from_json(cls, content: dict[str, Any]) -> BenchResults:
        return cls.model_validate({**content, "schema_version": content.get("schema", RESULTS_SCHEMA)})
