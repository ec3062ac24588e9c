"""The FastAPI application: `create_app(settings)`.

The library (store, searcher, background embedder) is opened once in the lifespan and kept on
`app.state.library`. Every non-2xx answer has one JSON shape — `{"error": {"status", "code",
"message"}}` — except on the HTML pages, which render the same message in a page.
Requests pass the bounds in `middleware` first (security headers, HEAD, allowed hosts, the token of
a write before its body, body size and time). /docs is Swagger UI served from the pinned
`swagger-ui-bundle-v2` package's files: nothing is loaded from another origin.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from ingest.errors import (DocumentConflict, FileTooLarge, IndexFormatError, InputError, NotFound, ParseError,
                           PolicyKBError, StoreError, UnsupportedFormat)

from . import api, error_models, pages
from .admission import Cancelled, ServiceBusy, TooManyRequests
from .auth import TokenGate
from .library import Library, ProcessRole
from .middleware import AllowedHosts, BodyDeadline, HeadAsGet, SecurityHeaders, ServerTiming, WriteGate
from .settings import Settings, get_settings

logger = logging.getLogger(__name__)
_ERROR_STATUS = ((NotFound, 404, "not_found"), (FileTooLarge, 413, "too_large"),
                 (UnsupportedFormat, 415, "unsupported_format"), (InputError, 422, "bad_input"),
                 (ParseError, 422, "unparseable"), (StoreError, 503, "store_unavailable"),
                 (IndexFormatError, 503, "index_unavailable"), (DocumentConflict, 409, "conflict"),
                 (ServiceBusy, 503, "busy"), (TooManyRequests, 429, "too_many_requests"),
                 (Cancelled, 503, "cancelled"))
_MULTIPART_ALLOWANCE = 64 * 1024  # form boundaries and headers around an upload of the maximum size
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 408: "timeout", 409: "conflict", 413: "too_large", 415: "unsupported_format",
               422: "invalid_request", 429: "too_many_attempts"}
_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class Application(FastAPI):
    """The application; its schema declares only the bodies the service sends (`error_models.without_unsent_bodies`)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = error_models.without_unsent_bodies(super().openapi())
        return self.openapi_schema


def create_app(settings: Settings | None = None, role: ProcessRole = ProcessRole()) -> FastAPI:
    """`role`: what this process does besides serving when several serve one store (server.py)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        library = Library(settings, role=role)
        library.start()
        app.state.library = library
        logger.info("serving %s (%s)", settings.home, "read-only" if settings.token is None else "writable")
        try:
            yield
        finally:
            library.close()

    app = Application(title="policykb", description="政策文件知识库：条款检索、责任单位、任务分工表", version="0.1.0",
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.token_gate = TokenGate(settings.token, settings.auth_max_failures, settings.auth_failure_window_seconds,
                                     settings.auth_lockout_seconds)
    app.add_middleware(BodySizeLimit, limit=settings.max_upload_bytes, allowance=_MULTIPART_ALLOWANCE)
    app.add_middleware(BodyDeadline, seconds=settings.body_timeout_seconds)
    app.add_middleware(WriteGate, gate=app.state.token_gate, routes=api.router.routes, respond=error_response)
    app.add_middleware(AllowedHosts, hosts=settings.trusted_hosts, respond=error_response)
    app.add_middleware(HeadAsGet)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ServerTiming, worker=role.worker)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static/swagger-ui", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    app.mount("/static", StaticFiles(packages=[("search_api", "static")]), name="static")
    app.add_exception_handler(PolicyKBError, _policykb_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(sqlite3.DatabaseError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
    return app


class BodySizeLimit:
    """Refuse a request body over the limit, in the JSON error shape: from its Content-Length before
    it is read, or — a chunked body without one — as soon as the bytes received pass the limit (the
    route reading it gets a 413 instead of its next chunk, so nothing past the limit is spooled)."""

    def __init__(self, app: ASGIApp, limit: int, allowance: int) -> None:
        self.app, self.limit, self.allowance = app, limit, allowance

    def _message(self, size: int) -> str:
        return f"上传的内容 {size / 2**20:.1f} MB，超过上限 {self.limit / 2**20:g} MB"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit + self.allowance:
            body = {"error": {"status": 413, "code": "too_large", "message": self._message(int(declared))}}
            await JSONResponse(body, status_code=413, headers={"Connection": "close"})(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit + self.allowance:
                    raise HTTPException(413, self._message(received), headers={"Connection": "close"})
            return message

        await self.app(scope, counted, send)


def error_response(request: Request, status: int, code: str, message: str, details: list | None = None,
                   headers: dict | None = None) -> Response:
    """The JSON error shape under /api; an HTML page with the same message elsewhere."""
    if not request.url.path.startswith("/api") and request.url.path not in ("/openapi.json",):
        return pages.error_page(request, status, message, headers)
    body = {"status": status, "code": code, "message": message}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def _policykb_error(request: Request, error: PolicyKBError) -> Response:
    for kind, status, code in _ERROR_STATUS:
        if isinstance(error, kind):
            return error_response(request, status, code, str(error))
    return error_response(request, 400, "bad_request", str(error))


async def _http_error(request: Request, error: HTTPException) -> Response:
    message = error.detail if isinstance(error.detail, str) else "请求无法处理"
    if error.status_code == 404 and message == "Not Found":
        message = f"没有这个地址：{request.url.path}"
    headers = dict(getattr(error, "headers", None) or {})
    if error.status_code == 405:
        message = f"{request.url.path} 不支持 {request.method} 请求"
        headers["Allow"] = ", ".join(allowed_methods(request))
    return error_response(request, error.status_code, _HTTP_CODES.get(error.status_code, "error"), message,
                          headers=headers or None)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path answers (HEAD wherever GET is): a path's GET, POST and
    DELETE are separate routes, and the router's 405 names only the first one's."""
    methods: set[str] = set()
    for route in (*request.app.router.routes, *api.router.routes, *pages.router.routes):
        if getattr(route, "methods", None) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods, key=lambda method: (_METHOD_ORDER + (method,)).index(method))


async def _validation_error(request: Request, error: RequestValidationError) -> Response:
    details = [{"location": ".".join(str(part) for part in item.get("loc", ())), "message": item.get("msg", "")}
               for item in error.errors()]
    fields = "、".join(detail["location"] for detail in details)
    return error_response(request, 422, "invalid_request", f"请求参数不正确：{fields}", details)


async def _database_error(request: Request, error: sqlite3.DatabaseError) -> Response:
    """A damaged store page (or a lock held past every timeout): the service cannot answer from the store."""
    logger.error("store error on %s %s: %s", request.method, request.url.path, error)
    return error_response(request, 503, "store_unavailable", "数据库文件无法读取（可能已损坏）；请联系管理员运行 "
                          "policykb 的数据库检查，从备份恢复 policykb.sqlite3 或重新导入文件")


async def _unexpected_error(request: Request, error: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "internal_error", "服务器内部错误；请稍后重试，问题持续时请查看服务日志")
