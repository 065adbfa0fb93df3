"""The plugin in docs/plugins.md is real: this test runs that very block through the conformance kit."""

import re
import sys
from pathlib import Path

from pricer_core.testing import applicable_rules, check_predictor

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
BLOCK = re.compile(r"<!-- example: tfidf-neighbours -->\n```python\n(?P<code>.*?)```", re.S)


def example_code() -> str:
    match = BLOCK.search(GUIDE.read_text(encoding="utf-8"))
    assert match, "docs/plugins.md lost its example block"
    return match.group("code")


def test_the_docs_example_is_a_short_complete_plugin():
    code = example_code()
    assert len(code.splitlines()) <= 50
    for method in ("def fit", "def predict", "def save", "def load", "def register_predictors"):
        assert method in code


def test_the_docs_example_passes_every_rule_of_the_kit(tmp_path, monkeypatch):
    (tmp_path / "tfidf_neighbours_example.py").write_text(example_code())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the kit loads the saved folder in a new process
    try:
        from tfidf_neighbours_example import TfidfNeighbours

        rules = applicable_rules(TfidfNeighbours)
        assert "save-load-new-process" in rules and "deterministic" in rules
        check_predictor(TfidfNeighbours, rules=rules)
        assert TfidfNeighbours(neighbours=3).neighbours == 3  # settings stored as given
    finally:
        sys.modules.pop("tfidf_neighbours_example", None)
