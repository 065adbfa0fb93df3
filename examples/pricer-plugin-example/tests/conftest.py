"""Let the tests import the example without installing it (the fresh-venv test installs it for real)."""

import sys
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:  # the kit's parametrize names the predictor at collection time
    sys.path.insert(0, ROOT)


@pytest.fixture(autouse=True)
def example_on_path(monkeypatch):
    """Only for the tests in this folder: check_predictor's new process needs the same path."""
    monkeypatch.syspath_prepend(ROOT)
    monkeypatch.setenv("PYTHONPATH", ROOT)
