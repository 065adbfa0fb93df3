"""`pricer plugins new NAME`: a working plugin package with its entry point and a contract test."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{distribution}"
version = "0.1.0"
description = "A pricer predictor plugin."
requires-python = ">=3.10"
dependencies = ["pricer"]

[project.optional-dependencies]
test = ["pytest>=7"]

[project.entry-points.pricer]
{name} = "{package}.plugin"

[tool.setuptools.packages.find]
include = ["{package}*"]
'''

PLUGIN = '''"""{name}: describe in a line why this predictor exists."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from pricer_core import Item, Predictor, hookimpl


class {class_name}(Predictor):
    """Replace the median with your model; keep the four methods and their contract."""

    name = "{name}"

    def __init__(self, scale: float = 1.0):
        self.scale = scale
        self._median: float | None = None

    def fit(self, train: list[Item], validation: list[Item]) -> "{class_name}":
        if not train:
            raise ValueError("cannot fit on an empty training set")
        self._median = statistics.median(item.price for item in train)
        return self

    def predict(self, items: list[Item]) -> list[float]:
        return [self._median * self.scale for _ in items]

    def save(self, directory) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / "state.json").write_text(json.dumps({{"scale": self.scale, "median": self._median}}))

    @classmethod
    def load(cls, directory) -> "{class_name}":
        state = json.loads((Path(directory) / "state.json").read_text())
        predictor = cls(state["scale"])
        predictor._median = state["median"]
        return predictor


@hookimpl
def register_predictors(register) -> None:
    register({class_name})
'''

TEST = '''from pricer_core.testing import parametrize_with_checks
from {package}.plugin import {class_name}


@parametrize_with_checks([{class_name}])
def test_contract(predictor, check):
    check(predictor)
'''

README = '''# {distribution}

A pricer predictor plugin. `pip install -e .` then `pricer-bench -p {name}`;
`pip install -e ".[test]" && pytest` runs the contract checks.
'''


def new_plugin(name: str, parent: str | Path = ".") -> Path:
    """Write pricer-NAME/ with pyproject.toml (entry point), the plugin module and a contract test."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise ValueError(f"plugin name {name!r}: use lower case letters, digits and dashes, starting with a letter")
    package = "pricer_" + name.replace("-", "_")
    class_name = "".join(part.title() for part in name.split("-")) + "Predictor"
    if keyword.iskeyword(package):
        raise ValueError(f"{package} is a Python keyword")
    root = Path(parent) / f"pricer-{name}"
    if root.exists():
        raise FileExistsError(f"{root} already exists")
    values = {"name": name, "package": package, "class_name": class_name, "distribution": f"pricer-{name}"}
    files = {
        root / "pyproject.toml": PYPROJECT,
        root / "README.md": README,
        root / package / "__init__.py": '"""{distribution}: a pricer plugin."""\n',
        root / package / "plugin.py": PLUGIN,
        root / "tests" / f"test_{package}.py": TEST,
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values))
    return root
