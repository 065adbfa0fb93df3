"""The reply cache against real local chat servers: keyed on the server too, bypassable, and never fatal."""

import logging
import os
import sqlite3

import pytest

from pricer_core.item import Item
from pricer_llm.cache import ReplyCache
from pricer_llm.predictors import LLMPredictor

from chat_standin import ChatStandIn

ITEM = Item(id="drill", title="Cordless drill 20V", category="Tools")


@pytest.fixture(autouse=True)
def no_server_from_the_environment(monkeypatch, tmp_path):
    for name in ("PRICER_LLM_API_BASE", "PRICER_LLM_MODEL", "GROQ_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def servers():
    with ChatStandIn(price=10.0) as first, ChatStandIn(price=20.0) as second:
        yield first, second


def test_the_same_model_name_on_two_servers_asks_both(servers, tmp_path):
    first, second = servers
    cache = str(tmp_path / "replies.sqlite")
    assert LLMPredictor(api_base=first.base_url, cache_path=cache).predict([ITEM]) == [10.0]
    assert LLMPredictor(api_base=second.base_url, cache_path=cache).predict([ITEM]) == [20.0]
    assert len(first.requests) == len(second.requests) == 1
    assert first.requests[0]["body"]["model"] == second.requests[0]["body"]["model"] == "smollm2"
    again = LLMPredictor(api_base=first.base_url + "/", cache_path=cache)  # a trailing slash is the same server
    assert again.predict([ITEM]) == [10.0] and again._client.usage.cached == 1 and len(first.requests) == 1
    assert len(ReplyCache(cache)) == 2


@pytest.mark.parametrize("setting, sent", [({"max_tokens": 41}, ("max_tokens", 41)), ({"temperature": 0.5}, ("temperature", 0.5)), ({"structured": False}, ("response_format", None))])
def test_each_sampling_setting_is_part_of_the_key(servers, tmp_path, setting, sent):
    first, _ = servers
    cache = str(tmp_path / "replies.sqlite")
    LLMPredictor(api_base=first.base_url, cache_path=cache).predict([ITEM])
    assert LLMPredictor(api_base=first.base_url, cache_path=cache, **setting).predict([ITEM]) == [10.0]
    assert len(first.requests) == 2 and first.requests[1]["body"].get(sent[0]) == sent[1]
    assert "response_format" in first.requests[0]["body"] and first.requests[0]["body"]["max_tokens"] == 40


def test_key_covers_model_server_messages_and_sampling():
    request = {"messages": [{"role": "user", "content": "x"}], "temperature": 0.0, "max_tokens": 40}
    keys = {
        ReplyCache.key("openai/a", "http://127.0.0.1:1/v1", request),
        ReplyCache.key("openai/b", "http://127.0.0.1:1/v1", request),
        ReplyCache.key("openai/a", "http://127.0.0.1:2/v1", request),
        ReplyCache.key("openai/a", None, request),
        ReplyCache.key("openai/a", None, {**request, "messages": [{"role": "user", "content": "y"}]}),
        ReplyCache.key("openai/a", None, {**request, "reasoning_effort": "low"}),
        ReplyCache.key("openai/a", None, {**request, "response_format": {"type": "json_object"}}),
    }
    assert len(keys) == 7
    assert ReplyCache.key("openai/a", "http://h/v1/", request) == ReplyCache.key("openai/a", "http://h/v1", request)


def test_bypass_asks_the_server_and_keeps_the_fresh_reply(servers, tmp_path):
    first, _ = servers
    cache = str(tmp_path / "replies.sqlite")
    LLMPredictor(api_base=first.base_url, cache_path=cache).predict([ITEM])
    first.price = 11.0
    assert LLMPredictor(api_base=first.base_url, cache_path=cache).predict([ITEM]) == [10.0] and len(first.requests) == 1
    bypassing = LLMPredictor(api_base=first.base_url, cache_path=cache)
    bypassing.bypass_caches()
    assert bypassing.predict([ITEM]) == [11.0] and bypassing.predict([ITEM]) == [11.0]
    assert len(first.requests) == 3 and bypassing._client.usage.cached == 0
    assert LLMPredictor(api_base=first.base_url, cache_path=cache).predict([ITEM]) == [11.0] and len(first.requests) == 3


@pytest.mark.parametrize("stored", ["{not json", "[]", '{"input_tokens": 3}', '{"text": 5}'])
def test_an_unreadable_entry_is_dropped_and_asked_again(servers, tmp_path, stored):
    first, _ = servers
    cache = tmp_path / "replies.sqlite"
    LLMPredictor(api_base=first.base_url, cache_path=str(cache)).predict([ITEM])
    with sqlite3.connect(cache) as connection:
        connection.execute("UPDATE replies SET reply = ?", (stored,))
    assert LLMPredictor(api_base=first.base_url, cache_path=str(cache)).predict([ITEM]) == [10.0]
    assert len(first.requests) == 2
    with sqlite3.connect(cache) as connection:
        assert [row[0].startswith('{"text": "{') for row in connection.execute("SELECT reply FROM replies")] == [True]


def test_a_corrupt_cache_file_is_set_aside_with_one_warning(servers, tmp_path, caplog):
    first, _ = servers
    cache = tmp_path / "replies.sqlite"
    junk = os.urandom(4096)
    cache.write_bytes(junk)
    with caplog.at_level(logging.WARNING, logger="pricer_llm.cache"):
        predictor = LLMPredictor(api_base=first.base_url, cache_path=str(cache))
    warnings = [record.getMessage() for record in caplog.records if record.name == "pricer_llm.cache"]
    assert len(warnings) == 1 and "unreadable" in warnings[0] and "\n" not in warnings[0]
    assert predictor.predict([ITEM]) == [10.0] and len(first.requests) == 1
    assert LLMPredictor(api_base=first.base_url, cache_path=str(cache)).predict([ITEM]) == [10.0] and len(first.requests) == 1
    assert (tmp_path / "replies.sqlite.corrupt").read_bytes() == junk
