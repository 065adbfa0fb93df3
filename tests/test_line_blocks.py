import gzip

from pricer_core.line_blocks import open_binary, read_blocks


def test_blocks_end_at_line_breaks_and_rebuild_the_file(tmp_path):
    lines = [f'{{"n": {index}, "pad": "{"x" * (index % 37)}"}}' for index in range(500)]
    text = ("\n".join(lines)).encode()  # no final newline
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(gzip.compress(text))
    blocks = list(read_blocks(path, block_bytes=1000))
    assert len(blocks) > 10
    assert all(block.data.endswith(b"\n") for block in blocks[:-1])
    assert b"".join(block.data for block in blocks) == text


def test_a_line_longer_than_a_block_stays_whole(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b"short\n" + b"y" * 5000 + b"\nend\n")
    blocks = [block.data for block in read_blocks(path, block_bytes=1000)]
    assert blocks == [b"short\n", b"y" * 5000 + b"\nend\n"]


def test_gzip_is_told_by_content_not_name(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(gzip.compress(b"a\nb\n"))
    with open_binary(path) as handle:
        assert handle.read() == b"a\nb\n"


def test_without_isal_the_standard_gzip_reads_the_same_blocks(tmp_path, monkeypatch):
    import sys

    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(b'{"n": %d}\n' % index for index in range(300))))
    fast = [block.data for block in read_blocks(path, block_bytes=500)]
    monkeypatch.setitem(sys.modules, "isal", None)
    with open_binary(path) as handle:
        assert type(handle).__module__ == "gzip"
    assert [block.data for block in read_blocks(path, block_bytes=500)] == fast
