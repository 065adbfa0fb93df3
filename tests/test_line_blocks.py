import gzip

from pricer_core.curation.line_blocks import open_binary


def test_gzip_is_told_by_content_not_name(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(gzip.compress(b"a\nb\n"))
    with open_binary(path) as handle:
        assert handle.read() == b"a\nb\n"


def test_without_isal_the_standard_gzip_reads_the_same_bytes(tmp_path, monkeypatch):
    import sys

    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(b'{"n": %d}\n' % index for index in range(300))))
    with open_binary(path) as handle:
        fast = handle.read()
    monkeypatch.setitem(sys.modules, "isal", None)
    with open_binary(path) as handle:
        assert type(handle).__module__ == "gzip"
        assert handle.read() == fast
