"""Server-rendered pages (Jinja2, a little plain JS, no build step). The search state lives in the URL.

Pages render the same view dicts the API returns; text from documents is escaped by Jinja2's
autoescaping, and only the search highlight (escaped by `index.search.highlight`, marks added) is
inserted as markup.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from index.catalog import DocumentOrder
from index.resolve import resolve
from index.search import SearchFilters, SearchMode
from index.versions import ClauseChangeKind
from ingest import Level, Role
from ingest.normalize import to_simplified
from ingest.records import Validity

from .admission import client_of
from .api import DocumentFiltersDependency, LibraryDependency, Limit, Offset, check_query, page_limit, read_upload
from .middleware import client_address
from .views import departments_json, documents_view, existing_examples, matrix_view

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
LEVEL_TEXT = {level.value: level.label for level in Level}  # the templates' level, role and validity names
ROLE_TEXT = {role.value: role.label for role in Role}
VALIDITY_TEXT = {validity.value: validity.label for validity in Validity}
CHANGE_TEXT = {kind.value: kind.label for kind in ClauseChangeKind}
# Offered on the home page where the store can answer them (views.existing_examples).
EXAMPLES = ("谁负责污泥处置？", "建筑垃圾资源化利用率目标是多少", "市水务局负责哪些任务", "民法典第三条",
            "《武汉市减污降碳协同增效实施方案》第（十二）项", "国发〔2019〕3号", "農村生活污水治理")
templates.env.globals.update(LEVEL_TEXT=LEVEL_TEXT, ROLE_TEXT=ROLE_TEXT, VALIDITY_TEXT=VALIDITY_TEXT)


def level_tabs(hit: dict) -> list[dict]:
    """A result and its twins as tabs, national first: {clause_id, label, current, doc_title, number}."""
    members = [{**hit, "current": True}, *({**twin, "current": False} for twin in hit["twins"])]
    members.sort(key=lambda item: (Level(item["level"]).rank, not item["current"]))
    return [{"clause_id": item["clause_id"], "current": item["current"], "doc_title": item["doc_title"],
             "number": item["number"], "label": item["place"] or LEVEL_TEXT[item["level"]]} for item in members]


templates.env.globals["level_tabs"] = level_tabs


def _render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status: int, message: str, headers: dict | None = None) -> HTMLResponse:
    """The message in words; the search box keeps what was typed (`q`), so staff can correct it."""
    response = _render(request, "error.html", status, status=status, message=message,
                       q=request.query_params.get("q", ""))
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def url_with(request: Request, **changes: object) -> str:
    """This page's URL with query parameters changed (None removes one); facets and chips use it."""
    parameters = {key: value for key, value in request.query_params.items()}
    for key, value in changes.items():
        if value is None:
            parameters.pop(key, None)
        else:
            parameters[key] = str(value)
    return f"{request.url.path}?{urlencode(parameters)}" if parameters else request.url.path


templates.env.globals["url_with"] = url_with


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, library: LibraryDependency, q: str = "",
                k: Annotated[int, Query(ge=1, le=100)] = 20, doc: str | None = None, dept: str | None = None,
                role: Role | None = None, tag: str | None = None, level: Level | None = None,
                year: Annotated[int | None, Query(ge=1900, le=2200)] = None, mode: SearchMode = SearchMode.HYBRID) -> Response:
    filters = SearchFilters(doc or None, dept or None, role, tag or None, level, year)
    active = {key: value for key, value in (("doc", doc), ("dept", dept), ("role", role), ("tag", tag),
                                             ("level", level), ("year", year)) if value}
    if q.strip():
        check_query(library, q)
    view = library.search(q, k, filters, mode, client_of(request)) if q.strip() else None
    with library.reading() as searcher:
        counts = searcher.store.counts()
        examples = existing_examples(searcher, EXAMPLES) if view is None else []
        if doc and (title := searcher.store.document_titles([doc]).get(doc)):
            active["doc"] = title  # the chip shows the title; removing it drops the `doc` parameter
    return _render(request, "search.html", q=q, view=view, active=active, examples=examples, counts=counts,
                   progress=library.progress)


_ITEM_NUMBER = re.compile(r"[（(](?P<item>[^（()）]+)[)）]")
_SECTION_NUMBER = re.compile(r"(?P<section>[零〇一二三四五六七八九十百]+)、")


def clause_citation(doc_title: str, number: str) -> str:
    """How staff cite a clause: «《武汉市减污降碳协同增效实施方案》第（十二）项» for an item 「（十二）」 or 「(十二)」,
    «《…》第二部分» for a section 「二、」, the number as printed for 「第三条」; `index.resolve` reads all three back.
    Written in Simplified Chinese, as mainland documents are cited, also for a Traditional copy."""
    doc_title, number = to_simplified(doc_title), to_simplified(number.strip())
    if match := _ITEM_NUMBER.fullmatch(number):
        return f"《{doc_title}》第（{match['item']}）项"
    if match := _SECTION_NUMBER.fullmatch(number):
        return f"《{doc_title}》第{match['section']}部分"
    return f"《{doc_title}》{number}"


def readable_url(base: str, path: str) -> str:
    """An absolute URL that keeps Chinese characters as they are (browsers accept them), escaping only ASCII
    characters that would break it (spaces, ?, #, %)."""
    return base.rstrip("/") + "".join(char if ord(char) > 127 else quote(char, safe="/-._~()!*'") for char in path)


@router.get("/clauses/{clause_id}", response_class=HTMLResponse)
def clause_page(request: Request, library: LibraryDependency, clause_id: str,
                task: Annotated[int | None, Query(ge=0, le=1000)] = None) -> Response:
    clause = library.clause(clause_id)
    permalink = readable_url(library.settings.public_url or str(request.base_url), clause["permalink"])
    return _render(request, "clause.html", clause=clause, task=task, permalink=permalink,
                   citation=clause_citation(clause["doc_title"], clause["number"]))


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request, library: LibraryDependency, filters: DocumentFiltersDependency) -> Response:
    with library.reading() as searcher:
        view = documents_view(searcher.store, filters)
    return _render(request, "documents.html", **view, filters=filters, orders=list(DocumentOrder))


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, library: LibraryDependency, doc_id: str, offset: Offset = 0,
                  limit: Limit = None) -> Response:
    page = library.document_page(doc_id, offset, page_limit(library, limit))
    return _render(request, "document.html", document=page.document, page=page, matrix=matrix_view(page.document),
                   related=page.related, crosscheck=page.crosscheck.rows, crosscheck_status=page.crosscheck.status,
                   missing=page.crosscheck.missing,
                   higher=[other for other, _, level in page.related if level.rank < page.document.level.rank],
                   history=library.history(doc_id) if offset == 0 else None, CHANGE_TEXT=CHANGE_TEXT)


@router.get("/documents/{doc_id}/history", response_class=HTMLResponse)
def history_page(request: Request, library: LibraryDependency, doc_id: str) -> Response:
    return _render(request, "history.html", history=library.history(doc_id), CHANGE_TEXT=CHANGE_TEXT)


@router.get("/departments", response_class=HTMLResponse)
def departments_page(request: Request, library: LibraryDependency) -> Response:
    return _render(request, "departments.html", departments=departments_json(library.departments()))


@router.get("/departments/{name:path}", response_class=HTMLResponse)
def department_page(request: Request, library: LibraryDependency, name: str, offset: Offset = 0,
                    limit: Limit = None) -> Response:
    return _render(request, "department.html", view=library.department(name, offset, page_limit(library, limit)))


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, library: LibraryDependency) -> Response:
    return _render(request, "upload.html", read_only=library.settings.token is None,
                   max_mb=library.settings.max_upload_mb)


@router.post("/upload", response_class=HTMLResponse)
async def upload_form(request: Request, library: LibraryDependency) -> Response:
    """The upload form without JavaScript: a multipart POST whose token is a form field (never in the
    URL); a locked-out client is refused before the body is read. Success redirects to the document."""
    gate, client = request.app.state.token_gate, client_address(request.scope)
    if refusal := gate.lockout_refusal(client):
        return error_page(request, refusal.status, refusal.message, dict(refusal.headers))
    async with request.form(max_files=1, max_fields=3) as form:
        token, file, replace_id = form.get("token"), form.get("file"), form.get("replace")
        if refusal := gate.refusal(token if isinstance(token, str) else None, client, "POST /upload"):
            return error_page(request, refusal.status, refusal.message, dict(refusal.headers))
        if not isinstance(file, UploadFile) or not file.filename:
            return error_page(request, 422, "请选择要上传的文件")
        data, filename = await read_upload(file, library.settings.max_upload_bytes), file.filename
    replace_id = replace_id.strip() if isinstance(replace_id, str) and replace_id.strip() else None
    result = await run_in_threadpool(library.add_upload, data, filename, replace_id=replace_id, actor=f"form:{client}")
    return RedirectResponse(f"/documents/{quote(result.doc_id)}", status_code=303)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    """Swagger UI from the bundled files (static/swagger-ui), started by static/docs.js."""
    return _render(request, "docs.html")


@router.get("/resolve")
def resolve_page(request: Request, library: LibraryDependency, ref: Annotated[str, Query(max_length=300)] = "") -> Response:
    """A citation as a link: «/resolve?ref=民法典第三条» redirects to the clause (or the document)."""
    with library.reading() as searcher:
        found = resolve(searcher.store, ref) if ref.strip() else None
    if found and found.clauses:
        return RedirectResponse(f"/clauses/{found.clauses[0]}", status_code=303)
    if found and found.documents:
        return RedirectResponse(f"/documents/{found.documents[0]}", status_code=303)
    return error_page(request, 404, f"找不到「{ref}」所指的文件或条款；请检查书名号内的标题或条款编号")
