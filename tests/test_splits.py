import hashlib

from pricer_core.data.bundle_recipe import build_bundle, is_validation
from pricer_core.data.splits import ids_sha256
from pricer_core.data.loading import bundle_dir, load_bundle, load_manifest
from pricer_core.data.text import normalise_title


def test_bundle_shape_and_manifest_match_files():
    splits = load_bundle()
    manifest = load_manifest()
    assert splits.sizes() == {name: manifest["splits"][name]["count"] for name in ("train", "validation", "test")}
    assert len(splits.test) == 250 and len(splits.train) > 12000
    for name in ("train", "validation", "test"):
        assert ids_sha256(getattr(splits, name)) == manifest["splits"][name]["ids_sha256"]
        data = (bundle_dir() / f"{name}.jsonl.gz").read_bytes()
        assert hashlib.sha256(data).hexdigest() == manifest["splits"][name]["file_sha256"]


def test_no_test_title_leaks_and_no_answer_in_text():
    splits = load_bundle()
    test_titles = {normalise_title(item.title) for item in splits.test}
    training = splits.train + splits.validation
    assert not test_titles & {normalise_title(item.title) for item in training}
    assert len({normalise_title(item.title) for item in training}) == len(training)
    assert all("Price is $" not in item.full for item in training + splits.test)


def test_validation_is_the_fixed_hash_bucket():
    splits = load_bundle()
    assert all(is_validation(item.title) for item in splits.validation)
    assert not any(is_validation(item.title) for item in splits.train)


def test_test_split_is_official_file_order(shared_data):
    from pricer_core.data.readers import read_items

    official, _ = read_items(shared_data / "llm_engineering_official_test_2000.jsonl.gz")
    assert [item.id for item in load_bundle().test] == [item.id for item in official[:250]]


def test_recipe_rebuilds_identical_bundle(tmp_path, shared_data):
    manifest = build_bundle(shared_data, tmp_path)
    for name in ("train", "validation", "test"):
        assert (tmp_path / f"{name}.jsonl.gz").read_bytes() == (bundle_dir() / f"{name}.jsonl.gz").read_bytes()
    assert manifest == load_manifest()
