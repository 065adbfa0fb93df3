import pytest

from pricer_core.data.hub import from_hub, load_local, push_to_hub, save_local, save_splits
from pricer_core.data.splits import Splits
from pricer_core.data.loading import load_bundle, load_split_dir


def test_local_folder_round_trip_gives_identical_items(tmp_path):
    bundle = load_bundle()
    splits = Splits("small", bundle.train[:40], bundle.validation[:10], bundle.test[:10])
    save_local(tmp_path / "ds", splits)
    again = load_local(tmp_path / "ds")
    assert (again.train, again.validation, again.test) == (splits.train, splits.validation, splits.test)
    assert load_split_dir(tmp_path / "ds").test == splits.test


def test_push_to_hub_and_from_hub_use_the_same_code_for_folders(tmp_path):
    bundle = load_bundle()
    target = str(tmp_path / "pushed")
    with pytest.warns(FutureWarning, match="saves to a local folder; call save_splits"):
        push_to_hub(target, bundle.train[:5], bundle.validation[:5], bundle.test[:5])
    assert from_hub(target).train == bundle.train[:5]


def test_save_splits_writes_a_folder_that_load_splits_reads(tmp_path):
    from pricer_core.data.loading import load_splits

    bundle = load_bundle()
    splits = Splits("mine", bundle.train[:6], bundle.validation[:3], bundle.test[:3])
    save_splits(tmp_path / "mine", splits)
    again = load_splits(str(tmp_path / "mine"))
    assert (again.train, again.validation, again.test) == (splits.train, splits.validation, splits.test)


def test_hub_id_offline_fails_fast(monkeypatch):
    import pytest

    import datasets
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(Exception, match="(?i)offline|connect|couldn't find|not found"):
        from_hub("someone/not-a-local-folder")


@pytest.mark.parametrize(
    "name, hub",
    [("user/dataset", True), ("out/splits", True), ("data/splits", False), ("mysplits", False), ("./user/dataset", False), ("a/b/c", False), ("user/file.jsonl", False)],
)
def test_a_hub_id_is_user_slash_name_and_anything_else_is_a_folder(name, hub, tmp_path, monkeypatch):
    from pricer_core.data.hub import is_hub_id

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()  # `data/splits` is then a folder to write, not a hub id
    assert is_hub_id(name) is hub


def test_save_splits_never_uploads_a_path_or_a_plain_folder_name(tmp_path, monkeypatch):
    from pathlib import Path

    import datasets

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(datasets.DatasetDict, "push_to_hub", lambda *_, **__: pytest.fail("would have uploaded"))  # no network here either way
    bundle = load_bundle()
    splits = Splits("s", bundle.train[:2], bundle.validation[:1], bundle.test[:1])
    for destination in ("mysplits", tmp_path / "out" / "splits"):
        save_splits(destination, splits)
        assert load_local(destination).train == splits.train
