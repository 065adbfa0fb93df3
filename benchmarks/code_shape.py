"""The core's shape: its longest functions and largest modules, at HEAD or at any git revision.

    python benchmarks/code_shape.py [--rev 42740bc] [--top 10] [--save benchmarks/results/code_shape.json]

Lines are source lines from `def` to the function's last line (nested functions count in their
parent too). Also the names a plugin author meets on `Predictor`: the methods to implement, the
class attributes and the optional methods. Read beside tests/test_import_cycles.py when judging
whether the core got simpler. `--save` adds this revision's figures to a JSON file, keyed by it.
"""

from __future__ import annotations

import argparse
import ast
import json
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


def predictor_names(sources: dict[str, str]) -> dict[str, list[str]]:
    """The public names of the `Predictor` base class: abstract methods, class attributes, optional methods."""
    text = sources.get("pricer_core/contract/predictor.py", "")
    found: dict[str, list[str]] = {"implement": [], "class attributes": [], "optional methods": []}
    for node in ast.parse(text).body:
        if not (isinstance(node, ast.ClassDef) and node.name == "Predictor"):
            continue
        for member in node.body:
            if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and not member.name.startswith("_"):
                abstract = any(getattr(decorator, "id", None) == "abstractmethod" for decorator in member.decorator_list)
                found["implement" if abstract else "optional methods"].append(member.name)
            elif isinstance(member, ast.AnnAssign) and isinstance(member.target, ast.Name):
                found["class attributes"].append(member.target.id)
    return found


def shape(revision: str | None, top: int) -> dict[str, object]:
    sources = core_sources(revision)
    return {
        "modules": len(sources),
        "lines": sum(len(text.splitlines()) for text in sources.values()),
        "longest_functions": [[lines, where] for lines, where in longest_functions(sources, top)],
        "largest_modules": [[lines, path] for lines, path in largest_modules(sources, top)],
        "predictor_names": predictor_names(sources),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="a git revision (default: the working tree)")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--save", type=Path, help="a JSON file to add these figures to, keyed by the revision")
    args = parser.parse_args()
    figures = shape(args.rev, args.top)
    print(f"pricer_core at {args.rev or 'the working tree'}: {figures['modules']} modules, {figures['lines']} lines")
    print("longest functions (lines):")
    for lines, where in figures["longest_functions"]:
        print(f"  {lines:4d}  {where}")
    print("largest modules (lines):")
    for lines, path in figures["largest_modules"]:
        print(f"  {lines:4d}  {path}")
    print("names on Predictor:")
    for kind, names in figures["predictor_names"].items():
        print(f"  {kind} ({len(names)}): {', '.join(names)}")
    if args.save:
        saved = json.loads(args.save.read_text()) if args.save.exists() else {}
        saved[args.rev or "working tree"] = figures
        args.save.write_text(json.dumps(saved, indent=1) + "\n")


if __name__ == "__main__":
    main()
