"""The HTTP API and the pages through FastAPI's TestClient, on a real store, the real e5 encoder and
the bundled e5 vectors: every endpoint, the error shape, auth, limits and the task-table exports."""

from __future__ import annotations

import csv
import io
import logging
import re
import shutil
import time
from pathlib import Path
from urllib.parse import quote, unquote

import openpyxl
import pydantic_core
import pytest
from fastapi.testclient import TestClient

from conftest import PLANS, RULE_DOC, SEED, build_home
from index import SearchFilters
from search_api import Settings, create_app
from search_api.error_models import ErrorResponse
from search_api.views import departments_json, document_page_json, documents_json

SEED_ID = "武汉市减污降碳协同增效实施方案"
TOKEN = "test-token-s3cret"
LOCAL = "http://127.0.0.1:8000"  # a loopback Host: the service refuses others (DNS rebinding)
UPLOAD = """关于推进社区垃圾分类工作的实施方案

一、重点任务
（一）=HYPERLINK("http://example.invalid")推进垃圾分类。在全市社区设置分类投放点<script>alert(1)</script>，到2025年底前分类投放点覆盖率达到90%。（市城管执法委牵头，市生态环境局配合）
（二）加强宣传教育。开展垃圾分类进社区宣传活动。（市教育局负责）
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """Read-mostly service: the seed, the national and Hubei plans, 国发〔2019〕3号; no background embedding."""
    home = build_home(tmp_path_factory.mktemp("service"), [SEED, *PLANS, RULE_DOC])
    settings = Settings(home=home, token=TOKEN, embed_in_background=False)
    with TestClient(create_app(settings), base_url=LOCAL) as opened:
        yield opened


@pytest.fixture()
def writable(tmp_path):
    """A fresh service per test for the write endpoints: the seed only, a 64 KB upload limit."""
    home = build_home(tmp_path / "home", [SEED])
    with TestClient(create_app(Settings(home=home, token=TOKEN, max_upload_mb=1 / 16, embed_in_background=False)),
                    base_url=LOCAL) as opened:
        yield opened


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and {"status", "code", "message"} <= set(body["error"])
    assert body["error"]["status"] == status and body["error"]["code"] == code
    assert body["error"]["message"] and "Traceback" not in response.text
    ErrorResponse.model_validate(body)  # the declared error model describes it, `details` included
    return body["error"]


# -- search ------------------------------------------------------------------------------------

def test_search_answers_who_question_with_departments_and_highlight(client):
    body = client.get("/api/search", params={"q": "谁负责污泥处置？", "k": 5}).json()
    assert body["query"] == "谁负责污泥处置？" and body["mode"] == "hybrid"
    top = body["results"][0]
    assert {"clause_id", "doc_id", "doc_title", "number", "heading_path", "text", "highlight", "departments",
            "score"} <= set(top)
    assert "污泥" in top["text"] or "汙泥" in top["text"] or "污泥" in top["highlight"]
    assert "<mark>" in top["highlight"]
    assert any(item["role"] == "lead" for item in top["departments"])
    assert {"departments", "documents", "tags"} == set(body["facets"])


def test_who_question_gets_an_answer_block_with_roles_bases_sentence_and_levels(client):
    """«武汉市谁负责污泥处置？»: the seed's (十二) assigns it; 市生态环境局 leads, presumed from list order
    (the seed names no 牵头), three co units, 各区人民政府 carries it out locally (a heading names them for
    the measures below); the national and Hubei twins' assignments are shown beside it, national first."""
    body = client.get("/api/search", params={"q": "武汉市谁负责污泥处置？"}).json()
    answer = body["answer"]
    assert answer["topic"] == "污泥处置" and answer["clause_id"] == f"{SEED_ID}.s4.p12"
    assert answer["clause_id"] == body["results"][0]["clause_id"]
    assert "污泥處置" in answer["sentence"] and answer["sentence"].endswith("按職責分工落實)")
    roles = {unit["canonical"]: (unit["role"], unit["basis"], unit["local"]) for unit in answer["departments"]}
    assert roles["武汉市生态环境局"] == ("lead", "presumed", False)
    assert roles["武汉市水务局"] == ("co", None, False) and roles["各区人民政府"][2] is True
    assert [item["level"] for item in answer["levels"]] == ["national", "provincial", "municipal"]
    assert answer["levels"][0]["departments"][0] == {"name": "生态环境部", "canonical": "生态环境部", "role": "lead",
                                                     "basis": "presumed", "local": False}
    page = client.get("/", params={"q": "武汉市谁负责污泥处置？"}).text
    block = page[page.index('<section class="answer"'):page.index("</section>", page.index('<section class="answer"'))]
    assert "「污泥处置」由谁负责" in block and "按排序推定" in block and "属地落实" in block and "湖北省" in block
    # not a «谁负责» question: no block; a department question lists the department asked about
    other = client.get("/api/search", params={"q": "市水务局负责哪些任务"}).json()
    assert other["answer"] is None and other["asked_departments"] == ["武汉市水务局"]


def test_traditional_and_simplified_queries_find_the_same_clause(client):
    simplified = client.get("/api/search", params={"q": "建筑垃圾资源化利用率目标是多少"}).json()["results"][0]
    traditional = client.get("/api/search", params={"q": "建築垃圾資源化利用率目標是多少"}).json()["results"][0]
    assert simplified["clause_id"] == traditional["clause_id"]
    assert any(target["indicator"].startswith("建筑垃圾") or "建築垃圾" in target["indicator"]
               for target in simplified["targets"])


def test_search_filters_by_department_alias_role_and_document(client):
    body = client.get("/api/search", params={"q": "碳达峰", "dept": "市发改委", "role": "lead", "k": 20}).json()
    assert body["results"]
    for hit in body["results"]:
        assert any(item["canonical"] == "武汉市发展和改革委员会" and item["role"] == "lead" for item in hit["departments"])
    within = client.get("/api/search", params={"q": "固体废物", "doc": "环综合-2022-42"}).json()["results"]
    assert within and {hit["doc_id"] for hit in within} == {"环综合-2022-42"}


def test_facet_counts_add_up_to_the_documents_of_the_hits(client):
    body = client.get("/api/search", params={"q": "协同增效", "k": 100}).json()
    assert sum(item["count"] for item in body["facets"]["documents"]) == len(body["results"])


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "x", "k": 0}, {"q": "x", "k": 101}, {"q": "x", "role": "boss"},
                                    {"q": "x", "year": "soon"}, {"q": "长" * 501}])
def test_search_rejects_bad_parameters_with_the_error_shape(client, params):
    assert_error(client.get("/api/search", params=params), 422, "invalid_request")


@pytest.mark.parametrize("path", [f"/api/documents/{SEED_ID}", "/api/departments/市发改委"])
def test_an_offset_past_sqlite_integers_is_refused_not_a_server_error(client, path):
    """Schemathesis found it: offset=50358242818651947008 reached SQLite's OFFSET and raised OverflowError."""
    assert_error(client.get(path, params={"offset": 50358242818651947008}), 422, "invalid_request")
    assert client.get(path, params={"offset": 10**9}).status_code == 200


# -- clauses, documents, departments, resolve ------------------------------------------------

def test_clause_in_context(client):
    body = client.get(f"/api/clauses/{SEED_ID}.s4.p12").json()
    assert body["number"] in ("（十二）", "(十二)") and body["doc_id"] == SEED_ID
    assert body["previous"]["id"] == f"{SEED_ID}.s4.p11" and body["next"]["id"] == f"{SEED_ID}.s4.p13"
    assert [section["id"] for section in body["sections"]] == [f"{SEED_ID}.s4"]
    assert body["permalink"] == f"/clauses/{SEED_ID}.s4.p12"
    assert body["departments"][0]["role"] == "lead"
    assert_error(client.get("/api/clauses/没有这一条"), 404, "not_found")


def test_documents_and_document_with_matrix_and_crosscheck(client):
    listed = {item["id"]: item for item in client.get("/api/documents").json()}
    assert set(listed) == {SEED_ID, "环综合-2022-42", "鄂环发-2022-33", "国发-2019-3"}
    assert listed[SEED_ID]["tasks"] == 23
    body = client.get(f"/api/documents/{SEED_ID}").json()
    assert len(body["clauses"]) == listed[SEED_ID]["clauses"]
    rows = {row["canonical"]: row["cells"] for row in body["matrix"]["rows"]}
    assert rows["武汉市生态环境局"][f"{SEED_ID}.s4.p12"] == "lead"
    assert [item["id"] for item in body["related"]] == ["环综合-2022-42", "鄂环发-2022-33"]
    water = next(row for row in body["crosscheck"] if row["clause_id"] == f"{SEED_ID}.s4.p12")
    assert [match["title"] for match in water["counterparts"]] == ["推进水环境治理协同控制"] * 2
    assert [match["differs"] for match in water["counterparts"]] == [False, False]
    assert_error(client.get("/api/documents/nope"), 404, "not_found")


def test_documents_list_searches_titles_and_numbers_in_either_script_and_width(client):
    def ids(**params):
        return [item["id"] for item in client.get("/api/documents", params=params).json()]
    assert ids(q="減污降碳") == [SEED_ID, "环综合-2022-42", "鄂环发-2022-33"]  # Traditional; newest first, undated last
    assert ids(q="国发［2019］3号") == ids(q="國發(2019)3號") == ids(q="国发〔2019〕3号") == ["国发-2019-3"]
    assert ids(q="湖北 实施方案") == ["鄂环发-2022-33"]  # every word must match
    assert ids(q="没有这个文件") == []


def test_documents_list_filters_and_sorts(client):
    def ids(**params):
        return [item["id"] for item in client.get("/api/documents", params=params).json()]
    assert ids(level="provincial") == ["鄂环发-2022-33"]
    assert ids(issuer="国务院") == ["国发-2019-3"] and ids(year=2022) == ["环综合-2022-42"]
    assert ids(sort="level") == ["环综合-2022-42", "国发-2019-3", "鄂环发-2022-33", SEED_ID]
    titles = [item["title"] for item in client.get("/api/documents", params={"sort": "title"}).json()]
    assert titles == sorted(titles)
    assert ids(level="", year="", q="") == ids()  # the page's form sends its 「全部」 options as empty values
    for params in ({"sort": "newest"}, {"level": "city"}, {"year": "2022年"}, {"year": 1800}, {"q": "长" * 201}):
        assert_error(client.get("/api/documents", params=params), 422, "invalid_request")


def test_documents_page_form_keeps_the_chosen_filters(client):
    page = client.get("/documents", params={"q": "减污降碳", "level": "national", "year": "", "sort": "title"})
    assert page.status_code == 200
    assert 'value="减污降碳"' in page.text and '<option value="national" selected>' in page.text
    assert '<option value="title" selected>' in page.text and "已导入的文件（1 / 4）" in page.text
    assert "减污降碳协同增效实施方案" in page.text and "湖北省" not in page.text.split("<table", 1)[1]


def test_staff_set_validity_with_the_token_and_the_list_filters_on_it(writable):
    path = f"/api/documents/{SEED_ID}/validity"
    assert writable.get("/api/documents").json()[0]["validity"] == "unknown"  # the seed says nothing of it
    assert_error(writable.put(path, json={"validity": "repealed"}), 401, "unauthorized")
    assert_error(writable.put(path, json={"validity": "gone"}, headers=auth()), 422, "invalid_request")
    assert_error(writable.put("/api/documents/nope/validity", json={"validity": "valid"}, headers=auth()), 404, "not_found")
    body = writable.put(path, json={"validity": "repealed"}, headers=auth()).json()
    assert body["validity"] == "repealed" and body["mark"]["validity"] == "repealed"
    assert body["mark"]["actor"].startswith("api:") and body["mark"]["marked_at"]
    assert [item["id"] for item in writable.get("/api/documents", params={"validity": "repealed"}).json()] == [SEED_ID]
    assert writable.get("/api/documents", params={"validity": "valid"}).json() == []
    assert writable.get(f"/api/documents/{SEED_ID}").json()["document"]["validity"] == "repealed"
    page = writable.get(f"/documents/{SEED_ID}").text
    assert '<span class="validity validity-repealed" id="validity">已废止</span>' in page
    listed = writable.get("/documents", params={"validity": "repealed"}).text
    assert '<option value="repealed" selected>' in listed and '<td data-label="有效性" class="validity-repealed">已废止</td>' in listed
    cleared = writable.put(path, json={"validity": None}, headers=auth()).json()
    assert cleared == {"id": SEED_ID, "validity": "unknown", "mark": None}
    assert_error(writable.get("/api/documents", params={"validity": "有效"}), 422, "invalid_request")


def test_departments_alias_aware_with_counterparts(client):
    listed = {item["canonical"]: item for item in client.get("/api/departments").json()}
    assert listed["武汉市发展和改革委员会"]["roles"]["lead"] >= 5
    body = client.get("/api/departments/市发改委").json()
    [entry] = body["departments"]
    assert entry["canonical"] == "武汉市发展和改革委员会" and "市发改委" in entry["names"]
    assert [item["canonical"] for item in entry["counterparts"]] == ["国家发展和改革委员会", "湖北省发展和改革委员会"]
    assert {duty["role"] for group in entry["documents"] for duty in group["duties"]} >= {"lead", "co"}
    every_level = client.get("/api/departments/发展和改革委员会").json()["departments"]
    assert len(every_level) == 3
    assert_error(client.get("/api/departments/不存在的委员会"), 404, "not_found")


def test_a_citation_in_the_search_box_finds_its_document_or_clause_or_says_it_is_not_stored(client):
    number = client.get("/api/search", params={"q": "国发〔2019〕3号"}).json()
    assert [item["id"] for item in number["cited_documents"]] == ["国发-2019-3"] and number["not_found"] == ""
    assert {result["doc_id"] for result in number["results"]} == {"国发-2019-3"}  # its clauses, in reading order
    item = client.get("/api/search", params={"q": "国发〔2019〕3号第（五）项"}).json()
    assert item["results"][0]["clause_id"] == "国发-2019-3.s4.p5"
    absent = client.get("/api/search", params={"q": "国发〔2019〕3号第九十九条"}).json()
    assert absent["not_found"] == "第九十九条" and absent["results"][0]["doc_id"] == "国发-2019-3"
    law = client.get("/api/search", params={"q": "民法典第三条"}).json()
    assert law["not_found"] == "《民法典》" and law["results"] == [] and law["cited_documents"] == []
    assert "<h2>库中没有《民法典》</h2>" in client.get("/", params={"q": "民法典第三条"}).text
    # the home page offers only examples this store answers: no 民法典 here
    home = client.get("/").text
    assert "民法典第三条" not in home and "国发〔2019〕3号" in home and "谁负责污泥处置？" in home


def test_resolve(client):
    body = client.get("/api/resolve", params={"ref": "《武汉市减污降碳协同增效实施方案》第（十二）项"}).json()
    assert body["clauses"] == [f"{SEED_ID}.s4.p12"]
    assert client.get("/api/resolve", params={"ref": "国发〔2019〕3号"}).json()["documents"] == ["国发-2019-3"]
    assert_error(client.get("/api/resolve", params={"ref": "《不存在的方案》第三条"}), 404, "not_found")


def test_status_and_openapi(client):
    status = client.get("/api/status").json()
    assert status["units"] == status["vectors"] and status["read_only"] is False
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/clauses/{clause_id}", "/api/documents", "/api/documents/{doc_id}",
            "/api/departments", "/api/departments/{name}", "/api/resolve", "/api/documents/{doc_id}/tasks.xlsx",
            "/api/documents/{doc_id}/tasks.csv"} <= set(paths)


def test_typed_routes_send_the_bytes_their_views_build(client):
    """The response models drop no key, add none and keep their order: each body is its view's dict as
    JSON, encoded as when the routes returned bare dicts."""
    library = client.app.state.library
    for _ in range(100):  # while the maintenance thread computes the cross-check, it is pending
        if (page := document_page_json(library.document_page(SEED_ID, 0, 30)))["crosscheck_status"] != "pending":
            break
        time.sleep(0.2)
    with library.reading() as searcher:
        documents = documents_json(searcher.store)
    views = {"/api/search?q=谁负责污泥处置？": library.search("谁负责污泥处置？", 10, SearchFilters(), "hybrid", "test"),
             f"/api/clauses/{SEED_ID}.s4.p12": library.clause(f"{SEED_ID}.s4.p12"),
             "/api/documents": documents, f"/api/documents/{SEED_ID}?limit=30": page,
             "/api/departments": departments_json(library.departments()),
             "/api/departments/发展和改革委员会?limit=3": library.department("发展和改革委员会", 0, 3),
             "/api/resolve?ref=国发〔2019〕3号": {"ref": "国发〔2019〕3号", "documents": ["国发-2019-3"], "clauses": []},
             "/api/status": library.status()}
    for url, view in views.items():
        assert client.get(url).content == pydantic_core.to_json(view), url


def test_unknown_routes_and_methods_use_the_error_shape(client):
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.put("/api/documents"), 405, "method_not_allowed")


# -- exports -----------------------------------------------------------------------------------

LEDGER = ("序号", "条款", "重点任务", "牵头单位", "责任单位", "配合单位", "属地落实", "牵头依据", "完成时限", "目标指标", "进展情况",
          "责任人", "备注", "链接")


def test_task_table_csv_and_xlsx(client):
    """The 督查台账 of a document: caption, header, one row per task, in CSV and in an .xlsx set up to print."""
    response = client.get(f"/api/documents/{SEED_ID}/tasks.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    assert "%E7%9D%A3%E6%9F%A5%E5%8F%B0%E8%B4%A6.csv" in response.headers["content-disposition"]  # 督查台账.csv
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("《武漢市減污降碳協同增效實施方案》") and "2023年5月11日" in rows[0][0]
    assert rows[1] == list(LEDGER) and len(rows) == 25
    assert rows[2][3] == "市發改委" and rows[2][7] == "按排序推定" and rows[2][6].startswith("各區人民政府")
    assert "各區人民政府" not in rows[2][4] and rows[2][10:13] == ["", "", ""]
    assert rows[2][13].endswith(f"/clauses/{SEED_ID}.s2.p1?task=0")
    response = client.get(f"/api/documents/{SEED_ID}/tasks.xlsx")
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == rows[0][0] and values[1] == LEDGER and len(values) == 25
    assert [cell or "" for cell in values[2][1:10]] == rows[2][1:10]
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref == "A2:N25" and sheet.print_title_rows == "$1:$2"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert_error(client.get("/api/documents/nope/tasks.xlsx"), 404, "not_found")


def test_the_ledger_title_row_has_the_title_doc_number_and_date(client):
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/api/documents/国发-2019-3/tasks.xlsx").content)).active
    assert sheet["A1"].value == "《国务院关于促进综合保税区高水平开放高质量发展的若干意见》　国发〔2019〕3号　2019年1月12日"
    assert "A1:N1" in sheet.merged_cells
    assert sheet["H3"].value == "文件规则（排在第一位的部门为牵头部门）"  # 牵头依据: the document's rule, in words


def test_a_department_ledger_spans_its_documents(client):
    """国家发展改革委 is named in the national plan and in 国发〔2019〕3号: one ledger, a 文件 column."""
    response = client.get(f"/api/departments/{quote('国家发展改革委')}/tasks.xlsx")
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == "国家发展和改革委员会　督查台账" and values[1] == (LEDGER[0], "文件", *LEDGER[1:])
    documents = {row[1] for row in values[2:]}
    assert len(documents) == 2 and "《国务院关于促进综合保税区高水平开放高质量发展的若干意见》国发〔2019〕3号" in documents
    assert [row[0] for row in values[2:]] == list(range(1, len(values) - 1))
    assert all("发展改革委" in "".join(cell or "" for cell in row[4:8]) for row in values[2:])  # in one of its roles
    assert sheet.auto_filter.ref == f"A2:O{len(values)}" and sheet.print_title_rows == "$1:$2" and sheet.freeze_panes == "A3"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    rows = list(csv.reader(io.StringIO(client.get(f"/api/departments/{quote('国家发展改革委')}/tasks.csv")
                                       .content.decode("utf-8-sig"))))
    assert rows[0][0] == values[0][0] and tuple(rows[1]) == values[1] and len(rows) == len(values)
    assert_error(client.get("/api/departments/没有这个部门/tasks.xlsx"), 404, "not_found")
    assert client.get(f"/api/departments/{quote('国家发展改革委')}").status_code == 200  # the JSON route is still there


def test_ledger_links_come_from_policykb_public_url(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYKB_PUBLIC_URL", "https://kb.example.org/policykb")
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    with fresh_client(home) as service:
        sheet = openpyxl.load_workbook(io.BytesIO(service.get(f"/api/departments/{quote('市发改委')}/tasks.xlsx").content)).active
        links = [row[14] for row in list(sheet.values)[2:]]
        assert len(links) == 22 and all(link.startswith("https://kb.example.org/policykb/clauses/") for link in links)


def test_a_department_ledger_over_the_row_limit_is_refused(tmp_path):
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    with fresh_client(home, export_max_rows=5) as service:
        error = assert_error(service.get(f"/api/departments/{quote('市发改委')}/tasks.csv"), 413, "too_large")
        assert "5" in error["message"] and "POLICYKB_EXPORT_MAX_ROWS" in error["message"]


# -- writes ------------------------------------------------------------------------------------

def upload(client, name: str, content: bytes, headers: dict | None = None):
    return client.post("/api/documents", files={"file": (name, content, "application/octet-stream")},
                       headers=auth() if headers is None else headers)


def test_upload_needs_the_token_and_is_searchable_at_once(writable):
    assert_error(upload(writable, "a.txt", UPLOAD.encode(), headers={}), 401, "unauthorized")
    assert_error(upload(writable, "a.txt", UPLOAD.encode(), headers=auth("wrong")), 401, "unauthorized")
    response = upload(writable, "社区垃圾分类.txt", UPLOAD.encode())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "added" and body["clauses"] == 3
    hits = writable.get("/api/search", params={"q": "垃圾分类投放点", "mode": "bm25"}).json()["results"]
    assert hits[0]["doc_id"] == body["doc_id"]
    assert upload(writable, "again.txt", UPLOAD.encode()).json()["status"] == "unchanged"
    assert_error(writable.delete(f"/api/documents/{body['doc_id']}"), 401, "unauthorized")
    uploads = Path(writable.app.state.settings.home) / "uploads"
    assert len(list(uploads.iterdir())) == 1  # the original, under its content hash
    assert writable.delete(f"/api/documents/{body['doc_id']}", headers=auth()).json() == {"deleted": body["doc_id"]}
    assert not list(uploads.iterdir()), "the original goes with its document"
    assert_error(writable.get(f"/api/documents/{body['doc_id']}"), 404, "not_found")
    assert_error(writable.delete(f"/api/documents/{body['doc_id']}", headers=auth()), 404, "not_found")


def test_upload_file_names_are_never_paths(writable, tmp_path):
    response = upload(writable, "../../../../tmp/evil\x00.txt", UPLOAD.encode(), headers={"X-PolicyKB-Token": TOKEN})
    assert response.status_code == 201, response.text
    home = Path(writable.app.state.settings.home)
    stored = list((home / "uploads").iterdir())
    assert len(stored) == 1 and len(stored[0].stem) == 64 and stored[0].suffix == ".txt"
    assert not Path("/tmp/evil.txt").exists()
    document = writable.get(f"/api/documents/{response.json()['doc_id']}").json()["document"]
    assert document["source"].startswith("上传：evil") and "/" not in document["source"]


@pytest.mark.parametrize("name, content, status, code", [
    ("big.txt", "政策".encode() * 18_000, 413, "too_large"),
    ("tool.exe", b"MZ\x90\x00", 415, "unsupported_format"),
    # a broken .doc: LibreOffice reads nothing from it (without LibreOffice: the type is unsupported here)
    ("old.doc", b"\xd0\xcf\x11\xe0", *((422, "bad_input") if shutil.which("soffice") else (415, "unsupported_format"))),
    ("empty.txt", b"", 422, "bad_input"),
    ("broken.pdf", b"%PDF-1.7\n1 0 obj <<", 422, "bad_input"),
    ("garbage.docx", b"PK\x03\x04 not a zip at all", 422, "bad_input"),
], ids=["too-large", "exe", "old-doc", "empty", "broken-pdf", "garbage-docx"])
def test_bad_uploads_are_refused_and_leave_nothing_behind(writable, name, content, status, code):
    home = Path(writable.app.state.settings.home)
    before = writable.get("/api/status").json()
    error = assert_error(upload(writable, name, content), status, code)
    assert str(home) not in error["message"] and "uploads" not in error["message"]
    assert writable.get("/api/status").json() == before
    assert not (home / "uploads").exists() or not list((home / "uploads").iterdir())


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(writable):
    home = Path(writable.app.state.settings.home)
    error = assert_error(upload(writable, "huge.txt", b"x" * (1 << 20)), 413, "too_large")
    assert "Traceback" not in error["message"]
    assert not (home / "uploads").exists() or not list((home / "uploads").iterdir())


def test_a_chunked_body_over_the_limit_is_refused_as_it_arrives(writable):
    """No Content-Length (chunked transfer): the bytes are counted as they arrive."""
    home, boundary = Path(writable.app.state.settings.home), "policykb-boundary"

    def body():
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
               "Content-Type: text/plain\r\n\r\n").encode()
        for _ in range(16):
            yield "政策".encode() * 20_000  # 120 KB a chunk, 1.9 MB in all; the limit is 64 KB
        yield f"\r\n--{boundary}--\r\n".encode()

    response = writable.post("/api/documents", content=body(),
                             headers={**auth(), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert "content-length" not in response.request.headers
    error = assert_error(response, 413, "too_large")
    assert error["message"].startswith("上传的内容"), error  # the middleware's count, not the route's
    assert not (home / "uploads").exists() or not list((home / "uploads").iterdir())


def test_read_only_without_a_token(tmp_path):
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    with TestClient(create_app(Settings(home=home, token="  ", encoder="none", embed_in_background=False)),
                    base_url=LOCAL) as client:
        assert client.get("/api/status").json()["read_only"] is True
        assert_error(upload(client, "a.txt", UPLOAD.encode()), 403, "forbidden")
        assert_error(client.delete(f"/api/documents/{SEED_ID}", headers=auth()), 403, "forbidden")
        assert client.get("/api/search", params={"q": "污泥"}).json()["mode"] == "bm25"


def test_formula_cells_are_text_in_xlsx_and_neutralised_in_csv(writable):
    doc_id = upload(writable, "社区垃圾分类.txt", UPLOAD.encode()).json()["doc_id"]
    sheet = openpyxl.load_workbook(io.BytesIO(writable.get(f"/api/documents/{doc_id}/tasks.xlsx").content)).active
    cell = sheet["C3"]
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"
    assert sheet["I3"].value == "2025年底前" and sheet["I2"].value == "完成时限"  # 「到2025年底前」 in the task
    rows = list(csv.reader(io.StringIO(writable.get(f"/api/documents/{doc_id}/tasks.csv").content.decode("utf-8-sig"))))
    assert rows[2][2].startswith("'=HYPERLINK")


def test_document_text_is_escaped_in_pages(writable):
    doc_id = upload(writable, "社区垃圾分类.txt", UPLOAD.encode()).json()["doc_id"]
    for page in (f"/clauses/{doc_id}.s1.p1", "/?q=分类投放点"):
        html = writable.get(page).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


def test_background_embedding_fills_in_vectors_of_an_upload(tmp_path):
    home = build_home(tmp_path / "home", [SEED])
    with TestClient(create_app(Settings(home=home, token=TOKEN)), base_url=LOCAL) as client:
        upload(client, "社区垃圾分类.txt", UPLOAD.encode())
        deadline = time.monotonic() + 120
        while (status := client.get("/api/status").json())["vectors"] < status["units"] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert status["vectors"] == status["units"] and not status["embedding"]["error"]
        hits = client.get("/api/search", params={"q": "进社区宣传垃圾分类", "mode": "dense"}).json()
        assert hits["mode"] == "dense" and hits["results"][0]["doc_id"] == "关于推进社区垃圾分类工作的实施方案"


# -- pages -------------------------------------------------------------------------------------

def test_pages_render_in_chinese(client):
    home = client.get("/").text
    assert "政策文件知识库" in home and "谁负责污泥处置？" in home
    results = client.get("/", params={"q": "污泥", "dept": "市水务局"}).text
    assert "部门：市水务局 ×" in results and 'class="hit"' in results
    empty = client.get("/", params={"q": "完全不相干的词语组合qzx"}).text
    assert "没有找到" in empty and "换个说法" in empty
    assert "永久链接" in client.get(f"/clauses/{SEED_ID}.s4.p12").text
    document = client.get(f"/documents/{SEED_ID}").text
    assert "责任矩阵" in document and "上下级文件对照" in document and "tasks.xlsx" in document
    department = client.get("/departments/市发改委").text
    assert "国家发展和改革委员会" in department and "也写作" in department
    assert "写入令牌" in client.get("/upload").text
    missing = client.get("/clauses/nope")
    assert missing.status_code == 404 and "没有条款" in missing.text and "text/html" in missing.headers["content-type"]


def test_resolve_page_redirects_to_the_clause(client):
    response = client.get("/resolve", params={"ref": "《武汉市减污降碳协同增效实施方案》第（十二）项"}, follow_redirects=False)
    assert response.status_code == 303 and unquote(response.headers["location"]) == f"/clauses/{SEED_ID}.s4.p12"


# -- issue 12: what an attacker found ---------------------------------------------------------

def fresh_client(home: Path, **settings) -> TestClient:
    """A service on `home` with the test token, no encoder and no background embedding."""
    values = {"home": home, "token": TOKEN, "encoder": "none", "embed_in_background": False, **settings}
    return TestClient(create_app(Settings(**values)), base_url=LOCAL)


def test_an_upload_replaces_a_stored_document_only_when_asked_and_it_is_recorded(writable):
    added = upload(writable, "社区垃圾分类.txt", UPLOAD.encode()).json()
    doc_id, store = added["doc_id"], writable.app.state.library.store
    old_sha = store.document(doc_id).sha256
    changed = UPLOAD.replace("开展垃圾分类进社区宣传活动", "开展垃圾分类进社区、进学校宣传活动").encode()
    error = assert_error(upload(writable, "新版.txt", changed), 409, "conflict")
    assert f"replace={doc_id}" in error["message"] and store.document(doc_id).sha256 == old_sha
    assert_error(writable.post("/api/documents", params={"replace": SEED_ID}, headers=auth(),
                               files={"file": ("新版.txt", changed)}), 422, "bad_input")
    response = writable.post("/api/documents", params={"replace": doc_id}, headers=auth(), files={"file": ("新版.txt", changed)})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "replaced" and body["replaced"]["sha256"] == old_sha
    (record,) = store.replacements(doc_id)
    assert record.actor.startswith("api") and record.old_sha256 == old_sha and record.new_sha256 != old_sha
    uploads = Path(writable.app.state.settings.home) / "uploads"
    assert [path.stem for path in uploads.iterdir()] == [record.new_sha256]
    history = writable.get(f"/api/documents/{doc_id}/history").json()
    (version,) = history["versions"]
    assert version["old_sha256"] == old_sha and version["recorded"] is True
    (change,) = version["changes"]
    assert change["kind"] == "changed" and change["number"] == "（二）" and "进学校" in change["new_text"]
    assert "进学校" not in change["old_text"]
    page = writable.get(f"/documents/{doc_id}/history").text
    assert '<tr class="change-changed"><td>修改</td>' in page and "进学校" in page
    assert '/history">版本历史</a>' in writable.get(f"/documents/{doc_id}").text
    assert writable.get(f"/api/documents/{SEED_ID}/history").json()["versions"] == []
    assert_error(writable.get("/api/documents/nope/history"), 404, "not_found")


def test_an_upload_carrying_a_stored_doc_number_does_not_replace_that_document(tmp_path):
    home = build_home(tmp_path / "home", [RULE_DOC], vectors=False)
    forged = "关于做好社区垃圾分类宣传工作的通知\n国发〔2019〕3号\n一、重点任务\n（一）开展宣传。（市教育局负责）\n"
    with fresh_client(home) as service:
        before = service.get("/api/documents/国发-2019-3").json()
        response = upload(service, "forged.txt", forged.encode())
        assert response.status_code == 201 and response.json()["status"] == "added", response.text
        assert response.json()["doc_id"] != "国发-2019-3"
        assert service.get("/api/documents/国发-2019-3").json() == before


def test_the_upload_form_posts_multipart_and_never_puts_the_token_in_a_url(writable):
    page = writable.get("/upload").text
    form = re.search(r"<form[^>]*id=\"upload\"[^>]*>", page).group()
    assert 'method="post"' in form and 'enctype="multipart/form-data"' in form and "token" not in form
    assert page.index('name="token"') < page.index('name="file"')  # the token arrives before the file
    writable.get("/upload", params={"token": TOKEN, "file": "a.txt"})  # a GET never uploads
    assert writable.get("/api/status").json()["documents"] == 1
    refused = writable.post("/upload", data={"token": "wrong-token-wrong-token"}, files={"file": ("a.txt", UPLOAD.encode())})
    assert refused.status_code == 401 and "令牌" in refused.text and "text/html" in refused.headers["content-type"]
    response = writable.post("/upload", data={"token": TOKEN}, files={"file": ("社区垃圾分类.txt", UPLOAD.encode())},
                             follow_redirects=False)
    assert response.status_code == 303 and unquote(response.headers["location"]).startswith("/documents/关于推进社区")
    assert writable.get("/api/status").json()["documents"] == 2


def test_an_unknown_host_header_is_refused(client):
    assert_error(client.get("/api/status", headers={"Host": "rebinding.example"}), 400, "bad_host")
    page = client.get("/", headers={"Host": "rebinding.example:8000"})
    assert page.status_code == 400 and "rebinding.example" not in page.headers.get("location", "")
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000"):
        assert client.get("/api/status", headers={"Host": host}).status_code == 200, host


def test_export_links_come_from_the_public_url_not_the_host_header(tmp_path):
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    with fresh_client(home, public_url="https://kb.example.org/policykb/", allowed_hosts=["kb.example.org"]) as service:
        response = service.get(f"/api/documents/{SEED_ID}/tasks.csv", headers={"Host": "kb.example.org"})
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[2][13] == f"https://kb.example.org/policykb/clauses/{SEED_ID}.s2.p1?task=0"
        response = service.get(f"/api/departments/{quote('市发改委')}/tasks.csv", headers={"Host": "kb.example.org"})
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(rows) > 3 and all(row[14].startswith("https://kb.example.org/policykb/clauses/") for row in rows[2:])
    with fresh_client(home) as service:
        response = service.get(f"/api/documents/{SEED_ID}/tasks.csv", headers={"Host": "localhost:9999"})
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[2][13].startswith("http://127.0.0.1:8000/clauses/")


def test_the_same_bytes_with_an_equivalent_extension_keep_the_stored_original(writable):
    uploads = Path(writable.app.state.settings.home) / "uploads"
    first = upload(writable, "a.txt", UPLOAD.encode()).json()
    assert upload(writable, "a.text", UPLOAD.encode()).json()["status"] == "unchanged"
    assert len(list(uploads.iterdir())) == 1, "the stored original is still there"
    writable.delete(f"/api/documents/{first['doc_id']}", headers=auth())
    assert not list(uploads.iterdir())


def test_originals_orphaned_by_killed_uploads_are_removed_at_start_up(tmp_path, caplog):
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    with fresh_client(home) as service:
        upload(service, "a.txt", UPLOAD.encode())
    uploads = home / "uploads"
    (kept,) = uploads.iterdir()
    orphans = [uploads / f"{'ab' * 32}.txt", uploads / f"{'cd' * 32}.pdf.tmp", uploads / ".incoming-1a2b3c.docx"]
    for orphan in orphans:
        orphan.write_bytes(b"left by a killed upload")
    with caplog.at_level(logging.WARNING, logger="search_api"), fresh_client(home) as service:
        assert service.get("/api/status").json()["documents"] == 2
    assert list(uploads.iterdir()) == [kept]
    assert all(any(orphan.name in record.getMessage() for record in caplog.records) for orphan in orphans)


@pytest.mark.parametrize("headers, status", [
    ({"Authorization": f"Bearer {TOKEN}"}, 404), ({"Authorization": f"bearer {TOKEN}"}, 404),
    ({"Authorization": f"BEARER {TOKEN}"}, 404), ({"X-PolicyKB-Token": TOKEN}, 404),
    ({"Authorization": TOKEN}, 401), ({"Authorization": f"Basic {TOKEN}"}, 401), ({"Authorization": "Bearer"}, 401),
    ({"Authorization": f"Bearer {TOKEN}x"}, 401), ({}, 401),
], ids=["Bearer", "bearer", "BEARER", "header", "no-scheme", "basic", "empty-bearer", "wrong", "none"])
def test_token_forms_bearer_in_any_case_or_the_header_never_a_bare_token(writable, headers, status):
    response = writable.delete("/api/documents/没有这个文件", headers=headers)
    assert_error(response, status, "not_found" if status == 404 else "unauthorized")


def test_failed_token_attempts_are_logged_rate_limited_and_locked_out(tmp_path, caplog):
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    with caplog.at_level(logging.WARNING, logger="search_api"), fresh_client(
            home, auth_max_failures=3, auth_lockout_seconds=1.0) as service:
        for _ in range(3):
            assert_error(service.delete("/api/documents/x", headers=auth("guess-guess-guess")), 401, "unauthorized")
        locked = assert_error(service.delete("/api/documents/x", headers=auth()), 429, "too_many_attempts")
        assert "秒" in locked["message"]
        assert int(service.delete("/api/documents/x", headers=auth()).headers["retry-after"]) >= 1
        failures = [record.getMessage() for record in caplog.records if "token" in record.getMessage()]
        assert len(failures) >= 3 and all("guess" not in message and TOKEN not in message for message in failures)
        time.sleep(1.1)
        assert_error(service.delete("/api/documents/x", headers=auth()), 404, "not_found")


def test_a_token_shorter_than_16_characters_is_refused_at_start_up(tmp_path, monkeypatch, capsys):
    from pydantic import ValidationError

    from search_api.cli import main

    with pytest.raises(ValidationError, match="16"):
        Settings(home=tmp_path, token="x")
    monkeypatch.setenv("POLICYKB_TOKEN", "short-token")
    assert main(["--home", str(tmp_path / "home"), "serve", "--port", "1"]) == 2
    assert "16" in capsys.readouterr().err


def test_the_token_is_checked_before_the_upload_body_is_read(writable):
    consumed = []

    def body():
        consumed.append("read")
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n' + UPLOAD.encode() + b"\r\n--b--\r\n"

    response = writable.post("/api/documents", content=body(),
                             headers={**auth("wrong-token-wrong-token"), "Content-Type": "multipart/form-data; boundary=b"})
    assert_error(response, 401, "unauthorized")
    assert not consumed, "the body was received before the token was checked"


def test_api_docs_load_nothing_from_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/openapi.json").json()["paths"]


def test_a_department_name_with_a_slash_is_reachable(writable):
    plan = UPLOAD.replace("（市教育局负责）", "（市发展改革委/市能源局牵头）")
    assert upload(writable, "plan.txt", plan.encode()).status_code == 201
    listed = [item["canonical"] for item in writable.get("/api/departments").json()]
    name = next(name for name in listed if "/" in name)
    body = writable.get(f"/api/departments/{quote(name, safe='')}")
    assert body.status_code == 200, body.text
    assert body.json()["departments"][0]["canonical"] == name
    page = writable.get(f"/departments/{quote(name, safe='')}")
    assert page.status_code == 200 and name in page.text
    assert writable.get(f"/departments/{quote(name)}").status_code == 200  # the page's own links keep the /


@pytest.mark.parametrize("path", ["/", "/api/status", f"/api/documents/{SEED_ID}/tasks.csv", "/static/style.css",
                                  "/api/departments/市发改委", "/docs"])
def test_head_is_answered_like_get(client, path):
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


def test_method_not_allowed_lists_every_method_of_the_path(client):
    for path, methods in (("/api/documents", {"GET", "HEAD", "POST"}),
                          (f"/api/documents/{SEED_ID}", {"GET", "HEAD", "DELETE"}), ("/api/status", {"GET", "HEAD"})):
        response = client.put(path)
        assert_error(response, 405, "method_not_allowed")
        assert set(response.headers["allow"].split(", ")) == methods, path


@pytest.mark.parametrize("path", ["/", "/api/status", "/api/nothing", "/clauses/nope", "/static/app.js", "/docs",
                                  "/openapi.json"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"


def test_colliding_titles_uploaded_are_both_kept(writable):
    first = UPLOAD.replace("关于推进社区垃圾分类工作的实施方案", "关于推进社区垃圾分类、资源化工作的实施方案")
    second = UPLOAD.replace("关于推进社区垃圾分类工作的实施方案", "关于推进社区垃圾分类资源化工作的实施方案")
    answers = [upload(writable, f"{n}.txt", text.encode()).json() for n, text in enumerate((first, second))]
    assert [answer["status"] for answer in answers] == ["added", "added"] and answers[0]["doc_id"] != answers[1]["doc_id"]
    for answer in answers:
        assert writable.get(f"/api/documents/{quote(answer['doc_id'])}").json()["document"]["title"] == answer["title"]


def test_the_reading_bounds_are_settings_of_the_service(tmp_path, monkeypatch):
    """POLICYKB_DOCX_MAX_PARAGRAPHS (and the PDF bounds alike) reach the upload worker: a DOCX within the
    default bounds is refused, naming the bound, by a service that allows fewer paragraphs."""
    from hostile import paragraph_flood_docx

    data = paragraph_flood_docx(tmp_path / "plan.docx", paragraphs=300).read_bytes()
    monkeypatch.setenv("POLICYKB_DOCX_MAX_PARAGRAPHS", "200")
    with fresh_client(tmp_path / "strict") as strict:
        assert strict.app.state.settings.read_options.bounds.docx_paragraphs == 200
        error = assert_error(upload(strict, "plan.docx", data), 422, "bad_input")
        assert "200 个段落" in error["message"] and "plan.docx" in error["message"]
    monkeypatch.delenv("POLICYKB_DOCX_MAX_PARAGRAPHS")
    with fresh_client(tmp_path / "default") as default:
        assert upload(default, "plan.docx", data).status_code == 201
