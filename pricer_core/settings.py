"""Where pricer reads its environment: the cache root, debug switch and the user's `.env`.

Keys may live in a `.env` file in the working directory; each command reads it at start, it
never overrides a variable already set, and its values are never printed.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "PRICER_CACHE"
DEBUG_ENV = "PRICER_DEBUG"


def cache_root() -> Path:
    """$PRICER_CACHE, else ~/.cache/pricer: fitted models and LLM replies live under it."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "pricer")


def debug() -> bool:
    """PRICER_DEBUG=1: show tracebacks and plugin load times instead of one-line errors."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() in {"1", "true", "yes"}


def load_env_file() -> Path | None:
    """Read ./.env into the environment (python-dotenv); variables already set win, so it is idempotent."""
    path = Path.cwd() / ".env"
    if not path.is_file():
        return None
    from dotenv import load_dotenv

    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    load_dotenv(path, override=False)
    return path


def is_main_process() -> bool:
    """False on the non-zero ranks of a torchrun job (RANK is set by torchrun): only rank 0 writes outputs."""
    return os.environ.get("RANK", "0").strip() in {"", "0"}
