import gzip
import json

import pytest

from pricer_core.readers import DataError, read_items, write_items

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
