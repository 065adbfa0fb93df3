import json

import pytest

from pricer_core.data.loading import load_bundle
from pricer_core.data.text import normalise_title
from pricer_llm.finetune import FineTuneJob, estimate_cost, export, openai_client

from openai_standin import OpenAIStandIn


def test_chat_export_validates_and_has_no_test_leak(tmp_path):
    splits = load_bundle()
    summary = export(splits.train[:50], tmp_path / "train.jsonl", "chat", exclude=splits.test)
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    assert summary.rows == len(rows) == 50 and summary.tokens > 1000
    for row, item in zip(rows, splits.train[:50]):
        assert [message["role"] for message in row["messages"]] == ["user", "assistant"]
        assert row["messages"][0]["content"].startswith("Estimate the price of this product. Respond with the price, no explanation\n\n")
        assert row["messages"][1]["content"] == f"${item.price:.2f}"
    test_titles = {normalise_title(item.title) for item in splits.test}
    assert not any(normalise_title(item.title) in test_titles for item in splits.train[:50])


def test_completion_export_and_refusal_of_test_items(tmp_path):
    splits = load_bundle()
    export(splits.validation[:5], tmp_path / "v.jsonl", "completion")
    row = json.loads((tmp_path / "v.jsonl").read_text().splitlines()[0])
    assert row["prompt"].endswith("\n\nPrice is $") and row["completion"] == f"{round(splits.validation[0].price)}.00"
    with pytest.raises(ValueError, match="also in the test set"):
        export(splits.train[:3] + splits.test[:1], tmp_path / "x.jsonl", exclude=splits.test)


def test_cost_estimate_uses_the_price_table():
    assert estimate_cost(2_000_000, 2, "gpt-4.1-nano-2025-04-14") == pytest.approx(6.0)
    with pytest.raises(ValueError, match="no training price"):
        estimate_cost(10, 1, "mystery-model")


def test_job_flow_through_the_real_openai_client_killed_and_resumed(tmp_path):
    splits = load_bundle()
    export(splits.train[:20], tmp_path / "train.jsonl", exclude=splits.test)
    export(splits.validation[:5], tmp_path / "validation.jsonl", exclude=splits.test)
    state = tmp_path / "state.json"
    with OpenAIStandIn(polls_until_done=2) as standin:
        client = openai_client(base_url=standin.base_url, api_key="test-key")

        class Killed(Exception):
            pass

        def kill(_state):
            raise Killed

        with pytest.raises(Killed):
            FineTuneJob(client, state).start(str(tmp_path / "train.jsonl"), str(tmp_path / "validation.jsonl"), "gpt-4.1-nano-2025-04-14", 1, after_upload=kill)
        assert len(standin.files) == 2 and not standin.jobs

        resumed = FineTuneJob(client, state)  # a restarted command reads the same state
        job_id = resumed.start(str(tmp_path / "train.jsonl"), str(tmp_path / "validation.jsonl"), "gpt-4.1-nano-2025-04-14", 1)
        assert len(standin.files) == 2 and list(standin.jobs) == [job_id]  # nothing uploaded twice
        assert FineTuneJob(client, state).start("ignored", None, "ignored", 9) == job_id  # same job, not a new one
        result = FineTuneJob(client, state).wait(poll_seconds=0)
        assert result["status"] == "succeeded" and result["fine_tuned_model"].startswith("ft:gpt-4.1-nano")
        assert json.loads(state.read_text())["fine_tuned_model"] == result["fine_tuned_model"]


def test_missing_key_is_a_one_line_error(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pricer_core.cli.commands import main

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    export(load_bundle().train[:3], tmp_path / "t.jsonl")
    result = CliRunner().invoke(main, ["finetune", "run", "--train", str(tmp_path / "t.jsonl"), "--yes"])
    assert result.exit_code == 2 and "set OPENAI_API_KEY" in result.output
    assert "about $" in result.output


@pytest.mark.parametrize("epochs", ["0", "-3"])
def test_fewer_than_one_epoch_is_refused_before_any_cost_or_upload(tmp_path, monkeypatch, epochs):
    from click.testing import CliRunner

    from pricer_core.cli.commands import main

    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-sent")
    monkeypatch.chdir(tmp_path)
    export(load_bundle().train[:3], tmp_path / "t.jsonl")
    result = CliRunner().invoke(main, ["finetune", "run", "--train", str(tmp_path / "t.jsonl"), "--epochs", epochs, "--yes"])
    assert result.exit_code == 2 and "--epochs" in result.output and "about $" not in result.output
    assert not (tmp_path / "finetune-state.json").exists()
    with pytest.raises(ValueError, match="at least 1 epoch"):  # the Python API refuses it too
        FineTuneJob(None, tmp_path / "state.json").start(str(tmp_path / "t.jsonl"), None, "gpt-4.1-nano-2025-04-14", int(epochs))


@pytest.mark.parametrize("content, words", [('{"job_id": "../../files"}', "job_id '../../files' is not a provider id"), ('{"training_file_id": "a/b"}', "training_file_id"), ("{oops", "not valid JSON"), ("[1]", "expected a JSON object")])
def test_a_state_file_cannot_steer_the_urls_and_bad_ones_are_one_line(tmp_path, content, words):
    state = tmp_path / "state.json"
    state.write_text(content)
    with OpenAIStandIn() as standin:
        client = openai_client(base_url=standin.base_url, api_key="test-key")
        with pytest.raises(ValueError, match=words) as refused:
            FineTuneJob(client, state)
    assert str(refused.value).startswith(f"{state}: ") and "\n" not in str(refused.value)


def test_cli_reports_a_bad_state_file_in_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pricer_core.cli.commands import main

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    state = tmp_path / "state.json"
    state.write_text('{"job_id": "../x"}')
    export(load_bundle().train[:3], tmp_path / "t.jsonl")
    for arguments in (["finetune", "status", "--state", str(state)], ["finetune", "run", "--train", str(tmp_path / "t.jsonl"), "--state", str(state), "--yes"]):
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 2 and "is not a provider id" in result.output, result.output
