import gzip
import json

import pytest

from pricer_core.data.cleaning import DroppedRow, clean_raw_row
from pricer_core.curation.raw_json import RAW_FIELDS, RawRowParser, has_null_price

RAW_FILES = [
    "amazon2023_raw_meta_Health_and_Personal_Care_sample_1714.jsonl.gz",
    "amazon2023_raw_meta_Health_and_Personal_Care_sample_1001_older.jsonl.gz",
]


@pytest.mark.parametrize(
    "line, expected",
    [
        (b'{"title": "x", "price": null, "images": []}', True),
        (b'{"title": "x", "price":null}', True),
        (b'{"title": "x", "price": "12.00"}', False),
        (b'{"details": {"price": null}, "price": 3.5}', False),  # two price keys: parse to be sure
        (b'{"title": "x", "description": ["the price: null is fine"], "price": 3}', False),
        (b'{"title": "x"}', False),  # no price key at all: parsed, so a malformed line is still reported
    ],
)
def test_null_price_fast_path_is_exact(line, expected):
    assert has_null_price(line) is expected
    if expected:
        with pytest.raises(DroppedRow, match="no price"):
            clean_raw_row(json.loads(line), "s", 0)


def test_parser_gives_the_same_fields_as_a_full_parse(shared_data):
    parser = RawRowParser()
    lines = [line for name in RAW_FILES for line in gzip.open(shared_data / name, "rb") if line.strip()]
    assert len(lines) == 2715
    for line in lines:
        row = json.loads(line)
        assert parser.parse(line) == {key: row.get(key) for key in RAW_FIELDS}


@pytest.mark.parametrize(
    "line, message",
    [
        (b'{"title": "broken", "price": 3', "TAPE_ERROR|Expecting|unexpected"),
        (b"[1, 2]", "not a JSON object"),
        (b'"text"', "not a JSON object"),
        (b'{"title": "\xff"}', "UTF-8|utf-8"),
    ],
)
def test_unusable_lines_raise_value_error_and_the_parser_goes_on(line, message):
    parser = RawRowParser()
    with pytest.raises(ValueError, match=message):
        parser.parse(line)
    assert parser.parse(b'{"title": "ok", "price": "$3.00", "details": {"a": [1]}}')["details"] == {"a": [1]}


def test_without_simdjson_the_standard_library_gives_the_same_fields(shared_data, monkeypatch):
    import sys

    line = next(line for line in gzip.open(shared_data / RAW_FILES[0], "rb") if b'"price": null' not in line)
    lazy = RawRowParser().parse(line)
    monkeypatch.setitem(sys.modules, "simdjson", None)  # import simdjson now raises ImportError
    fallback = RawRowParser()
    assert fallback._simdjson is None
    assert fallback.parse(line) == lazy
    with pytest.raises(ValueError, match="not a JSON object"):
        fallback.parse(b"[1]")
