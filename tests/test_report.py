import pytest

from pricer_core.bench.results import Metrics, PairedDifference, PredictorResult
from pricer_core.bench.runner import run_bench
from pricer_core.bench.report import SUMMARY_COLOUR, find_chromium, paired_figure, ranked, screenshot, summary_section, within_noise_of


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
    # the summary's background fills a band across the top of the first screen: the answer comes first
    summary = tuple(int(SUMMARY_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    top = image.crop((0, 0, 1200, 300)).tobytes()
    summary_pixels = sum(1 for pixel in zip(top[0::3], top[1::3], top[2::3]) if pixel == summary)
    assert summary_pixels > 50_000


def result(name, mae, coverage=None, status="ok", reason=None):
    metrics = Metrics(mae=mae, mae_ci95=[mae - 5, mae + 5]) if status == "ok" else None
    return PredictorResult(name=name, status=status, reason=reason, metrics=metrics, n=200, fit_seconds=1.0, coverage=coverage)


PREDICTORS = [result("random", 380.0), result("xgboost", 82.0), result("bow-stack", 86.4, coverage=0.9), result("dnn", None, status="skipped", reason="opt-in")]
PAIRS = [
    PairedDifference(a="xgboost", b="bow-stack", difference=-4.4, ci95=[-9.0, 0.5], significant=False),
    PairedDifference(a="random", b="xgboost", difference=298.0, ci95=[280.0, 316.0], significant=True),
    PairedDifference(a="random", b="bow-stack", difference=293.6, ci95=[275.0, 311.0], significant=True),
]


def test_the_summary_names_the_best_its_interval_and_who_is_within_noise(tmp_path):
    from pricer_core.bench.results import BenchResults, DatasetInfo

    dataset = DatasetInfo(name="bundle", sizes={"sample": 200}, sample_ids_sha256="0", train_price={}, sample_price={})
    results = BenchResults(created="2026-12-06", git=None, versions={}, dataset=dataset, seed=42, predictors=PREDICTORS, paired=PAIRS)
    text = summary_section(results)
    assert "Best: <b>xgboost</b>, mean absolute error <b>$82.00</b>" in text and "$77.00–$87.00" in text
    assert "Within noise of it" in text and "<b>bow-stack</b>" in text
    assert "90% (the rest at the training median)" in text  # coverage shown
    assert "1 not run" in text
    assert text.index("<b>xgboost</b></td>") < text.index("<b>bow-stack</b></td>") < text.index("<b>random</b></td>")


def test_no_tie_says_every_other_is_worse_beyond_noise():
    assert within_noise_of("xgboost", PAIRS) == ["bow-stack"]
    assert within_noise_of("random", PAIRS) == []


def test_the_paired_matrix_is_in_rank_order_and_its_scale_spans_the_gaps_that_matter():
    heatmap = paired_figure(PAIRS, PREDICTORS).data[0]
    assert list(heatmap.x) == ["xgboost", "bow-stack", "random"] == [p.name for p in ranked(PREDICTORS)]
    assert heatmap.zmax == pytest.approx(4.4) and heatmap.zmin == pytest.approx(-4.4)  # not 298: random is far behind


def test_the_report_opens_with_the_summary(tmp_path):
    run_bench(predictors=["constant-mean", "random", "constant-median"], size=30, out=tmp_path, echo=lambda _: None)
    html = (tmp_path / "report.html").read_text()
    assert html.index("id='summary'") < html.index("Leaderboard: MAE") < html.index("Paired MAE difference")


def test_a_lone_scored_predictor_is_not_said_to_beat_the_others():
    from pricer_core.bench.results import BenchResults, DatasetInfo

    dataset = DatasetInfo(name="bundle", sizes={"sample": 200}, sample_ids_sha256="0", train_price={}, sample_price={})
    results = BenchResults(created="2026-12-06", git=None, versions={}, dataset=dataset, seed=42, predictors=[result("xgboost", 82.0)], paired=[])
    assert "only predictor scored" in summary_section(results) and "worse beyond noise" not in summary_section(results)
