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
