"""Round-trip splits through `datasets.DatasetDict`: a local folder or the Hugging Face hub, one code path."""

from __future__ import annotations

from pathlib import Path

from pricer_core.item import Item
from pricer_core.data.splits import SPLIT_NAMES, Splits

ITEM_FIELDS = tuple(Item.model_fields)


def item_features():
    """The Arrow schema of an Item: one column per field, None as null."""
    from datasets import Features, Value

    return Features(
        {
            "id": Value("string"),
            "title": Value("string"),
            "category": Value("string"),
            "price": Value("float64"),
            "full": Value("string"),
            "weight": Value("float64"),
            "summary": Value("string"),
            "source": Value("string"),
        }
    )


def to_dataset_dict(train: list[Item], validation: list[Item], test: list[Item]):
    """Columns in Item field order; None stays None (Arrow nulls)."""
    from datasets import Dataset, DatasetDict

    features = item_features()

    def dataset(items: list[Item]):
        columns = {name: [getattr(item, name) for item in items] for name in ITEM_FIELDS}
        return Dataset.from_dict(columns, features=features)

    return DatasetDict({"train": dataset(train), "validation": dataset(validation), "test": dataset(test)})


def from_dataset_dict(dataset_dict, name: str) -> Splits:
    """Items of every split; a row that is not an Item is a DataError naming split, row and field."""
    from pydantic import ValidationError

    from pricer_core.data.readers import DataError

    splits = {}
    for split in SPLIT_NAMES:
        rows = dataset_dict[split].to_list() if split in dataset_dict else []
        items = []
        for row_number, row in enumerate(rows):
            try:
                items.append(Item.model_validate(row))
            except ValidationError as error:
                first = error.errors()[0]
                field = ".".join(map(str, first["loc"])) or "row"
                raise DataError(f"{name}: split {split}, row {row_number}: field {field}: {first['msg']}") from None
        splits[split] = items
    return Splits(name=name, **splits)


def write_dataset_dict(dataset_dict, folder: str | Path, force: bool = False) -> None:
    """save_to_disk into a staging folder, then swap it in: a killed run never leaves half a dataset,
    and a folder holding files pricer did not write is refused unless `force` (OutputError)."""
    from pricer_core.storage.atomic import output_folder

    with output_folder(folder, force, kind="dataset") as staging:
        dataset_dict.save_to_disk(str(staging))


def save_local(directory: str | Path, splits: Splits, force: bool = False) -> None:
    """The splits as a DatasetDict folder that `load_splits` and `pricer-bench --data` read."""
    write_dataset_dict(to_dataset_dict(splits.train, splits.validation, splits.test), directory, force)


def load_local(directory: str | Path) -> Splits:
    from datasets import load_from_disk

    from pricer_core.data.readers import DataError
    from pricer_core.errors import one_line

    try:
        saved = load_from_disk(str(directory))
    except Exception as error:  # a truncated arrow file or a broken dataset_dict.json: name the folder
        raise DataError(f"{directory}: not a readable DatasetDict ({one_line(error, 160)})") from None
    return from_dataset_dict(saved, Path(directory).name)


def save_splits(destination: str | Path, splits: Splits, private: bool = True, token: str | None = None, force: bool = False) -> None:
    """Write the splits where `load_splits` reads them: a hub dataset id (`user/name`, `is_hub_id`), else a local folder."""
    if not is_hub_id(destination):
        save_local(destination, splits, force)
    else:
        to_dataset_dict(splits.train, splits.validation, splits.test).push_to_hub(destination, private=private, token=token)


def push_to_hub(name: str, train: list[Item], validation: list[Item], test: list[Item], private: bool = True, token: str | None = None, force: bool = False) -> None:
    """Upload the three splits as a hub dataset repo. A folder path still saves there, with a
    FutureWarning: `save_splits` is the name for "a folder or the hub"."""
    if not is_hub_id(name):
        import warnings

        warnings.warn(f"push_to_hub({name!r}) saves to a local folder; call save_splits or save_local for that", FutureWarning, stacklevel=2)
    save_splits(name, Splits(Path(name).name, train, validation, test), private, token, force)


def from_hub(name: str) -> Splits:
    """Splits from a hub dataset id, or from a folder written by `save_splits`/`save_local`."""
    if Path(name).is_dir():
        return load_local(name)
    from datasets import load_dataset

    return from_dataset_dict(load_dataset(name), name)


def is_hub_id(name: str | Path) -> bool:
    """A hub dataset id is `user/name`: one slash, no leading `.`, `/` or `~`, not a file's name, not
    an existing path nor inside an existing folder. Anything else is a local folder (to write) or an
    error (to read)."""
    text = str(name)
    return (
        not isinstance(name, Path)
        and not text.startswith((".", "/", "~"))
        and text.count("/") == 1
        and not text.endswith((".gz", ".jsonl", ".json", ".parquet"))
        and not Path(text).exists()
        and not Path(text).parent.exists()  # `data/splits` beside an existing `data/` is a folder to write
    )
