"""One log line per request: who, what, the status, how long and how many items; refused requests too.

Written by an ASGI wrapper around the whole application, so a request refused before any endpoint
runs (401, 404, 413) is logged like the others. The path is the client's text: characters that are
not printable are shown as `?`, so a request cannot write to the operator's terminal.
"""

from __future__ import annotations

import logging
import time
from typing import Any

LOGGER = logging.getLogger("pricer.serve")


def printable(text: str, limit: int = 200) -> str:
    cleaned = "".join(char if char.isprintable() else "?" for char in text[:limit])
    return cleaned + ("…" if len(text) > limit else "")


class AccessLog:
    """ASGI middleware: `client "METHOD /path" status ms items=N` once the response is sent (or the client went away)."""

    def __init__(self, app: Any, logger: logging.Logger = LOGGER):
        self.app = app
        self.logger = logger

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0  # 0: no response was sent (the client left, or the server stopped first)

        async def send_and_note(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            client = scope.get("client") or ("-", 0)
            items = (scope.get("state") or {}).get("items")
            self.logger.info(
                '%s "%s %s" %s %.1f ms%s', f"{client[0]}:{client[1]}", printable(scope.get("method", "-"), 16),
                printable(scope.get("path", "")), status or "-", (time.perf_counter() - started) * 1000,
                f" items={items}" if items is not None else "",
            )
