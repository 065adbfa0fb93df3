"""What one client may send, and reading a request's body within it.

A body is read as bytes with a bound (413 past it, before it is all read) and a deadline (408 for a
client that sends it slowly and holds a connection open), then decoded: bytes that are not UTF-8,
text that is not JSON, JSON nested past the parser's depth or NaN (not JSON) are 422 with one line
saying where. Nothing here blocks the event loop on a client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pricer_core.errors import short_text
from pricer_core.serve.schemas import RequestProblem

UTF8_BOM = b"\xef\xbb\xbf"
DRAIN_BYTES = 16 * 2**20  # read and dropped past the bound, so the client reads its 413


@dataclass(frozen=True)
class ServeLimits:
    """Bounds on requests and on the model calls they are gathered into; the defaults are what `pricer serve` uses."""

    max_body_bytes: int = 2**20  # 1 MiB: ~1,000 items of a shop's usual text
    max_items: int = 1_000  # per request
    body_timeout_s: float = 10.0  # to send a whole body
    batch_wait_ms: float = 2.0  # how long a model call waits for more requests, when the last one had company
    batch_items: int = 256  # items in one model call, at most (a larger single request goes alone)
    max_connections: int = 256  # beyond it uvicorn answers 503 at once
    grace_s: float = 30.0  # after SIGTERM, for in-flight requests to finish


class BodyTimeout(Exception):
    """The client did not send its whole body within the deadline."""


async def read_body(chunks: AsyncIterator[bytes], declared: str | None, expects_continue: bool, limits: ServeLimits) -> bytes:
    """The body's bytes within the bound and the deadline.

    Past the bound the rest is read and dropped (up to DRAIN_BYTES) before the 413 goes out: a server
    that answers and closes while the client is still sending makes the client's kernel drop the
    answer (a reset), so the client would see a broken connection instead of the reason. A client
    that waits for `100 Continue`, or declares more than DRAIN_BYTES, is refused before it sends.
    """
    size = int(declared) if declared is not None and declared.isdigit() else None
    if size is not None and size > limits.max_body_bytes and (expects_continue or size > DRAIN_BYTES):
        raise RequestProblem(413, f"body of {size:,} bytes; at most {limits.max_body_bytes:,}")
    received = bytearray()
    seen = 0

    async def collect() -> None:
        nonlocal seen
        async for chunk in chunks:
            seen += len(chunk)
            if seen <= limits.max_body_bytes:
                received.extend(chunk)
            elif seen > DRAIN_BYTES:
                break

    try:  # wait_for, not asyncio.timeout: pricer runs on Python 3.10 too
        await asyncio.wait_for(collect(), limits.body_timeout_s)
    except asyncio.TimeoutError:
        if seen <= limits.max_body_bytes:
            raise BodyTimeout(f"the body took longer than {limits.body_timeout_s:g} s to arrive") from None
    if seen > limits.max_body_bytes:
        raise RequestProblem(413, f"body over {limits.max_body_bytes:,} bytes; at most {limits.max_body_bytes:,}")
    return bytes(received)


def decode_json(body: bytes) -> Any:
    """The body as JSON; RequestProblem (422) saying what is wrong with it and where."""
    if body.startswith(UTF8_BOM):
        body = body[len(UTF8_BOM):]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestProblem(422, f"body is not UTF-8 text (byte {error.start + 1}); JSON must be UTF-8") from None
    if not text.strip():
        raise RequestProblem(422, "empty body; send one item as a JSON object, or {\"items\": [...]}")
    try:
        return json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as error:
        raise RequestProblem(422, f"body is not JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
    except RecursionError:
        raise RequestProblem(422, "body is JSON nested too deep") from None
    except ValueError as error:  # NaN and Infinity; an integer of more than 4,300 digits
        raise RequestProblem(422, f"body is not JSON ({short_text(error, 120)})") from None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
