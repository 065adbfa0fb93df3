import pytest

from pricer_core.item import Item
from pricer_llm.prompts import PRICE_PROMPT, is_five_line_summary, parse_price, price_messages, summary_from_reply, tidy_summary


@pytest.mark.parametrize(
    "reply, price",
    [("$1,299.99", 1299.99), ("It costs about 45 dollars, maybe 50", 45.0), ('{"price": 19.5}', 19.5), ("no idea", None), ("", None), ("Price: $0.99.", 0.99), ('{"price": 1e999}', None), ("9" * 400, None)],
)
def test_parse_price_takes_the_first_number(reply, price):
    assert parse_price(reply) == price


def test_price_prompt_follows_the_spec_and_can_carry_examples():
    item = Item(id="a", title="Drill", full="Drill\ncordless", summary="Title: Drill")
    assert price_messages(item)[0]["content"] == f"{PRICE_PROMPT}\n\nTitle: Drill"
    with_examples = price_messages(item, [("Saw", 20.0)])[0]["content"]
    assert "Saw\nPrice: $20.00" in with_examples and with_examples.endswith("Title: Drill")


def test_structured_and_chatty_summaries_become_five_lines():
    structured = summary_from_reply('{"title": "Drill", "category": "Tools", "brand": "Acme", "description": "A  drill.", "details": "20V."}')
    assert structured == "Title: Drill\nCategory: Tools\nBrand: Acme\nDescription: A drill.\nDetails: 20V."
    chatty = "Sure! Here it is:\n**Title:** Drill\n- Category: Tools\nBrand: Acme\nDescription: A drill.\nDetails: 20V.\nHope it helps"
    assert is_five_line_summary(tidy_summary(chatty.replace("**Title:**", "Title:")))
    assert not is_five_line_summary("Title: x\nCategory: y")
