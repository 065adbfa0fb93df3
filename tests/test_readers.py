import gzip
import json

import pytest

from pricer_core.data.readers import DataError, read_items, write_items

EXPECTED = {
    # file: (format, rows, kept, dropped by reason)
    "amazon2023_raw_meta_Health_and_Personal_Care_sample_1001_older.jsonl.gz": ("raw", 1001, 143, {"no price": 791, "too short": 67}),
    "amazon2023_raw_meta_Health_and_Personal_Care_sample_1714.jsonl.gz": ("raw", 1714, 131, {"no price": 1475, "too short": 108}),
    "llm_engineering_finetune_jsonl_text_price_extracted.jsonl.gz": ("finetune", 4037, 4037, {}),
    "llm_engineering_official_test_2000.jsonl.gz": ("course", 2000, 2000, {}),
    "student_test_hamzabaccouri_5cat_2137.jsonl.gz": ("course", 2137, 2137, {}),
    "student_test_lite_adityasolanki205_v1_2000.jsonl.gz": ("course", 2000, 2000, {}),
    "student_test_lite_adityasolanki205_v2_2000.jsonl.gz": ("course", 2000, 2000, {}),
    "student_test_lite_hamzabaccouri_software_2927.jsonl.gz": ("course", 2927, 2927, {}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_shared_file_reads_with_expected_counts(shared_data, name):
    items, report = read_items(shared_data / name)
    fmt, rows, kept, dropped = EXPECTED[name]
    assert (report.format, report.rows, report.kept, dict(report.dropped)) == (fmt, rows, kept, dropped)
    assert len(items) == kept
    assert all(item.price is not None and 0.5 <= item.price <= 999.49 for item in items)


def test_course_prompt_loses_question_and_answer(shared_data):
    items, _ = read_items(shared_data / "llm_engineering_official_test_2000.jsonl.gz")
    first = items[0]
    assert first.title.startswith("OEM AC Compressor")
    assert first.category == "Automotive" and first.price == 374.41 and first.weight == pytest.approx(19.3)
    assert "Price is $" not in first.full and "How much does this cost" not in first.full
    assert all("Price is $" not in item.full for item in items)


def test_finetune_formats_parse_title_and_summary(shared_data):
    items, _ = read_items(shared_data / "llm_engineering_finetune_jsonl_text_price_extracted.jsonl.gz")
    summary_item = items[0]
    assert summary_item.title == "Schlage F59 & 613 Andover Interior Knob (Deadbolt Included)"
    assert summary_item.summary.splitlines()[0].startswith("Title: Schlage")
    assert [line.split(":")[0] for line in summary_item.summary.splitlines()] == ["Title", "Category", "Brand", "Description", "Details"]
    expert = next(item for item in items if item.weight is not None)
    assert expert.weight > 0
    assert not any(item.full.startswith(("Estimate the", "You are a", "Below are")) for item in items)


def write_lines(path, lines):
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")


def test_malformed_line_is_counted_with_file_and_line(tmp_path):
    good = {"title": "Drill", "category": "Tools", "price": 20.0, "details": "{}", "prompt": "How much does this cost to the nearest dollar?\n\nDrill\nA cordless drill with two speeds\n\nPrice is $20.00"}
    path = tmp_path / "items.jsonl.gz"
    write_lines(path, [json.dumps(good), "{broken", "", json.dumps({**good, "price": None})])
    items, report = read_items(path)
    assert len(items) == 1
    assert report.dropped == {"bad JSON": 1, "no price": 1}
    assert report.problems[0].startswith(f"{path}:2: bad JSON")
    with pytest.raises(DataError, match=r"items.jsonl.gz:2: bad JSON"):
        read_items(path, strict=True)


def test_invalid_pricer_row_names_the_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "a", "title": "t", "full": "x", "price": -3}) + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl:1: field price"):
        read_items(path, strict=True)


def test_write_then_read_round_trip_is_identical_and_deterministic(tmp_path, shared_data):
    items, _ = read_items(shared_data / "student_test_lite_hamzabaccouri_software_2927.jsonl.gz")
    write_items(tmp_path / "a.jsonl.gz", items[:50])
    write_items(tmp_path / "b.jsonl.gz", items[:50])
    again, report = read_items(tmp_path / "a.jsonl.gz")
    assert report.format == "pricer" and again == items[:50]
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_missing_file_and_unknown_format_are_clear(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_items(tmp_path / "nope.jsonl")
    path = tmp_path / "odd.jsonl"
    path.write_text('{"colour": "red"}\n')
    with pytest.raises(DataError, match=r"odd.jsonl:1: unknown row format"):
        read_items(path)


COURSE_ROW = {"title": "Drill", "category": "Tools", "price": 20.0, "details": "{}", "prompt": "How much does this cost to the nearest dollar?\n\nDrill\nA cordless drill with two speeds\n\nPrice is $20.00"}


def test_bytes_that_are_not_utf8_drop_that_row_only(tmp_path):
    path = tmp_path / "latin1.jsonl"
    bad = json.dumps({**COURSE_ROW, "title": "Perceuse \u00e9lectrique"}, ensure_ascii=False).encode("latin-1")  # é as one byte 0xE9
    path.write_bytes(b"\n".join([json.dumps(COURSE_ROW).encode(), bad, json.dumps(COURSE_ROW).encode()]) + b"\n")
    items, report = read_items(path)
    assert (report.rows, report.kept, dict(report.dropped)) == (3, 2, {"bad encoding": 1})
    assert report.problems == [f"{path}:2: bad encoding (not UTF-8 at byte {bad.index(0xE9) + 1})"]
    with pytest.raises(DataError, match=r"latin1.jsonl:2: bad encoding"):
        read_items(path, strict=True)


def test_json_nested_10000_deep_is_bad_json_for_that_line(tmp_path):
    path = tmp_path / "deep.jsonl"
    deep = '{"title": ' + "[" * 10_000 + "]" * 10_000 + "}"
    deep_details = json.dumps({**COURSE_ROW, "details": '{"a": ' + "[" * 10_000 + "]" * 10_000 + "}"})
    path.write_text("\n".join([json.dumps(COURSE_ROW), deep, deep_details]) + "\n")
    items, report = read_items(path)
    assert (report.rows, report.kept, dict(report.dropped)) == (3, 2, {"bad JSON": 1})
    assert report.problems == [f"{path}:2: bad JSON (nested too deep)"]
    assert items[1].title == "Drill" and items[1].weight is None  # unreadable details count as none


def test_weird_field_values_are_counted_not_raised(tmp_path):
    path = tmp_path / "weird.jsonl"
    rows = [
        {**COURSE_ROW, "price": 10**400},  # float() of it overflows
        {**COURSE_ROW, "price": [1, 2]},
        {**COURSE_ROW, "price": "1e999"},
        {**COURSE_ROW, "title": {"nested": ["x"]}},
        "1" * 5000,  # an integer json.loads refuses (more than 4300 digits), not a JSONDecodeError
    ]
    path.write_text("\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows) + "\n")
    items, report = read_items(path)
    assert report.dropped == {"price out of range": 2, "price not a single number": 1, "bad JSON": 1}
    assert report.kept == 1 and items[0].title == "{'nested': ['x']}"
    assert report.kept + sum(report.dropped.values()) == report.rows == 5


def gzip_lines(count):
    rows = [json.dumps({**COURSE_ROW, "title": f"Drill {index}", "noise": f"{index * 7919:x}" * 40}) for index in range(count)]
    return ("\n".join(rows) + "\n").encode()


def test_truncated_gzip_names_the_file_and_the_last_whole_line(tmp_path):
    import zlib

    packed = gzip.compress(gzip_lines(400))
    cut = packed[: len(packed) // 2]
    whole_lines = zlib.decompressobj(wbits=31).decompress(cut).count(b"\n")
    assert 0 < whole_lines < 400
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(cut)
    for kwargs in ({}, {"strict": True}, {"require_price": False}):
        with pytest.raises(DataError) as raised:
            read_items(path, **kwargs)
        message = str(raised.value)
        assert message.startswith(f"{path}: truncated or corrupt gzip after line {whole_lines}, the last whole line read (EOFError")
        assert "\n" not in message


def test_corrupt_gzip_trailer_raises_after_every_line_was_read(tmp_path):
    packed = bytearray(gzip.compress(gzip_lines(50)))
    packed[-6] ^= 0xFF  # the CRC: every line decompresses, then the check fails
    path = tmp_path / "crc.jsonl.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError, match=r"crc.jsonl.gz: truncated or corrupt gzip after line 50, the last whole line read"):
        read_items(path)
    flipped = bytearray(gzip.compress(gzip_lines(50)))
    flipped[len(flipped) // 2] ^= 0x55
    path.write_bytes(bytes(flipped))
    with pytest.raises(DataError, match=r"crc.jsonl.gz: truncated or corrupt gzip "):
        read_items(path)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_kept_plus_dropped_is_rows_read_with_and_without_prices(shared_data, name):
    priced, priced_report = read_items(shared_data / name)
    every, report = read_items(shared_data / name, require_price=False)
    assert report.kept + sum(report.dropped.values()) == report.rows == priced_report.rows
    assert not {"no price", "price out of range", "price not a single number"} & set(report.dropped)
    assert report.unpriced == sum(item.price is None for item in every) == len(every) - len(priced)
    assert [item for item in every if item.price is not None] == priced  # the priced rows are the same Items


RAW_WITHOUT_PRICES = (1714, 336, 205, {"too short": 1378})  # 131 priced rows kept by default + 205 without a price


def test_raw_rows_without_a_price_are_kept_when_not_required(shared_data):
    items, report = read_items(shared_data / "amazon2023_raw_meta_Health_and_Personal_Care_sample_1714.jsonl.gz", require_price=False)
    assert (report.rows, report.kept, report.unpriced, dict(report.dropped)) == RAW_WITHOUT_PRICES
    assert report.summary().endswith(f"{report.kept}/1714 rows kept ({report.unpriced} without a usable price); dropped too short: {report.dropped['too short']}")
    assert all(len(item.full) >= 600 for item in items)  # the other cleaning rules still apply



@pytest.mark.parametrize("value", [None, "None", "", "10.99 - 15.99", 5000, -1, "junk"])
def test_unpriced_rows_of_every_format_become_items_with_price_none(tmp_path, value):
    course = {**COURSE_ROW, "price": value}
    finetune = {"text": "How much does this cost to the nearest dollar?\n\nCordless drill with two speeds and a case\n\nPrice is $20.00", "price": value}
    pricer = {"id": "a", "title": "Drill", "full": "A cordless drill", "price": value}
    for name, row in (("course", course), ("finetune", finetune), ("pricer", pricer)):
        path = tmp_path / f"{name}.jsonl"
        missing = {key: val for key, val in row.items() if key != "price"}
        path.write_text(json.dumps(row) + "\n" + json.dumps(missing) + "\n")
        items, report = read_items(path, require_price=False)
        kept_price = 5000.0 if (name, value) == ("pricer", 5000) else None  # our format has no range rule
        assert [item.price for item in items] == [kept_price, None], name
        assert (report.format, report.kept, report.unpriced, report.rows) == (name, 2, 2 - (kept_price is not None), 2)
        default_items, default_report = read_items(path, format=name)
        if name != "pricer":  # our own format always allowed a missing price
            assert default_items == [] and sum(default_report.dropped.values()) == 2


def test_require_price_false_keeps_good_prices(tmp_path):
    path = tmp_path / "course.jsonl"
    path.write_text(json.dumps(COURSE_ROW) + "\n")
    items, report = read_items(path, require_price=False)
    assert items[0].price == 20.0 and report.unpriced == 0 and report.summary().endswith("1/1 rows kept")


def test_read_command_reports_bad_rows_and_stops_on_a_truncated_file_with_one_line(tmp_path):
    from click.testing import CliRunner

    from pricer_core.cli.commands import main

    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(json.dumps(COURSE_ROW).encode() + b"\n\xff\xfe\n" + b"[" * 10_000 + b"\n")
    result = CliRunner().invoke(main, ["read", str(mixed)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "mixed.jsonl (course): 1/3 rows kept; dropped bad encoding: 1, bad JSON: 1",
        f"  {mixed}:2: bad encoding (not UTF-8 at byte 1)",
        f"  {mixed}:3: bad JSON (nested too deep)",
    ]
    cut = tmp_path / "cut.jsonl.gz"
    packed = gzip.compress(gzip_lines(400))
    cut.write_bytes(packed[: len(packed) // 2])
    result = CliRunner().invoke(main, ["read", str(cut)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert [line for line in result.output.splitlines() if line] == [
        f"error: {cut}: truncated or corrupt gzip after line {_whole_lines(cut)}, the last whole line read "
        "(EOFError: Compressed file ended before the end-of-stream marker was reached)"
    ]


def _whole_lines(path):
    import zlib

    return zlib.decompressobj(wbits=31).decompress(path.read_bytes()).count(b"\n")


def test_a_byte_order_mark_loses_no_row(tmp_path):
    """Windows editors start UTF-8 files with a BOM; `cat` of two such files puts one mid-file."""
    path = tmp_path / "bom.jsonl"
    one = b"\xef\xbb\xbf" + json.dumps(COURSE_ROW).encode() + b"\n"
    path.write_bytes(one + json.dumps(COURSE_ROW).encode() + b"\n" + one)
    items, report = read_items(path)
    assert (report.rows, report.kept, dict(report.dropped)) == (3, 3, {})
    assert items[0].title == COURSE_ROW["title"]


def test_a_line_past_the_bound_is_a_counted_drop_in_every_format(tmp_path, shared_data):
    """Each format's first real row twice, a 5 MB line between: two kept, one dropped with its line."""
    from pricer_core.curation.line_blocks import MAX_LINE_BYTES

    for source in sorted(shared_data.glob("*.gz")):
        first = gzip.open(source, "rt", encoding="utf-8").readline().strip()
        for suffix, opener in ((".jsonl", open), (".jsonl.gz", gzip.open)):
            path = tmp_path / f"{source.name.split('.')[0]}{suffix}"
            with opener(path, "wb") as handle:
                handle.write(first.encode() + b"\n" + b'{"title": "' + b"a" * (MAX_LINE_BYTES + 10) + b'"}\n' + first.encode() + b"\n")
            items, report = read_items(path, require_price=False)
            assert report.rows == 3 and report.dropped["line too long"] == 1, (source.name, report.summary())
            assert report.problems[0].startswith(f"{path}:2: line too long")
