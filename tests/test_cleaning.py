import json

import pytest

from pricer_core.data.cleaning import (
    DroppedRow,
    join_full_text,
    clean_raw_row,
    join_field,
    parse_details,
    parse_price,
    remove_part_numbers,
)


def raw_row(**overrides):
    row = {
        "main_category": "Tools",
        "title": "Cordless Drill",
        "description": ["A strong drill. " * 50],
        "features": ["20V battery", "two speeds"],
        "price": "$49.99",
        "details": {"Item Weight": "3 pounds", "Brand": "Acme", "Part Number": "X1"},
        "parent_asin": "B000TEST",
    }
    row.update(overrides)
    return row


@pytest.mark.parametrize("value, expected", [("$1,299.00", None), ("12.50", 12.5), (7, 7.0), ("$0.50", 0.5), ("999.49", 999.49)])
def test_parse_price_accepts_numbers_and_price_strings(value, expected):
    if expected is None:
        with pytest.raises(DroppedRow, match="out of range"):
            parse_price(value)
    else:
        assert parse_price(value) == expected


@pytest.mark.parametrize("value, reason", [(None, "no price"), ("None", "no price"), ("10.99 - 15.99", "not a single number"), ("0.49", "out of range"), ("999.50", "out of range")])
def test_parse_price_rejections_carry_a_reason(value, reason):
    with pytest.raises(DroppedRow, match=reason):
        parse_price(value)


def test_details_drop_listed_keys_and_accept_json_strings():
    details = {"Part Number": "1", "Best Sellers Rank": {}, "Batteries Included?": "No", "Batteries Required?": "No", "Item model number": "Z", "Brand": "Acme"}
    assert parse_details(details) == {"Brand": "Acme"}
    assert parse_details(json.dumps(details)) == {"Brand": "Acme"}
    assert parse_details("{not json") == {}


def test_part_numbers_judged_within_the_token():
    text = remove_part_numbers("Fits AB12CD3 and ABCDEFG and 1234567 and ab12cd3 and AB12C")
    assert "AB12CD3" not in text
    for kept in ("ABCDEFG", "1234567", "ab12cd3", "AB12C"):
        assert kept in text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("AB12CD3", ""),
        ("x AB12CD3,y", "x ,y"),
        ("_AB12CD3 AB12CD3_ éAB12CD3 AB12CD3é", "_AB12CD3 AB12CD3_ éAB12CD3 AB12CD3é"),
        ("(AB12CD3)\nZZ99ZZ99ZZ", "()\n"),
        ("AB12CD3x 9AB12CD3", "AB12CD3x "),
    ],
)
def test_part_number_token_edges(text, expected):
    assert remove_part_numbers(text) == expected


def test_part_number_rule_matches_the_plain_regex_on_random_text():
    """The fast pattern must drop exactly what the plain `\\b[A-Z0-9]{7,}\\b` + in-token test drops."""
    import random
    import re

    plain = re.compile(r"\b[A-Z0-9]{7,}\b")

    def reference(text: str) -> str:
        dropped = plain.sub(lambda m: "" if re.search("[A-Z]", m[0]) and re.search("[0-9]", m[0]) else m[0], text)
        return re.sub(r"[ \t]{2,}", " ", dropped)

    rng = random.Random(7)
    alphabet = "AB12" * 6 + "xé_ -,.\n\t"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert remove_part_numbers(text) == reference(text), repr(text)


def test_fields_are_joined_and_capped_at_3000():
    assert join_field(["a  b", "c\nd"]) == "a b c d"
    assert len(join_field(["x" * 5000])) == 3000


def test_full_text_order_and_4000_cap():
    full = join_full_text("T", "desc", "feat", {"Brand": "A"})
    assert full == 'T\ndesc\nfeat\n{"Brand":"A"}'
    long_row = raw_row(title="T", description=["d" * 3000], features=["f" * 3000], details={})
    assert len(clean_raw_row(long_row, "s", 0).full) == 4000


def test_clean_row_gives_item_with_weight_and_without_dropped_keys():
    item = clean_raw_row(raw_row(), "src", 0)
    assert item.price == 49.99 and item.weight == 3.0 and item.id == "B000TEST"
    assert "Part Number" not in item.full and '"Brand":"Acme"' in item.full


def test_599_characters_dropped_600_kept():
    base = clean_raw_row(raw_row(description=[], features=[], details={}, title="x" * 600), "s", 0)
    assert len(base.full) == 600
    with pytest.raises(DroppedRow, match="too short"):
        clean_raw_row(raw_row(description=[], features=[], details={}, title="x" * 599), "s", 0)


def test_bad_weight_is_none_not_a_crash():
    item = clean_raw_row(raw_row(details={"Item Weight": "abc pounds"}), "s", 0)
    assert item.weight is None


def test_huge_and_odd_prices_are_reasons_not_crashes():
    from pricer_core.data.cleaning import price_or_none

    for value, reason in [(10**400, "out of range"), (float("inf"), "out of range"), ("1e999", "out of range"), (True, "not a single number"), ([3], "not a single number"), (float("nan"), "no price")]:
        with pytest.raises(DroppedRow, match=reason):
            parse_price(value)
    assert price_or_none("$12.50", require_price=False) == 12.5
    assert [price_or_none(value, require_price=False) for value in (None, "None", "1 - 2", 10**400, 0.1)] == [None] * 5
    with pytest.raises(DroppedRow, match="no price"):
        price_or_none(None)


def test_details_too_deep_or_with_a_huge_number_count_as_none():
    assert parse_details('{"a": ' + "[" * 10_000 + "]" * 10_000 + "}") == {}
    assert parse_details('{"a": ' + "1" * 5000 + "}") == {}


def test_a_raw_row_without_a_price_is_kept_only_when_not_required():
    with pytest.raises(DroppedRow, match="no price"):
        clean_raw_row(raw_row(price=None), "s", 0)
    item = clean_raw_row(raw_row(price=None), "s", 0, require_price=False)
    assert item.price is None and item.weight == 3.0 and item.id == "B000TEST"
    with pytest.raises(DroppedRow, match="too short"):
        clean_raw_row(raw_row(price=None, description=[], features=[], details={}), "s", 0, require_price=False)
