"""The README's result tables are rendered from benchmarks/results/, never typed: they must agree."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tables():
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "benchmarks" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_generated_block_of_the_readme_matches_the_committed_files(tables):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert set(tables.RENDERERS) <= {match.group("name") for match in tables.BLOCK.finditer(readme)}
    assert tables.stale_blocks(readme) == [], "run: python benchmarks/readme_tables.py"


def test_a_figure_typed_by_hand_into_a_block_is_caught(tables):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = next(match for match in tables.BLOCK.finditer(readme) if match.group("name") == "leaderboard")
    body = match.group("body")
    forged = readme.replace(body, body.replace("| 1 |", "| 1 | ", 1).replace(".", ",", 1), 1)
    assert tables.stale_blocks(forged) == ["leaderboard"]


def test_an_unknown_block_is_one_line_naming_it(tables):
    with pytest.raises(ValueError, match="no renderer for generated block 'made-up'"):
        tables.render("<!-- generated: made-up -->\n| 1 |\n<!-- end generated -->")


def test_the_readme_stays_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 300
