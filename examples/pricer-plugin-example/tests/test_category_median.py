from pricer_core.item import Item
from pricer_core.testing import parametrize_with_checks
from pricer_plugin_example.plugin import CategoryMedian


@parametrize_with_checks([CategoryMedian])
def test_contract(predictor, check):
    check(predictor)


def test_prefers_source_and_category_then_category_then_overall():
    from pricer_plugin_example.plugin import CategoryMedian

    train = [Item(id=f"a{i}", title="t", category="Tools", source="a", price=10.0) for i in range(6)]
    train += [Item(id=f"b{i}", title="t", category="Tools", source="b", price=100.0) for i in range(5)]
    train += [Item(id=f"o{i}", title="t", category="Office", source="a", price=1000.0) for i in range(7)]
    predictor = CategoryMedian().fit(train, [])
    queries = [
        Item(id="x", title="t", category="Tools", source="b"),  # its source and category: 100
        Item(id="y", title="t", category="Tools", source="c"),  # unseen source: the category's median, 10
        Item(id="z", title="t", category="Toys", source="a"),  # unseen category: the overall median, 100
    ]
    assert predictor.predict(queries) == [100.0, 10.0, 100.0]
