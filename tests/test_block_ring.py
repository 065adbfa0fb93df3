import io

import pytest

from pricer_core.curation.block_ring import BlockRing


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


def whole_blocks(ring: BlockRing, handle) -> list[bytes]:
    """Every block of a file, each slot released as soon as it is read."""
    blocks = []
    for block in ring.blocks(handle):
        if isinstance(block, bytes):
            blocks.append(block)
        else:
            blocks.append(ring.read(block))
            ring.release(block.slot)
    return blocks


def test_blocks_end_at_line_breaks_and_rebuild_the_file():
    lines = [f'{{"n": {index}, "pad": "{"x" * (index % 37)}"}}' for index in range(500)]
    text = ("\n".join(lines)).encode()  # no final newline
    blocks = whole_blocks(BlockRing(slots=1, slot_bytes=1000), io.BytesIO(text))
    assert len(blocks) > 10
    assert all(block.endswith(b"\n") for block in blocks[:-1])
    assert b"".join(blocks) == text


def test_a_line_longer_than_a_slot_comes_whole_as_bytes():
    blocks = whole_blocks(BlockRing(slots=1, slot_bytes=1000), io.BytesIO(b"short\n" + b"y" * 5000 + b"\nend\n"))
    assert blocks == [b"short\n", b"y" * 5000 + b"\n", b"end\n"]
