"""Cleaning throughput and peak memory: ours (1 process, all cores) against per-row references.

    python benchmarks/bench_curate.py [--rows 200000] [--variants seed,plain,rules,ours-1,ours-all]

The input is the two raw sample files in ../shared/data repeated to --rows lines (gzip). Every
variant runs in its own process (its own peak RSS) and reads the same file:

- seed:   the seed's cleaning as the course wrote it (price by float(), lists through str() and a
          chain of replace(), the look-ahead part-number regex over the whole text, weight 0 when
          unknown), one row at a time. Only the null-price crash is avoided. Its rules differ from
          ours, so its kept count differs.
- plain:  the cleaning rules written the straightforward way (json.loads per line, regexes for
          whitespace and part numbers, a pydantic Item per row). Must keep exactly our items.
- rules:  the same loop calling pricer's own rule functions (`clean_raw_row`), which carry their
          own speed-ups: what the per-row loop gains from faster rules alone.
- ours-N: `pricer_core.curation.parallel_clean.clean_files` with N processes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

SAMPLES = [
    "amazon2023_raw_meta_Health_and_Personal_Care_sample_1714.jsonl.gz",
    "amazon2023_raw_meta_Health_and_Personal_Care_sample_1001_older.jsonl.gz",
]
DETAIL_KEYS_TO_DROP = ("Part Number", "Best Sellers Rank", "Batteries Included?", "Batteries Required?", "Item model number")


def make_input(data_dir: Path, rows: int, target: Path) -> None:
    lines = []
    for name in SAMPLES:
        with gzip.open(data_dir / name, "rt") as handle:
            lines.extend(line for line in handle if line.strip())
    with gzip.open(target, "wt", compresslevel=1) as handle:
        for index in range(rows):
            handle.write(lines[index % len(lines)].rstrip("\n") + "\n")


# --- seed: the course's cleaning, re-expressed here to time it (it is not part of pricer) ---------

def seed_clean(row: dict, source: str, number: int):
    from pricer_core.item import Item, stable_id

    try:
        price = float(row["price"])
    except (TypeError, ValueError):  # the seed caught only ValueError and crashed on a null price
        return None
    if not 0.5 <= price <= 999.49:
        return None
    details = row["details"] if isinstance(row["details"], dict) else json.loads(row["details"] or "{}")
    weight = seed_weight(details)
    for key in DETAIL_KEYS_TO_DROP:
        details.pop(key, None)
    text = (row["title"] or "") + "\n"
    for part in (row["description"], row["features"]):
        if part:
            text += str(part).replace("\n", " ").replace("\r", "").replace("\t", "").replace("  ", " ").strip()[:3000] + "\n"
    if details:
        text += json.dumps(details) + "\n"
    full = re.sub(r"\b(?=[A-Z0-9]{7,}\b)(?=.*[A-Z])(?=.*\d)[A-Z0-9]+\b", "", text).strip()[:4000]
    if len(full) < 600:
        return None
    return Item(id=row.get("parent_asin") or stable_id(source, number), title=row["title"], category=row.get("main_category") or "", price=price, full=full, weight=weight, source=source)


def seed_weight(details: dict) -> float:
    text = details.get("Item Weight")
    if not text:
        return 0.0
    parts = text.split(" ")
    try:
        amount = float(parts[0])
    except ValueError:  # the seed crashed here
        return 0.0
    divisors = {"pounds": 1, "ounces": 16, "grams": 453.592, "milligrams": 453592, "kilograms": 0.453592}
    unit = parts[1].lower() if len(parts) > 1 else ""
    if unit == "hundredths" and len(parts) > 2 and parts[2].lower() == "pounds":
        return amount / 100
    return amount / divisors[unit] if unit in divisors else 0.0


# --- plain: the cleaning rules written the straightforward way ------------------------------------

class Dropped(Exception):
    pass


def plain_price(value) -> float:
    if value is None or isinstance(value, bool):
        raise Dropped
    if isinstance(value, (int, float)):
        price = float(value)
    else:
        text = str(value).strip().replace("$", "").replace(",", "")
        if text.lower() in ("", "none", "null", "nan", "-"):
            raise Dropped
        try:
            price = float(text)
        except ValueError:
            raise Dropped from None
    if price != price or not 0.5 <= price <= 999.49:
        raise Dropped
    return price


def plain_field(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(part) for part in value if part is not None)
    return re.sub(r"\s+", " ", str(value)).strip()[:3000]


def plain_weight(text) -> float | None:
    pounds_per = {"pounds": 1, "pound": 1, "lbs": 1, "lb": 1, "ounces": 1 / 16, "ounce": 1 / 16, "oz": 1 / 16,
                  "grams": 1 / 453.592, "gram": 1 / 453.592, "g": 1 / 453.592, "milligrams": 1 / 453592,
                  "milligram": 1 / 453592, "mg": 1 / 453592, "kilograms": 1 / 0.453592, "kilogram": 1 / 0.453592,
                  "kg": 1 / 0.453592, "hundredths pounds": 1 / 100}
    if not isinstance(text, str):
        return None
    match = re.match(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s+(.+?)\s*$", text)
    if not match or match.group(2).lower() not in pounds_per:
        return None
    pounds = float(match.group(1).replace(",", "")) * pounds_per[match.group(2).lower()]
    return pounds if pounds != float("inf") else None


def plain_scrub(text: str) -> str:
    text = re.sub(r"\b[A-Z0-9]{7,}\b", lambda m: "" if re.search("[A-Z]", m[0]) and re.search("[0-9]", m[0]) else m[0], text)
    return re.sub(r"[ \t]{2,}", " ", text)


def plain_clean(row: dict, source: str, number: int):
    from pricer_core.item import Item, stable_id

    price = plain_price(row.get("price"))
    title = re.sub(r"\s+", " ", str(row.get("title") or "")).strip()
    if not title:
        raise Dropped
    details = row.get("details")
    if isinstance(details, str):
        try:
            details = json.loads(details) if details.strip() else {}
        except json.JSONDecodeError:
            details = {}
    details = {key: value for key, value in details.items() if key not in DETAIL_KEYS_TO_DROP} if isinstance(details, dict) else {}
    details_json = json.dumps(details, separators=(",", ":"), ensure_ascii=False) if details else ""
    parts = [title, plain_field(row.get("description")), plain_field(row.get("features")), details_json]
    full = plain_scrub("\n".join(part for part in parts if part))[:4000]
    if len(full) < 600:
        raise Dropped
    return Item(id=str(row.get("parent_asin") or stable_id(source, number)), title=title, category=str(row.get("main_category") or ""),
                price=price, full=full, weight=plain_weight(details.get("Item Weight")), source=source)


def time_part_number_rule(data_dir: Path) -> None:
    """The scrubbing rule alone, plain regexes against pricer's, on the sample rows' joined texts."""
    from pricer_core.data.cleaning import collapse_whitespace, join_field, join_full_text, parse_details, remove_part_numbers

    texts = []
    for name in SAMPLES:
        with gzip.open(data_dir / name, "rt") as handle:
            for line in handle:
                row = json.loads(line) if line.strip() else {}
                if row.get("price") is not None:
                    texts.append(join_full_text(collapse_whitespace(row.get("title") or ""), join_field(row.get("description")), join_field(row.get("features")), parse_details(row.get("details"))))
    texts *= 20
    seconds, outputs = {}, {}
    for label, scrub in (("plain", plain_scrub), ("pricer", remove_part_numbers)):
        started = time.perf_counter()
        outputs[label] = [scrub(text) for text in texts]
        seconds[label] = time.perf_counter() - started
    assert outputs["plain"] == outputs["pricer"], "the two part-number rules disagree"
    print(f"part-number rule on {len(texts)} texts: plain {seconds['plain']:.2f} s, pricer {seconds['pricer']:.2f} s ({seconds['plain'] / seconds['pricer']:.1f}x)")


def time_reading(path: Path) -> None:
    """The two library choices alone: inflating the file, and parsing the rows that have a price."""
    from isal import igzip

    from pricer_core.curation.raw_json import RAW_FIELDS, RawRowParser, has_null_price

    seconds = {}
    for label, opener in (("gzip (zlib)", gzip.open), ("isal", igzip.open)):
        started = time.perf_counter()
        with opener(path, "rb") as handle:
            while handle.read(1 << 22):
                pass
        seconds[label] = time.perf_counter() - started
    print(f"inflate: gzip (zlib) {seconds['gzip (zlib)']:.2f} s, isal {seconds['isal']:.2f} s ({seconds['gzip (zlib)'] / seconds['isal']:.1f}x)")
    with igzip.open(path, "rb") as handle:
        lines = [line for line in handle if line.strip() and not has_null_price(line)]
    parser = RawRowParser()
    started = time.perf_counter()
    full = [json.loads(line) for line in lines]
    seconds["json"] = time.perf_counter() - started
    started = time.perf_counter()
    lazy = [parser.parse(line) for line in lines]
    seconds["simdjson"] = time.perf_counter() - started
    assert lazy == [{key: row.get(key) for key in RAW_FIELDS} for row in full]
    print(f"parse {len(lines)} priced rows: json.loads {seconds['json']:.2f} s, simdjson fields {seconds['simdjson']:.2f} s ({seconds['json'] / seconds['simdjson']:.1f}x)")


# --- the variants -------------------------------------------------------------------------------

def per_row(path: str, clean) -> tuple[list, Counter]:
    from pricer_core.data.cleaning import DroppedRow

    items, dropped = [], Counter()
    source = Path(path).name.removesuffix(".gz").removesuffix(".jsonl")
    with gzip.open(path, "rt") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                item = clean(json.loads(line), source, number)
            except (Dropped, DroppedRow):
                item = None
            if item is None:
                dropped["dropped"] += 1
            else:
                items.append(item)
    return items, dropped


def digest(rows) -> tuple[int, str]:
    """(count, sha256 over (id, price, weight, full) of every kept item in order): same items, same digest."""
    hasher = hashlib.sha256()
    count = 0
    for row in rows:
        hasher.update(json.dumps(row, ensure_ascii=False).encode())
        count += 1
    return count, hasher.hexdigest()[:16]


def worker(variant: str, path: str) -> dict:
    import datasets

    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        if variant.startswith("ours-"):
            from pricer_core.curation.parallel_clean import clean_files

            dataset, report = clean_files([path], workers=int(variant.split("-")[1]), cache_dir=cache, progress=False)
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before reading the output back
            batches = dataset.select_columns(["id", "price", "weight", "full"]).iter(batch_size=1000)
            rows = (row for batch in batches for row in zip(batch["id"], batch["price"], batch["weight"], batch["full"]))
        else:
            from pricer_core.data.cleaning import clean_raw_row

            clean = {"seed": seed_clean, "plain": plain_clean, "rules": clean_raw_row}[variant]
            items, _ = per_row(path, clean)
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rows = [(item.id, item.price, item.weight, item.full) for item in items]
        kept, hashed = digest(rows)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "kept": kept, "digest": hashed, "peak_mb": peak, "child_peak_mb": children}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--variants", default="seed,plain,rules,ours-1,ours-all")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    from pricer_core.curation.parallel_clean import default_workers

    cores = default_workers()
    variants = [f"ours-{cores}" if name == "ours-all" else name for name in args.variants.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "raw.jsonl.gz"
        make_input(args.data, args.rows, path)
        print(f"{args.rows} raw rows ({path.stat().st_size / 2**20:.0f} MB gzip), {cores} cores")
        rates = {}
        digests = {}
        for variant in variants:
            output = subprocess.run([sys.executable, __file__, "--worker", variant, str(path)], capture_output=True, text=True, check=True)
            result = json.loads(output.stdout.strip().splitlines()[-1])
            rates[variant] = args.rows / result["seconds"]
            digests[variant] = result["digest"]
            print(
                f"{variant:<8} {rates[variant]:>9.0f} rows/s  {result['seconds']:6.1f} s  kept {result['kept']:>6}  items {result['digest']}  "
                f"peak RSS {result['peak_mb']:.0f} MB (largest worker {result['child_peak_mb']:.0f} MB)",
                flush=True,
            )
        time_reading(path)  # after the variants: its lists would swell the peak RSS that forked variants inherit
    same = {digests[name] for name in digests if name != "seed"}
    assert len(same) <= 1, f"variants with the same rules kept different items: {digests}"
    best = max((name for name in rates if name.startswith("ours-")), key=rates.get, default=None)
    if best:
        for reference in ("seed", "plain", "rules"):
            if reference in rates:
                print(f"{best} vs {reference}: {rates[best] / rates[reference]:.1f}x the rows/s")
        print(f"820k raw rows at {best}'s rate: {820_000 / rates[best]:.0f} s")
    time_part_number_rule(args.data)


if __name__ == "__main__":
    main()
