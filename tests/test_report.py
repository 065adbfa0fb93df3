import pytest

from pricer_core.bench.runner import run_bench
from pricer_core.bench.report import find_chromium, screenshot


def test_report_has_every_section_and_inlines_plotly(tmp_path):
    run_bench(predictors=["constant-mean", "random"], size=30, out=tmp_path, echo=lambda _: None)
    html = (tmp_path / "report.html").read_text()
    for title in ("Leaderboard: MAE", "Price distribution: train vs test", "Paired MAE difference", "running mean absolute error", "constant-mean: MAE $"):
        assert title in html
    assert "<script src=" not in html


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (CI installs Debian's chromium)")
def test_headless_chromium_screenshot_shows_the_leaderboard_chart(tmp_path):
    from PIL import Image

    run_bench(predictors=["constant-mean", "random", "constant-median"], size=30, out=tmp_path, echo=lambda _: None)
    png = screenshot(tmp_path / "report.html", tmp_path / "leaderboard.png")
    image = Image.open(png).convert("RGB")
    assert image.size == (1200, 900)
    raw = image.tobytes()
    pixels = zip(raw[0::3], raw[1::3], raw[2::3])
    # plotly's first trace colour (#636efa) fills the leaderboard bars; a blank or broken page has none.
    bar_pixels = sum(1 for r, g, b in pixels if abs(r - 0x63) < 12 and abs(g - 0x6E) < 12 and abs(b - 0xFA) < 12)
    assert bar_pixels > 2000
