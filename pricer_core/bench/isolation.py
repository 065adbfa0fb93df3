"""Each predictor's fit and scoring in a spawned process of its own, so no plugin can bend the board.

The process gets its own copy of the items (read from the run's data file), its own working
directory, environment and module state, a time limit and a memory limit. Whatever it does to
them (mutate or truncate the training list, `chdir`, set `PRICER_DEBUG`, segfault, hang, allocate
without end) ends with it: the bench reads back a result file, or names why there is none.

`run_isolated(job)` is the one job runner: the local pool calls it from a thread, a Dask worker
calls it on its own machine (see `executors.py`). The child side is `pricer_core.bench.worker`.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
RESULT_LIMIT = 256 * 2**20  # a result file: 200 predictions and a describe(), far below this
OUTPUT_LIMIT = 2**20  # bytes of a job's printed output passed on; the rest is counted, not kept
DEFAULT_TIMEOUT = 3600.0  # seconds a predictor's fit and scoring may take; a hang is that predictor's failure

# Child process groups alive now: killed when the bench is interrupted, so no worker outlives it.
_LIVE: dict[int, subprocess.Popen] = {}
_LIVE_LOCK = threading.Lock()
JOB_MARK = "PRICER_BENCH_JOB"
PR_SET_CHILD_SUBREAPER = 36
_ADOPTING: bool | None = None


@dataclass
class Job:
    """One predictor on one protocol's data: everything its process needs, and nothing shared."""

    name: str
    label: str  # unique in the run: the predictor's name, or name@source for a held-out fold
    options: dict[str, Any]
    data_file: str  # pickle of (splits, sample) written by this bench for this run
    run_dir: str
    cache_dir: str | None
    workers: int
    seed: int
    keep_fit: bool = False  # a blend of this run needs the fitted model as a folder
    score: bool = True  # False: fitted only to be offered to a blend
    members: dict[str, str] = field(default_factory=dict)  # for a blend: member name -> fitted folder
    forwarded: bytes = b""  # plugins registered in this process (not entry points), pickled by cloudpickle
    sys_path: list[str] = field(default_factory=lambda: list(sys.path))
    timeout: float | None = DEFAULT_TIMEOUT
    memory_gb: float | None = None
    progress: bool = False  # a progress bar on stderr for per-item (LLM) predictors
    threads: int | None = None  # its share of the cores when jobs run side by side (None: all of them)
    plugin: str | None = None  # load only this plugin's entry point (and the core): a faster start


class WorkerResult(BaseModel):
    """What a worker may report; anything else in its result file makes the job a failure, not the run's."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "failed"]
    reason: str = "failed without a reason"
    fit_seconds: float | None = None
    cached_fit: bool | None = None
    folder: str | None = None
    predictions: list[float | None] | None = None
    failures: dict[str, str] = {}
    predict_seconds: float | None = None
    cost_usd: float = 0.0
    details: dict[str, Any] | None = None
    interval: dict[str, Any] | None = None


def failure(reason: str, **extra: Any) -> dict[str, Any]:
    return {"status": "failed", "reason": reason, **extra}


def read_result(path: Path) -> dict[str, Any]:
    """The worker's result file, read as a stranger's: a regular file, bounded, of the declared shape."""
    from pricer_core.errors import one_line
    from pricer_core.storage.bounded import read_bounded_text

    try:
        return WorkerResult.model_validate(json.loads(read_bounded_text(path, RESULT_LIMIT))).model_dump()
    except Exception as error:
        return failure(f"its result is unreadable ({one_line(error, 200)})")


def forwarded_plugins(collected: Any) -> bytes:
    """Plugins of `collected` (the run's PluginSet) registered at run time in this process (a
    notebook's, a test's), for the child to register.

    Entry-point plugins are found again by the child itself. cloudpickle carries a class defined in
    a notebook or a function by value; an importable one by reference.
    """
    import cloudpickle

    from pricer_core.plugins import registry

    runtime = {record.name for record in collected.plugins if record.name not in registry.entry_point_names()}
    plugins: dict[str, list[tuple[Any, str, dict[str, Any]]]] = {}
    for registration in collected.predictors.values():
        if registration.plugin in runtime:
            plugins.setdefault(registration.plugin, []).append((registration.factory, registration.name, registration.defaults))
    if not plugins:
        return b""
    try:
        return cloudpickle.dumps(plugins)
    except Exception:  # one unpicklable factory: forward the rest, the missing one fails with its name
        kept = {}
        for plugin, entries in plugins.items():
            try:
                cloudpickle.dumps(entries)
                kept[plugin] = entries
            except Exception:
                pass
        return cloudpickle.dumps(kept)


def run_isolated(job: Job, echo: Callable[[str], None] | None = None, cancelled: threading.Event | None = None) -> dict[str, Any]:
    """Run the job in a fresh process and return its result, or a failure naming why it has none."""
    from pricer_core.errors import one_line

    echo = echo or (lambda line: print(line, flush=True))
    try:
        return _run(job, echo, cancelled)
    except Exception as error:  # no disk, no file descriptors: this job's failure, not the run's
        return failure(f"its process could not run ({one_line(error, 200)})")


def _run(job: Job, echo: Callable[[str], None], cancelled: threading.Event | None) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"{_safe(job.label)}-", dir=Path(job.run_dir) / "work"))
    job_file, result_file = work / "job.pkl", work / "result.json"
    job_file.write_bytes(pickle.dumps(job))  # written here, read by our own worker: never a user's file
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in job.sys_path if path)}
    environment[JOB_MARK] = job.label  # inherited by whatever the job starts: how its strays are found
    if job.plugin:
        environment["PRICER_PLUGINS"] = job.plugin
    if job.threads:  # jobs side by side share the cores instead of each taking all (a user's setting wins)
        for variable in THREAD_VARIABLES:
            environment.setdefault(variable, str(job.threads))
    started = time.monotonic()
    adopt_strays()
    with _LIVE_LOCK:  # a job that had not started when the run was cancelled never starts
        if cancelled is not None and cancelled.is_set():
            return failure("cancelled")
        process = subprocess.Popen(
            [sys.executable, "-m", "pricer_core.bench.worker", str(job_file), str(result_file)],
            cwd=work, env=environment, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: killed whole, with any children it starts
        )
        _LIVE[process.pid] = process
    reader = threading.Thread(target=_forward_lines, args=(process.stdout, echo, job.label), daemon=True)
    reader.start()
    try:
        try:
            code = process.wait(timeout=job.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            return failure(f"timed out after {job.timeout:g} s (--timeout)")
    finally:
        with _LIVE_LOCK:
            _LIVE.pop(process.pid, None)
        _kill_group(process)  # whatever it started goes with it
        kill_strays()  # and what left its group (setsid, a double fork) and fell back to us
        reader.join(timeout=5)
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        limit = f"; its memory limit was {job.memory_gb:g} GB" if job.memory_gb else ""
        return failure(f"crashed (killed by {name}){limit}")
    if code != 0 or (not result_file.exists() and not result_file.is_symlink()):
        return failure(f"its process exited with code {code}" + ("" if result_file.exists() else " and no result"))
    result = read_result(result_file)
    result["process_seconds"] = round(time.monotonic() - started, 3)
    return result


def adopt_strays() -> bool:
    """Make this process the reaper of its descendants' orphans (Linux), so a job's process that
    leaves its group (setsid, a double fork) falls back to us instead of init, to be killed."""
    global _ADOPTING
    if _ADOPTING is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _ADOPTING = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError):
            _ADOPTING = False
    return _ADOPTING


def kill_strays() -> None:
    """Kill our child processes that carry a job's mark but are no live job: what a job left behind."""
    if not adopt_strays():
        return
    with _LIVE_LOCK:
        live = set(_LIVE)
    for children in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        try:
            pids = [int(pid) for pid in children.read_text().split()]
        except (OSError, ValueError):
            continue
        for pid in pids:
            if pid in live:
                continue
            try:
                marked = f"{JOB_MARK}=".encode() in Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if marked:
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError, PermissionError):
                    pass


def interrupt_all(cancelled: threading.Event | None = None) -> None:
    """Ctrl-C or SIGTERM: every live job's process group goes at once, and no queued job starts."""
    with _LIVE_LOCK:
        if cancelled is not None:
            cancelled.set()
        processes = list(_LIVE.values())
    for process in processes:
        _kill_group(process)
    kill_strays()


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _forward_lines(stream: Any, echo: Callable[[str], None], label: str) -> None:
    """The child's stdout, line by line, to the bench's echo (its progress messages, a plugin's prints).

    Lines are cut at 64 KB and the whole at OUTPUT_LIMIT bytes: a flood is read to its end (so the
    child never blocks on a full pipe) and counted, never held in this process.
    """
    passed = dropped = 0
    while raw := stream.readline(65536):
        if passed + len(raw) > OUTPUT_LIMIT:
            dropped += len(raw)
            continue
        passed += len(raw)
        try:
            echo(raw.decode("utf-8", "replace").rstrip("\n"))
        except Exception:  # the echo must not take the reader down; the job still finishes
            pass
    if dropped:
        echo(f"  {label}: printed {dropped:,} more bytes, not shown")
    stream.close()


def _safe(label: str) -> str:
    return "".join(character if character.isalnum() or character in "-_." else "_" for character in label)[:60]
