"""Against the live local llama.cpp server: summaries, prices, litellm and the groq client, the cache."""

import pytest

from pricer_core.evaluation.evaluator import evaluate
from pricer_core.data.loading import load_bundle
from pricer_llm.batch import GroqBatchRunner, groq_client
from pricer_llm.predictors import LLMPredictor
from pricer_llm.prompts import is_five_line_summary
from pricer_llm.summarize import LLMSummary

from groq_standin import GroqStandIn


@pytest.fixture(scope="module")
def items():
    return load_bundle().test[:3]


def test_summary_in_the_five_line_format_and_cache_makes_rerun_free(local_env, items, tmp_path):
    cache = tmp_path / "cache.sqlite"
    first = LLMSummary(cache_path=str(cache), concurrency=2)
    summarised = first.process(items[:2])
    assert all(is_five_line_summary(item.summary) for item in summarised)
    report = first.report()
    assert report.input_tokens > 100 and report.output_tokens > 10 and report.cost_usd == 0.0 and not report.failures
    again = LLMSummary(cache_path=str(cache))
    assert [item.summary for item in again.process(items[:2])] == [item.summary for item in summarised]
    assert again.client.usage.cached == 2 and again.report().input_tokens == 0


def test_llm_predictor_parses_a_price_through_litellm(local_env, items, tmp_path):
    predictor = LLMPredictor(cache_path=str(tmp_path / "c.sqlite")).fit(items, [])
    assert predictor.structured  # local model: the JSON schema forces a number
    evaluation = evaluate(predictor, items, workers=2)
    assert evaluation.metrics["coverage"] == 1.0
    assert all(record["prediction"] >= 0 for record in evaluation.records)


def test_llm_predictor_skips_without_a_server(monkeypatch):
    monkeypatch.setenv("PRICER_LLM_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.delenv("PRICER_LLM_MODEL", raising=False)
    assert "no LLM server answers" in LLMPredictor.unavailable()


def test_groq_batch_end_to_end_with_kill_after_upload_and_error_file(local_env, items, tmp_path):
    """The real groq client against a stand-in of Groq's endpoints that asks the live local model."""
    state = tmp_path / "state.json"
    with GroqStandIn(local_env.api_base, fail_once={items[1].id}) as standin:
        client = groq_client(base_url=standin.base_url, api_key="test-key")

        class Killed(Exception):
            pass

        def kill(chunk):
            raise Killed

        first = GroqBatchRunner(client, state, chunk_size=2)
        with pytest.raises(Killed):
            first.create(items, after_upload=kill)
        assert standin.uploads == 1 and not standin.batches  # uploaded, killed before the batch was created

        resumed = GroqBatchRunner(client, state, chunk_size=2)  # a new process reads the state file
        summarised = resumed.run(items, poll_seconds=0.2, timeout=300)
        assert standin.uploads == 2  # the first chunk was not uploaded again; the second was new
        assert resumed.state.data["failed"] == {items[1].id: "simulated failure"}
        assert [item.summary is not None for item in summarised] == [True, False, True]

        retry = GroqBatchRunner(client, state, chunk_size=2)
        summarised = retry.run(items, poll_seconds=0.2, timeout=300)  # only the failed row is sent again
        assert standin.uploads == 3 and all(item.summary for item in summarised)
        assert retry.state.data["failed"] == {}
