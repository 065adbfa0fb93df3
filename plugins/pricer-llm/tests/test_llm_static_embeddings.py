"""The static MiniLM table: distilled once from the packaged weights, read back, refused when damaged."""

import importlib.util
import logging

import numpy as np
import pytest

from pricer_core.item import Item

pytestmark = pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None, reason="needs pricer-llm[embeddings]")


@pytest.fixture
def static():
    from pricer_llm import static_embeddings

    static_embeddings.vocabulary_table.cache_clear()
    yield static_embeddings
    static_embeddings.vocabulary_table.cache_clear()


def items(*titles: str) -> list[Item]:
    return [Item(id=str(number), title=title) for number, title in enumerate(titles)]


def test_titles_that_mean_the_same_land_closer_than_unrelated_ones(static):
    drill, driver, towel = static.embed_static(items("cordless power drill", "impact driver tool kit", "cotton bath towel set"))
    assert abs(float(np.linalg.norm(drill)) - 1.0) < 1e-5
    assert float(drill @ driver) > float(drill @ towel) + 0.05


def test_the_table_is_distilled_once_then_read_from_its_file(static, monkeypatch):
    first = static.embed_static(items("stainless espresso machine", "usb c cable"))
    path = static._table_path()
    assert path.is_file()
    static.vocabulary_table.cache_clear()
    monkeypatch.setattr(static, "distil", lambda: pytest.fail("the cached table should have been read"))
    assert np.array_equal(static.embed_static(items("stainless espresso machine", "usb c cable")), first)


def test_a_text_with_no_token_is_zeros_not_nan(static):
    vectors = static.embed_static(items("", "guitar strings"))
    assert not vectors[0].any() and np.isfinite(vectors).all()


@pytest.mark.parametrize("damage", ["wrong shape", "wrong dtype", "header promises more", "not an array", "a zip archive"])
def test_a_damaged_table_is_distilled_again_with_a_warning(static, monkeypatch, tmp_path, caplog, damage):
    monkeypatch.setenv("PRICER_STATIC_TABLES", str(tmp_path))
    path, rows = static._table_path(), static._tokenizer().get_vocab_size()
    if damage == "wrong shape":
        np.save(path, np.zeros((rows, 8), dtype=np.float32))
    elif damage == "wrong dtype":
        np.save(path, np.zeros((rows, 384), dtype=np.float64))
    elif damage == "header promises more":
        np.save(path, np.zeros((rows, 384), dtype=np.float32))
        path.write_bytes(path.read_bytes()[: 4096])  # a header for 47 MB, 4 KB behind it
    elif damage == "a zip archive":
        with path.open("wb") as handle:
            np.savez(handle, table=np.zeros((rows, 384), dtype=np.float32))
    else:
        path.write_bytes(b"\x93NUMPY garbage" * 10)
    replacement = np.full((rows, 384), 0.5, dtype=np.float32)
    monkeypatch.setattr(static, "distil", lambda: replacement)  # the reading is under test; a real distil is the test above
    with caplog.at_level(logging.WARNING):
        table = static.vocabulary_table()
    assert np.array_equal(table, replacement)
    assert any("distilling again" in record.message for record in caplog.records)
    assert np.array_equal(np.load(path), replacement)  # the damaged file was replaced, whole
