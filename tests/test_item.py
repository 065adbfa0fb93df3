import pytest
from pydantic import ValidationError

from pricer_core.item import Item, stable_id


def test_prompts_use_summary_when_present_and_round_the_price():
    item = Item(id="a", title="Drill", price=41.6, full="Cordless drill, 20V", summary="Title: Drill")
    assert item.test_prompt() == "What does this cost to the nearest dollar?\n\nTitle: Drill\n\nPrice is $"
    assert item.training_prompt().endswith("Price is $42.00")


def test_prompt_falls_back_to_full_text():
    item = Item(id="a", title="Drill", price=3.0, full="Cordless drill, 20V")
    assert "Cordless drill, 20V" in item.test_prompt()


def test_training_prompt_needs_a_price():
    with pytest.raises(ValueError, match="no price"):
        Item(id="a", title="Drill").training_prompt()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_price_must_be_finite_and_non_negative(bad):
    with pytest.raises(ValidationError, match="price"):
        Item(id="a", title="x", price=bad)


def test_full_text_is_capped_and_unknown_fields_rejected():
    with pytest.raises(ValidationError):
        Item(id="a", title="x", full="y" * 4001)
    with pytest.raises(ValidationError):
        Item(id="a", title="x", colour="red")


def test_stable_id_depends_on_source_and_row_only():
    assert stable_id("file", 3) == stable_id("file", 3)
    assert stable_id("file", 3) != stable_id("file", 4)
    assert len(stable_id("file", 3)) == 16


def test_document_puts_the_title_first_once_and_the_category_when_asked():
    item = Item(id="a", title="Drill", category="Tools", full="Cordless drill, 18 V")
    assert item.document() == "Drill\nCordless drill, 18 V"
    assert item.document(category=True) == "Drill\nTools\nCordless drill, 18 V"
    assert Item(id="b", title="Drill", full="Drill, cordless").document() == "Drill, cordless"
    assert Item(id="c", title="Drill", category="Tools").document(category=True) == "Drill\nTools"
    assert Item(id="d", title="Drill", full="long text", summary="Drill: a summary").document() == "Drill: a summary"
