"""A fresh install prints the committed leaderboard to the cent: checked on the fast deterministic predictors.

The committed run is benchmarks/results/bench_default.json (`make bench`). Its figures were made on
the versions in constraints.txt; on other versions the last cents may move, so the test then
skips, naming them, unless PRICER_REQUIRE_LOCK=1 (CI sets it, and installs through the lock).
"""

import json
import os
from pathlib import Path

import pytest

from pricer_core.bench.provenance import library_versions, lock_report
from pricer_core.bench.runner import run_bench

COMMITTED = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "bench_default.json"
FAST = ["constant-mean", "constant-median", "random", "linear", "bow-linear"]  # ~30 s together; no threads in their sums


def test_the_fast_deterministic_predictors_print_the_committed_figures_to_the_cent(tmp_path):
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    report = lock_report(library_versions())
    if report and report["differs"] and os.environ.get("PRICER_REQUIRE_LOCK") != "1":
        pytest.skip(f"not the locked versions: {sorted(report['differs'])}")
    if report:
        assert report["differs"] == {}, "CI installs through constraints.txt"
    size = committed["dataset"]["sizes"]["sample"]
    results = run_bench(predictors=FAST, size=size, out=tmp_path / "bench", echo=lambda _: None, use_cache=False, progress=False)
    assert results["dataset"]["sample_ids_sha256"] == committed["dataset"]["sample_ids_sha256"]
    expected = {p["name"]: f"{p['metrics']['mae']:.2f}" for p in committed["predictors"] if p["name"] in FAST}
    printed = {p["name"]: f"{p['metrics']['mae']:.2f}" for p in results["predictors"]}
    assert printed == expected
