"""`pricer serve`: one saved model behind HTTP (FastAPI under uvicorn, the `pricer[serve]` extra).

`model_card` loads the folder and says what it holds, `schemas` is what a request and a reply look
like, `limits` bounds what a client may send, `batching` gathers concurrent requests into one
predict call, `auth` decides who may ask, `access_log` writes one line per request, `page` is the
web page, `app` puts them together and `server` runs it. Only `app` and `server` import FastAPI or
uvicorn, so the model card can be read without the extra.
"""

from __future__ import annotations

from typing import Any

from pricer_core.serve.model_card import LoadedModel, load_model

__all__ = ["LoadedModel", "create_app", "load_model", "serve"]


def __getattr__(name: str) -> Any:
    """`create_app` and `serve` need the extra: imported on first use, not with the package."""
    if name == "create_app":
        from pricer_core.serve.app import create_app

        return create_app
    if name == "serve":
        from pricer_core.serve.server import serve

        return serve
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
