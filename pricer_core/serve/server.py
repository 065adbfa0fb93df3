"""Run the application under uvicorn: bind first, announce the address, stop cleanly on SIGTERM or Ctrl+C.

The socket is bound here, before uvicorn starts, so a port in use is one line, and `--port 0` can
announce the port the system picked. On SIGTERM (or Ctrl+C) uvicorn stops accepting connections,
lets the requests in flight finish (up to `grace_s`), then stops the batcher; the command then
exits 0, since stopping was what was asked.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

from pricer_core.serve.limits import ServeLimits
from pricer_core.serve.model_card import LoadedModel

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; ValueError (one line) when the address cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not socket.create_server's 0: asyncio sets TCP_NODELAY only on sockets that
    # say they are TCP, and without it Nagle's algorithm and delayed ACKs add ~40 ms to every answer.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host.strip("[]"), port))
        listener.listen(2048)
    except OSError as error:
        listener.close()
        raise ValueError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
    return listener


def url(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(
    model: LoadedModel,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    limits: ServeLimits | None = None,
    access_log: bool = True,
    announce: Callable[[str], Any] = print,
) -> None:
    """Serve `model` until SIGTERM or Ctrl+C; the exposure rules (auth.check_exposure) are the caller's to apply first."""
    import uvicorn

    from pricer_core.serve.app import create_app

    limits = limits or ServeLimits()
    app = create_app(model, limits, token)
    listener = bind(host, port)
    _log_to_stderr(access_log)
    config = uvicorn.Config(
        app, host=host, port=listener.getsockname()[1], log_config=None, log_level="info", access_log=False,
        lifespan="on", timeout_graceful_shutdown=int(limits.grace_s), limit_concurrency=limits.max_connections,
        timeout_keep_alive=5, server_header=False, proxy_headers=False,
    )
    server = uvicorn.Server(config)
    announce(f"serving {model.predictor.name} on {url(listener)} (page /, API docs /docs); SIGTERM or Ctrl+C stops it after the requests in flight")
    with _handled_stop_signals():
        server.run(sockets=[listener])


class _handled_stop_signals:
    """While uvicorn runs, SIGTERM and SIGINT are uvicorn's; after it drains it raises the signal again for
    the previous handler, which here does nothing: the process then ends normally (0), not as killed."""

    def __enter__(self) -> None:
        self.previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            self.previous = {number: signal.signal(number, _already_handled) for number in STOP_SIGNALS}

    def __exit__(self, *exc: object) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)


def _already_handled(number: int, frame: Any) -> None:
    """The signal was uvicorn's to act on, and it did: the server drained and stopped."""


def _log_to_stderr(access_log: bool) -> None:
    """uvicorn's lifecycle lines and pricer's per-request lines, timestamped, on standard error."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    for name in ("uvicorn", "pricer.serve"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.INFO)
    logging.getLogger("pricer.serve").setLevel(logging.INFO if access_log else logging.WARNING)
