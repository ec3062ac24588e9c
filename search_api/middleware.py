"""ASGI middleware that bounds what a client can make the service do before any route runs.

Outermost first, as `create_app` stacks them:

    ServerTiming      `Server-Timing: wait;dur=MS, worker;desc=N`: how long the request waited for a
                      reader connection, and which worker process answered
    SecurityHeaders   CSP, nosniff, frame and referrer policy on every response
    HeadAsGet         HEAD answered as GET without the body
    AllowedHosts      a Host header not in the settings is refused (DNS rebinding)
    WriteGate         a write to an /api route without a valid token is refused before its body is read
    BodyDeadline      the request body must arrive within the body timeout (408)

Refusals use the service's error shape through the `respond` function they are given.
"""

from __future__ import annotations

import asyncio
from typing import Callable, Sequence

from fastapi import Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .admission import counting_waits
from .auth import TokenGate, token_from_headers

Respond = Callable[..., Response]  # (request, status, code, message, headers=...) -> the error response
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = ((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"))
_WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class ServerTiming:
    """Tells the client how long its request waited for a reader connection and its snapshot
    (admission.Waits), in milliseconds — what `policykb load` reports as waiting, apart from working —
    and which worker process answered (`policykb serve --workers N`)."""

    def __init__(self, app: ASGIApp, worker: int = 0) -> None:
        self.app, self._worker = app, f", worker;desc={worker}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with counting_waits() as waits:

            async def with_timing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    timing = f"wait;dur={1000 * waits.reader:.2f}{self._worker}".encode()
                    message = {**message, "headers": [*message.get("headers", []), (b"server-timing", timing)]}
                await send(message)

            await self.app(scope, receive, with_timing)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadAsGet:
    """HEAD runs the GET route and sends its status and headers (Content-Length included), no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def host_name(header: str) -> str:
    """The host of a Host header, lower case, without the port ('[::1]:8000' → '::1')."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:value.index("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class AllowedHosts:
    def __init__(self, app: ASGIApp, hosts: frozenset[str], respond: Respond) -> None:
        self.app, self.hosts, self.respond = app, hosts, respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and host_name(Headers(scope=scope).get("host", "")) not in self.hosts:
            host = Headers(scope=scope).get("host", "")[:100]
            message = f"不接受的 Host「{host}」：请用服务的地址访问（管理员可在 POLICYKB_ALLOWED_HOSTS 中加入主机名）"
            response = self.respond(Request(scope), 400, "bad_host", message, headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class WriteGate:
    """Checks the token of a write under /api from its headers, before anything reads its body."""

    def __init__(self, app: ASGIApp, gate: TokenGate, routes: Sequence[BaseRoute], respond: Respond) -> None:
        self.app, self.gate, self.routes, self.respond = app, gate, routes, respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _WRITE_METHODS and self._routed(scope):
            client = client_address(scope)
            given = token_from_headers(Headers(scope=scope))
            if refusal := self.gate.refusal(given, client, f"{scope['method']} {scope['path']}"):
                response = self.respond(Request(scope), refusal.status, refusal.code, refusal.message,
                                        headers={**refusal.headers, "Connection": "close"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _routed(self, scope: Scope) -> bool:
        """Whether one of the write routes answers this method at this path (else the router's 404 or 405 does)."""
        return any(route.matches(scope)[0] is Match.FULL for route in self.routes)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class BodyDeadline:
    """A request body that has not fully arrived `seconds` after the route asked for it gets a 408
    (a slow-body client holds a connection and a worker otherwise). After the last body message the
    receive channel is left alone: waiting there for a disconnect is not a slow body."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop, deadline, complete = asyncio.get_running_loop(), None, False

        async def timed() -> Message:
            nonlocal deadline, complete
            if complete:
                return await receive()
            deadline = deadline or loop.time() + self.seconds
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise HTTPException(408, f"请求体没有在 {self.seconds:g} 秒内收齐；请检查网络后重试",
                                    headers={"Connection": "close"}) from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed, send)
