"""Micro-batching: requests that arrive together are priced in one model call.

A model's call has a fixed cost that dwarfs its cost per item (the default xgboost: 16.6 ms for one
item, 136 ms for 200), so under concurrency a server wins by calling once for many requests. One
model call runs at a time, in a worker thread, so the event loop keeps reading requests meanwhile,
and what arrived while it ran goes in the next call. Waiting costs latency, so a call waits (at most
`wait_s`) for more requests only when the last call had company: a lone client never waits, and
clients answered together, who ask again together, are gathered again instead of alternating
between a call of one and a call of the rest. A call holds at most `max_items` items (a larger
single request goes alone). A failing call made of several requests is retried request by
request, so one bad request fails alone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pricer_core.contract.predictor import Predictor
from pricer_core.item import Item

Priced = list[tuple[float | None, str | None]]  # per item: the price, or None and why


class ModelFailure(RuntimeError):
    """The model's call failed (an exception, or prices that break the contract); the message is one line."""


class Stopping(RuntimeError):
    """The server stopped before this request's turn came."""


@dataclass
class _Job:
    items: list[Item]
    future: asyncio.Future[Priced]
    arrived: float


@dataclass
class BatchStats:
    """How well requests were gathered: requests ÷ calls is the mean requests per model call."""

    calls: int = 0
    requests: int = 0
    items: int = 0
    largest: int = 0

    def as_json(self) -> dict[str, float | int]:
        return {
            "model_calls": self.calls, "requests": self.requests, "items": self.items, "largest_call": self.largest,
            "requests_per_call": round(self.requests / self.calls, 2) if self.calls else 0.0,
        }


class MicroBatcher:
    """Gathers `price(items)` calls from many requests into few `predict` calls, one at a time."""

    def __init__(self, predictor: Predictor, wait_s: float = 0.002, max_items: int = 256, workers: int = 8):
        self.predictor = predictor
        self.wait_s = max(0.0, wait_s)
        self.max_items = max(1, max_items)
        self.workers = workers  # threads for a per-item predictor (an LLM) within one call
        self.stats = BatchStats()
        self._pending: deque[_Job] = deque()
        self._pending_items = 0
        self._arrived: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pricer-predict")
        self._company = False  # whether the last call gathered more than one request
        self._last_end = 0.0  # when the last call ended (event-loop time)

    async def start(self) -> None:
        self._arrived = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pricer-batcher")

    async def stop(self) -> None:
        """Called after the server has drained its requests: anything still queued is told the server stopped."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        while self._pending:
            job = self._pending.popleft()
            if not job.future.done():
                job.future.set_exception(Stopping("the server is stopping"))
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def price(self, items: list[Item]) -> Priced:
        """Per item its price (or None and why), once the call holding these items has run."""
        if self._arrived is None or self._task is None or self._task.done():
            raise Stopping("the server is not pricing (not started, or stopping)")
        loop = asyncio.get_running_loop()
        job = _Job(items=items, future=loop.create_future(), arrived=loop.time())
        self._pending.append(job)
        self._pending_items += len(items)
        self._arrived.set()
        return await job.future

    async def _run(self) -> None:
        assert self._arrived is not None
        loop = asyncio.get_running_loop()
        while True:
            while not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
            deadline = max(self._pending[0].arrived, self._last_end) + (self.wait_s if self._company else 0.0)
            while self._pending_items < self.max_items and (remaining := deadline - loop.time()) > 0:
                self._arrived.clear()  # an Event, not a queue read under a timeout: a wake-up lost to the timeout loses no request
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except asyncio.TimeoutError:
                    break
            batch = self._take()
            if batch:
                await self._call(batch)

    def _take(self) -> list[_Job]:
        """The oldest requests up to max_items items (at least one request), skipping any whose client went away."""
        batch: list[_Job] = []
        count = 0
        while self._pending and (not batch or count + len(self._pending[0].items) <= self.max_items):
            job = self._pending.popleft()
            self._pending_items -= len(job.items)
            if not job.future.cancelled():
                batch.append(job)
                count += len(job.items)
        return batch

    async def _call(self, batch: list[_Job]) -> None:
        items = [item for job in batch for item in job.items]
        try:
            priced = await asyncio.get_running_loop().run_in_executor(self._executor, self._predict, items)
        except ModelFailure as failure:
            if len(batch) > 1:  # find the request that fails, so the others are still priced
                for job in batch:
                    await self._call([job])
                return
            _settle(batch[0], exception=failure)
            return
        self._company = len(batch) > 1
        self._last_end = asyncio.get_running_loop().time()
        self.stats.calls += 1
        self.stats.requests += len(batch)
        self.stats.items += len(items)
        self.stats.largest = max(self.stats.largest, len(batch))
        start = 0
        for job in batch:
            _settle(job, result=priced[start:start + len(job.items)])
            start += len(job.items)

    def _predict(self, items: list[Item]) -> Priced:
        """In the worker thread: every outcome of the predictor's call is a value or a ModelFailure, never an escape."""
        from pricer_core.errors import one_line
        from pricer_core.evaluation.evaluator import predict_all

        try:
            prices, failures = predict_all(self.predictor, items, self.workers)
        except BaseException as error:  # a plugin's SystemExit must not end the server
            raise ModelFailure(f"{self.predictor.name} failed: {one_line(error) if isinstance(error, Exception) else type(error).__name__}") from None
        return [(price, None if price is not None else failures.get(item.id, "no prediction")) for item, price in zip(items, prices)]


def _settle(job: _Job, result: Priced | None = None, exception: BaseException | None = None) -> None:
    if job.future.done():  # its client went away meanwhile
        return
    if exception is not None:
        job.future.set_exception(exception)
    else:
        job.future.set_result(result or [])
