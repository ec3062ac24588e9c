"""Serving the app with uvicorn, with every connection bounded in time and size, in one process or several.

uvicorn closes a keep-alive connection that idles between requests, but never one that connects
and sends nothing, or sends part of its headers: `HeaderTimeoutProtocol` closes a connection whose
request headers are not complete `header_timeout` seconds after it opened (or after the first byte
of the next request). Header size is h11's incomplete-event limit; concurrent connections are
capped (503 above, per process); the body has its own deadline (`middleware.BodyDeadline`).

One process serves one request's Python at a time (the GIL). `workers` > 1 (`policykb serve
--workers N`, POLICYKB_WORKERS): the parent binds N listening sockets to the port (SO_REUSEPORT) and
starts N worker processes («spawn»), each with its own app and a uvicorn server on its socket — the
kernel spreads new connections over the sockets. Worker 0 starts first: it checks the store, removes what killed
uploads left, and opens the derived index files (building them when they are missing or stale), so
the others, started once it serves, only read them. Only worker 0 embeds in the background; every
worker follows the others' writes (library.py). The parent stops all workers on SIGTERM or SIGINT
(each finishes its requests as one process does, within the shutdown timeout) and returns 0; it
returns 1 when a worker exits before it serves. A worker that dies later is started again (without
the start-up checks: the others are serving); a worker whose parent is gone stops.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import create_app
from .library import ProcessRole
from .settings import Settings

logger = logging.getLogger(__name__)
_SWITCH_INTERVAL_SECONDS = 0.001
_STARTUP_FAILURE = 3  # uvicorn's exit code when the app did not start
_LOG_FORMAT = "%(levelname)s %(processName)s %(name)s: %(message)s"


class HeaderTimeoutProtocol(H11Protocol):
    def __init__(self, *args, header_timeout: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        send_without_delay(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # a request's headers are still incomplete
            self._arm_header_timer()
        elif self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            logger.info("closing a connection from %s: no complete request headers within %g s",
                        self.client[0] if self.client else "unknown", self.header_timeout)
            self.transport.close()


def send_without_delay(transport: asyncio.Transport) -> None:
    """TCP_NODELAY: asyncio sets it only on connections of a listening socket made with IPPROTO_TCP, which
    one made by uvicorn's bind_socket (and given to a server) is not; without it Nagle holds a response's
    body back until the client acknowledges its headers (40 ms of delayed ACK on loopback)."""
    connection = transport.get_extra_info("socket")
    if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def serve(settings: Settings) -> int:
    """Run `policykb serve` until interrupted; returns the exit code."""
    # Background threads (the next snapshot, cross-checks) run Python for seconds; a request thread
    # waits up to the switch interval each time it wants the interpreter back, after every SQLite
    # call. 1 ms instead of 5 ms keeps a short read short meanwhile.
    sys.setswitchinterval(_SWITCH_INTERVAL_SECONDS)
    if settings.workers > 1:
        return Workers(settings).run()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, **_server_options(settings))
    return 0  # uvicorn exits with its own code when the app does not start


def _server_options(settings: Settings) -> dict:
    protocol = functools.partial(HeaderTimeoutProtocol, header_timeout=settings.header_timeout_seconds)
    return {"log_level": "info", "http": protocol, "timeout_keep_alive": settings.keep_alive_seconds,
            "h11_max_incomplete_event_size": settings.max_header_kb * 1024,
            "limit_concurrency": settings.max_connections,
            "timeout_graceful_shutdown": settings.shutdown_timeout_seconds}  # SIGTERM: in-flight work is cancelled


@dataclass
class _Worker:
    number: int
    process: BaseProcess
    ready: Event


class Workers:
    """The parent of `settings.workers` server processes serving one port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._stopping = threading.Event()
        self._sockets: list[socket.socket] = []  # one per worker, all on the same port

    def run(self) -> int:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: self._stopping.set())
        try:
            self._sockets = listening_sockets(self.settings.host, self.settings.port, self.settings.workers)
        except OSError as error:
            logger.error("cannot listen on %s:%d: %s", self.settings.host, self.settings.port, error)
            return 1
        workers: list[_Worker] = []
        try:
            workers.append(self._start(ProcessRole(checks=True, embeds=True, worker=0)))
            if not self._until_ready(workers):
                return self._failed(workers)
            workers += [self._start(ProcessRole(checks=False, embeds=False, worker=number))
                        for number in range(1, self.settings.workers)]
            if not self._until_ready(workers):
                return self._failed(workers)
            logger.info("%d workers serving http://%s:%d", len(workers), self.settings.host, self.settings.port)
            return self._supervise(workers)
        finally:
            self._stop(workers)
            for listening in self._sockets:
                listening.close()

    def _start(self, role: ProcessRole) -> _Worker:
        ready = self._context.Event()
        process = self._context.Process(target=_work, name=f"policykb-worker-{role.worker}", args=(
            self.settings, role, self._sockets[role.worker], ready, logging.getLogger().level, os.getpid()))
        process.start()
        return _Worker(role.worker, process, ready)

    def _until_ready(self, workers: list[_Worker]) -> bool:
        """Wait until every one of `workers` serves (True), one exits, or a signal asks to stop (False)."""
        while not all(worker.ready.is_set() for worker in workers):
            if self._stopping.is_set() or any(not worker.process.is_alive() and not worker.ready.is_set()
                                              for worker in workers):
                return False
            wait([worker.process.sentinel for worker in workers], timeout=0.2)
        return True

    def _failed(self, workers: list[_Worker]) -> int:
        if self._stopping.is_set():
            return 0
        dead = [worker for worker in workers if not worker.process.is_alive()]
        for worker in dead:
            logger.error("worker %d exited before serving (exit code %s); stopping the others",
                         worker.number, worker.process.exitcode)
        return 1

    def _supervise(self, workers: list[_Worker]) -> int:
        """Until a signal: a worker that dies is started again (returns 1 when it dies again before serving)."""
        while not self._stopping.is_set():
            wait([worker.process.sentinel for worker in workers], timeout=0.5)
            for position, worker in enumerate(workers):
                if worker.process.is_alive() or self._stopping.is_set():
                    continue
                logger.error("worker %d exited (exit code %s); starting it again", worker.number,
                             worker.process.exitcode)
                workers[position] = self._start(ProcessRole(checks=False, embeds=worker.number == 0, worker=worker.number))
                if not self._until_ready([workers[position]]):
                    return self._failed(workers)
        return 0

    def _stop(self, workers: list[_Worker]) -> None:
        """SIGTERM to every worker, then the shutdown timeout (and a margin) for them to finish; SIGKILL after."""
        for worker in workers:
            if worker.process.is_alive():
                worker.process.terminate()
        deadline = time.monotonic() + self.settings.shutdown_timeout_seconds + 10
        for worker in workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                logger.error("worker %d did not stop in time: killed", worker.number)
                worker.process.kill()
                worker.process.join()


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one address with SO_REUSEPORT, one for each worker: the kernel spreads
    new connections over them by their addresses. (On one shared socket the worker whose event loop
    woke first accepted every connection waiting: all 8 clients of a load test went to one worker.)"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(listening)
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listening.bind((host, port))
            port = listening.getsockname()[1]  # port 0: the one the first socket got
            listening.listen(2048)
            listening.set_inheritable(True)
    except OSError:
        for listening in sockets:
            listening.close()
        raise
    logger.info("listening on http://%s:%d with %d sockets (SO_REUSEPORT)", host, port, count)
    return sockets


class _ReadyServer(uvicorn.Server):
    """A uvicorn server that sets `ready` once it serves (the app's lifespan has started)."""

    def __init__(self, config: uvicorn.Config, ready: Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.ready.set()


def _work(settings: Settings, role: ProcessRole, listening: socket.socket, ready: Event, log_level: int, parent: int) -> None:
    """One worker process: the app and a uvicorn server on the parent's socket, until SIGTERM."""
    logging.basicConfig(level=log_level, format=_LOG_FORMAT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches every worker too: uvicorn stops on it
    sys.setswitchinterval(_SWITCH_INTERVAL_SECONDS)
    server = _ReadyServer(uvicorn.Config(create_app(settings, role), **_server_options(settings)), ready)
    threading.Thread(target=_stop_with_parent, args=(server, parent), name="policykb-parent-watch",
                     daemon=True).start()
    server.run(sockets=[listening])
    if not server.started:
        sys.exit(_STARTUP_FAILURE)


def _stop_with_parent(server: uvicorn.Server, parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    logger.error("the parent process %d is gone: stopping", parent)
    server.should_exit = True
