import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from pricer_core.cli.commands import main
from pricer_core.testing import PREDICTOR_RULES
from pricer_core.plugins.scaffold import new_plugin


def test_generated_plugin_passes_its_own_tests(tmp_path):
    result = CliRunner().invoke(main, ["plugins", "new", "shiny", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "pricer-shiny"
    assert 'shiny = "pricer_shiny.plugin"' in (root / "pyproject.toml").read_text()
    environment = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")], capture_output=True, text=True, env=environment, cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(PREDICTOR_RULES) - 1} passed" in run.stdout  # one test per rule that applies (it does not learn from validation)


@pytest.mark.parametrize("bad", ["Shiny", "1abc", "with space", "under_score"])
def test_bad_names_are_refused(tmp_path, bad):
    with pytest.raises(ValueError, match="lower case"):
        new_plugin(bad, tmp_path)


def test_existing_folder_is_not_overwritten(tmp_path):
    new_plugin("twice", tmp_path)
    with pytest.raises(FileExistsError):
        new_plugin("twice", tmp_path)
