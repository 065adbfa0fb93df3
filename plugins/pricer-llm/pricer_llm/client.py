"""One chat completion through litellm, with retries, a reply cache, and token/cost accounting.

The same call reaches Groq (`groq/openai/gpt-oss-20b`, GROQ_API_KEY), any litellm model, or the
local llama.cpp server (`openai/<alias>` with `api_base`).

Where a key goes. A request goes to `api_base` only when this run names one: a constructor
argument (`--set NAME.api_base=URL`) or PRICER_LLM_API_BASE (GROQ_BASE_URL / OPENAI_BASE_URL for
the batch and fine-tuning clients). Otherwise litellm sends it, with that provider's key from the
environment, to the host the provider documents (or the one the user's own provider variable
names, such as OPENAI_API_BASE). A saved folder holds no base URL and no path (`saved.py`), so
loading a folder someone else wrote cannot send a key or item texts anywhere this run did not
choose; the most its model name can do is pick another provider, whose own key goes to that
provider. A loopback server is sent the placeholder key "local", any other base URL of this run
only PRICER_LLM_API_KEY (or the placeholder "none"), never a provider's key.
"""

from __future__ import annotations

import ipaddress
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .cache import ReplyCache

REMOTE_DEFAULT_MODEL = "groq/openai/gpt-oss-20b"
SERVER_KEY_ENV = "PRICER_LLM_API_KEY"  # the key for a PRICER_LLM_API_BASE server, if it wants one
LOCAL_API_BASE_ENV = "PRICER_LLM_API_BASE"
DEFAULT_LOCAL_API_BASE = "http://127.0.0.1:8765/v1"  # where `pricer llm serve` listens by default
MODEL_ENV = "PRICER_LLM_MODEL"
_loaded_dotenv: set[Path] = set()


def load_dotenv_once() -> None:
    """Keys may live in a .env file in the working directory; read into the environment (never over it), never printed."""
    path = Path.cwd() / ".env"
    if path in _loaded_dotenv or not path.is_file():
        return
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover
        return
    load_dotenv(path, override=False)
    _loaded_dotenv.add(path)


def is_loopback(api_base: str | None) -> bool:
    """True for a server on this machine (127.0.0.0/8, ::1, localhost): it gets no real key."""
    if not api_base:
        return False
    host = urlsplit(api_base).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MissingKey(ValueError):
    """No API key: a one-line message, never the key itself."""


def require_key(variable: str, purpose: str, given: str | None = None) -> str:
    """The key from the argument, the environment or .env; a clear error naming the variable otherwise."""
    load_dotenv_once()
    key = given or os.environ.get(variable)
    if not key:
        raise MissingKey(f"set {variable} (in the environment or a .env file) to {purpose}")
    return key


def import_litellm():
    """litellm fetches its cost map over the network on import unless told not to: tell it."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


@dataclass(frozen=True)
class LLMSettings:
    """Which model and where. A local server is `openai/<alias>` at api_base, costs $0."""

    model: str
    api_base: str | None = None
    reasoning_effort: str | None = None
    temperature: float = 0.0
    max_tokens: int = 200
    timeout: float = 120.0
    retries: int = 4

    @property
    def is_local(self) -> bool:
        return is_loopback(self.api_base)

    @classmethod
    def resolve(cls, model: str | None = None, api_base: str | None = None, reasoning_effort: str | None = None, **overrides: Any) -> LLMSettings:
        """Explicit arguments, else PRICER_LLM_MODEL/PRICER_LLM_API_BASE, else Groq when GROQ_API_KEY is set, else the local server."""
        load_dotenv_once()
        model = model or os.environ.get(MODEL_ENV)
        api_base = api_base or os.environ.get(LOCAL_API_BASE_ENV)
        if not model:
            if os.environ.get("GROQ_API_KEY") and not api_base:
                return cls(REMOTE_DEFAULT_MODEL, None, reasoning_effort or "low", **overrides)
            model = "openai/smollm2"
            api_base = api_base or DEFAULT_LOCAL_API_BASE
        return cls(model, api_base, reasoning_effort, **overrides)


@dataclass
class Usage:
    """Tokens and dollars, summed over a run; thread-safe."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    cached: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, input_tokens: int, output_tokens: int, cost: float, cached: bool) -> None:
        with self._lock:
            self.calls += 1
            self.cached += int(cached)
            if not cached:
                self.input_tokens += input_tokens
                self.output_tokens += output_tokens
                self.cost_usd += cost


class ChatClient:
    """`bypass_cache`: never answer from the cache (`--no-cache`); fresh replies still replace stored ones."""

    def __init__(self, settings: LLMSettings, cache: ReplyCache | None = None):
        self.settings = settings
        self.cache = cache
        self.bypass_cache = False
        self.usage = Usage()

    def _request(self, messages: list[dict[str, str]], response_format: dict | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "messages": messages,
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
        }
        if response_format:
            request["response_format"] = response_format
        if self.settings.reasoning_effort:
            request["reasoning_effort"] = self.settings.reasoning_effort
        return request

    def _key_for_base(self) -> str | None:
        """None lets litellm send the provider's own key to the provider's own host. A base URL of this
        run gets only a key meant for it (PRICER_LLM_API_KEY), never the key of whichever provider the
        model name happens to name: a loaded folder's model name cannot route GROQ_API_KEY to a server."""
        if not self.settings.api_base:
            return None
        if self.settings.is_local:
            return "local"
        return os.environ.get(SERVER_KEY_ENV) or "none"

    def complete(self, messages: list[dict[str, str]], response_format: dict | None = None) -> str:
        """The reply text; served from the cache when this exact request was answered before."""
        request = self._request(messages, response_format)
        key = ReplyCache.key(self.settings.model, self.settings.api_base, request) if self.cache is not None else None
        if self.cache is not None and key and not self.bypass_cache:
            hit = self.cache.get(key)
            if hit is not None:
                self.usage.add(0, 0, 0.0, cached=True)
                return hit["text"]
        litellm = import_litellm()
        retryable = (
            litellm.exceptions.RateLimitError,
            litellm.exceptions.Timeout,
            litellm.exceptions.APIConnectionError,
            litellm.exceptions.ServiceUnavailableError,
            litellm.exceptions.InternalServerError,
        )
        for attempt in range(self.settings.retries + 1):
            try:
                response = litellm.completion(
                    model=self.settings.model,
                    api_base=self.settings.api_base,
                    api_key=self._key_for_base(),
                    timeout=self.settings.timeout,
                    **request,
                )
                break
            except retryable:
                if attempt == self.settings.retries:
                    raise
                time.sleep(min(30.0, 0.5 * 2**attempt) * (0.5 + random.random()))
        text = response.choices[0].message.content or ""
        usage = getattr(response, "usage", None)
        input_tokens = getattr(usage, "prompt_tokens", 0) or 0
        output_tokens = getattr(usage, "completion_tokens", 0) or 0
        cost = 0.0
        if not self.settings.is_local:
            try:
                cost = float(litellm.completion_cost(completion_response=response))
            except Exception:  # unknown model: cost unknown, reported as 0
                cost = 0.0
        self.usage.add(input_tokens, output_tokens, cost, cached=False)
        if self.cache is not None and key:
            self.cache.put(key, {"text": text, "input_tokens": input_tokens, "output_tokens": output_tokens})
        return text
