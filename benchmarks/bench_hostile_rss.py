"""Peak memory of loading every shipped predictor's folder and of reading every file in ../shared/data,
against the file's size: the bounds pricer states hold for all.

    python benchmarks/bench_hostile_rss.py [--out benchmarks/results/hostile_rss.json]

Each load runs in a fresh process that imports what the predictor needs first and then reports its
peak resident memory before and after loading and pricing five items (the growth is the load's);
each read is `pricer read FILE` under /usr/bin/time -v. Printed as a table and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# The stated bounds: a load grows the process (libraries imported, pricer_core's first), by at most
# 256 MB (what the loaders' first calls into scikit-learn or torch set up) plus 4x the folder's size;
# a read peaks at 100 MB plus 10x the file's uncompressed size (every kept row is an Item in memory).
LOAD_BASE, LOAD_FACTOR = 256 * 2**20, 4
READ_BASE, READ_FACTOR = 100 * 2**20, 10

LOAD = """
import json, sys
for module in sys.argv[3:]:
    __import__(module)
from pricer_core.item import Item
from pricer_core.storage.persistence import load_predictor
items = [Item.model_validate(row) for row in json.loads(open(sys.argv[2]).read())]
def high_water():  # this process's own peak (ru_maxrss would carry the parent's from before exec)
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) * 1024
before = high_water()
load_predictor(sys.argv[1]).predict(items)
after = high_water()
print(json.dumps({"before": before, "after": after}))
"""


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def uncompressed_bytes(path: Path) -> int:
    import gzip

    if path.read_bytes()[:2] != b"\x1f\x8b":
        return path.stat().st_size
    total = 0
    with gzip.open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            total += len(chunk)
    return total


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_fuzz_model_folders import _small_predictors

    from pricer_core.testing import tiny_data
    from pricer_core.predictors.ensemble import Ensemble
    from pricer_core.storage.persistence import save_predictor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "hostile_rss.json")
    args = parser.parse_args()
    train, validation, _ = tiny_data(train_size=2000, validation_size=200)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        items_file = Path(scratch) / "items.json"
        items_file.write_text(json.dumps([item.model_dump() for item in tiny_data()[2][:5]]))
        fitted = {}
        for name, (predictor, modules) in _small_predictors().items():
            fitted[name] = (predictor.fit(train, validation), modules)
        ensemble = Ensemble(members=["linear", "bow-linear"])
        ensemble.offer_members({name: fitted[name][0] for name in ensemble.members})
        fitted["ensemble"] = (ensemble.fit(train, validation), sorted({m for _, modules in fitted.values() for m in modules}))
        for name, (predictor, modules) in fitted.items():
            folder = Path(scratch) / name
            save_predictor(predictor, folder)
            output = subprocess.run([sys.executable, "-c", LOAD, str(folder), str(items_file), *modules], capture_output=True, text=True, check=True)
            peaks = json.loads(output.stdout.strip().splitlines()[-1])
            size = folder_bytes(folder)
            growth = peaks["after"] - peaks["before"]
            rows.append({"what": f"load {name}", "bytes": size, "peak_rss": peaks["after"], "growth": growth,
                         "bound": LOAD_BASE + LOAD_FACTOR * size, "holds": growth <= LOAD_BASE + LOAD_FACTOR * size})
    for path in sorted(SHARED_DATA.glob("*.gz")):
        timed = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "pricer_core", "read", str(path)], capture_output=True, text=True)
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timed.stderr).group(1)) * 1024
        size = uncompressed_bytes(path)
        rows.append({"what": f"read {path.name}", "bytes": size, "peak_rss": peak, "growth": None,
                     "bound": READ_BASE + READ_FACTOR * size, "holds": peak <= READ_BASE + READ_FACTOR * size})
    print(f"{'what':<72} {'size MB':>8} {'peak MB':>8} {'growth MB':>9} {'bound MB':>9}  holds")
    for row in rows:
        growth = f"{row['growth'] / 2**20:>9.1f}" if row["growth"] is not None else f"{'':>9}"
        print(f"{row['what']:<72} {row['bytes'] / 2**20:>8.2f} {row['peak_rss'] / 2**20:>8.1f} {growth} {row['bound'] / 2**20:>9.1f}  {row['holds']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"load_bound": [LOAD_BASE, LOAD_FACTOR], "read_bound": [READ_BASE, READ_FACTOR], "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")
    if not all(row["holds"] for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
