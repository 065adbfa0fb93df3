"""Rebuild the bundled benchmark dataset from the source files in ../shared/data.

    python -m pricer_core.data.bundle_recipe --data ../shared/data

Same files in, same ids and bytes out: gzip is written with mtime 0 and rows in a fixed order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from pricer_core.item import Item
from pricer_core.data.readers import ReadReport, iter_numbered_items, write_items
from pricer_core.data.splits import ids_sha256
from pricer_core.data.loading import BUNDLE_NAME, bundle_dir
from pricer_core.data.text import jaccard, normalise_title, title_words

OFFICIAL_TEST_FILE = "llm_engineering_official_test_2000.jsonl.gz"
TEST_ROWS = 250
NEAR_DUPLICATE_JACCARD = 0.8
VALIDATION_BUCKETS = 10


def is_validation(title: str) -> bool:
    """A fixed 10% of normalised-title hashes: stable whatever else is in the data."""
    digest = hashlib.sha256(normalise_title(title).encode()).digest()
    return int.from_bytes(digest[:8], "big") % VALIDATION_BUCKETS == 0


class _TestTitleIndex:
    """Exact and near-duplicate (word-set Jaccard) lookups against the test titles."""

    def __init__(self, titles: list[str]):
        self.exact = {normalise_title(title) for title in titles}
        self.word_sets = [title_words(title) for title in titles]

    def leaks(self, title: str) -> bool:
        if normalise_title(title) in self.exact:
            return True
        words = title_words(title)
        size = len(words)
        for test_words in self.word_sets:
            other = len(test_words)
            if size and other and min(size, other) / max(size, other) < NEAR_DUPLICATE_JACCARD:
                continue
            if jaccard(words, test_words) >= NEAR_DUPLICATE_JACCARD:
                return True
        return False


def source_order(data_dir: Path) -> list[Path]:
    """The official file first (its rows are closest to the test), then the others by name."""
    files = sorted(data_dir.glob("*.jsonl*"))
    return sorted(files, key=lambda path: (path.name != OFFICIAL_TEST_FILE, path.name))


def build_bundle(data_dir: Path, out_dir: Path) -> dict:
    """Write train/validation/test and manifest.json into out_dir; returns the manifest."""
    official = data_dir / OFFICIAL_TEST_FILE
    test_rows = []
    for row, item in iter_numbered_items(official):
        if row >= TEST_ROWS:
            break
        test_rows.append((row, item))
    test = [item for _, item in test_rows]
    index = _TestTitleIndex([item.title for item in test])

    seen_titles: set[str] = set()
    kept: dict[str, list[tuple[Item, str, int]]] = {"train": [], "validation": []}
    counts: dict[str, dict[str, int]] = {}
    for path in source_order(data_dir):
        report = ReadReport(str(path), "?")
        file_counts = {"test-leak": 0, "duplicate-title": 0}
        for row, item in iter_numbered_items(path, report=report):
            if path == official and row < TEST_ROWS:
                continue
            if index.leaks(item.title):
                file_counts["test-leak"] += 1
                continue
            key = normalise_title(item.title)
            if key in seen_titles:
                file_counts["duplicate-title"] += 1
                continue
            seen_titles.add(key)
            split = "validation" if is_validation(item.title) else "train"
            kept[split].append((item, path.name, row))
        file_counts.update(dict(report.dropped))
        file_counts["rows"] = report.rows
        file_counts["kept"] = report.kept - file_counts["test-leak"] - file_counts["duplicate-title"]
        counts[path.name] = file_counts

    out_dir.mkdir(parents=True, exist_ok=True)
    file_names = list(counts)
    manifest: dict = {"name": BUNDLE_NAME, "files": counts, "splits": {}}
    split_rows = {"test": [(item, OFFICIAL_TEST_FILE, row) for row, item in test_rows], **kept}
    for split, rows in split_rows.items():
        items = [item for item, _, _ in rows]
        path = out_dir / f"{split}.jsonl.gz"
        write_items(path, items)
        manifest["splits"][split] = {
            "count": len(items),
            "ids_sha256": ids_sha256(items),
            "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "rows_are": "[index into files, data row in that file]",
            "rows": [[file_names.index(source), row] for _, source, row in rows],
        }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, separators=(",", ":")) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="folder of source files")
    parser.add_argument("--out", type=Path, default=bundle_dir(), help="where the bundle is written")
    args = parser.parse_args()
    manifest = build_bundle(args.data, args.out)
    for name, counts in manifest["files"].items():
        print(f"{name}: {counts}")
    for split, info in manifest["splits"].items():
        print(f"{split}: {info['count']} items, ids sha256 {info['ids_sha256'][:12]}")


if __name__ == "__main__":
    main()
