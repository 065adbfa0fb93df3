"""The FastAPI application: one loaded model, four endpoints, every refusal of the API a JSON line with its status.

`POST /predict` reads its own body (bounded in size and time), so a hostile body is refused before
pydantic sees it, and every error names the field; the OpenAPI schema at /docs still describes the
request, from the same pydantic models. Requests are priced through the micro-batcher, which calls
the model in a worker thread, so the event loop keeps answering while the model works.
"""

from __future__ import annotations

import itertools
from functools import partial
from dataclasses import asdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import ClientDisconnect

from pricer_core.serve.access_log import AccessLog
from pricer_core.serve.auth import token_matches
from pricer_core.serve.batching import MicroBatcher, ModelFailure, Stopping
from pricer_core.serve.limits import BodyTimeout, ServeLimits, decode_json, read_body
from pricer_core.serve.model_card import LoadedModel
from pricer_core.serve.page import render_page
from pricer_core.serve.schemas import BatchIn, ItemIn, PricedBatch, PricedOne, Problem, RequestProblem, parse_request

SCHEMA_REF = "#/components/schemas/{model}"
PROBLEMS = {
    401: {"model": Problem, "description": "No bearer token, or not this server's."},
    408: {"model": Problem, "description": "The body did not arrive in time."},
    413: {"model": Problem, "description": "Body or batch over the server's bound."},
    422: {"model": Problem, "description": "Not JSON, not UTF-8, a wrong field, or an item the model could not price."},
    500: {"model": Problem, "description": "The model failed on this request."},
    503: {"model": Problem, "description": "The server is stopping."},
}


def create_app(model: LoadedModel, limits: ServeLimits | None = None, token: str | None = None) -> Any:
    """The ASGI application for `model`; `token` set: /predict and /model need `Authorization: Bearer TOKEN`."""
    limits = limits or ServeLimits()
    batcher = MicroBatcher(model.predictor, wait_s=limits.batch_wait_ms / 1000, max_items=limits.batch_items)
    page, page_headers = render_page(model.tag, asks_token=token is not None)
    fallback_ids = (f"served-{number}" for number in itertools.count())
    bearer = HTTPBearer(auto_error=False, description="Needed when the server was started with --token.")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            await batcher.stop()

    app = _fastapi_with_local_docs()(
        title="pricer", version=_pricer_version(), lifespan=lifespan,
        description=f"Prices products with the saved model **{model.predictor.name}**. See `GET /model` for what it is.",
    )
    app.state.ready = False

    async def authorized(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if token is not None and (credentials is None or not token_matches(credentials.credentials, token)):
            raise RequestProblem(401, "missing or wrong bearer token (send Authorization: Bearer TOKEN)")

    _answer_refusals_as_json(app)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home() -> HTMLResponse:
        return HTMLResponse(page, headers=page_headers)

    @app.get("/health", summary="Ready once the model is loaded")
    async def health() -> JSONResponse:
        ready = bool(app.state.ready)
        body = {"status": "ready" if ready else "not ready", "model": model.predictor.name, "auth": token is not None}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/model", summary="The predictor, its plugin and version, its data and figures", dependencies=[Depends(authorized)], responses={401: PROBLEMS[401]})
    async def model_card() -> JSONResponse:
        serving = {"limits": asdict(limits), "batching": batcher.stats.as_json()}
        return JSONResponse({**model.card(), "serving": serving})

    @app.post(
        "/predict", summary="Price one item, or a batch", dependencies=[Depends(authorized)],
        response_model=PricedOne | PricedBatch, responses=PROBLEMS,
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
            "oneOf": [{"$ref": SCHEMA_REF.format(model="ItemIn")}, {"$ref": SCHEMA_REF.format(model="BatchIn")}],
        }}}}},
    )
    async def predict(request: Request) -> JSONResponse:
        """One item as an object, or `{"items": [...]}`: a batch is priced in one model call and answered in order."""
        expects_continue = request.headers.get("expect", "").lower() == "100-continue"
        body = await read_body(request.stream(), request.headers.get("content-length"), expects_continue, limits)
        parsed = parse_request(decode_json(body), limits.max_items, fallback_ids)
        request.state.items = len(parsed.items)
        priced = await batcher.price(parsed.items)
        answers = [_answer(client_id, price, reason, model) for client_id, (price, reason) in zip(parsed.ids, priced)]
        if parsed.batch:
            return JSONResponse({"model": model.tag, "predictions": answers})
        if answers[0]["price"] is None:
            raise RequestProblem(422, f"{model.predictor.name} could not price this item: {answers[0]['error']}")
        return JSONResponse({**answers[0], "model": model.tag})

    app.openapi = lambda: _openapi_with_request_models(app)  # type: ignore[method-assign]
    app.add_middleware(AccessLog)
    return app


def _fastapi_with_local_docs() -> Any:
    """FastAPI, with /docs and /redoc served from installed files (fastapi-offline): FastAPI's own pages
    load their scripts from a CDN, and are blank on a machine without internet."""
    try:
        from fastapi_offline import FastAPIOffline
    except ImportError:  # an install from before the dependency: the CDN pages
        return FastAPI
    return partial(FastAPIOffline, static_url="/docs-assets")


def _answer_refusals_as_json(app: FastAPI) -> None:
    """Every refusal is one JSON line with its status: the request's fault, slowness, a client gone, the model's failure, a stop."""

    @app.exception_handler(RequestProblem)
    async def refused(request: Request, problem: RequestProblem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
        return JSONResponse({"detail": str(problem), "field": problem.field}, status_code=problem.status, headers=headers)

    @app.exception_handler(BodyTimeout)
    async def too_slow(request: Request, error: BodyTimeout) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=408, headers={"Connection": "close"})

    @app.exception_handler(ClientDisconnect)
    async def gone(request: Request, error: ClientDisconnect) -> Response:
        """The client left mid-body: nobody reads this answer, but the log line says what happened (499, as nginx does)."""
        return Response(status_code=499)

    @app.exception_handler(ModelFailure)
    async def model_failed(request: Request, error: ModelFailure) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=500)

    @app.exception_handler(Stopping)
    async def stopping(request: Request, error: Stopping) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "1"})


def _openapi_with_request_models(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, plus the request models /predict reads itself (built once)."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for request_model in (ItemIn, BatchIn):
            definition = request_model.model_json_schema(ref_template=SCHEMA_REF)
            schemas.update(definition.pop("$defs", {}))
            schemas[request_model.__name__] = definition
        app.openapi_schema = schema
    return app.openapi_schema

def _answer(client_id: str | None, price: float | None, reason: str | None, model: LoadedModel) -> dict[str, Any]:
    if price is None:
        return {"id": client_id, "price": None, "interval": None, "error": reason}
    return {"id": client_id, "price": round(price, 2), "interval": model.interval.around(price) if model.interval else None}


def _pricer_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pricer")
    except PackageNotFoundError:
        return "unknown"
