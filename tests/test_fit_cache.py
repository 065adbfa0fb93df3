"""The fit cache's key: an edited predictor is refitted even when its plugin's version did not move."""

import importlib
import sys

from pricer_core.bench.fit_cache import code_sha256


def test_editing_a_predictors_package_changes_its_code_fingerprint(tmp_path, monkeypatch):
    package = tmp_path / "edited_plugin"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "__init__.py").write_text("")
    (package / "inner" / "model.py").write_text("class Model:\n    scale = 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "edited_plugin", raising=False)
    model = importlib.import_module("edited_plugin.inner.model").Model
    before = code_sha256(model)
    assert code_sha256(model) == before  # the same code, the same key: the cache still serves it
    (package / "inner" / "model.py").write_text("class Model:\n    scale = 2.0\n")
    assert code_sha256(model) != before
    (package / "inner" / "model.py").write_text("class Model:\n    scale = 1.0\n")
    (tmp_path / "elsewhere.py").write_text("unrelated = True\n")  # beside the package, not in it
    assert code_sha256(model) == before
    for name in [name for name in sys.modules if name.startswith("edited_plugin")]:
        monkeypatch.delitem(sys.modules, name)


def test_a_one_file_plugin_is_keyed_on_its_file(tmp_path, monkeypatch):
    (tmp_path / "single_file_plugin.py").write_text("class Model:\n    scale = 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "single_file_plugin", raising=False)
    model = importlib.import_module("single_file_plugin").Model
    before = code_sha256(model)
    (tmp_path / "single_file_plugin.py").write_text("class Model:\n    scale = 3.0\n")
    assert code_sha256(model) != before
    monkeypatch.delitem(sys.modules, "single_file_plugin")
