"""The same jobs on a real Dask LocalCluster of two workers give the same leaderboard as the local pool."""

import pytest

from pricer_core.bench.runner import run_bench

PREDICTORS = ["constant-mean", "constant-median", "linear"]


def board(results: dict) -> dict[str, tuple]:
    return {entry["name"]: (entry["status"], entry.get("metrics")) for entry in results["predictors"]}


def test_a_dask_local_cluster_gives_the_local_pools_leaderboard(tmp_path):
    distributed = pytest.importorskip("distributed")
    local = run_bench(predictors=PREDICTORS, size=30, out=tmp_path / "local", echo=lambda _: None, jobs=2)
    messages: list[str] = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        clustered = run_bench(
            predictors=PREDICTORS, size=30, out=tmp_path / "cluster", echo=messages.append, scheduler=cluster.scheduler_address
        )
    assert board(clustered) == board(local) and all(status == "ok" for status, _ in board(local).values())
    assert local["paired"] == clustered["paired"]
    assert any("reusing cached fit" in message for message in messages)  # the workers share the fit cache


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler"):
        run_bench(predictors=["constant-mean"], size=5, out=tmp_path / "o", echo=lambda _: None, scheduler="tcp://127.0.0.1:9")
