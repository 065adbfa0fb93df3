import json

import pytest

from pricer_core.plugins import registry as plugins
from pricer_core.predictors.baselines import ConstantMean
from pricer_core.bench.runner import run_bench
from pricer_core.plugins.hookspecs import HOOK_SIGNATURES, hookimpl


class RaisesInFit(ConstantMean):
    name = "broken-fit"

    def fit(self, train, validation):
        raise RuntimeError("boom in fit")


class ReturnsNaN(ConstantMean):
    name = "broken-nan"

    def predict(self, items):
        return [float("nan")] * len(items)


class WrongCount(ConstantMean):
    name = "broken-count"

    def predict(self, items):
        return [1.0]


class BrokenPlugin:
    @hookimpl
    def register_predictors(self, register):
        register(RaisesInFit)
        register(ReturnsNaN)
        register(WrongCount)


class RaisingPlugin:
    @hookimpl
    def register_predictors(self, register):
        raise RuntimeError("cannot register")


@pytest.fixture
def broken_plugins():
    plugins.pm.register(BrokenPlugin(), name="broken")
    plugins.pm.register(RaisingPlugin(), name="raising")
    yield
    plugins.pm.unregister(name="broken")
    plugins.pm.unregister(name="raising")


def test_core_baselines_register_through_the_hook():
    plugin_set = plugins.collect()
    core = next(record for record in plugin_set.plugins if record.name == plugins.CORE_PLUGIN)
    assert core.predictors == ["constant-mean", "constant-median", "random", "ensemble"]
    assert core.hooks == ["register_predictors"]


def test_a_plugin_raising_in_its_hook_is_reported_and_others_load(broken_plugins, monkeypatch):
    monkeypatch.delenv("PRICER_PLUGINS_STRICT", raising=False)
    plugin_set = plugins.collect()
    raising = next(record for record in plugin_set.plugins if record.name == "raising")
    assert "cannot register" in raising.error
    assert {"constant-mean", "broken-fit", "broken-nan", "broken-count"} <= set(plugin_set.predictors)


def test_strict_mode_turns_plugin_errors_into_failures(broken_plugins, monkeypatch):
    monkeypatch.setenv("PRICER_PLUGINS_STRICT", "1")
    with pytest.raises(plugins.PluginError, match="raising"):
        plugins.collect()


def test_bench_marks_broken_predictors_failed_and_finishes(broken_plugins, tmp_path, monkeypatch):
    monkeypatch.delenv("PRICER_PLUGINS_STRICT", raising=False)
    results = run_bench(
        predictors=["constant-mean", "broken-fit", "broken-nan", "broken-count"], size=20, out=tmp_path, echo=lambda _: None
    )
    status = {entry["name"]: (entry["status"], entry["reason"]) for entry in results["predictors"]}
    assert status["constant-mean"] == ("ok", None)
    assert status["broken-fit"] == ("failed", "RuntimeError: boom in fit")
    assert status["broken-nan"][0] == "failed" and "not finite" in status["broken-nan"][1]
    assert status["broken-count"][0] == "failed" and "1 prices for 20 items" in status["broken-count"][1]
    assert json.loads((tmp_path / "results.json").read_text())["predictors"][0]["status"] == "ok"


def test_plugin_failing_at_import_is_reported(monkeypatch):
    from importlib import metadata

    class FakeDist:
        name = "pricer-broken-import"
        version = "0.0.1"

    entry_point = metadata.EntryPoint(name="broken-import", value="pricer_no_such_module_xyz", group="pricer")._for(FakeDist())
    real_entry_points = metadata.entry_points

    def fake_entry_points(group=None, **kwargs):
        found = list(real_entry_points(group=group, **kwargs))
        return found + [entry_point] if group == plugins.ENTRY_POINT_GROUP else found

    monkeypatch.setattr(plugins.metadata, "entry_points", fake_entry_points)
    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    monkeypatch.setattr(plugins, "_entry_point_records", {})
    monkeypatch.delenv("PRICER_PLUGINS_STRICT", raising=False)
    plugin_set = plugins.collect()
    record = next(record for record in plugin_set.plugins if record.name == "broken-import")
    assert record.error.startswith("failed to load: ModuleNotFoundError")
    assert "constant-mean" in plugin_set.predictors
    monkeypatch.setenv("PRICER_PLUGINS_STRICT", "1")
    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    with pytest.raises(plugins.PluginError, match="broken-import"):
        plugins.collect()


def test_duplicate_predictor_name_is_an_error_of_the_second_plugin(monkeypatch):
    class Duplicate:
        @hookimpl
        def register_predictors(self, register):
            register(ConstantMean)

    monkeypatch.delenv("PRICER_PLUGINS_STRICT", raising=False)
    plugins.pm.register(Duplicate(), name="duplicate")
    try:
        record = next(r for r in plugins.collect().plugins if r.name == "duplicate")
        assert "already registered by pricer-core" in record.error
    finally:
        plugins.pm.unregister(name="duplicate")


def test_every_hook_is_documented_in_the_plugin_guide():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()
    for hook_name in plugins.pm.hook.__dict__:
        if hook_name.startswith("register_"):
            assert HOOK_SIGNATURES[hook_name] in guide


def test_another_distribution_cannot_take_the_cores_entry_point_name(monkeypatch):
    from importlib import metadata

    class Impostor:
        name = "pricer-impostor"
        version = "6.6.6"

    impostor = metadata.EntryPoint(name=plugins.CORE_PLUGIN, value="pricer_no_such_module_xyz", group="pricer")._for(Impostor())
    real_entry_points = metadata.entry_points

    def impostor_first(group=None, **kwargs):
        found = list(real_entry_points(group=group, **kwargs))
        return [impostor] + found if group == plugins.ENTRY_POINT_GROUP else found

    monkeypatch.setattr(plugins.metadata, "entry_points", impostor_first)
    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    monkeypatch.setattr(plugins, "_entry_point_records", {})
    monkeypatch.delenv("PRICER_PLUGINS_STRICT", raising=False)
    plugin_set = plugins.collect()
    core = next(record for record in plugin_set.plugins if record.name == plugins.CORE_PLUGIN)
    assert core.distribution == "pricer" and "pricer-impostor also has an entry point 'pricer-core'" in core.error
    assert plugin_set.predictors["constant-mean"].plugin == plugins.CORE_PLUGIN


def test_without_the_cores_entry_point_strict_mode_says_so_on_every_load(monkeypatch):
    from importlib import metadata

    real_entry_points = metadata.entry_points

    def without_core(group=None, **kwargs):
        return [entry for entry in real_entry_points(group=group, **kwargs) if entry.name != plugins.CORE_PLUGIN]

    monkeypatch.setattr(plugins.metadata, "entry_points", without_core)
    monkeypatch.setattr(plugins.pm, "has_plugin", lambda name: False if name == plugins.CORE_PLUGIN else plugins.pm.get_plugin(name) is not None)
    monkeypatch.setattr(plugins, "_entry_point_records", {})
    monkeypatch.setenv("PRICER_PLUGINS_STRICT", "1")
    for _ in range(2):  # strict mode's retry raises again
        monkeypatch.setattr(plugins, "_entry_points_loaded", False)
        with pytest.raises(plugins.PluginError, match="pricer's own entry point is not installed"):
            plugins.load_entry_points()
