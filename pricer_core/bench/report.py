"""The bench's report.html: one self-contained page (plotly.js inlined, opens offline)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from pricer_core.evaluation.metrics import running_mean_band
from pricer_core.bench.results import BenchResults, LosoResults, PairedDifference, PredictorResult

COLOURS = {"green": "#2ca02c", "orange": "#ff7f0e", "red": "#d62728"}
SUMMARY_COLOUR = "#fff4d6"  # the summary's background: the screenshot test finds the first screen's answer by it
CLOSE_TO_BEST = 1.5  # the paired matrix's colour scale spans the gaps among predictors within 1.5x the best MAE


def ranked(predictors: list[PredictorResult]) -> list[PredictorResult]:
    """Scored predictors, best (lowest MAE) first: the one order every part of the report uses."""
    return sorted((p for p in predictors if p.scored), key=lambda p: (p.metrics.mae, p.name))


def within_noise_of(best: str, pairs: list[PairedDifference]) -> list[str]:
    """Predictors whose paired gap to `best` has a 95% interval that includes 0."""
    return sorted({pair.b if pair.a == best else pair.a for pair in pairs if best in (pair.a, pair.b) and not pair.significant})


def summary_section(results: BenchResults) -> str:
    """One screen that answers first: the best model and its interval, who is within noise, then every row ranked."""
    order = ranked(results.predictors)
    if not order:
        return f"<section id='summary' style='background:{SUMMARY_COLOUR};padding:12px'><p><b>No predictor was scored.</b></p></section>"
    best = order[0]
    ties = within_noise_of(best.name, results.paired)
    if len(order) == 1:
        ties_text = "It is the only predictor scored: nothing to compare it with."
    elif ties:
        ties_text = f"Within noise of it (paired 95% interval of the gap includes $0): <b>{html.escape(', '.join(ties))}</b>."
    else:
        ties_text = "Every other predictor is worse beyond noise (paired 95% intervals exclude $0)."
    rows = []
    for rank, entry in enumerate(order, 1):
        low, high = entry.metrics.mae_ci95
        coverage = "100%" if entry.coverage in (None, 1) else f"{entry.coverage:.0%} (the rest at the training median)"
        fit = "cached" if entry.cached_fit else (f"{entry.fit_seconds:.1f}" if entry.fit_seconds is not None else "")
        rows.append(
            f"<tr><td>{rank}</td><td><b>{html.escape(entry.name)}</b></td><td>{entry.metrics.mae:,.2f}</td>"
            f"<td>{low:,.1f}–{high:,.1f}</td><td>{coverage}</td><td>{fit}</td></tr>"
        )
    not_run = [p for p in results.predictors if p.status != "ok"]
    not_run_text = f" <a href='#not-run'>{len(not_run)} not run</a> (listed at the end)." if not_run else ""
    return (
        f"<section id='summary' style='background:{SUMMARY_COLOUR};padding:12px'>"
        f"<p style='font-size:1.3em'>Best: <b>{html.escape(best.name)}</b>, mean absolute error <b>${best.metrics.mae:,.2f}</b> "
        f"(bootstrap 95% interval ${best.metrics.mae_ci95[0]:,.2f}–${best.metrics.mae_ci95[1]:,.2f}) on {best.n} items.</p>"
        f"<p>{ties_text}{not_run_text}</p>"
        "<table border='1' cellpadding='4' style='border-collapse:collapse'><tr><th>rank</th><th>predictor</th><th>MAE $</th>"
        f"<th>95% interval</th><th>priced itself</th><th>fit s</th></tr>{''.join(rows)}</table></section>"
    )


def leaderboard_figure(predictors: list[PredictorResult]):
    import plotly.graph_objects as go

    order = ranked(predictors)
    # coverage is part of the answer: an abstention was scored at the training median
    names = [p.name if p.coverage in (None, 1) else f"{p.name} (priced {p.coverage:.0%} itself)" for p in order]
    mae = [p.metrics.mae for p in order]
    low = [p.metrics.mae - p.metrics.mae_ci95[0] for p in order]
    high = [p.metrics.mae_ci95[1] - p.metrics.mae for p in order]
    figure = go.Figure(
        go.Bar(x=mae, y=names, orientation="h", error_x={"type": "data", "symmetric": False, "array": high, "arrayminus": low})
    )
    figure.update_layout(
        title="Leaderboard: MAE ($) with bootstrap 95% interval",
        yaxis={"autorange": "reversed"},
        xaxis_title="mean absolute error ($)",
        height=120 + 40 * len(names),
    )
    return figure


def scatter_figure(name: str, records: list[dict[str, Any]], metrics: dict[str, float]):
    import plotly.graph_objects as go

    scored = [r for r in records if r.get("prediction") is not None]
    top = max([r["truth"] for r in scored] + [r["prediction"] for r in scored] + [1.0])
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="y = x", line={"color": "grey", "dash": "dash"}))
    for colour_name, hex_colour in COLOURS.items():
        chosen = [r for r in scored if r["colour"] == colour_name]
        figure.add_trace(
            go.Scatter(
                x=[r["truth"] for r in chosen],
                y=[r["prediction"] for r in chosen],
                mode="markers",
                name=colour_name,
                marker={"color": hex_colour, "size": 6},
                text=[r["title"] for r in chosen],
            )
        )
    figure.update_layout(
        title=f"{name}: MAE ${metrics['mae']:,.2f}, MSE {metrics['mse']:,.0f}, R² {metrics['r2']:.1f}%",
        xaxis_title="true price ($)",
        yaxis_title="predicted price ($)",
        height=480,
    )
    return figure


def running_error_figure(name: str, records: list[dict[str, Any]]):
    import plotly.graph_objects as go

    errors = [abs(r["error"]) for r in records if r.get("prediction") is not None]
    mean, low, high = running_mean_band(errors)
    x = list(range(1, len(errors) + 1))
    figure = go.Figure(
        [
            go.Scatter(x=x + x[::-1], y=list(high) + list(low[::-1]), fill="toself", name="95% band", line={"width": 0}, fillcolor="rgba(31,119,180,0.2)"),
            go.Scatter(x=x, y=list(mean), mode="lines", name="running MAE", line={"color": "#1f77b4"}),
        ]
    )
    figure.update_layout(title=f"{name}: running mean absolute error", xaxis_title="items", yaxis_title="$", height=360)
    return figure


def price_distribution_figure(train_prices: list[float], test_prices: list[float]):
    import plotly.graph_objects as go

    figure = go.Figure(
        [
            go.Histogram(x=train_prices, name="train", histnorm="probability", opacity=0.6, xbins={"size": 20}),
            go.Histogram(x=test_prices, name="test sample", histnorm="probability", opacity=0.6, xbins={"size": 20}),
        ]
    )
    figure.update_layout(barmode="overlay", title="Price distribution: train vs test sample", xaxis_title="$", height=360)
    return figure


def paired_figure(pairs: list[PairedDifference], predictors: list[PredictorResult]):
    """MAE(row) − MAE(column) on the same items, best first; a ✓ marks gaps whose 95% interval excludes 0.

    The colour scale spans the gaps among the predictors within CLOSE_TO_BEST of the best MAE, so a
    baseline far behind saturates its row instead of washing out the differences that matter."""
    import plotly.graph_objects as go

    paired_names = {pair.a for pair in pairs} | {pair.b for pair in pairs}
    order = ranked(predictors)
    names = [p.name for p in order if p.name in paired_names] + sorted(paired_names - {p.name for p in order})
    close = {p.name for p in order if order and p.metrics.mae <= CLOSE_TO_BEST * order[0].metrics.mae}
    spans = [abs(pair.difference) for pair in pairs if pair.a in close and pair.b in close] or [abs(pair.difference) for pair in pairs] or [1.0]
    limit = max(max(spans), 0.01)
    lookup = {(pair.a, pair.b): pair for pair in pairs}
    values, labels = [], []
    for row in names:
        row_values, row_labels = [], []
        for column in names:
            pair = lookup.get((row, column))
            sign = 1
            if pair is None and (column, row) in lookup:
                pair, sign = lookup[(column, row)], -1
            if pair is None:
                row_values.append(None)
                row_labels.append("")
                continue
            row_values.append(sign * pair.difference)
            row_labels.append(f"{sign * pair.difference:+.1f}{' ✓' if pair.significant else ''}")
        values.append(row_values)
        labels.append(row_labels)
    figure = go.Figure(
        go.Heatmap(z=values, x=names, y=names, text=labels, texttemplate="%{text}", colorscale="RdBu_r", zmin=-limit, zmax=limit, zmid=0)
    )
    figure.update_layout(title="Paired MAE difference, row − column ($); ✓ = 95% interval excludes 0", height=200 + 40 * len(names))
    return figure


def write_report(
    path: str | Path,
    results: BenchResults,
    records: dict[str, list[dict[str, Any]]],
    train_prices: list[float],
    test_prices: list[float],
) -> None:
    """Assemble the figures into one HTML page; plotly.js is inlined once at the top."""
    from pricer_core.storage.atomic import write_text_atomic

    figures = [leaderboard_figure(results.predictors), price_distribution_figure(train_prices, test_prices)]
    if results.paired:
        figures.append(paired_figure(results.paired, results.predictors))
    for predictor in ranked(results.predictors):
        figures.append(scatter_figure(predictor.name, records[predictor.name], predictor.metrics.model_dump()))
        figures.append(running_error_figure(predictor.name, records[predictor.name]))
    body = [figure.to_html(full_html=False, include_plotlyjs=(index == 0)) for index, figure in enumerate(figures)]
    skipped = [
        f"<li><b>{html.escape(p.name)}</b>: {html.escape(p.status)} ({html.escape(p.reason or '')})</li>"
        for p in results.predictors
        if p.status != "ok"
    ]
    dataset = results.dataset
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>pricer bench</title></head><body>"
        f"<h1>pricer bench: {html.escape(str(dataset.name))}</h1>"
        f"<p>{dataset.sizes['sample']} test items; created {html.escape(results.created)}</p>"
        + summary_section(results)
        + "".join(body)
        + (f"<h2 id='not-run'>Not run</h2><ul>{''.join(skipped)}</ul>" if skipped else "")
        + (loso_table(results.leave_one_source_out) if results.leave_one_source_out else "")
        + "</body></html>"
    )
    write_text_atomic(path, page)


def loso_table(loso: LosoResults) -> str:
    """Leave-one-source-out beside the official test: one row per predictor, one column per held-out source."""
    sources = list(loso.sources)
    head = "".join(f"<th>{html.escape(source)} ({count})</th>" for source, count in loso.sources.items())
    rows = []
    for entry in sorted(loso.predictors, key=lambda e: (e.mean_mae is None, e.mean_mae or 0)):
        cells = {score.source: score for score in entry.sources}
        values = "".join(
            f"<td>{cells[s].mae:.2f} [{cells[s].mae_ci95[0]:.1f}, {cells[s].mae_ci95[1]:.1f}]</td>" if cells[s].mae is not None else "<td>failed</td>"
            for s in sources
        )
        mean = f"{entry.mean_mae:.2f}" if entry.mean_mae is not None else "-"
        rows.append(f"<tr><td><b>{html.escape(entry.name)}</b></td><td>{mean}</td>{values}</tr>")
    return (
        "<h2>Leave-one-source-out MAE ($, bootstrap 95% interval)</h2><p>Each training source held out in turn; "
        "the official test is not used.</p><table border='1' cellpadding='4'>"
        f"<tr><th>predictor</th><th>mean</th>{head}</tr>{''.join(rows)}</table>"
    )


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    import shutil

    return next((path for path in map(shutil.which, CHROMIUM_NAMES) if path), None)


def screenshot(html_path: str | Path, png_path: str | Path, width: int = 1200, height: int = 900) -> Path:
    """PNG of the report's first screen (the summary, then the leaderboard chart) through headless Chromium, offline."""
    import subprocess
    import tempfile

    browser = find_chromium()
    if browser is None:
        raise RuntimeError("PNG export needs Chromium (Debian: apt-get install chromium)")
    png_path = Path(png_path).resolve()
    with tempfile.TemporaryDirectory() as profile:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            f"--user-data-dir={profile}", f"--window-size={width},{height}", "--virtual-time-budget=10000",
            f"--screenshot={png_path}", Path(html_path).resolve().as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or not png_path.exists():
        raise RuntimeError(f"Chromium could not take the screenshot: {(result.stderr.strip().splitlines() or ['no output'])[-1]}")
    return png_path
