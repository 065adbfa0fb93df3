import pytest

from pricer_core.data.units import weight_in_pounds


@pytest.mark.parametrize(
    "text, pounds",
    [
        ("2 pounds", 2.0),
        ("1 Pounds", 1.0),
        ("32 ounces", 2.0),
        ("453.592 grams", 1.0),
        ("453592 milligrams", 1.0),
        ("0.453592 kilograms", 1.0),
        ("250 hundredths pounds", 2.5),
        ("1,000 grams", 1000 / 453.592),
    ],
)
def test_each_unit_converts_to_pounds(text, pounds):
    assert weight_in_pounds(text) == pytest.approx(pounds)


@pytest.mark.parametrize("text", ["3 stones", "heavy", "1.2.3 pounds", "", None, "pounds", "9" * 400 + " pounds"])
def test_unknown_or_unparsable_is_none(text):
    assert weight_in_pounds(text) is None
