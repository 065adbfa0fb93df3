"""Fine-tuning: export training files, start and follow a job, and price with the tuned model.

Two export formats: OpenAI chat (user = the course's price prompt, assistant = "$<price>.xx") and
prompt/completion for open models (prompt = text cut to a token budget + "Price is $", completion
= the price). The job flow uses OpenAI's official client; its state is a JSON file, so a restarted
command follows the same job instead of starting another. The state file chooses nothing: the
host is this run's (`base_url`, OPENAI_BASE_URL or OpenAI), files uploaded are the ones this run
names, and ids read back must look like provider ids before they go into a URL path.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pricer_core.storage.atomic import atomic_file, write_json_atomic
from pricer_core.item import PRICE_PREFIX, TRAINING_QUESTION, Item

from .prompts import price_messages

CHARS_PER_TOKEN = 4  # a plain estimate; providers count exactly when they bill
# Dollars per million training tokens (provider list prices, 2025); unknown models are refused a quote.
TRAINING_PRICE_PER_MILLION = {"gpt-4.1-nano-2025-04-14": 1.50, "gpt-4.1-mini-2025-04-14": 5.00, "gpt-4o-mini-2024-07-18": 3.00}
DEFAULT_MODEL = "gpt-4.1-nano-2025-04-14"


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN)


def chat_row(item: Item) -> dict[str, Any]:
    if item.price is None:
        raise ValueError(f"item {item.id}: no price to teach")
    return {"messages": price_messages(item) + [{"role": "assistant", "content": f"${item.price:.2f}"}]}


def completion_row(item: Item, token_budget: int = 160) -> dict[str, str]:
    if item.price is None:
        raise ValueError(f"item {item.id}: no price to teach")
    text = item.text[: token_budget * CHARS_PER_TOKEN]
    return {"prompt": f"{TRAINING_QUESTION}\n\n{text}\n\n{PRICE_PREFIX}", "completion": f"{round(item.price)}.00"}


@dataclass
class ExportSummary:
    path: str
    rows: int
    tokens: int


def export(items: list[Item], path: str | Path, format: str = "chat", exclude: list[Item] = ()) -> ExportSummary:
    """Write one JSON line per item; refuses any item whose id or title is also in `exclude` (the test set)."""
    from pricer_core.data.text import normalise_title

    banned_ids = {item.id for item in exclude}
    banned_titles = {normalise_title(item.title) for item in exclude}
    leaks = [item.id for item in items if item.id in banned_ids or normalise_title(item.title) in banned_titles]
    if leaks:
        raise ValueError(f"{len(leaks)} items are also in the test set (first: {leaks[0]}); refusing to export them")
    path = Path(path)
    tokens = 0
    with atomic_file(path) as handle:
        for item in items:
            row = chat_row(item) if format == "chat" else completion_row(item)
            line = json.dumps(row, ensure_ascii=False)
            tokens += estimate_tokens(line)
            handle.write((line + "\n").encode("utf-8"))
    return ExportSummary(str(path), len(items), tokens)


def estimate_cost(training_tokens: int, epochs: int, model: str) -> float:
    if model not in TRAINING_PRICE_PER_MILLION:
        raise ValueError(f"no training price known for {model}; known: {sorted(TRAINING_PRICE_PER_MILLION)}")
    return training_tokens * epochs * TRAINING_PRICE_PER_MILLION[model] / 1_000_000


STATE_IDS = ("training_file_id", "validation_file_id", "job_id")


def read_state(path: Path) -> dict[str, Any]:
    """The job's state, or {} when there is none yet; ValueError (one line) for a file that is not one."""
    from .batch import check_provider_id

    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: state file is not valid JSON ({error})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path}: not a fine-tuning state file (expected a JSON object)")
    for key in STATE_IDS:
        check_provider_id(path, key, state.get(key))
    return state


class FineTuneJob:
    """Upload files, create the job, poll it; every id lands in the JSON state before the next call."""

    def __init__(self, client, state_path: str | Path):
        self.client = client
        self.state_path = Path(state_path)
        self.state: dict[str, Any] = read_state(self.state_path)

    def _save(self) -> None:
        write_json_atomic(self.state_path, self.state)

    def _upload(self, key: str, path: str) -> str:
        if not self.state.get(key):
            with open(path, "rb") as handle:
                self.state[key] = self.client.files.create(file=(Path(path).name, handle.read()), purpose="fine-tune").id
            self._save()
        return self.state[key]

    def start(self, train_file: str, validation_file: str | None, model: str, epochs: int, after_upload=None) -> str:
        """The job id; a second call with the same state file returns the job already started."""
        if self.state.get("job_id"):
            return self.state["job_id"]
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"fine-tuning needs at least 1 epoch, got {epochs!r}")  # before anything is uploaded or paid for
        self.state.update({"model": model, "epochs": epochs, "train_path": train_file, "validation_path": validation_file})
        training_id = self._upload("training_file_id", train_file)
        validation_id = self._upload("validation_file_id", validation_file) if validation_file else None
        if after_upload:
            after_upload(self.state)
        job = self.client.fine_tuning.jobs.create(
            model=model, training_file=training_id, validation_file=validation_id, hyperparameters={"n_epochs": epochs}, suffix="pricer"
        )
        self.state.update({"job_id": job.id, "status": job.status})
        self._save()
        return job.id

    def status(self) -> dict[str, Any]:
        if not self.state.get("job_id"):
            raise ValueError(f"{self.state_path}: no job started yet; run `pricer finetune run` first")
        job = self.client.fine_tuning.jobs.retrieve(self.state["job_id"])
        self.state.update({"status": job.status, "fine_tuned_model": job.fine_tuned_model})
        self._save()
        return {"job_id": job.id, "status": job.status, "fine_tuned_model": job.fine_tuned_model}

    def wait(self, poll_seconds: float = 30, timeout: float = 6 * 3600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            current = self.status()
            if current["status"] in {"succeeded", "failed", "cancelled"}:
                return current
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {current['job_id']} still {current['status']}; run `pricer finetune status` later")
            time.sleep(poll_seconds)


def openai_client(base_url: str | None = None, api_key: str | None = None):
    from openai import OpenAI

    from .client import require_key

    key = require_key("OPENAI_API_KEY", "fine-tune", api_key)
    return OpenAI(api_key=key, base_url=base_url or os.environ.get("OPENAI_BASE_URL"))
