"""Where the bench's jobs run: a local pool of isolated processes (`--jobs N`), or a Dask cluster
(`--scheduler ADDRESS`). Both run the same `run_isolated(job)`, so a job behaves the same on either.

On a cluster the workers must see the run folder and the fit cache at the same paths (a shared
filesystem, as a Dask deployment usually has for its data); a `LocalCluster` does by construction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from pricer_core.bench.isolation import Job, interrupt_all, run_isolated


class JobExecutor(Protocol):
    def submit(self, job: Job) -> Any:
        """Start the job; return a future whose `.result()` is the job's result dict."""

    def close(self, cancel: bool = False) -> None:
        """Release the workers; with `cancel`, stop every job still running or queued."""


class LocalPool:
    """N jobs at a time, each in its own spawned process (threads here only wait on them)."""

    def __init__(self, jobs: int, echo: Callable[[str], None]):
        lock = threading.Lock()

        def locked_echo(line: str) -> None:
            with lock:  # lines of two jobs never interleave mid-line
                echo(line)

        self._echo = locked_echo
        self._pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="pricer-job")
        self._cancelled = threading.Event()

    def submit(self, job: Job) -> Future:
        return self._pool.submit(run_isolated, job, self._echo, self._cancelled)

    def close(self, cancel: bool = False) -> None:
        if cancel:
            self._pool.shutdown(wait=False, cancel_futures=True)
            interrupt_all(self._cancelled)
        self._pool.shutdown(wait=True)


def run_collecting(job: Job) -> dict[str, Any]:
    """On a Dask worker: run the job and bring its printed lines back with the result."""
    lines: list[str] = []
    result = run_isolated(job, lines.append)
    result["messages"] = lines
    return result


class DaskCluster:
    """The same jobs on a Dask distributed cluster (`distributed.Client(address)`)."""

    def __init__(self, address: str, echo: Callable[[str], None]):
        try:
            from distributed import Client
        except ImportError:
            raise ValueError("--scheduler needs Dask distributed: pip install 'pricer[cluster]'") from None
        try:
            self._client = Client(address, timeout=10)
        except (OSError, TimeoutError) as error:
            raise ValueError(f"--scheduler {address}: cannot reach the Dask scheduler ({error})") from None
        self._echo = echo
        self._futures: list[Any] = []

    def submit(self, job: Job) -> Any:
        future = self._client.submit(run_collecting, job, pure=False)
        self._futures.append(future)
        return _EchoingFuture(future, self._echo)

    def close(self, cancel: bool = False) -> None:
        if cancel and self._futures:
            self._client.cancel(self._futures)
        self._client.close()


class _EchoingFuture:
    """A Dask future whose result echoes the job's lines here, as the local pool streams them."""

    def __init__(self, future: Any, echo: Callable[[str], None]):
        self._future, self._echo = future, echo

    def result(self) -> dict[str, Any]:
        result = self._future.result()
        for line in result.pop("messages", []):
            self._echo(line)
        return result


def make_executor(jobs: int, scheduler: str | None, echo: Callable[[str], None]) -> JobExecutor:
    return DaskCluster(scheduler, echo) if scheduler else LocalPool(jobs, echo)
