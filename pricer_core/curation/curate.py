"""`curate(...)`: the whole pipeline of `pricer curate` (clean, dedupe, sample, write), callable from Python.

Cleaning at scale is `parallel_clean.py`; dedupe, sampling and writing splits are `sampling.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pricer_core.curation.parallel_clean import HUB_REPO, clean_files, clean_hub_category
from pricer_core.curation.sampling import build_splits, dedupe, sampleable, scaled_sizes
from pricer_core.curation.sampling import lite as _lite  # `curate`'s parameter of the same name hides the function
from pricer_core.data.readers import DataError, ReadReport

SEED_CATEGORIES = (
    "Automotive",
    "Electronics",
    "Office_Products",
    "Tools_and_Home_Improvement",
    "Cell_Phones_and_Accessories",
    "Toys_and_Games",
    "Appliances",
    "Musical_Instruments",
)

@dataclass
class CurateReport:
    """What `curate` read, kept and wrote."""

    reports: list[tuple[str, ReadReport]]  # (files or category, its counts)
    cleaned: int = 0  # items that survived cleaning
    unique: int = 0  # after dedupe
    asked: tuple[int, int, int] = (0, 0, 0)  # train/validation/test sizes asked for
    sizes: dict[str, int] = field(default_factory=dict)  # what was written
    out: Path | None = None
    lite_out: Path | None = None
    pushed: str | None = None

    @property
    def rows(self) -> int:
        return sum(report.rows for _, report in self.reports)

    @property
    def kept(self) -> int:
        return sum(report.kept for _, report in self.reports)

    @property
    def dropped(self) -> Counter[str]:
        return sum((report.dropped for _, report in self.reports), Counter())


def lite_folder(out: str | Path) -> Path:
    """OUT-lite, beside OUT."""
    out = Path(out)
    return out.with_name(f"{out.name}-lite")


def curate(
    files: Sequence[str | Path] = (),
    categories: Sequence[str] = (),
    *,
    out: str | Path,
    repo: str = HUB_REPO,
    train: int = 800_000,
    validation: int = 10_000,
    test: int = 10_000,
    seed: int = 42,
    workers: int | None = None,
    lite: bool = False,
    force: bool = False,
    push: str | None = None,
    progress: bool = True,
    echo: Callable[[str], Any] = print,
) -> CurateReport:
    """Clean raw files and/or hub categories, dedupe, sample by price and write OUT (and OUT-lite).

    Asking for more items than can be sampled takes all of them in the proportions asked for, and
    says so in one `echo` line. Nothing is written unless every step succeeds; the intermediate
    Arrow files live in a pricer-curate-* temporary folder that is removed on every exit path.
    Bad input raises DataError, a refused `out` OutputError (both ValueErrors, one line each).
    """
    import tempfile

    from pricer_core.storage.atomic import check_output

    if not files and not categories:
        raise ValueError("give raw files or categories to curate")
    check_output(out, force, "curated dataset")  # before the work: a refused folder costs nothing
    lite_out = lite_folder(out) if lite else None
    if lite_out is not None:
        check_output(lite_out, force, "curated dataset (lite)")
    asked = (train, validation, test)
    if min(asked) < 0 or not sum(asked):
        raise ValueError(f"split sizes must be >= 0 and not all 0, got {train}/{validation}/{test}")
    result = CurateReport(reports=[], asked=asked)
    with tempfile.TemporaryDirectory(prefix="pricer-curate-") as work:
        parts = _clean_sources(files, categories, repo, workers, work, progress, result, echo)
        from datasets import concatenate_datasets

        combined = concatenate_datasets(parts) if len(parts) > 1 else parts[0]
        unique = dedupe(combined)
        result.unique = len(unique)
        echo(f"{len(unique)} items after removing duplicate titles and texts ({len(combined) - len(unique)} removed)")
        splits = build_splits(unique, *_sizes_to_take(unique, asked, echo), seed=seed)
        _write_splits(splits, out, lite_out, force, result, echo)
        if push:
            splits.push_to_hub(push, private=True)
            result.pushed = push
            echo(f"pushed to {push}")
    return result


def _clean_sources(files, categories, repo: str, workers: int | None, work: str, progress: bool, result: CurateReport, echo) -> list:
    """Cleaned datasets of the raw files and each hub category, their reports echoed; DataError if none kept anything."""
    parts = []
    if files:
        dataset, report = clean_files(list(files), workers=workers, cache_dir=work, progress=progress)
        parts.append(dataset)
        result.reports.append(("files", report))
    for category in categories:
        dataset, report = clean_hub_category(category, workers=workers, repo=repo)
        parts.append(dataset)
        result.reports.append((category, report))
    for name, report in result.reports:
        echo(f"{name}: {report.summary()}")
        for problem in report.problems[:10]:
            echo(f"  {problem}")
    result.cleaned = sum(len(part) for part in parts)
    if not result.cleaned:
        summaries = " | ".join(f"{name}: {report.summary()}" for name, report in result.reports)
        raise DataError(f"no usable items in the input ({summaries})")
    return parts


def _sizes_to_take(unique, asked: tuple[int, int, int], echo) -> tuple[int, int, int]:
    """The sizes asked for, or all there is in their proportions, said in one line."""
    available = sampleable(unique)
    sizes = scaled_sizes(available, *asked)
    if sizes != asked:
        echo(
            f"warning: only {available} items can be sampled (non-zero price weight), fewer than the "
            f"{sum(asked)} asked for: taking {sizes[0]}/{sizes[1]}/{sizes[2]} (train/validation/test), "
            "in the proportions asked for"
        )
    return sizes


def _write_splits(splits, out, lite_out: Path | None, force: bool, result: CurateReport, echo) -> None:
    """OUT (and OUT-lite) swapped in together, only over folders pricer wrote unless `force`."""
    from pricer_core.storage.atomic import output_folder

    small = _lite(splits) if lite_out is not None else None
    with output_folder(out, force, kind="curated dataset") as staging:
        with (output_folder(lite_out, force, kind="curated dataset (lite)") if small is not None else nullcontext()) as lite_staging:
            splits.save_to_disk(str(staging))
            if small is not None:
                small.save_to_disk(str(lite_staging))
    result.sizes = {name: len(split) for name, split in splits.items()}
    result.out = Path(out)
    echo(f"wrote {out}: " + ", ".join(f"{name} {size}" for name, size in result.sizes.items()))
    if small is not None:
        result.lite_out = lite_out
        echo(f"wrote {lite_out}: " + ", ".join(f"{name} {len(split)}" for name, split in small.items()))
