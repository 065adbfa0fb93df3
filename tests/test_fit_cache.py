"""The fit cache's key: an edited predictor is refitted even when its plugin's version did not move."""

import importlib
import sys

import pytest

from pricer_core.bench.fit_cache import code_sha256


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A folder on sys.path; modules imported from it are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        sys.modules.pop(name, None)


def test_editing_a_predictors_package_changes_its_code_fingerprint(plugin_dir):
    package = plugin_dir / "edited_plugin"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "__init__.py").write_text("")
    (package / "inner" / "model.py").write_text("class Model:\n    scale = 1.0\n")
    model = importlib.import_module("edited_plugin.inner.model").Model
    before = code_sha256(model)
    assert before is not None and code_sha256(model) == before  # the same code, the same key: the cache still serves it
    (package / "inner" / "model.py").write_text("class Model:\n    scale = 2.0\n")
    assert code_sha256(model) != before
    (package / "inner" / "model.py").write_text("class Model:\n    scale = 1.0\n")
    (plugin_dir / "elsewhere.py").write_text("unrelated = True\n")  # beside the package, not in it
    assert code_sha256(model) == before
    (package / ".#model.py").symlink_to(package / "gone.py")  # an editor's lock file: a dangling link, not code
    assert code_sha256(model) == before


@pytest.mark.parametrize(
    "files, module, edited",
    [
        ({"single_file_plugin.py": "class Model:\n    scale = 1.0\n"}, "single_file_plugin", "single_file_plugin.py"),
        (  # a subclass in another package is keyed on its base's package too
            {"base_plugin.py": "class Base:\n    scale = 1.0\n", "derived_plugin.py": "from base_plugin import Base\n\nclass Model(Base):\n    pass\n"},
            "derived_plugin",
            "base_plugin.py",
        ),
    ],
    ids=["one-file-module", "base-in-another-module"],
)
def test_editing_a_one_file_module_or_a_base_changes_the_fingerprint(plugin_dir, files, module, edited):
    for name, text in files.items():
        (plugin_dir / name).write_text(text)
    model = importlib.import_module(module).Model
    before = code_sha256(model)
    (plugin_dir / edited).write_text(files[edited].replace("pass", "scale = 5.0").replace("1.0", "3.0"))
    assert code_sha256(model) != before


def test_a_named_code_package_is_keyed_even_before_it_is_imported(plugin_dir):
    (plugin_dir / "helper_pkg").mkdir()
    (plugin_dir / "helper_pkg" / "__init__.py").write_text("factor = 1\n")
    (plugin_dir / "user_plugin.py").write_text("class Model:\n    code_packages = ('helper_pkg', 'not_installed_anywhere')\n")
    model = importlib.import_module("user_plugin").Model
    assert "helper_pkg" not in sys.modules
    before = code_sha256(model)
    assert before is not None  # a named package that is not installed is not run, so it is skipped
    (plugin_dir / "helper_pkg" / "__init__.py").write_text("factor = 2\n")
    assert code_sha256(model) != before


def test_code_that_cannot_be_read_is_not_cached_and_does_not_crash(plugin_dir):
    exec_namespace = {"__name__": "typed_in_a_notebook"}
    exec("class Model:\n    pass\n", exec_namespace)
    assert code_sha256(exec_namespace["Model"]) is None  # no module file: never served an old fit


def test_a_predictor_whose_code_cannot_be_read_is_fitted_and_not_cached(tmp_path):
    from pricer_core.bench.fit_cache import fit_or_load
    from pricer_core.testing import tiny_data
    from pricer_core.data.splits import Splits
    from pricer_core.plugins.registry import Registration
    from pricer_core.predictors.baselines import ConstantMean

    namespace = {"__name__": "typed_in_a_notebook", "ConstantMean": ConstantMean}
    exec("class Notebook(ConstantMean):\n    name = 'notebook'\n", namespace)
    train, validation, test = tiny_data()
    registration = Registration(name="notebook", kind="predictor", factory=namespace["Notebook"], plugin="notebook")
    messages: list[str] = []
    for _ in range(2):
        _, _, cached, _ = fit_or_load(registration, namespace["Notebook"](), Splits("t", train, validation, test), tmp_path, None, messages.append)
        assert not cached
    assert any("cannot be fingerprinted" in message for message in messages) and not (tmp_path / "fits").exists()
