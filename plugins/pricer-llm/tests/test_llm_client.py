"""Keys from the working directory's .env, and which servers count as this machine's."""

import pytest

from pricer_llm.client import MissingKey, is_loopback, require_key

KEY = "gsk-from-the-dotenv-file"


@pytest.fixture
def no_groq_key(monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "placeholder")
    monkeypatch.delenv("GROQ_API_KEY")  # recorded, so whatever .env loads is undone after the test


def test_require_key_reads_the_env_file_in_the_working_directory(no_groq_key, tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(f"GROQ_API_KEY={KEY}\n")
    monkeypatch.chdir(tmp_path)
    assert require_key("GROQ_API_KEY", "use Groq") == KEY


def test_the_environment_wins_over_the_env_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "gsk-from-the-environment")
    (tmp_path / ".env").write_text(f"GROQ_API_KEY={KEY}\n")
    monkeypatch.chdir(tmp_path)
    assert require_key("GROQ_API_KEY", "use Groq") == "gsk-from-the-environment"


def test_an_env_file_above_the_working_directory_is_not_read(no_groq_key, tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(f"GROQ_API_KEY={KEY}\n")
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    with pytest.raises(MissingKey) as missing:
        require_key("GROQ_API_KEY", "use Groq")
    assert str(missing.value) == "set GROQ_API_KEY (in the environment or a .env file) to use Groq" and KEY not in str(missing.value)


@pytest.mark.parametrize(
    "api_base, loopback",
    [
        ("http://127.0.0.1:8765/v1", True),
        ("http://localhost:1/v1", True),
        ("http://[::1]:8000/v1", True),
        ("http://127.0.0.1.example.com/v1", False),
        ("https://example.com/127.0.0.1/v1", False),
        ("https://api.groq.com/openai/v1", False),
        (None, False),
    ],
)
def test_only_this_machine_counts_as_local(api_base, loopback):
    assert is_loopback(api_base) is loopback


def test_a_base_url_of_this_run_never_gets_a_providers_key(monkeypatch):
    """A folder's model name may say groq/...: with a base URL set, GROQ_API_KEY still stays home."""
    from pricer_llm.client import ChatClient, LLMSettings

    monkeypatch.setenv("GROQ_API_KEY", "secret-groq-key")
    monkeypatch.delenv("PRICER_LLM_API_KEY", raising=False)
    remote = ChatClient(LLMSettings("groq/openai/gpt-oss-20b", api_base="http://10.1.2.3:8000/v1"))
    assert remote._key_for_base() == "none"
    monkeypatch.setenv("PRICER_LLM_API_KEY", "key-for-my-server")
    assert remote._key_for_base() == "key-for-my-server"
    assert ChatClient(LLMSettings("openai/smollm2", api_base="http://127.0.0.1:8765/v1"))._key_for_base() == "local"
    assert ChatClient(LLMSettings("groq/openai/gpt-oss-20b"))._key_for_base() is None  # litellm: Groq's key to Groq
