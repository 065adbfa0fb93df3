"""The external example plugin, built as a wheel and installed into a fresh virtual environment."""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def clean_environment(**extra):
    """Nothing inherited that could make pip think the example is already installed (PYTHONPATH, ...)."""
    keep = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "TMPDIR", "PIP_CONFIG_FILE")}
    return {**keep, **extra}


def run(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True, env=env or clean_environment())
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]} {result.stderr[-2000:]}"
    return result.stdout


def test_wheel_in_a_fresh_venv_shows_up_in_plugins_and_bench(tmp_path):
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "wheels"), str(ROOT / "examples" / "pricer-plugin-example")])
    wheel = next((tmp_path / "wheels").glob("pricer_plugin_example-*.whl"))
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    python = tmp_path / "venv" / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", str(ROOT), str(wheel)])
    plugins = json.loads(run([str(tmp_path / "venv" / "bin" / "pricer"), "plugins", "--json"], env=clean_environment(HOME=str(tmp_path))))
    example = next(record for record in plugins if record["name"] == "category-median")
    assert example["distribution"] == "pricer-plugin-example" and example["predictors"] == ["category-median"]
    assert example["error"] is None
    output = run(
        [str(tmp_path / "venv" / "bin" / "pricer-bench"), "-p", "category-median", "-p", "constant-mean", "--size", "30", "--out", str(tmp_path / "out")],
        env=clean_environment(HOME=str(tmp_path), PRICER_CACHE=str(tmp_path / "cache")),
    )
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    status = {entry["name"]: entry["status"] for entry in results["predictors"]}
    assert status == {"category-median": "ok", "constant-mean": "ok"}
    assert "category-median" in output
