from __future__ import annotations

from pathlib import Path

import pytest

from pricer_core.item import Item

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


@pytest.fixture
def throwaway_plugin():
    """throwaway_plugin(name, *factories): a plugin registering these predictors, unregistered after the test."""
    from pricer_core.plugins.hookspecs import hookimpl
    from pricer_core.plugins.registry import pm

    names: list[str] = []

    def register(name: str, *factories) -> None:
        class Throwaway:
            @hookimpl
            def register_predictors(self, register):
                for factory in factories:
                    register(factory)

        pm.register(Throwaway(), name=name)
        names.append(name)

    yield register
    for name in names:
        pm.unregister(name=name)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PRICER_CACHE", str(tmp_path_factory.mktemp("cache")))


def make_items(count: int, start: int = 0, price_step: float = 10.0) -> list[Item]:
    """Small real-looking items with prices that rise with a word in the text."""
    words = ["cable", "charger", "drill", "guitar", "speaker", "monitor", "printer", "router"]
    items = []
    for index in range(start, start + count):
        word = words[index % len(words)]
        items.append(
            Item(
                id=f"item-{index}",
                title=f"{word.title()} model {index}",
                category="Electronics" if index % 2 else "Tools",
                price=5.0 + price_step * (index % len(words)),
                full=f"{word.title()} model {index}\nA sturdy {word} for home and office use, item {index}.",
                weight=0.5 + index % 3,
                source="synthetic",
            )
        )
    return items
