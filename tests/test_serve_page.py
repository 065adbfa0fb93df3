"""The web page of `pricer serve` in headless Chromium, driven by the keyboard alone."""

from __future__ import annotations

import re
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
playwright = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright (pip install 'pricer[test]')")

from pricer_core.bench.report import find_chromium  # noqa: E402
from tests.test_serve import TOKEN, save_model_folder, start_server, stop, tiny_mean_price  # noqa: E402

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (Debian: apt-get install chromium)")


def dollars(value: float) -> str:
    return f"${value:,.2f}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return save_model_folder(tmp_path_factory.mktemp("page") / "model")


@pytest.fixture
def browser():
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def test_type_a_product_press_enter_read_the_price(folder, browser, tmp_path):
    server = start_server(folder, tmp_path / "serve.log")
    try:
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"http://127.0.0.1:{server.port}/")
        assert page.evaluate("document.activeElement.id") == "title"  # the cursor starts in the title
        page.keyboard.type("Bosch 18V cordless drill")
        page.keyboard.press("Tab")
        page.keyboard.type("Two batteries, a charger and a case.")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        price = page.locator("#price")
        price.filter(has_text=re.compile(r"^\$[\d,]+\.\d\d$")).wait_for(timeout=30_000)
        assert price.inner_text() == dollars(tiny_mean_price())
        interval = page.locator("#interval").inner_text()
        assert interval.startswith("90% interval: $") and " to $" in interval
        assert server.call("GET", "/model")[1]["serving"]["batching"]["requests"] == 1
        page.keyboard.press("Tab")  # Ctrl+Enter prices from the description too
        page.keyboard.press("Control+Enter")
        deadline = time.monotonic() + 30
        while server.call("GET", "/model")[1]["serving"]["batching"]["requests"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.call("GET", "/model")[1]["serving"]["batching"]["requests"] == 2
        price.filter(has_text=re.compile(r"^\$[\d,]+\.\d\d$")).wait_for(timeout=30_000)
        assert errors == []  # the Content-Security-Policy let the page's own script and style run
    finally:
        stop(server)


def test_the_page_asks_for_the_token_and_says_when_it_is_wrong(folder, browser, tmp_path):
    server = start_server(folder, tmp_path / "serve.log", "--token", TOKEN)
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.port}/")
        page.keyboard.type("USB-C cable")
        page.keyboard.press("Enter")
        page.locator("#price.error").wait_for(timeout=30_000)
        assert "missing or wrong bearer token" in page.locator("#price").inner_text()
        page.locator("#token").fill(TOKEN)
        page.locator("#title").press("Enter")
        page.locator("#price").filter(has_text=re.compile(r"^\$[\d,]+\.\d\d$")).wait_for(timeout=30_000)
    finally:
        stop(server)


def test_the_api_docs_render_with_no_internet(folder, browser, tmp_path):
    """Every request outside the server is refused: Swagger UI and ReDoc must still draw /predict from
    the server's own scripts and styles (ReDoc still asks its CDN for its logo, an image it does without)."""
    pytest.importorskip("fastapi_offline")
    server = start_server(folder, tmp_path / "serve.log")
    try:
        page = browser.new_page()
        own = f"http://127.0.0.1:{server.port}/"
        elsewhere: list[tuple[str, str]] = []

        def only_the_server(route):
            if route.request.url.startswith(own):
                route.continue_()
            else:
                elsewhere.append((route.request.resource_type, route.request.url))
                route.abort()

        page.route("**/*", only_the_server)
        page.goto(f"{own}docs")
        page.locator(".opblock-summary-path", has_text="/predict").first.wait_for(timeout=30_000)
        assert elsewhere == []
        page.goto(f"{own}redoc")
        page.get_by_text("Price one item, or a batch").first.wait_for(timeout=30_000)
        assert [kind for kind, _ in elsewhere] in ([], ["image"]), elsewhere
    finally:
        stop(server)
