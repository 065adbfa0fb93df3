import io

import pytest

from pricer_core.block_ring import BlockRing


def test_fill_keeps_whole_lines_and_returns_the_partial_one():
    ring = BlockRing(slots=2, slot_bytes=10)
    ref, leftover, at_end = ring.fill(io.BytesIO(b"abc\ndefg\nhijkl\n"), b"")
    assert ring.read(ref) == b"abc\ndefg\n" and leftover == b"h" and not at_end


def test_fill_starts_with_the_leftover_and_reports_the_end():
    ring = BlockRing(slots=2, slot_bytes=10)
    handle = io.BytesIO(b"abc\ndefg\nhijkl\nmn")
    first, leftover, _ = ring.fill(handle, b"")
    second, leftover, at_end = ring.fill(handle, leftover)
    assert ring.read(second) == b"hijkl\nmn" and leftover == b"" and at_end
    assert not ring.has_free_slot()
    ring.release(first.slot)
    assert ring.has_free_slot()


def test_a_line_longer_than_a_slot_comes_back_whole_without_a_slot():
    ring = BlockRing(slots=1, slot_bytes=4)
    handle = io.BytesIO(b"abcdefgh\nxy\n")
    ref, leftover, at_end = ring.fill(handle, b"")
    assert ref is None and leftover == b"abcd" and not at_end and ring.has_free_slot()
    assert leftover + handle.readline() == b"abcdefgh\n"


def test_an_empty_read_gives_no_block():
    ring = BlockRing(slots=1, slot_bytes=4)
    assert ring.fill(io.BytesIO(b""), b"") == (None, b"", True)
    with pytest.raises(ValueError):
        BlockRing(slots=0, slot_bytes=4)
