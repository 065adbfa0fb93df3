import math

import numpy as np
import pytest

from pricer_classic.item_numbers import COLUMNS, item_numbers
from pricer_core.item import Item


def numbers_of(title: str, full: str = "") -> dict[str, float]:
    return dict(zip(COLUMNS, item_numbers([Item(id="a", title=title, full=full)])[0].tolist()))


def test_dimensions_give_volume_and_longest_side_in_inches():
    inches = numbers_of("Fan clutch", "Weight 5 pounds, Dimensions 10 x 7.5 x 2 inches, Country of Origin China")
    assert inches["log_volume_cubic_inches"] == pytest.approx(math.log1p(150.0))
    assert inches["log_longest_side_inches"] == pytest.approx(math.log1p(10.0))
    centimetres = numbers_of("Box", "Package Dimensions 25.4 x 2.54 x 2.54 cms (L)")
    assert centimetres["log_volume_cubic_inches"] == pytest.approx(math.log1p(10.0), rel=1e-5)
    assert centimetres["log_longest_side_inches"] == pytest.approx(math.log1p(10.0), rel=1e-5)


def test_quantities_take_the_largest_stated_and_terabytes_count_as_gigabytes():
    numbers = numbers_of("DEWALT 20V MAX heater 1500W, 2-Pack, 12 inch", "Runs at 750 W or 1500 W. Stores 512 GB, or 2 TB. 3 HP motor, 15 amp")
    assert numbers["log_watts"] == pytest.approx(math.log1p(1500))
    assert numbers["log_volts"] == pytest.approx(math.log1p(20))
    assert numbers["log_gigabytes"] == pytest.approx(math.log1p(2000))
    assert numbers["log_horsepower"] == pytest.approx(math.log1p(3))
    assert numbers["log_amps"] == pytest.approx(math.log1p(15))
    assert numbers["log_pack_in_title"] == pytest.approx(math.log1p(2))
    assert numbers["log_inches_in_title"] == pytest.approx(math.log1p(12))
    assert numbers["digits_in_title"] == 9  # 20, 1500, 2, 12


def test_pack_and_size_are_read_in_the_title_only():
    """A body listing "fits 48 inch doors" says what the part fits, not what it is."""
    numbers = numbers_of("Door hinge", "Fits 48 inch doors. Sold as a pack of 100 in stores.")
    assert math.isnan(numbers["log_inches_in_title"]) and math.isnan(numbers["log_pack_in_title"])
    assert numbers_of("Door hinges, Pack of 6")["log_pack_in_title"] == pytest.approx(math.log1p(6))


def test_years_first_available_and_latest_mentioned():
    numbers = numbers_of("Floor mat for 2007 2008 2012 Ford F150", "Date First Available October 10, 2009")
    assert numbers["year_first_available"] == 2009
    assert numbers["latest_year_mentioned"] == 2012


def test_a_text_without_numbers_is_missing_not_zero():
    numbers = numbers_of("Plain wooden spoon", "A spoon made of wood.")
    assert [name for name, value in numbers.items() if not math.isnan(value)] == ["digits_in_title"]
    assert numbers["digits_in_title"] == 0


@pytest.mark.parametrize("body", ["9" * 3990, "1 x " * 990, "1" + " " * 3999, "pack of " * 490, "1e400 W"])
def test_hostile_texts_are_read_in_one_pass_and_give_no_infinite_value(body):
    """Runs of digits or spaces once made the patterns backtrack for seconds per item; every repeat is bounded now."""
    long_title = Item(id="a", title=body, full=body)
    row = item_numbers([long_title] * 20)[0]
    assert row.shape == (len(COLUMNS),)
    assert not np.isinf(row).any()


def test_part_numbers_and_widths_are_not_quantities():
    numbers = numbers_of("Part 123456789012345678901234567890 W, HP 305A ink, R-410a", "Dimensions 24 W x 10 H; model 12345678901234W")
    assert math.isnan(numbers["log_watts"])  # a 30-digit part number, a width, and a number's tail
    assert math.isnan(numbers["log_amps"])  # a bare "A" ends model numbers


def test_no_items_gives_an_empty_matrix_of_the_right_width():
    assert item_numbers([]).shape == (0, len(COLUMNS))
