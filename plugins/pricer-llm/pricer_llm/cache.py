"""A persistent reply cache keyed by (model, base URL, request): re-runs cost nothing. SQLite, safe across threads.

The request part is everything sent besides the model: messages and sampling settings (temperature,
max_tokens, response_format, reasoning_effort). A cache is a convenience, never a reason to fail: an
unreadable entry is dropped and asked again, an unreadable file is set aside and started afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

KEY_VERSION = 2  # 1 ignored the base URL
logger = logging.getLogger(__name__)


def default_cache_path() -> Path:
    """Under pricer's one cache root ($PRICER_CACHE or ~/.cache/pricer), beside the fit cache."""
    from pricer_core.settings import cache_root

    return cache_root() / "llm-replies.sqlite"


class ReplyCache:
    def __init__(self, path: str | Path | None = None, what: str = "LLM reply cache", fallback: str = "asking the server instead"):
        self.path = Path(path) if path else default_cache_path()
        self.what, self.fallback = what, fallback  # for warnings: the embedding cache is one of these too
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._warned = False
        try:
            self._connection = self._open()
        except sqlite3.OperationalError:  # locked, unwritable: a real problem, not a corrupt file
            raise
        except sqlite3.DatabaseError as error:  # not a database, malformed
            aside = self.path.with_name(self.path.name + ".corrupt")
            logger.warning("warning: %s %s is unreadable (%s); moved to %s, starting an empty one", self.what, self.path, error, aside.name)
            self.path.replace(aside)
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            self._connection = self._open()

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT)")
            connection.execute("SELECT COUNT(*) FROM replies").fetchone()
            connection.commit()
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return connection

    @staticmethod
    def key(model: str, api_base: str | None, request: dict[str, Any]) -> str:
        """Same model name on another server is another key: each server is asked."""
        base = api_base.rstrip("/") if api_base else None
        identity = {"v": KEY_VERSION, "model": model, "api_base": base, "request": request}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def _warn_once(self, error: Exception) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("warning: %s %s failed (%s); %s", self.what, self.path, error, self.fallback)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored reply, or None; an entry that does not parse is deleted so the caller asks again."""
        try:
            with self._lock:
                row = self._connection.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as error:
            self._warn_once(error)
            return None
        if row is None:
            return None
        try:
            reply = json.loads(row[0])
        except (TypeError, ValueError):
            reply = None
        if not isinstance(reply, dict) or not isinstance(reply.get("text"), str):
            self._delete(key)
            return None
        return reply

    def _delete(self, key: str) -> None:
        try:
            with self._lock:
                self._connection.execute("DELETE FROM replies WHERE key = ?", (key,))
                self._connection.commit()
        except sqlite3.DatabaseError as error:
            self._warn_once(error)

    def put(self, key: str, reply: dict[str, Any]) -> None:
        self.put_many([(key, reply)])

    def put_many(self, entries: list[tuple[str, dict[str, Any]]]) -> None:
        """One commit for many replies: thousands of embeddings would otherwise pay a commit each."""
        try:
            with self._lock:
                self._connection.executemany("INSERT OR REPLACE INTO replies VALUES (?, ?)", [(key, json.dumps(reply)) for key, reply in entries])
                self._connection.commit()
        except sqlite3.DatabaseError as error:
            self._warn_once(error)

    def __len__(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
