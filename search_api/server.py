"""Serving the app with uvicorn, with every connection bounded in time and size.

uvicorn closes a keep-alive connection that idles between requests, but never one that connects
and sends nothing, or sends part of its headers: `HeaderTimeoutProtocol` closes a connection whose
request headers are not complete `header_timeout` seconds after it opened (or after the first byte
of the next request). Header size is h11's incomplete-event limit; concurrent connections are
capped (503 above); the body has its own deadline (`middleware.BodyDeadline`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import create_app
from .settings import Settings

logger = logging.getLogger(__name__)
_SWITCH_INTERVAL_SECONDS = 0.001


class HeaderTimeoutProtocol(H11Protocol):
    def __init__(self, *args, header_timeout: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
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


def serve(settings: Settings) -> None:
    """Run `policykb serve` until interrupted."""
    # Background threads (the next snapshot, cross-checks) run Python for seconds; a request thread
    # waits up to the switch interval each time it wants the interpreter back, after every SQLite
    # call. 1 ms instead of 5 ms keeps a short read short meanwhile.
    sys.setswitchinterval(_SWITCH_INTERVAL_SECONDS)
    protocol = functools.partial(HeaderTimeoutProtocol, header_timeout=settings.header_timeout_seconds)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info",
                http=protocol, timeout_keep_alive=settings.keep_alive_seconds,
                h11_max_incomplete_event_size=settings.max_header_kb * 1024,
                limit_concurrency=settings.max_connections,
                timeout_graceful_shutdown=settings.shutdown_timeout_seconds)  # SIGTERM: in-flight work is cancelled
