"""JSON routes under /api (contract in DESIGN.md). Thin: each validates its input and calls a view."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import Response
from fastapi.security import APIKeyHeader, HTTPBearer
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as ReceivedFile

from index.catalog import DocumentFilters, DocumentOrder
from index.resolve import resolve
from index.search import SearchFilters, SearchMode
from ingest import Level, Role
from ingest.errors import FileTooLarge, NotFound
from ingest.records import Validity

from . import document_models, error_models, models
from .admission import client_of, until_disconnected
from .auth import token_from_headers
from .library import Library, Upload
from .middleware import client_address
from .views import departments_json, document_page_json, documents_json

router = APIRouter(prefix="/api", tags=["api"])
_CHUNK = 1 << 20
# Examples from the bundled corpus, shown in /docs and tried first by schema-driven tests.
_DOC = "武汉市减污降碳协同增效实施方案"
DocId = Annotated[str, Path(examples=[_DOC], description="文件 ID（见 /api/documents）")]


def get_library(request: Request) -> Library:
    return request.app.state.library


LibraryDependency = Annotated[Library, Depends(get_library)]
_MAX_OFFSET = 10**9  # far past any page; SQLite integers stop at 2**63 - 1 (an OverflowError, a 500, beyond)
Offset = Annotated[int, Query(ge=0, le=_MAX_OFFSET, description="从第几项开始（0 起）")]
Limit = Annotated[int | None, Query(ge=1, description="每页多少项（默认 POLICYKB_PAGE_SIZE，最多 POLICYKB_MAX_PAGE_SIZE）")]


def page_limit(library: Library, limit: int | None) -> int:
    """The page size asked for, or the default; a 422 over the maximum."""
    if limit is not None and limit > library.settings.max_page_size:
        raise HTTPException(422, f"limit 最大为 {library.settings.max_page_size}；请用 offset 翻页")
    return min(limit or library.settings.page_size, library.settings.max_page_size)


def check_query(library: Library, q: str) -> None:
    """A 422 for a blank query or one over the length limit, saying what the limit is."""
    if not q.strip():
        raise HTTPException(422, "请输入检索内容")
    if len(q) > library.settings.max_query_chars:
        raise HTTPException(422, f"检索内容有 {len(q)} 字，超过上限 {library.settings.max_query_chars} 字"
                                 "（POLICYKB_MAX_QUERY_CHARS）；请缩短后重试")


_BEARER = HTTPBearer(auto_error=False, description="写入令牌：Authorization: Bearer TOKEN")
_TOKEN_HEADER = APIKeyHeader(name="X-PolicyKB-Token", auto_error=False, description="写入令牌（另一种写法）")


def require_token(request: Request, _bearer: Annotated[object, Depends(_BEARER)],
                  _header: Annotated[object, Depends(_TOKEN_HEADER)]) -> None:
    """Write access (search_api.auth): `Authorization: Bearer TOKEN` or `X-PolicyKB-Token`. The
    middleware has checked it before the body was read; this declares the two security schemes in
    the schema (not as parameters to fuzz) and holds where the middleware is not mounted."""
    refusal = request.app.state.token_gate.refusal(token_from_headers(request.headers), client_address(request.scope),
                                                   f"{request.method} {request.url.path}")
    if refusal:
        raise HTTPException(refusal.status, refusal.message, headers=dict(refusal.headers))


async def read_upload(file: ReceivedFile, limit: int) -> bytes:
    """An uploaded file's bytes, refused as soon as they pass `limit`."""
    chunks, size = [], 0
    while chunk := await file.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise FileTooLarge(f"{file.filename or '上传文件'}: 超过上传上限 {limit / 2**20:g} MB")
        chunks.append(chunk)
    return b"".join(chunks)


def upload_json(result: Upload) -> dict[str, Any]:
    replaced = result.replaced and {"sha256": result.replaced.old_sha256, "title": result.replaced.old_title,
                                    "replaced_at": result.replaced.replaced_at, "actor": result.replaced.actor}
    return {"status": result.status, "doc_id": result.doc_id, "title": result.title, "clauses": result.clauses,
            "permalink": f"/documents/{result.doc_id}", "replaced": replaced or None}


@router.get("/search", response_model=models.SearchPublic, responses=error_models.error_responses(422, 429, 503))
def search(library: LibraryDependency, request: Request,
           q: Annotated[str, Query(min_length=1, description="问题或关键词（长度上限 POLICYKB_MAX_QUERY_CHARS，默认 500 字）",
                                   examples=["谁负责污泥处置？", "建筑垃圾资源化利用率目标是多少"])],
           k: Annotated[int, Query(ge=1, le=100)] = 10,
           doc: Annotated[str | None, Query(examples=[_DOC])] = None,
           dept: Annotated[str | None, Query(examples=["市发改委"])] = None,
           role: Role | None = None, tag: str | None = None, level: Level | None = None,
           year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
           mode: SearchMode = SearchMode.HYBRID) -> dict[str, Any]:
    """检索条款：关键词与语义融合排序；可按文件、部门（含角色）、标签、层级、目标年份筛选。"""
    check_query(library, q)
    return library.search(q, k, SearchFilters(doc, dept, role, tag, level, year), mode, client_of(request))


@router.get("/clauses/{clause_id}", response_model=models.ClauseInContextPublic,
            responses=error_models.error_responses(404, 503))
def clause(library: LibraryDependency,
           clause_id: Annotated[str, Path(examples=[f"{_DOC}.s4.p12"], description="条款 ID")]) -> dict[str, Any]:
    """一个条款：全文、任务与责任单位、上下条、所属章节、引用与被引用。"""
    return library.clause(clause_id)


_BLANK_IS_NONE = BeforeValidator(lambda value: None if value == "" else value)  # a form's 「全部」 option sends ""


def document_filters(q: Annotated[str, Query(max_length=200, description="标题或文号中的词（繁简、全半角不限）",
                                             examples=["减污降碳"])] = "",
                     level: Annotated[Level | None, Query(), _BLANK_IS_NONE] = None,
                     issuer: Annotated[str | None, Query(max_length=200, description="发文机关（与文件所列相同）",
                                                         examples=["国务院"])] = None,
                     year: Annotated[int | None, Query(ge=1900, le=2200, description="成文日期的年份"), _BLANK_IS_NONE] = None,
                     validity: Annotated[Validity | None, Query(), _BLANK_IS_NONE] = None,
                     sort: Annotated[DocumentOrder, Query(description="date 日期（新的在前，默认）、title 标题、level 层级")]
                     = DocumentOrder.DATE) -> DocumentFilters:
    """The documents list's query parameters (the API's and the page's form): a bad value is a 422."""
    return DocumentFilters(q.strip(), level, issuer or None, year, validity, sort)


DocumentFiltersDependency = Annotated[DocumentFilters, Depends(document_filters)]


@router.get("/documents", response_model=list[models.DocumentSummaryPublic],
            responses=error_models.error_responses(422, 503))
def documents(library: LibraryDependency, filters: DocumentFiltersDependency) -> list[dict[str, Any]]:
    """已导入的文件：可按标题或文号检索，按层级、发文机关、年份、有效性筛选，按日期、标题或层级排序。"""
    with library.reading() as searcher:
        return documents_json(searcher.store, filters)


@router.get("/documents/{doc_id}", response_model=models.DocumentPagePublic,
            responses=error_models.error_responses(404, 422, 503))
def document(library: LibraryDependency, doc_id: DocId, offset: Offset = 0,
             limit: Limit = None) -> dict[str, Any]:
    """一个文件的条款、任务和责任单位（与 policykb show --json 相同，按 offset/limit 分页），加上本页的责任矩阵和上下级对照。"""
    return document_page_json(library.document_page(doc_id, offset, page_limit(library, limit)))


@router.post("/documents", status_code=201, dependencies=[Depends(require_token)], response_model=models.UploadPublic,
             responses=error_models.error_responses(400, 401, 403, 408, 409, 413, 415, 422, 429, 503))
async def upload(request: Request, library: LibraryDependency,
                 file: Annotated[UploadFile, File(description="txt/html/docx/pdf/md")],
                 replace: Annotated[str | None, Query(max_length=200, description=(
                     "要替换的文件 ID：库中已有同一文件的另一版本时必须给出，否则 409"))] = None) -> dict[str, Any]:
    """上传一个文件并导入（需要令牌）。按内容哈希保存，从不使用客户端提供的文件名作路径。
    替换已有文件须用 replace 参数明确指出，替换记录（谁、何时、替换了什么）存入库中。"""
    data = await read_upload(file, library.settings.max_upload_bytes)
    result = await run_in_threadpool(library.add_upload, data, file.filename or "", replace_id=replace or None,
                                     actor=f"api:{client_address(request.scope)}")
    return upload_json(result)


@router.get("/documents/{doc_id}/history", response_model=document_models.HistoryPublic,
            responses=error_models.error_responses(404, 503))
def history(library: LibraryDependency, doc_id: DocId) -> dict[str, Any]:
    """一个文件的版本历史：被新版本替换的旧版本（新的在前），以及逐条的新增、删除、修改。"""
    return library.history(doc_id)


@router.put("/documents/{doc_id}/validity", dependencies=[Depends(require_token)], response_model=document_models.ValidityPublic,
            responses=error_models.error_responses(400, 401, 403, 404, 422, 429, 503))
def set_validity(library: LibraryDependency, request: Request, doc_id: DocId,
                 body: document_models.ValidityRequest) -> dict[str, Any]:
    """设定一个文件的有效性（需要令牌）：valid 有效、amended 已修订、repealed 已废止、unknown 未知；null 取消设定。
    设定优先于文本和较新文件的判断，文件换新版本后仍保留。"""
    return library.set_validity(doc_id, body.validity, actor=f"api:{client_address(request.scope)}")


@router.delete("/documents/{doc_id}", dependencies=[Depends(require_token)], response_model=models.DeletedPublic,
               responses=error_models.error_responses(401, 403, 404, 429, 503))
def delete(library: LibraryDependency, doc_id: str) -> dict[str, Any]:
    """删除一个文件及其全部条款和索引数据（需要令牌）。"""
    library.delete(doc_id)
    return {"deleted": doc_id}


@router.get("/departments", response_model=list[models.DepartmentSummaryPublic],
            responses=error_models.error_responses(503))
def departments(library: LibraryDependency) -> list[dict[str, Any]]:
    """所有出现过的部门及其牵头、责任、配合、承继的条款数。"""
    return departments_json(library.departments())


class CsvResponse(Response):
    """The 督查台账's media types, so the schema names them (Starlette adds `charset=utf-8` to text/csv)."""

    media_type = "text/csv"


class XlsxResponse(Response):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


DepartmentName = Annotated[str, Path(examples=["市发改委", "国家发展改革委"], description="部门的任何简称或全称")]


# Before /departments/{name:path}, which would take 「市发改委/tasks.xlsx」 for a name.
@router.get("/departments/{name:path}/tasks.csv", response_class=CsvResponse,
            responses={200: {"description": "部门督查台账（CSV），跨文件"},
                       **error_models.error_responses(404, 413, 429, 503, json_route=False)})
async def department_tasks_csv(library: LibraryDependency, request: Request, name: DepartmentName) -> Response:
    """一个部门在所有文件中的督查台账（CSV，UTF-8 带 BOM；行数上限 POLICYKB_EXPORT_MAX_ROWS）。"""
    title, content = await _department_table(library, request, name, "csv")
    return CsvResponse(content, headers=_attachment(f"{title}-督查台账.csv"))


@router.get("/departments/{name:path}/tasks.xlsx", response_class=XlsxResponse,
            responses={200: {"description": "部门督查台账（Excel），跨文件"},
                       **error_models.error_responses(404, 413, 429, 503, json_route=False)})
async def department_tasks_xlsx(library: LibraryDependency, request: Request, name: DepartmentName) -> Response:
    """一个部门在所有文件中的督查台账（Excel，含「文件」列；行数上限 POLICYKB_EXPORT_MAX_ROWS）。"""
    title, content = await _department_table(library, request, name, "xlsx")
    return XlsxResponse(content, headers=_attachment(f"{title}-督查台账.xlsx"))


@router.get("/departments/{name:path}", response_model=models.DepartmentPublic,
            responses=error_models.error_responses(404, 422, 503))
def department(library: LibraryDependency,
               name: DepartmentName, offset: Offset = 0, limit: Limit = None) -> dict[str, Any]:
    """一个部门（任何简称或全称，可含 /）牵头或参与的条款（按 offset/limit 分页），按文件分组；以及其他层级的同一部门。"""
    return library.department(name, offset, page_limit(library, limit))


@router.get("/resolve", response_model=models.ResolutionPublic, responses=error_models.error_responses(404, 422, 503))
def resolve_reference(library: LibraryDependency, ref: Annotated[str, Query(
        min_length=1, max_length=300, examples=[f"《{_DOC}》第（十二）项", "国发〔2019〕3号"])]) -> dict[str, Any]:
    """把引用（《文件》第（十二）项、民法典第三条、国发〔2019〕3号）解析为条款或文件。"""
    with library.reading() as searcher:
        found = resolve(searcher.store, ref)
    if not found.documents and not found.clauses:
        raise NotFound(f"找不到「{ref}」所指的文件或条款；请检查书名号内的标题或条款编号")
    return {"ref": ref, "documents": list(found.documents), "clauses": list(found.clauses)}


@router.get("/status", response_model=models.StatusPublic, responses=error_models.error_responses(503))
def status(library: LibraryDependency) -> dict[str, Any]:
    """库的规模、向量生成进度、是否只读。"""
    return library.status()


@router.get("/documents/{doc_id}/tasks.csv", response_class=CsvResponse,
            responses={200: {"description": "督查台账（CSV）"},
                       **error_models.error_responses(404, 413, 429, 503, json_route=False)})
async def tasks_csv(library: LibraryDependency, request: Request, doc_id: DocId) -> Response:
    """督查台账（CSV，UTF-8 带 BOM，Excel 可直接打开；首行为文件名称、文号、成文日期；行数上限 POLICYKB_EXPORT_MAX_ROWS）。"""
    title, content = await _task_table(library, request, doc_id, "csv")
    return CsvResponse(content, headers=_attachment(f"{title}-督查台账.csv"))


@router.get("/documents/{doc_id}/tasks.xlsx", response_class=XlsxResponse,
            responses={200: {"description": "督查台账（Excel）"},
                       **error_models.error_responses(404, 413, 429, 503, json_route=False)})
async def tasks_xlsx(library: LibraryDependency, request: Request, doc_id: DocId) -> Response:
    """督查台账（Excel：表头冻结、可筛选，A4 横向打印、每页重复表头；行数上限 POLICYKB_EXPORT_MAX_ROWS）。"""
    title, content = await _task_table(library, request, doc_id, "xlsx")
    return XlsxResponse(content, headers=_attachment(f"{title}-督查台账.xlsx"))


async def _task_table(library: Library, request: Request, doc_id: str, kind: str) -> tuple[str, bytes]:
    """Written in a worker thread, stopped if the client leaves."""
    base, client = library.settings.base_url, client_of(request)  # links from the public URL, never the Host header
    return await until_disconnected(request, lambda stop: library.task_table(doc_id, base, kind, client, stop))


async def _department_table(library: Library, request: Request, name: str, kind: str) -> tuple[str, bytes]:
    base, client = library.settings.base_url, client_of(request)
    return await until_disconnected(request, lambda stop: library.department_table(name, base, kind, client, stop))


def _attachment(filename: str) -> dict[str, str]:
    """Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    return {"Content-Disposition": f"attachment; filename=\"tasks.{filename.rsplit('.', 1)[-1]}\"; "
                                   f"filename*=UTF-8''{quote(filename[-120:])}"}
