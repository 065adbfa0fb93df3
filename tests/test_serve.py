"""`pricer serve` against a real uvicorn on 127.0.0.1: every endpoint, every hostile request, shutdown.

The server runs as `python -m pricer_core serve` in a process of its own, on a model folder fitted on
the bundle's tiny data; each hostile request asserts its status and that the next request is
answered. Predictors that fail are served in-process (a uvicorn thread), since a throwaway
predictor is not registered in another process.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from pricer_core.cli.commands import main  # noqa: E402
from pricer_core.contract.predictor import NoPrediction, Predictor  # noqa: E402
from pricer_core.testing import tiny_data  # noqa: E402
from pricer_core.item import Item  # noqa: E402
from pricer_core.predictors.baselines import ConstantMean  # noqa: E402
from pricer_core.serve.batching import MicroBatcher  # noqa: E402
from pricer_core.serve.limits import ServeLimits  # noqa: E402
from pricer_core.serve.model_card import LoadedModel, load_model  # noqa: E402
from pricer_core.serve.schemas import RequestProblem, parse_request  # noqa: E402
from pricer_core.storage.persistence import save_predictor  # noqa: E402

TOKEN = "test-token-0123456789abcdef"
EXTRAS = {
    "interval": {"level": 0.9, "half_width_log": 0.5},
    "data": {"train_sha256": "a" * 64, "validation_sha256": "b" * 64},
    "bench": {"mae": 61.2, "n": 250},
}
DRILL = {"title": "Bosch 18V cordless drill", "description": ["Two batteries", "and a charger"], "details": {"Brand": "Bosch", "Item Weight": "3.5 pounds"}}


# --- helpers: a server process, and a client that is only the standard library ---


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None) -> tuple[int, Any]:
        return call(self.port, method, path, body, headers, raw)

    def answers(self) -> bool:
        """The next request after a hostile one is answered, and the server still prices."""
        status, reply = self.call("POST", "/predict", {"title": "USB-C cable, 2 m"}, headers=self.auth)
        return status == 200 and reply["price"] > 0

    auth: dict[str, str] | None = None


def call(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        data = response.read()
        kind = response.getheader("content-type") or ""
        return response.status, json.loads(data) if kind.startswith("application/json") else data.decode()
    finally:
        connection.close()


def start_server(folder: Path, log: Path, *flags: str) -> Server:
    """`pricer serve FOLDER --port 0 FLAGS`, once /health answers; the announced line gives the port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pricer_core", "serve", str(folder), "--port", "0", *flags],
        stdout=subprocess.PIPE, stderr=log.open("wb"), text=True, env={**os.environ, "PRICER_SERVE_TOKEN": ""},
    )
    line = process.stdout.readline()  # the announcement, printed once the socket is bound and the model loaded
    match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not match:
        process.kill()
        raise AssertionError(f"no address announced: {line!r}; log: {log.read_text()[-2000:]}")
    server = Server(process, int(match.group(1)), log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if server.call("GET", "/health")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"/health never answered; log: {log.read_text()[-2000:]}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.kill()
    server.process.wait(timeout=30)


def save_model_folder(path: Path) -> Path:
    """constant-mean fitted on the bundle's tiny data, with an interval, data hashes and bench figures."""
    train, validation, _ = tiny_data()
    save_predictor(ConstantMean().fit(train, validation), path, {"fit_seconds": 0.01, **EXTRAS})
    return path


def tiny_mean_price() -> float:
    """What that folder prices every item at."""
    return round(statistics.fmean(item.price for item in tiny_data()[0]), 2)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return save_model_folder(tmp_path_factory.mktemp("serve") / "model")


@pytest.fixture(scope="module")
def mean_price() -> float:
    return tiny_mean_price()


@pytest.fixture(scope="module")
def server(folder, tmp_path_factory) -> Iterator[Server]:
    running = start_server(folder, tmp_path_factory.mktemp("log") / "serve.log", "--body-timeout", "2", "--max-items", "1000")
    yield running
    stop(running)


# --- the endpoints ---


def test_predict_one_item_gives_price_interval_and_model(server, mean_price):
    status, reply = server.call("POST", "/predict", DRILL)
    assert status == 200
    assert reply["price"] == mean_price and reply["id"] is None
    assert reply["model"] == {"name": "constant-mean", "plugin": "pricer-core", "version": reply["model"]["version"]}
    assert reply["model"]["version"]
    low, high = reply["interval"]["low"], reply["interval"]["high"]
    assert reply["interval"]["level"] == 0.9 and low < mean_price < high


def test_predict_a_batch_answers_in_order_with_ids(server, mean_price):
    items = [{"title": f"Item {number}", "id": f"sku-{number}"} for number in range(50)]
    status, reply = server.call("POST", "/predict", {"items": items})
    assert status == 200
    assert [entry["id"] for entry in reply["predictions"]] == [f"sku-{number}" for number in range(50)]
    assert {entry["price"] for entry in reply["predictions"]} == {mean_price}
    assert reply["model"]["name"] == "constant-mean"


def test_health_model_page_and_docs(server):
    assert server.call("GET", "/health") == (200, {"status": "ready", "model": "constant-mean", "auth": False})
    status, card = server.call("GET", "/model")
    assert status == 200
    assert (card["predictor"], card["plugin"], card["fit_seconds"]) == ("constant-mean", "pricer-core", 0.01)
    assert card["data"] == EXTRAS["data"] and card["bench"] == EXTRAS["bench"] and card["interval"] == EXTRAS["interval"]
    assert card["serving"]["limits"]["max_items"] == 1000 and card["serving"]["batching"]["model_calls"] >= 0
    status, page = server.call("GET", "/")
    assert status == 200 and '<input id="title"' in page and "constant-mean" in page
    status, schema = server.call("GET", "/openapi.json")
    assert status == 200 and {"/predict", "/health", "/model"} <= set(schema["paths"])
    assert "title" in schema["components"]["schemas"]["ItemIn"]["required"]
    status, docs = server.call("GET", "/docs")
    assert status == 200 and "swagger" in docs.lower()


def test_the_docs_pages_need_no_internet(server):
    """Swagger UI's and ReDoc's scripts and styles come from the server itself (fastapi-offline), never from a CDN."""
    import urllib.request

    pytest.importorskip("fastapi_offline")
    for path in ("/docs", "/redoc"):
        _, html = server.call("GET", path)
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(source.startswith("/docs-assets/") for source in sources), (path, sources)
        for source in sources:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{source}", timeout=30) as response:
                assert response.status == 200 and len(response.read()) > 1000, source
    assert server.call("GET", "/docs-assets/../../../etc/passwd")[0] == 404


def test_each_request_is_one_log_line(server):
    marker = f"/no-such-page-{time.monotonic_ns()}"
    assert server.call("GET", marker)[0] == 404
    assert server.answers()
    deadline = time.monotonic() + 10
    while marker not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [line for line in server.log.read_text().splitlines() if marker in line]
    assert len(lines) == 1 and f'"GET {marker}" 404' in lines[0]


# --- hostile requests: each gets its status, and the next request is answered ---


def test_oversized_body_is_413(server):
    status, reply = server.call("POST", "/predict", raw=b'{"title": "' + b"x" * (2 * 2**20) + b'"}')
    assert status == 413 and "at most 1,048,576" in reply["detail"]
    assert server.answers()


def test_a_100000_item_batch_is_413(server):
    status, reply = server.call("POST", "/predict", {"items": [{"title": "x"}] * 100_000})
    assert status == 413
    assert server.answers()


def test_a_batch_over_max_items_is_413_naming_items(server):
    status, reply = server.call("POST", "/predict", {"items": [{"title": "x"}] * 1001})
    assert status == 413 and reply["field"] == "items" and "1,001 items; at most 1,000" in reply["detail"]
    assert server.answers()


@pytest.mark.parametrize(
    "raw, words",
    [
        (b'{"title": "caf\xe9 \xff\xfe"}', "not UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, "nested too deep"),
        (b'{"title": "x", "details": ' + b'{"a": ' * 10_000 + b"1" + b"}" * 10_001, "nested too deep"),
        (b'{"title": ', "not JSON"),
        (b'{"title": "x", "weight": NaN}', "NaN is not a JSON number"),
        (b"", "empty body"),
        (b'["Bosch drill"]', "expected a JSON object"),
    ],
    ids=["non-utf8", "nested-10000", "nested-in-details", "truncated", "nan", "empty", "array"],
)
def test_malformed_body_is_422_saying_what(server, raw, words):
    status, reply = server.call("POST", "/predict", raw=raw)
    assert status == 422 and words in reply["detail"], reply
    assert server.answers()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"description": "a drill"}, "title"),
        ({"title": 123}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "drill", "weight": "heavy"}, "weight"),
        ({"title": "drill", "weight": -2}, "weight"),
        ({"title": "drill", "details": 7}, "details"),
        ({"title": "drill", "colour": "red"}, "colour"),
        ({"items": [{"title": "ok"}, {"title": "ok"}, {"description": "no title"}]}, "items[2].title"),
        ({"items": []}, "items"),
        ({"items": "drill"}, "items"),
        ({"title": "drill", "description": "lone \ud800 surrogate"}, "description"),
    ],
    ids=["missing-title", "title-number", "title-blank", "weight-text", "weight-negative", "details-number", "unknown-field", "batch-missing-title", "empty-batch", "items-not-list", "surrogate"],
)
def test_wrong_fields_are_422_naming_the_field(server, body, field):
    status, reply = server.call("POST", "/predict", raw=json.dumps(body).encode())
    assert status == 422 and reply["field"] == field and reply["detail"].startswith(field), reply
    assert server.answers()


def test_wrong_method_and_path_are_json_errors(server):
    assert server.call("GET", "/predict")[0] == 405
    assert server.call("GET", "/nowhere") == (404, {"detail": "Not Found"})
    assert server.answers()


def test_a_client_that_sends_its_body_slowly_is_408_and_blocks_no_one(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as slow:
        slow.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
        slow.sendall(b'{"title": "slo')
        assert server.answers()  # the event loop is not waiting on the slow client
        reply = read_http_response(slow)
    assert reply.startswith(b"HTTP/1.1 408") and b"took longer than 2 s" in reply
    assert server.answers()


def test_a_client_waiting_for_100_continue_is_refused_before_it_sends(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as client:
        client.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 50000000\r\nExpect: 100-continue\r\n\r\n")
        reply = read_http_response(client)
    assert reply.startswith(b"HTTP/1.1 413") and b"body of 50,000,000 bytes" in reply
    assert server.answers()


def test_a_client_that_leaves_mid_body_is_logged_and_forgotten(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as leaving:
        leaving.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n" + b'{"title": "gone')
        assert server.answers()
    deadline = time.monotonic() + 10
    while '"POST /predict" 499' not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert '"POST /predict" 499' in server.log.read_text() and "Traceback" not in server.log.read_text()
    assert server.answers()


def read_http_response(connection: socket.socket) -> bytes:
    """Bytes until the server closes the connection or the body's declared length is read."""
    data = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
        head, separator, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
        if separator and length and len(body) >= int(length.group(1)):
            return data


def test_requests_in_flight_finish_on_sigterm_and_the_server_exits_0(folder, tmp_path):
    running = start_server(folder, tmp_path / "serve.log")
    try:
        body = json.dumps(DRILL).encode()
        with socket.create_connection(("127.0.0.1", running.port), timeout=60) as in_flight:
            in_flight.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
            assert running.answers()  # the request in flight has been read up to its body by now
            time.sleep(0.3)
            running.process.send_signal(signal.SIGTERM)
            refused = False
            deadline = time.monotonic() + 20
            while not refused and time.monotonic() < deadline:  # new connections stop being accepted
                try:
                    socket.create_connection(("127.0.0.1", running.port), timeout=5).close()
                    time.sleep(0.05)
                except ConnectionRefusedError:
                    refused = True
            assert refused
            in_flight.sendall(body[10:])
            reply = read_http_response(in_flight)
        assert reply.startswith(b"HTTP/1.1 200"), reply
        assert json.loads(reply.partition(b"\r\n\r\n")[2])["price"] > 0
        assert running.process.wait(timeout=60) == 0
        assert "Shutting down" in running.log.read_text()
    finally:
        stop(running)


# --- who may ask ---


def test_token_guards_predict_and_model_but_not_health(folder, tmp_path):
    running = start_server(folder, tmp_path / "serve.log", "--token", TOKEN)
    try:
        assert running.call("POST", "/predict", DRILL)[0] == 401
        assert running.call("POST", "/predict", DRILL, headers={"Authorization": "Bearer wrong-token-0123456789"})[0] == 401
        assert running.call("GET", "/model")[0] == 401
        assert running.call("GET", "/health") == (200, {"status": "ready", "model": "constant-mean", "auth": True})
        running.auth = {"Authorization": f"Bearer {TOKEN}"}
        assert running.answers()
        assert running.call("GET", "/model", headers=running.auth)[0] == 200
        assert 'id="token"' in running.call("GET", "/")[1]
    finally:
        stop(running)


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--host", "0.0.0.0"], "--host 0.0.0.0 answers other machines: give --token"),
        (["--host", "192.168.1.10"], "give --token (or PRICER_SERVE_TOKEN), or --no-auth"),
        (["--token", "short"], "--token must have at least 16 characters"),
        (["--token", TOKEN, "--no-auth"], "contradict"),
    ],
)
def test_an_open_server_needs_a_token_or_no_auth(folder, flags, words):
    result = CliRunner().invoke(main, ["serve", str(folder), *flags], env={"PRICER_SERVE_TOKEN": ""})
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1 and words in result.output, result.output


def test_a_bad_folder_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "pricer.json").write_text('{"format": 2, "name": "no-such-predictor"}')
    result = CliRunner().invoke(main, ["serve", str(tmp_path)])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "predictor 'no-such-predictor' is not registered" in result.output


def test_a_port_in_use_is_one_line_and_exit_1(folder):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "pricer_core", "serve", str(folder), "--port", str(port)],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stderr.strip() == f"error: cannot listen on 127.0.0.1:{port} (Address already in use)"


def test_a_malformed_interval_refuses_the_folder(tmp_path):
    save_predictor(ConstantMean().fit(tiny_data()[0], []), tmp_path / "m", {"interval": {"level": 0.9, "half_width_log": "wide"}})
    result = CliRunner().invoke(main, ["serve", str(tmp_path / "m")])
    assert result.exit_code == 1 and "field interval.half_width_log" in result.output


def test_without_the_extra_it_says_what_to_install(folder, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "uvicorn" else real(name, *args))
    result = CliRunner().invoke(main, ["serve", str(folder)])
    assert result.exit_code == 1 and "pip install 'pricer[serve]'" in result.output


# --- predictors that fail, served in-process ---


class Picky(Predictor):
    """Prices by title; abstains (per item) on "unknown", raises on "poison", returns no prices on "short"."""

    name = "picky"
    per_item = False

    def fit(self, train: list[Item], validation: list[Item]) -> Picky:
        return self

    def predict(self, items: list[Item]) -> list[float]:
        titles = [item.title for item in items]
        if "poison" in titles:
            raise RuntimeError("the weights are missing")
        if "short" in titles:
            return []
        if self.per_item and "unknown" in titles:
            raise NoPrediction("never saw such a thing")
        return [float(len(title)) for title in titles]

    def save(self, directory: str | Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, directory: str | Path) -> Picky:
        raise NotImplementedError


@pytest.fixture
def picky_server() -> Iterator[Server]:
    yield from serve_in_thread(Picky())


@pytest.fixture
def per_item_server() -> Iterator[Server]:
    predictor = Picky()
    predictor.per_item = True
    yield from serve_in_thread(predictor)


def serve_in_thread(predictor: Predictor) -> Iterator[Server]:
    import uvicorn

    from pricer_core.serve.app import create_app
    from pricer_core.serve.server import bind

    model = LoadedModel(predictor=predictor, meta={"plugin": "test", "plugin_version": "1"}, interval=None, details=None)
    listener = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(model), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    running = Server(process=None, port=listener.getsockname()[1], log=Path(os.devnull))  # type: ignore[arg-type]
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield running
    server.should_exit = True
    thread.join(timeout=30)


def test_a_predictor_that_raises_is_500_and_the_server_goes_on(picky_server):
    status, reply = picky_server.call("POST", "/predict", {"title": "poison"})
    assert status == 500 and reply["detail"] == "picky failed: RuntimeError: the weights are missing"
    status, reply = picky_server.call("POST", "/predict", {"title": "short"})
    assert status == 500 and "picky: predict returned 0 prices for 1 items" in reply["detail"]
    assert picky_server.call("POST", "/predict", {"title": "drill"})[1]["price"] == 5.0


def test_one_poisoned_request_fails_alone_when_gathered_with_others(picky_server):
    async def many() -> list[tuple[int, Any]]:
        titles = ["poison" if number == 3 else f"item {number}" for number in range(8)]
        return await asyncio.gather(*(asyncio.to_thread(picky_server.call, "POST", "/predict", {"title": title}) for title in titles))

    results = asyncio.run(many())
    assert [status for status, _ in results] == [200, 200, 200, 500, 200, 200, 200, 200]
    assert results[0][1]["price"] == len("item 0")


def test_a_per_item_abstention_is_422_alone_and_null_in_a_batch(per_item_server):
    status, reply = per_item_server.call("POST", "/predict", {"title": "unknown"})
    assert status == 422 and reply["detail"] == "picky could not price this item: never saw such a thing"
    status, reply = per_item_server.call("POST", "/predict", {"items": [{"title": "drill"}, {"title": "unknown", "id": "u"}]})
    assert status == 200
    assert reply["predictions"] == [
        {"id": None, "price": 5.0, "interval": None},
        {"id": "u", "price": None, "interval": None, "error": "never saw such a thing"},
    ]


# --- the parts, alone ---


class Counting(Picky):
    """Picky that appends each model call's item count to `calls`."""

    def __init__(self, calls: list[int]):
        self.calls = calls

    def predict(self, items: list[Item]) -> list[float]:
        self.calls.append(len(items))
        return super().predict(items)


def test_requests_that_arrive_together_share_one_model_call():
    calls: list[int] = []

    async def gather(max_items: int) -> list[Any]:
        batcher = MicroBatcher(Counting(calls), wait_s=0, max_items=max_items)
        await batcher.start()
        try:
            items = [Item(id=f"i{number}", title="x" * number) for number in range(1, 6)]
            return await asyncio.gather(*(batcher.price([item]) for item in items))
        finally:
            await batcher.stop()

    assert asyncio.run(gather(256)) == [[(float(number), None)] for number in range(1, 6)]
    assert calls == [5]
    calls.clear()
    asyncio.run(gather(2))
    assert calls == [2, 2, 1]


def test_a_lone_request_never_waits_but_after_company_the_next_call_waits_for_more():
    calls: list[int] = []

    def item(number: int) -> list[Item]:
        return [Item(id=f"i{number}", title="x")]

    async def spaced(batcher: MicroBatcher) -> None:
        """Two requests 0.3 s apart: one call if the first waits for company (up to 10 s), two if it does not."""
        first = asyncio.ensure_future(batcher.price(item(1)))
        await asyncio.sleep(0.3)
        await asyncio.gather(first, batcher.price(item(2)))

    async def scenario(company_first: bool) -> None:
        batcher = MicroBatcher(Counting(calls), wait_s=10.0, max_items=2)
        await batcher.start()
        try:
            if company_first:
                await asyncio.gather(batcher.price(item(0)), batcher.price(item(0)))
            await spaced(batcher)
        finally:
            await batcher.stop()

    asyncio.run(scenario(company_first=False))
    assert calls == [1, 1]  # no sign of concurrency: no request waits
    calls.clear()
    asyncio.run(scenario(company_first=True))
    assert calls == [2, 2]  # the last call had company: the next one waited for its second request


def test_raw_fields_become_the_text_curation_builds():
    from pricer_core.data.cleaning import clean_raw_fields

    parsed = parse_request({**DRILL, "category": "Tools", "price": 99}, 10, iter(["served-0"]))
    raw = {"title": DRILL["title"], "description": DRILL["description"], "details": DRILL["details"], "price": 99}
    curated = clean_raw_fields({**raw, "features": ["x" * 600]}, "s", 0)  # curation wants 600 characters; serving does not
    item = parsed.items[0]
    assert item.full == curated["full"].replace("\n" + "x" * 600, "")
    assert (item.id, item.price, item.weight, item.category) == ("served-0", None, 3.5, "Tools")
    with pytest.raises(RequestProblem) as raised:
        parse_request({"items": [{"title": "x"}] * 3}, 2, iter(["a", "b", "c"]))
    assert raised.value.status == 413


def test_the_model_card_reads_the_folder_as_data(folder):
    model = load_model(folder)
    assert model.interval is not None and model.interval.around(100.0)["level"] == 0.9
    card = model.card()
    assert card["data"] == EXTRAS["data"] and card["per_item"] is False and card["details"] is None
    assert ServeLimits().max_body_bytes == 2**20


def test_items_carry_the_servers_unique_ids_and_the_clients_ids_are_echoed_apart():
    """Clients' ids may repeat across gathered requests: a failure reason keyed by id must not reach another client."""
    import itertools

    from pricer_core.serve.schemas import parse_request

    counter = (f"served-{number}" for number in itertools.count())
    parsed = parse_request({"items": [{"id": "same", "title": "a drill"}, {"id": "same", "title": "a towel"}]}, 10, counter)
    assert parsed.ids == ["same", "same"]
    assert len({item.id for item in parsed.items}) == 2 and all(item.id.startswith("served-") for item in parsed.items)
