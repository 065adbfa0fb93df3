"""Render the README's result tables from the committed files in benchmarks/results/.

    python benchmarks/readme_tables.py           # rewrite every generated block of README.md
    python benchmarks/readme_tables.py --check   # exit 1 and name the block when README.md and the files disagree

A generated block sits between `<!-- generated: NAME -->` and `<!-- end generated -->`; NAME picks
the renderer. The figures are never typed into the README: a benchmark writes its file, this
script writes the table, and tests/test_readme_tables.py fails when the two disagree.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BLOCK = re.compile(r"(<!-- generated: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def _read(name: str) -> dict:
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))


def _provenance_line(results: dict, command: str) -> str:
    lock = results.get("lock") or {}
    differs = ", ".join(f"{name} {pair['installed']} (locked {pair['locked']})" for name, pair in sorted(lock.get("differs", {}).items()))
    lock_text = f"lock `{lock['file']}` sha256 {lock['sha256'][:12]}" + (f", differing: {differs}" if differs else ", every version as locked") if lock else "no lock recorded"
    git = (results.get("git") or "unknown")[:10]
    return f"`{command}` on {results['created'][:10]}, commit {git}, {lock_text}; file: `benchmarks/results/{{file}}`."


def leaderboard() -> str:
    """The default bench: every predictor in rank order, then the ones that did not run and why."""
    results = _read("bench_default.json")
    scored = sorted((p for p in results["predictors"] if p["status"] == "ok"), key=lambda p: p["metrics"]["mae"])
    lines = ["| rank | predictor | MAE $ | 95% interval | fit s |", "|---|---|---|---|---|"]
    for rank, entry in enumerate(scored, 1):
        low, high = entry["metrics"]["mae_ci95"]
        fit = f"{entry['fit_seconds']:.1f}" if entry.get("fit_seconds") is not None else ""
        lines.append(f"| {rank} | {entry['name']} | {entry['metrics']['mae']:.2f} | {low:.1f}–{high:.1f} | {fit} |")
    others = [p for p in results["predictors"] if p["status"] != "ok"]
    if others:
        lines += ["", "Not in the default run: " + "; ".join(f"`{p['name']}` ({p['reason']})" for p in others) + "."]
    size = results["dataset"]["sizes"]["sample"]
    lines += ["", f"{size} test items. " + _provenance_line(results, "make bench").format(file="bench_default.json")]
    return "\n".join(lines) + "\n"


def _mae(errors: list[float]) -> float:
    return sum(abs(error) for error in errors) / len(errors)


def loso() -> str:
    """Leave-one-source-out over the default set: the mean, each held-out source, and the official test beside it."""
    run = _read("loso_default.json")
    sources = run["sources"]
    rows = []
    for name, errors in run["loso"].items():
        per_source, start = [], 0
        for count in sources.values():
            per_source.append(_mae(errors[start : start + count]))
            start += count
        official = run["official"].get(name)
        rows.append((sum(per_source) / len(per_source), name, per_source, _mae(official) if official and None not in official else None))
    header = "| predictor | LOSO mean | " + " | ".join(f"#{number}" for number in range(1, len(sources) + 1)) + " | official test |"
    lines = [header, "|" + "---|" * (len(sources) + 3)]
    for mean, name, per_source, official in sorted(rows, key=lambda row: (row[0], row[3] if row[3] is not None else float("inf"), row[1])):
        official_text = f"{official:.2f}" if official is not None else ""
        lines.append(f"| {name} | {mean:.2f} | " + " | ".join(f"{mae:.2f}" for mae in per_source) + f" | {official_text} |")
    lines.append("")
    lines.append("Held out: " + "; ".join(f"#{number} {source} ({count})" for number, (source, count) in enumerate(sources.items(), 1)) + ".")
    provenance = run.get("provenance")
    if provenance:
        lines.append(_provenance_line(provenance, "python benchmarks/bench_loso.py --save benchmarks/results/loso_default.json").format(file="loso_default.json"))
    return "\n".join(lines) + "\n"


def fresh_clone() -> str:
    """Fresh clones: install and bench wall time, and whether the leaderboard matched the committed one."""
    runs = _read("fresh_clone.json")["runs"]
    lines = ["| clone | commit | `make install` | `make bench` (empty fit cache) | leaderboard vs committed |", "|---|---|---|---|---|"]
    for number, run in enumerate(runs, 1):
        verdict = "equal to the cent" if not run["differences"] else "differs: " + ", ".join(run["differences"])
        lines.append(f"| {number} ({run['date']}) | {run['git'][:7]} | {run['install_seconds'] / 60:.1f} min | {run['bench_seconds'] / 60:.1f} min | {verdict} |")
    return "\n".join(lines) + "\n"


def serve() -> str:
    """`pricer serve` under load on 127.0.0.1: one item per request, per concurrency, beside the model in-process."""
    run = _read("serve.json")
    levels = [level["concurrency"] for level in run["models"][0]["server"]["levels"]]
    head = " | ".join(f"concurrency {level}: p50 / p99 ms, items/s" for level in levels)
    lines = [f"| model | in-process, one item a call | {head} | errors | RSS after 100 → after all |", "|---|---|" + "---|" * len(levels) + "---|---|"]
    for entry in run["models"]:
        alone, server = entry["in_process"]["one_item"], entry["server"]
        cells = " | ".join(f"{level['p50_ms']:.1f} / {level['p99_ms']:.1f}, {level['items_per_s']:.0f}" for level in server["levels"])
        memory = server["memory"]
        growth = memory["end"]["rss"] / memory["after_warmup"]["rss"] - 1
        lines.append(
            f"| {entry['model']['name']} | {alone['p50_ms']:.1f} / {alone['p99_ms']:.1f} ms, {alone['items_per_s']:.0f} items/s | {cells} "
            f"| {server['errors']} of {server['requests_total']:,} | {memory['after_warmup']['rss'] / 2**20:.0f} → {memory['end']['rss'] / 2**20:.0f} MB ({growth:+.1%}) |"
        )
    lines += ["", f"`python benchmarks/bench_serve.py` on {run['created'][:10]}, commit {(run.get('git') or 'unknown')[:10]}; file: `benchmarks/results/serve.json`."]
    return "\n".join(lines) + "\n"


RENDERERS = {"leaderboard": leaderboard, "loso": loso, "fresh-clone": fresh_clone, "serve": serve}


def render(readme: str) -> str:
    """The README with every generated block replaced by what the committed files say now."""

    def replace(match: re.Match) -> str:
        renderer = RENDERERS.get(match.group("name"))
        if renderer is None:
            raise ValueError(f"README.md: no renderer for generated block {match.group('name')!r}; known: {sorted(RENDERERS)}")
        return match.group(1) + renderer() + match.group(4)

    return BLOCK.sub(replace, readme)


def stale_blocks(readme: str) -> list[str]:
    """Names of the generated blocks whose text differs from what the files give."""
    fresh = {match.group("name"): match.group("body") for match in BLOCK.finditer(render(readme))}
    return [match.group("name") for match in BLOCK.finditer(readme) if fresh[match.group("name")] != match.group("body")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 naming the stale blocks")
    args = parser.parse_args()
    path = ROOT / "README.md"
    readme = path.read_text(encoding="utf-8")
    if args.check:
        stale = stale_blocks(readme)
        if stale:
            sys.exit(f"error: README.md: generated blocks out of date: {', '.join(stale)} (run python benchmarks/readme_tables.py)")
        print("README.md tables match benchmarks/results/")
        return
    path.write_text(render(readme), encoding="utf-8")
    print(f"rewrote {len(BLOCK.findall(readme))} generated blocks of README.md")


if __name__ == "__main__":
    main()
