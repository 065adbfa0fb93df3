"""The batch state file is data: it cannot choose what is uploaded or which URL path is called."""

import json

import pytest

from pricer_core.data.loading import load_bundle
from pricer_llm.batch import BatchState, GroqBatchRunner, groq_client

from groq_standin import GroqStandIn


class Killed(Exception):
    pass


def kill(_chunk):
    raise Killed


def test_a_state_file_cannot_choose_the_file_that_is_uploaded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("PRIVATE KEY MATERIAL")
    state = tmp_path / "run" / "state.json"
    items = load_bundle().test[:2]
    with GroqStandIn("http://127.0.0.1:9/v1") as standin:  # killed before any batch runs: no upstream needed
        client = groq_client(base_url=standin.base_url, api_key="test-key")
        with pytest.raises(Killed):
            GroqBatchRunner(client, state).create(items, after_upload=kill)
        (uploaded,) = standin.files.values()
        assert [json.loads(line)["custom_id"] for line in uploaded.decode().splitlines()] == [item.id for item in items]
        data = json.loads(state.read_text())
        assert "input_path" not in data["chunks"][0]
        del data["chunks"][0]["file_id"]
        data["chunks"][0]["input_path"] = str(secret)  # what an edited (or old) state file might say
        state.write_text(json.dumps(data))
        with pytest.raises(Killed):
            GroqBatchRunner(client, state).create(items, after_upload=kill)
        assert len(standin.files) == 2 and all(content == uploaded for content in standin.files.values())
        assert b"PRIVATE" not in b"".join(standin.files.values())


@pytest.mark.parametrize("key", ["file_id", "batch_id", "output_file_id", "error_file_id"])
def test_an_id_that_could_walk_a_url_path_is_refused(tmp_path, key):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"chunks": [{"index": 0, "ids": ["a"], key: "../../v1/files"}], "summaries": {}, "failed": {}}))
    with pytest.raises(ValueError) as refused:
        BatchState(state)
    assert str(refused.value) == f"{state}: chunk 0 {key} '../../v1/files' is not a provider id"


@pytest.mark.parametrize("content, words", [("{oops", "not valid JSON"), ("[]", "not a batch state file"), ('{"chunks": [{"ids": "a"}], "summaries": {}, "failed": {}}', "chunk 0 has no list")])
def test_a_state_file_that_is_not_one_is_a_one_line_error(tmp_path, content, words):
    state = tmp_path / "state.json"
    state.write_text(content)
    with pytest.raises(ValueError, match=words) as refused:
        BatchState(state)
    assert "\n" not in str(refused.value)
