"""The core's shape: its longest functions and largest modules, at HEAD or at any git revision.

    python benchmarks/code_shape.py [--rev 42740bc] [--top 10]

Lines are source lines from `def` to the function's last line (nested functions count in their
parent too). Read beside tests/test_import_cycles.py when judging whether the core got simpler.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def core_sources(revision: str | None) -> dict[str, str]:
    """path → text of every pricer_core/*.py file, in the working tree or at a revision."""
    if revision is None:
        return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in (ROOT / "pricer_core").rglob("*.py")}
    listing = subprocess.run(["git", "ls-tree", "-r", "--name-only", revision, "pricer_core"], cwd=ROOT, capture_output=True, text=True, check=True)
    paths = [line for line in listing.stdout.splitlines() if line.endswith(".py")]
    return {path: subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout for path in paths}


def longest_functions(sources: dict[str, str], top: int) -> list[tuple[int, str]]:
    found = []
    for path, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((node.end_lineno - node.lineno + 1, f"{path}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)[:top]


def largest_modules(sources: dict[str, str], top: int) -> list[tuple[int, str]]:
    return sorted(((len(text.splitlines()), path) for path, text in sources.items()), reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="a git revision (default: the working tree)")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    sources = core_sources(args.rev)
    print(f"pricer_core at {args.rev or 'the working tree'}: {len(sources)} modules, {sum(len(t.splitlines()) for t in sources.values())} lines")
    print("longest functions (lines):")
    for lines, where in longest_functions(sources, args.top):
        print(f"  {lines:4d}  {where}")
    print("largest modules (lines):")
    for lines, path in largest_modules(sources, args.top):
        print(f"  {lines:4d}  {path}")


if __name__ == "__main__":
    main()
