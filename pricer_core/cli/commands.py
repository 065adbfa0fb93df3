"""Command line: a thin layer over the Python API. Heavy modules are imported inside commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

SET_HELP = "Predictor setting NAME.KEY=VALUE (VALUE parsed as JSON when it can be), repeatable."


def parse_settings(settings: tuple[str, ...], default_name: str | None = None) -> dict[str, dict[str, Any]]:
    """["xgboost.n_estimators=500"] → {"xgboost": {"n_estimators": 500}}."""
    parsed: dict[str, dict[str, Any]] = {}
    for setting in settings:
        target, separator, raw = setting.partition("=")
        if not separator:
            raise click.BadParameter(f"{setting!r}: expected NAME.KEY=VALUE", param_hint="--set")
        name, dot, key = target.rpartition(".")
        if not dot:
            if default_name is None:
                raise click.BadParameter(f"{setting!r}: expected NAME.KEY=VALUE", param_hint="--set")
            name, key = default_name, target
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        parsed.setdefault(name, {})[key] = value
    return parsed


def _fail(message: str) -> None:
    """A wrong flag or name: one line, exit 2 (bad input files and failed runs exit 1)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    """`kill` unwinds like Ctrl-C, so finally blocks and atexit run: temporary folders and half-written files go."""
    click.echo("terminated", err=True)
    raise SystemExit(128 + signum)


def unwind_on_sigterm() -> None:
    """Python's default SIGTERM ends the process on the spot; a command replaces it, a library does not."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


def run_with_one_line_errors(invoke: Any, ctx: click.Context) -> Any:
    """Every command: .env read first; any error that escapes is one line and exit 1 (PRICER_DEBUG=1: traceback)."""
    from pricer_core.errors import one_line
    from pricer_core.settings import debug, load_env_file

    unwind_on_sigterm()
    try:
        load_env_file()
        return invoke(ctx)
    except (click.exceptions.Exit, click.ClickException, click.Abort):
        raise
    except KeyboardInterrupt:
        if debug():
            raise
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as error:
        if debug():
            raise
        click.echo(f"error: {one_line(error)}", err=True)
        sys.exit(1)


class OneLineUsage:
    """A wrong flag is one line too: click's usage errors (usage, hint, error on three lines) become
    `error: ... (see --help)` with click's exit code, 2; `--help` and `--version` are untouched."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)  # type: ignore[misc]
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)  # type: ignore[misc]
        except click.UsageError as error:
            from pricer_core.errors import short_text

            command = error.ctx.command_path if error.ctx is not None else "the command"
            click.echo(f"error: {short_text(error.format_message())} (see {command} --help)", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("interrupted", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


class OneLineErrors(OneLineUsage, click.Command):
    """`pricer-bench` on its own: the same error handling as every `pricer` command."""

    def invoke(self, ctx: click.Context) -> Any:
        return run_with_one_line_errors(super().invoke, ctx)


@click.command("pricer-bench", cls=OneLineErrors)
@click.option("--data", default=None, help="Folder of train/validation/test splits or a hub dataset id. Default: the bundled data.")
@click.option("--test", "test_file", default=None, type=click.Path(exists=True, dir_okay=False), help="Score on this file instead of the test split.")
@click.option("--size", default=200, show_default=True, type=click.IntRange(min=1), help="Score the first N test items, in file order.")
@click.option("-p", "--predictor", "predictors", multiple=True, help="Predictor to run (repeatable). Default: every registered one.")
@click.option("--out", default="bench-out", show_default=True, type=click.Path(file_okay=False), help="Folder for results.json, predictions.jsonl and report.html.")
@click.option("--workers", default=5, show_default=True, type=click.IntRange(min=1), help="Threads for per-item (LLM) predictors.")
@click.option("--set", "settings", multiple=True, help=SET_HELP)
@click.option("--no-cache", is_flag=True, help="Refit every predictor instead of reusing cached fits.")
@click.option("--cache-dir", default=None, type=click.Path(file_okay=False), help="Where fitted models are cached. Default: $PRICER_CACHE or ~/.cache/pricer.")
@click.option("--png", is_flag=True, help="Also write leaderboard.png (needs Chromium).")
@click.option("--force", is_flag=True, help="Replace --out even if it holds files pricer did not write.")
@click.option("--loso", is_flag=True, help="Also score leave-one-source-out: each training source held out in turn (one fit per source).")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(min=1), help="Predictors fitted at once, each in its own process.")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Run the jobs on this Dask scheduler (tcp://host:8786) instead of locally; needs pricer[cluster].")
@click.option("--timeout", default=3600.0, show_default=True, type=click.FloatRange(min=1), help="Seconds one predictor's fit and scoring may take; past it, that predictor fails.")
@click.option("--memory-limit", "memory_limit", default=None, type=click.FloatRange(min=0.1), help="GB of memory one predictor's process may use. Default: 3/4 of this machine's over --jobs.")
def bench_command(data, test_file, size, predictors, out, workers, settings, no_cache, cache_dir, png, force, loso, jobs, scheduler, timeout, memory_limit) -> None:
    """Fit every selected predictor and compare them all on the same test items.

    Each predictor runs in a process of its own: a crash, a hang or a memory blow-up is that
    predictor's failure, named in the leaderboard, and the others' figures are what they print alone.
    """
    from pricer_core.bench.runner import leaderboard_lines, run_bench
    from pricer_core.data.readers import DataError
    from pricer_core.storage.atomic import OutputError

    try:
        results = run_bench(
            data=data,
            test=test_file,
            size=size,
            predictors=list(predictors) or None,
            out=out,
            workers=workers,
            cache_dir=cache_dir,
            use_cache=not no_cache,
            options=parse_settings(settings),
            echo=click.echo,
            force=force,
            loso=loso,
            jobs=jobs,
            scheduler=scheduler,
            timeout=timeout,
            memory_limit_gb=memory_limit,
        )
    except (DataError, OutputError):
        raise  # bad input or a refused --out: one line and exit 1, from the handler
    except ValueError as error:  # a wrong -p or --set: exit 2, like any wrong flag
        _fail(str(error))
    click.echo("")
    for line in leaderboard_lines(results):
        click.echo(line)
    if results.get("leave_one_source_out"):
        from pricer_core.bench.loso import loso_lines

        click.echo("")
        for line in loso_lines(results["leave_one_source_out"]):
            click.echo(line)
    click.echo(f"\nwrote {Path(out) / 'results.json'}, predictions.jsonl and report.html")
    if not any(entry["status"] == "ok" for entry in results["predictors"]):
        click.echo("error: no predictor scored (see the reasons above)", err=True)
        sys.exit(1)
    if png:
        from pricer_core.bench.report import screenshot

        try:
            click.echo(f"wrote {screenshot(Path(out) / 'report.html', Path(out) / 'leaderboard.png')}")
        except RuntimeError as error:
            click.echo(f"no PNG: {error}", err=True)


class PluginCommands(click.Group):
    """The `pricer` group; plugin commands (register_commands hook) are added on first look-up."""

    _plugins_loaded = False

    def _load_plugin_commands(self, warn: bool = True) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from pricer_core.plugins.registry import PluginError, add_commands

        try:
            problems = add_commands(self)  # each plugin in isolation: a broken one must not break the CLI
        except PluginError as error:
            _fail(str(error))
        for problem in problems if warn else []:
            click.echo(f"warning: {problem}", err=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None:
            self._load_plugin_commands()
            command = super().get_command(ctx, name)
        return command


class PricerGroup(OneLineUsage, PluginCommands):
    """`pricer`: every subcommand gets one-line errors and the working directory's .env."""

    def invoke(self, ctx: click.Context) -> Any:
        return run_with_one_line_errors(super().invoke, ctx)


@click.group(cls=PricerGroup)
@click.version_option(package_name="pricer")
def main() -> None:
    """pricer: predict prices from product text with interchangeable plugins."""


main.add_command(bench_command, name="bench")


@main.group("plugins", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--requirements", is_flag=True, help="Print pip lines that reproduce the installed plugin set.")
@click.pass_context
def plugins_command(ctx: click.Context, as_json: bool, requirements: bool) -> None:
    """List installed plugins, what they register, and any load error."""
    if ctx.invoked_subcommand:
        return
    from dataclasses import asdict

    from pricer_core.plugins.registry import PluginError, collect
    from pricer_core.plugins.registry import requirements as requirement_lines

    root = ctx.find_root().command
    if isinstance(root, PluginCommands):
        root._load_plugin_commands(warn=False)  # so commands, and errors adding them, are listed too
    try:
        plugin_set = collect()
    except PluginError as error:
        _fail(str(error))
    if requirements:
        for line in requirement_lines(plugin_set):
            click.echo(line)
        return
    if as_json:
        click.echo(json.dumps([asdict(record) for record in plugin_set.plugins], indent=2))
        return
    for record in plugin_set.plugins:
        version = f" {record.version}" if record.version else ""
        took = f" loaded in {record.load_seconds:.2f}s" if record.load_seconds is not None else ""
        click.echo(f"{record.name} ({record.distribution or 'local'}{version}){took}")
        if record.predictors:
            click.echo(f"  predictors: {', '.join(record.predictors)}")
        if record.preprocessors:
            click.echo(f"  preprocessors: {', '.join(record.preprocessors)}")
        if record.commands:
            click.echo(f"  commands: {', '.join(record.commands)}")
        if record.error:
            click.echo(f"  error: {record.error}")


@plugins_command.command("new")
@click.argument("name")
@click.option("--dir", "parent", default=".", show_default=True, type=click.Path(file_okay=False), help="Where to create pricer-NAME/.")
def plugins_new_command(name: str, parent: str) -> None:
    """Write a working plugin package pricer-NAME/ with its entry point and a contract test."""
    from pricer_core.plugins.scaffold import new_plugin

    try:
        root = new_plugin(name, parent)
    except (ValueError, FileExistsError) as error:
        _fail(str(error))
    click.echo(f"created {root}: pip install -e {root} && pytest {root}")


@main.command("train")
@click.argument("name")
@click.option("--data", default=None, help="Folder of splits or hub id. Default: the bundled data.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to save the fitted predictor in.")
@click.option("--set", "settings", multiple=True, help="Setting KEY=VALUE (or NAME.KEY=VALUE), repeatable.")
@click.option("--preset", default=None, help="Named preset, for predictors that have them (e.g. course).")
@click.option("--force", is_flag=True, help="Replace --out even if it holds files pricer did not write.")
def train_command(name: str, data: str | None, out: str, settings: tuple[str, ...], preset: str | None, force: bool) -> None:
    """Fit one predictor on train/validation and save it."""
    import time

    from pricer_core.storage.atomic import check_output
    from pricer_core.errors import one_line
    from pricer_core.storage.persistence import save_predictor
    from pricer_core.plugins.registry import collect
    from pricer_core.contract.predictor import declared_settings, fit_checked, learns_from_validation
    from pricer_core.data.loading import load_splits
    from pricer_core.evaluation.conformal import validation_interval
    from pricer_core.settings import is_main_process

    plugin_set = collect()
    if name not in plugin_set.predictors:
        _fail(f"unknown predictor {name!r}; available: {', '.join(plugin_set.predictors)}")
    parsed = parse_settings(settings, default_name=name)
    stray = sorted(set(parsed) - {name})
    if stray:
        _fail(f"--set names {', '.join(stray)}, but this trains {name}")
    options = parsed.get(name, {})
    registration = plugin_set.predictors[name]
    if preset:
        if "preset" not in declared_settings(registration.factory)[0]:
            _fail(f"{name} has no presets; drop --preset")
        options["preset"] = preset
    check_output(out, force, "model")  # before the fit, not after an hour of it
    try:
        predictor = registration.create(**options)
    except (TypeError, ValueError) as error:
        _fail(one_line(error))
    splits = load_splits(data)
    started = time.perf_counter()
    fit_checked(predictor, splits.train, splits.validation, name)
    seconds = time.perf_counter() - started
    if not is_main_process():  # under torchrun, rank 0 alone writes the model
        return
    extras: dict[str, object] = {"fit_seconds": seconds, "data": {"name": splits.name, **_fitted_on(splits)}}
    interval = validation_interval(predictor, splits.validation, learns_from_validation(predictor))
    if interval and "half_width_log" in interval:  # `pricer serve` answers with it, as the bench scores it
        extras["interval"] = interval
    save_predictor(predictor, out, extras, force=force)
    click.echo(f"fitted {name} in {seconds:.1f}s; saved to {out}")


def _fitted_on(splits) -> dict[str, str]:
    """Which rows a saved model learned from, by content: a folder says what data it was fitted on."""
    from pricer_core.data.splits import content_sha256

    return {"train_sha256": content_sha256(splits.train), "validation_sha256": content_sha256(splits.validation)}


@main.command("predict")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("items_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", default="-", help="JSON lines of id and price; - for standard output.")
@click.option("--force", is_flag=True, help="Replace --out if the file exists.")
def predict_command(model_dir: str, items_file: str, out: str, force: bool) -> None:
    """Price every row of a file, with or without a price, with a predictor saved by `pricer train`."""
    from pricer_core.storage.atomic import check_output_file, write_text_atomic

    if out != "-":
        check_output_file(out, force, inputs=(items_file,))
    from pricer_core.contract.checks import check_predictions
    from pricer_core.storage.persistence import load_predictor
    from pricer_core.data.readers import read_items

    predictor = load_predictor(model_dir)
    items, report = read_items(items_file, require_price=False)
    click.echo(report.summary(), err=True)
    for problem in report.problems[:10]:
        click.echo(f"  {problem}", err=True)
    if not items:
        raise ValueError(f"{items_file}: no row could be read, nothing to price")
    prices = check_predictions(predictor.predict([item.model_copy(update={"price": None}) for item in items]), len(items), predictor.name)
    lines = [json.dumps({"id": item.id, "title": item.title, "price": round(price, 2)}) for item, price in zip(items, prices)]
    if out == "-":
        click.echo("\n".join(lines))
    else:
        write_text_atomic(out, "\n".join(lines) + "\n")


@main.command("serve")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; any but loopback needs --token or --no-auth.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port; 0 picks a free one (announced).")
@click.option("--token", default=None, envvar="PRICER_SERVE_TOKEN", help="Bearer token /predict and /model require (or PRICER_SERVE_TOKEN).")
@click.option("--no-auth", is_flag=True, help="Serve anyone who reaches --host, without a token.")
@click.option("--max-items", default=1000, show_default=True, type=click.IntRange(min=1), help="Items in one request, at most (413 beyond).")
@click.option("--max-body", default=2**20, show_default=True, type=click.IntRange(min=1024), help="Bytes in one request body, at most (413 beyond).")
@click.option("--body-timeout", default=10.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds a client has to send its body (408 beyond).")
@click.option("--batch-wait-ms", default=2.0, show_default=True, type=click.FloatRange(min=0), help="Milliseconds a model call waits for more requests when the last call gathered several; 0: never.")
@click.option("--grace", default=30, show_default=True, type=click.IntRange(min=1), help="Seconds in-flight requests get to finish after SIGTERM.")
@click.option("--quiet", is_flag=True, help="No log line per request.")
def serve_command(model_dir: str, host: str, port: int, token: str | None, no_auth: bool, max_items: int, max_body: int, body_timeout: float, batch_wait_ms: float, grace: int, quiet: bool) -> None:
    """Serve a model saved by `pricer train` over HTTP: POST /predict, GET /model, a web page at /."""
    import importlib.util

    from pricer_core.serve.auth import check_exposure

    try:
        check_exposure(host, token, no_auth)
    except ValueError as error:
        _fail(str(error))
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        click.echo("error: pricer serve needs FastAPI and uvicorn: pip install 'pricer[serve]'", err=True)
        sys.exit(1)
    from pricer_core.serve.limits import ServeLimits
    from pricer_core.serve.model_card import load_model
    from pricer_core.serve.server import serve

    limits = ServeLimits(max_body_bytes=max_body, max_items=max_items, body_timeout_s=body_timeout, batch_wait_ms=batch_wait_ms, grace_s=grace)
    model = load_model(model_dir)  # a bad folder: one line, exit 1, before any port opens
    serve(model, host, port, token, limits, access_log=not quiet, announce=lambda line: click.echo(line))
    click.echo("stopped", err=True)


@main.command("read")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "format_", type=click.Choice(["raw", "course", "finetune", "pricer"]), default=None, help="Input format; detected from the first row when omitted.")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Write the items as pricer JSON lines (.gz to compress).")
@click.option("--force", is_flag=True, help="Replace --out if the file exists.")
def read_command(files: tuple[str, ...], format_: str | None, out: str | None, force: bool) -> None:
    """Read files in any supported format and report kept/dropped rows by reason."""
    from pricer_core.data.readers import read_items, write_items
    from pricer_core.storage.atomic import check_output_file

    if out:
        check_output_file(out, force, inputs=files)

    items = []
    for file in files:
        file_items, report = read_items(file, format_)  # a DataError is one line, exit 1 (the group's handler)
        click.echo(report.summary())
        for problem in report.problems[:10]:
            click.echo(f"  {problem}")
        items.extend(file_items)
    if not items:
        from pricer_core.data.readers import DataError

        raise DataError(f"{', '.join(files)}: no row was kept (the reasons are above)")
    if out:
        write_items(out, items)
        click.echo(f"wrote {len(items)} items to {out}")


@main.command("bundle")
@click.option("--data", default="../shared/data", show_default=True, type=click.Path(exists=True, file_okay=False), help="Folder of source files.")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Where to write. Default: the package's bundled data folder.")
def bundle_command(data: str, out: str | None) -> None:
    """Rebuild the bundled benchmark dataset from the source files."""
    from pricer_core.data.bundle_recipe import build_bundle
    from pricer_core.data.loading import bundle_dir

    if out is None:
        manifest = build_bundle(Path(data), bundle_dir())
    else:
        from pricer_core.storage.atomic import output_folder

        with output_folder(out, kind="bundle") as staging:
            manifest = build_bundle(Path(data), staging)
    for split, info in manifest["splits"].items():
        click.echo(f"{split}: {info['count']} items, ids sha256 {info['ids_sha256'][:12]}")


@main.command("curate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--category", "categories", multiple=True, help="Amazon Reviews 2023 category to read from the hub (repeatable), e.g. Automotive. Use instead of FILES.")
@click.option("--seed-categories", is_flag=True, help="The seed's eight categories from the hub.")
@click.option("--repo", default="McAuley-Lab/Amazon-Reviews-2023", show_default=True, help="Hub dataset (or a local folder with the same layout) that --category reads raw/meta_categories/meta_<CATEGORY>.jsonl from.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the DatasetDict (train/validation/test).")
@click.option("--train", "train_size", default=800_000, show_default=True, help="Training items to sample.")
@click.option("--validation", "validation_size", default=10_000, show_default=True, help="Validation items to sample.")
@click.option("--test", "test_size", default=10_000, show_default=True, help="Test items to sample.")
@click.option("--lite", is_flag=True, help="Also write OUT-lite: the first 20k/1k/1k of each split.")
@click.option("--workers", default=None, type=int, help="Processes for cleaning. Default: all cores.")
@click.option("--seed", default=42, show_default=True, help="Sampling seed.")
@click.option("--push", default=None, help="Also push to this hub dataset id (needs HF_TOKEN and a network).")
@click.option("--force", is_flag=True, help="Replace --out (and OUT-lite) even if they hold files pricer did not write.")
def curate_command(files, categories, seed_categories, repo, out, train_size, validation_size, test_size, lite, workers, seed, push, force) -> None:
    """Clean raw Amazon metadata, dedupe, sample by price and write train/validation/test.

    \b
    Local files:  pricer curate meta_Appliances.jsonl.gz --out data/appliances --train 5000 --validation 500 --test 500
    From the hub: pricer curate --seed-categories --out data/full --lite
    """
    from pricer_core.curation import curate

    chosen = list(categories) + (list(curate.SEED_CATEGORIES) if seed_categories else [])
    if not files and not chosen:
        _fail("give raw files, --category or --seed-categories")
    # DataError (bad input) and OutputError (a refused --out) are one line, exit 1 (the group's handler).
    curate.curate(
        files=list(files), categories=chosen, repo=repo, out=out, train=train_size, validation=validation_size,
        test=test_size, seed=seed, workers=workers, lite=lite, force=force, push=push, echo=click.echo,
    )


@main.command("summarize")
@click.argument("items_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Items with summaries, pricer JSON lines (.gz to compress).")
@click.option("-P", "--preprocessor", "name", default="llm-summary", show_default=True, help="Registered preprocessor to run.")
@click.option("--set", "settings", multiple=True, help="Setting KEY=VALUE for the preprocessor, repeatable.")
@click.option("--limit", default=None, type=int, help="Only the first N items.")
@click.option("--no-cache", is_flag=True, help="Ask the LLM for every item, even ones answered before.")
@click.option("--force", is_flag=True, help="Replace --out if the file exists.")
def summarize_command(items_file: str, out: str, name: str, settings: tuple[str, ...], limit: int | None, no_cache: bool, force: bool) -> None:
    """Fill each item's summary with a preprocessor (one LLM call per item by default)."""
    from pricer_core.data.readers import read_items, write_items
    from pricer_core.plugins.registry import collect
    from pricer_core.storage.atomic import check_output_file

    check_output_file(out, force, inputs=(items_file,))
    if limit is not None and limit < 1:
        _fail(f"--limit must be at least 1, got {limit}")

    plugin_set = collect()
    if name not in plugin_set.preprocessors:
        _fail(f"unknown preprocessor {name!r}; available: {', '.join(plugin_set.preprocessors) or 'none (install pricer-llm)'}")
    registration = plugin_set.preprocessors[name]
    missing = registration.needs.missing()
    if missing:
        _fail(f"{name}: {missing}")
    items, report = read_items(items_file)
    click.echo(report.summary())
    items = items[:limit] if limit else items
    preprocessor = registration.create(**parse_settings(settings, default_name=name).get(name, {}))
    if no_cache:
        preprocessor.bypass_caches()
    processed = preprocessor.process(items)
    write_items(out, processed)
    spent = preprocessor.report()
    done = sum(1 for item in processed if item.summary)
    click.echo(
        f"{done}/{len(items)} summarised; {spent.input_tokens} input and {spent.output_tokens} output tokens, "
        f"${spent.cost_usd:.4f}; {len(spent.failures)} failed; wrote {out}"
    )
    if items and not done:
        raise ValueError(f"no item was summarised ({len(spent.failures)} failed); see the reasons above")
