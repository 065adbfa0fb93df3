"""`llm-summary`: one LLM call per item turns its text into the five-line summary."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pricer_core.item import Item
from pricer_core.contract.predictor import Preprocessor, ProcessReport

from .cache import ReplyCache
from .client import ChatClient, LLMSettings
from .prompts import SUMMARY_SCHEMA, summary_from_reply, summary_messages


class LLMSummary(Preprocessor):
    """Summaries through litellm with bounded concurrency, retries and a persistent reply cache."""

    name = "llm-summary"

    def __init__(self, model: str | None = None, api_base: str | None = None, concurrency: int = 4, cache_path: str | None = None, max_tokens: int = 300, structured: bool | None = None):
        self.settings = LLMSettings.resolve(model, api_base, max_tokens=max_tokens)
        # A JSON schema makes llama.cpp's grammar produce the five fields even from a 135M model.
        self.structured = self.settings.is_local if structured is None else structured
        self.concurrency = concurrency
        self.client = ChatClient(self.settings, ReplyCache(cache_path))
        self._failures: dict[str, str] = {}

    def bypass_caches(self) -> None:
        """`--no-cache`: every summary comes from the server (and replaces the stored one)."""
        self.client.bypass_cache = True

    def _summarise(self, item: Item) -> Item:
        try:
            response_format = {"type": "json_object", "schema": SUMMARY_SCHEMA} if self.structured else None
            text = summary_from_reply(self.client.complete(summary_messages(item), response_format))
        except Exception as error:  # one item failing must not lose the others
            self._failures[item.id] = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
            return item
        if not text:
            self._failures[item.id] = "empty reply"
            return item
        return item.model_copy(update={"summary": text})

    def process(self, items: list[Item]) -> list[Item]:
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            return list(pool.map(self._summarise, items))

    def report(self) -> ProcessReport:
        usage = self.client.usage
        return ProcessReport(usage.input_tokens, usage.output_tokens, usage.cost_usd, dict(self._failures))
