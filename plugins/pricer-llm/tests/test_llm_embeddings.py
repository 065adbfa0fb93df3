import base64

import numpy as np
import pytest

pytest.importorskip("sentence_transformers", reason="MiniLM ships in the embeddings extra")

from pricer_core.item import Item  # noqa: E402
from pricer_llm import embeddings  # noqa: E402
from pricer_llm.cache import ReplyCache  # noqa: E402


def items(*titles: str) -> list[Item]:
    return [Item(id=str(index), title=title) for index, title in enumerate(titles)]


def key(text: str) -> str:
    return ReplyCache.key(embeddings._cache_identity(), None, {"embed": text})


def test_cached_vectors_are_the_encoders_and_each_text_is_encoded_once(tmp_path, monkeypatch):
    batches = []
    real = embeddings.embed
    monkeypatch.setattr(embeddings, "embed", lambda given, **kw: batches.append(len(given)) or real(given, **kw))
    wanted = items("a cordless drill", "a silk scarf", "a cordless drill")
    vectors = embeddings.embed_cached(wanted, tmp_path / "e.sqlite")
    assert batches == [2]  # the repeated title once
    assert np.allclose(vectors, real(wanted), atol=1e-5)
    assert np.array_equal(embeddings.embed_cached(wanted, tmp_path / "e.sqlite"), vectors)
    assert batches == [2]  # all from the cache


@pytest.mark.parametrize(
    "stored",
    [
        "not base64 at all!",
        base64.b64encode(np.zeros(10, dtype=np.float32).tobytes()).decode(),
        base64.b64encode(np.full(embeddings.DIMENSIONS, np.nan, dtype=np.float32).tobytes()).decode(),
        base64.b64encode(np.full(embeddings.DIMENSIONS, 1e30, dtype=np.float32).tobytes()).decode(),  # the encoder's are unit length
    ],
)
def test_a_crafted_or_short_cache_entry_is_encoded_again_not_served(tmp_path, stored):
    cache_path = tmp_path / "e.sqlite"
    ReplyCache(cache_path).put(key("a desk lamp"), {"text": stored})
    vector = embeddings.embed_cached(items("a desk lamp"), cache_path)[0]
    assert np.isfinite(vector).all() and abs(np.linalg.norm(vector) - 1) < 1e-4
    assert embeddings._decoded(ReplyCache(cache_path).get(key("a desk lamp"))) is not None  # replaced


def test_a_vector_is_never_served_for_another_text(tmp_path):
    cache_path = tmp_path / "e.sqlite"
    planted = np.full(embeddings.DIMENSIONS, embeddings.DIMENSIONS**-0.5, dtype=np.float32)  # unit length, no text's vector
    ReplyCache(cache_path).put(key("a desk lamp"), {"text": base64.b64encode(planted.tobytes()).decode()})
    assert np.array_equal(embeddings.embed_cached(items("a desk lamp"), cache_path)[0], planted)  # its own key
    assert not np.array_equal(embeddings.embed_cached(items("a desk lamp."), cache_path)[0], planted)


def test_an_unusable_cache_location_encodes_without_it(tmp_path, caplog):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")
    vectors = embeddings.embed_cached(items("a desk lamp"), in_the_way / "e.sqlite")
    assert np.allclose(vectors, embeddings.embed(items("a desk lamp")), atol=1e-5)
    assert "embedding cache" in caplog.text and "encoding without it" in caplog.text


def test_no_items_no_vectors(tmp_path):
    assert embeddings.embed_cached([], tmp_path / "e.sqlite").shape == (0, embeddings.DIMENSIONS)


def test_a_run_interrupted_mid_way_keeps_the_chunks_it_committed(tmp_path, monkeypatch):
    """Ctrl-C (or a kill) in the third chunk: the first two chunks' vectors are served next time, not re-encoded."""
    real, calls = embeddings.embed, []

    def interrupted_on_the_third_chunk(given, **kw):
        calls.append(len(given))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(given, **kw)

    monkeypatch.setattr(embeddings, "embed", interrupted_on_the_third_chunk)
    wanted = items(*[f"a {colour} cotton shirt, size {size}" for colour in ("red", "blue", "green") for size in range(3)])
    with pytest.raises(KeyboardInterrupt):
        embeddings.embed_cached(wanted, tmp_path / "e.sqlite", chunk_size=2)
    calls.clear()
    monkeypatch.setattr(embeddings, "embed", lambda given, **kw: calls.append(len(given)) or real(given, **kw))
    vectors = embeddings.embed_cached(wanted, tmp_path / "e.sqlite", chunk_size=2)
    assert sum(calls) == len(wanted) - 4  # the two committed chunks were kept
    assert np.allclose(vectors, real(wanted), atol=1e-5)


@pytest.mark.parametrize("chunk_size", [0, -3, 2.5, True])
def test_a_chunk_size_that_is_no_positive_whole_number_is_one_clear_error(tmp_path, chunk_size):
    with pytest.raises(ValueError, match="chunk_size must be a positive whole number"):
        embeddings.embed_cached(items("a desk lamp"), tmp_path / "e.sqlite", chunk_size=chunk_size)
