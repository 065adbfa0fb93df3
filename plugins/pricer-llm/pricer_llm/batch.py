"""`groq-batch`: summaries through Groq's batch API, resumable after a kill.

Flow: JSONL files of at most 1000 requests (custom_id = item id) → upload (purpose "batch") →
create batch (24h window) → poll → download output and error files → summaries written back by
id. Every step is recorded in a JSON state file, written atomically, before the next one starts,
so a killed run picks up where it stopped; rows that failed are re-submitted on the next run.

The state file is data, not instructions: the host is this run's (`base_url`, GROQ_BASE_URL or
Groq), request files are always `<state>-files/requests-NNNN.jsonl` beside it (an `input_path`
written by older versions is ignored), and every file or batch id must look like one before it
goes into a URL path.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pricer_core.storage.atomic import write_json_atomic
from pricer_core.item import Item
from pricer_core.contract.predictor import Needs, Preprocessor, ProcessReport

from .prompts import summary_messages, tidy_summary

CHUNK_SIZE = 1000
BATCH_MODEL = "openai/gpt-oss-20b"
TERMINAL = {"completed", "failed", "expired", "cancelled"}
# Provider ids (file_01j..., batch_01j..., ftjob-...): no "/", no ".." can ride into a URL path.
PROVIDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")
ID_KEYS = ("file_id", "batch_id", "output_file_id", "error_file_id")


def check_provider_id(path: Path, key: str, value) -> None:
    if value is not None and not (isinstance(value, str) and PROVIDER_ID.fullmatch(value)):
        raise ValueError(f"{path}: {key} {str(value)[:80]!r} is not a provider id")


def _check_state(path: Path, data) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("chunks"), list) or not isinstance(data.get("summaries"), dict) or not isinstance(data.get("failed"), dict):
        raise ValueError(f"{path}: not a batch state file (expected chunks, summaries and failed)")
    for position, chunk in enumerate(data["chunks"]):
        if not isinstance(chunk, dict) or not isinstance(chunk.get("ids"), list) or not all(isinstance(item_id, str) for item_id in chunk["ids"]):
            raise ValueError(f"{path}: chunk {position} has no list of item ids")
        for key in ID_KEYS:
            check_provider_id(path, f"chunk {position} {key}", chunk.get(key))
        chunk.pop("input_path", None)  # older versions stored it; the request file's place is fixed now
    if not all(isinstance(text, str) for text in data["summaries"].values()):
        raise ValueError(f"{path}: summaries must be texts")
    return data


class BatchState:
    """What has been submitted and what came back; a plain JSON file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise ValueError(f"{self.path}: state file is not valid JSON ({error})") from None
            self.data = _check_state(self.path, data)
        else:
            self.data = {"chunks": [], "summaries": {}, "failed": {}}

    def save(self) -> None:
        write_json_atomic(self.path, self.data)

    @property
    def chunks(self) -> list[dict[str, Any]]:
        return self.data["chunks"]

    def pending_ids(self) -> set[str]:
        return {item_id for chunk in self.chunks if not chunk.get("fetched") for item_id in chunk["ids"]}


def request_line(item: Item, model: str, max_tokens: int) -> str:
    body = {"model": model, "messages": summary_messages(item), "max_tokens": max_tokens, "temperature": 0}
    return json.dumps({"custom_id": item.id, "method": "POST", "url": "/v1/chat/completions", "body": body})


class GroqBatchRunner:
    """Drives the batch flow with the official groq client (or anything with the same surface)."""

    def __init__(self, client, state_path: str | Path, model: str = BATCH_MODEL, chunk_size: int = CHUNK_SIZE, max_tokens: int = 160, work_dir: str | Path | None = None):
        self.client = client
        self.state = BatchState(state_path)
        self.model, self.chunk_size, self.max_tokens = model, chunk_size, max_tokens
        self.work_dir = Path(work_dir) if work_dir else self.state.path.parent / (self.state.path.stem + "-files")

    def request_path(self, position: int) -> Path:
        """Where chunk `position`'s requests live: fixed by the state file's own place, never read from it."""
        return self.work_dir / f"requests-{position:04d}.jsonl"

    def create(self, items: list[Item], after_upload: Callable[[dict], None] | None = None) -> int:
        """Submit every item that has no summary and is not already in flight; returns requests submitted."""
        done = set(self.state.data["summaries"]) | self.state.pending_ids()
        todo = [item for item in items if item.id not in done and not item.summary]
        for start in range(0, len(todo), self.chunk_size):
            chunk_items = todo[start : start + self.chunk_size]
            chunk = {"index": len(self.state.chunks), "ids": [item.id for item in chunk_items]}
            self.work_dir.mkdir(parents=True, exist_ok=True)
            self.request_path(chunk["index"]).write_text("".join(request_line(item, self.model, self.max_tokens) + "\n" for item in chunk_items))
            self.state.chunks.append(chunk)
            for item_id in chunk["ids"]:
                self.state.data["failed"].pop(item_id, None)
            self.state.save()
        submitted = 0
        for position, chunk in enumerate(self.state.chunks):
            submitted += self._advance_submission(position, chunk, after_upload)
        return submitted

    def _advance_submission(self, position: int, chunk: dict[str, Any], after_upload: Callable[[dict], None] | None) -> int:
        if chunk.get("batch_id"):
            return 0
        if not chunk.get("file_id"):
            request_path = self.request_path(position)
            with open(request_path, "rb") as handle:
                uploaded = self.client.files.create(file=(request_path.name, handle.read()), purpose="batch")
            chunk["file_id"] = uploaded.id
            self.state.save()
            if after_upload:
                after_upload(chunk)
        batch = self.client.batches.create(input_file_id=chunk["file_id"], endpoint="/v1/chat/completions", completion_window="24h")
        chunk["batch_id"], chunk["status"] = batch.id, batch.status
        self.state.save()
        return len(chunk["ids"])

    def poll(self) -> dict[str, int]:
        """Refresh every unfinished batch; fetch results of finished ones. Returns counts by status."""
        counts: dict[str, int] = {}
        for chunk in self.state.chunks:
            if chunk.get("batch_id") and not chunk.get("fetched"):
                batch = self.client.batches.retrieve(chunk["batch_id"])
                chunk["status"] = batch.status
                chunk["output_file_id"] = getattr(batch, "output_file_id", None)
                chunk["error_file_id"] = getattr(batch, "error_file_id", None)
                self.state.save()
                if batch.status in TERMINAL:
                    self._fetch(chunk)
            status = "fetched" if chunk.get("fetched") else chunk.get("status", "not submitted")
            counts[status] = counts.get(status, 0) + 1
        return counts

    def _download(self, file_id: str) -> str:
        return self.client.files.content(file_id).text()

    def _fetch(self, chunk: dict[str, Any]) -> None:
        summaries, failed = self.state.data["summaries"], self.state.data["failed"]
        if chunk.get("output_file_id"):
            for line in self._download(chunk["output_file_id"]).splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                response = row.get("response") or {}
                if response.get("status_code") == 200:
                    text = tidy_summary(response["body"]["choices"][0]["message"]["content"] or "")
                    if text:
                        summaries[row["custom_id"]] = text
                        continue
                failed[row["custom_id"]] = f"status {response.get('status_code')}"
        if chunk.get("error_file_id"):
            for line in self._download(chunk["error_file_id"]).splitlines():
                if line.strip():
                    row = json.loads(line)
                    error = row.get("error") or {}
                    failed[row["custom_id"]] = str(error.get("message") or error or "error")
        for item_id in chunk["ids"]:
            if item_id not in summaries and item_id not in failed:
                failed[item_id] = f"batch {chunk['status']} without a result"
        chunk["fetched"] = True
        self.state.save()

    def run(self, items: list[Item], poll_seconds: float = 10.0, timeout: float = 24 * 3600) -> list[Item]:
        """create → poll until every batch is fetched → items with summaries applied."""
        self.create(items)
        deadline = time.monotonic() + timeout
        while any(not chunk.get("fetched") for chunk in self.state.chunks):
            if time.monotonic() > deadline:
                raise TimeoutError(f"batches still running after {timeout:.0f}s; run again later to resume")
            self.poll()
            if any(not chunk.get("fetched") for chunk in self.state.chunks):
                time.sleep(poll_seconds)
        return self.apply(items)

    def apply(self, items: list[Item]) -> list[Item]:
        summaries = self.state.data["summaries"]
        return [item.model_copy(update={"summary": summaries[item.id]}) if item.id in summaries else item for item in items]


def groq_client(base_url: str | None = None, api_key: str | None = None):
    """The official groq client; base_url points it at a stand-in (tests) or Groq itself."""
    from groq import Groq

    from .client import require_key

    key = require_key("GROQ_API_KEY", "use Groq batches", api_key)
    return Groq(api_key=key, base_url=base_url or os.environ.get("GROQ_BASE_URL"))


class GroqBatch(Preprocessor):
    """Summaries through Groq's batch API (half the price of single calls, results within 24h)."""

    name = "groq-batch"
    needs = Needs(env=("GROQ_API_KEY",))

    def __init__(self, state_path: str = "groq-batch-state.json", model: str = BATCH_MODEL, base_url: str | None = None, poll_seconds: float = 30.0):
        self.runner = GroqBatchRunner(groq_client(base_url), state_path, model)
        self.poll_seconds = poll_seconds

    def process(self, items: list[Item]) -> list[Item]:
        return self.runner.run(items, self.poll_seconds)

    def report(self) -> ProcessReport:
        return ProcessReport(failures=dict(self.runner.state.data["failed"]))
