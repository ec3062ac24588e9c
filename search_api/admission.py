"""Bounded work per client: costly requests (long queries, exports) share a few slots.

A `Lane` runs at most `slots` jobs at once and lets one client hold at most `per_client` of them,
running or waiting; a job waits up to `wait` seconds for a slot. So four clients sending long
queries take turns on one slot while ordinary searches keep the reader connections to themselves.
Clients are told apart by their address (behind a proxy: the proxy's).

What a request waited for is counted in its `Waits` (`counting_waits`, `note_wait`) and reported by
middleware.ServerTiming in the `Server-Timing` header, so a load test can tell waiting from working.

Long work stops when nobody waits for it any more: `until_disconnected` runs a job in a worker thread
and tells it to stop when the client disconnects or the server shuts down.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

import anyio
from starlette.requests import Request

from ingest.errors import PolicyKBError

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ServiceBusy(PolicyKBError):
    """Every reader connection, or every slot for costly work, stayed busy for the allowed wait (503)."""


class TooManyRequests(PolicyKBError):
    """One client already has as much costly work running or waiting as it may (429)."""


class Cancelled(PolicyKBError):
    """Work stopped because its client left or the service is stopping (nobody reads the answer)."""


@dataclass
class Waits:
    """Seconds one request waited for a reader connection with its snapshot."""

    reader: float = 0.0


_WAITS: contextvars.ContextVar[Waits | None] = contextvars.ContextVar("policykb_waits", default=None)


@contextlib.contextmanager
def counting_waits() -> Iterator[Waits]:
    """Count the waits of the work done in this context (and in worker threads it starts) in one `Waits`."""
    waits = Waits()
    token = _WAITS.set(waits)
    try:
        yield waits
    finally:
        _WAITS.reset(token)


def note_wait(seconds: float) -> None:
    """Add a wait for a reader connection to the current request's `Waits` (none outside a request)."""
    if (waits := _WAITS.get()) is not None:
        waits.reader += seconds


class Lane:
    def __init__(self, name: str, slots: int, per_client: int, wait: float) -> None:
        self.name, self.wait, self.per_client = name, wait, per_client
        self._slots = threading.BoundedSemaphore(slots)
        self._by_client: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def admitted(self, client: str) -> Iterator[None]:
        with self._lock:
            if self._by_client.get(client, 0) >= self.per_client:
                raise TooManyRequests(f"{self.name}：同一客户端最多同时进行 {self.per_client} 个；请等上一个完成后再试")
            self._by_client[client] = self._by_client.get(client, 0) + 1
        try:
            if not self._slots.acquire(timeout=self.wait):
                raise ServiceBusy(f"{self.name}：服务繁忙，等待 {self.wait:g} 秒仍未轮到；请稍后重试")
            try:
                yield
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._by_client[client] -= 1
                if not self._by_client[client]:
                    del self._by_client[client]


async def until_disconnected(request: Request, job: Callable[[Callable[[], bool]], T], poll: float = 0.2) -> T:
    """`job(should_stop)` in a worker thread; `should_stop()` turns true when the client disconnects, or
    when this request is cancelled (the server shutting down), and the job is expected to end then."""
    left = threading.Event()

    async def watch() -> None:
        try:
            while not await request.is_disconnected():
                await anyio.sleep(poll)
            logger.info("client left %s %s: stopping its work", request.method, request.url.path)
        finally:
            left.set()

    failure: Exception | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        try:
            result = await anyio.to_thread.run_sync(job, left.is_set)
        except Exception as error:  # noqa: BLE001 - re-raised as it is below, not wrapped in an ExceptionGroup
            failure = error
        finally:
            group.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result


def client_of(request: Request) -> str:
    """The key a client's share of costly work is counted under: its address."""
    return request.client.host if request.client else "unknown"
