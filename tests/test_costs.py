"""Bounded work and no lock that readers wait for (issue 12): one regression test per defect, named after it.

The service runs on a real store with the real e5 encoder. Where a test must hold work at a known point
it pauses the real encoder at a gate (`GatedEncoder`) or lets another process hold SQLite's write lock
(`write_locked`), so what it checks does not depend on timing. Speed goals live in eval/costs.py.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import openpyxl
import pytest
from fastapi.testclient import TestClient

from conftest import PLANS, SEED, build_home, free_port
from index import SearchFilters, Store
from index.encoders import load_encoder
from index.store import STORE_FILE
from index.upkeep import disk_bytes
from ingest.errors import StoreError
from search_api import Settings, create_app
from search_api.admission import ServiceBusy, TooManyRequests
from search_api.library import Library
from search_api.spreadsheet import write_sheet

LOCAL = "http://127.0.0.1:8000"  # a loopback Host: the service refuses others (DNS rebinding)
SEED_ID = "武汉市减污降碳协同增效实施方案"
TOKEN = "costs-token-0123456789"
LONG = "".join(SEED.read_text(encoding="utf-8").split())[1000:1300]  # 300 characters of the seed plan
UNRELATED = ("关于推进社区垃圾分类工作的实施方案\n一、重点任务\n（一）推进垃圾分类。在全市社区设置分类投放点。"
             "（市城管执法委牵头，市生态环境局配合）\n").encode()


class GatedEncoder:
    """The real e5 encoder; a query text longer than `long` characters waits at `gate` (and says so in
    `waiting`) until the test opens it. Records every text it is asked to encode."""

    def __init__(self, long: int = 30) -> None:
        self.inner, self.long = load_encoder("e5"), long
        self.name, self.dim = self.inner.name, self.inner.dim
        self.gate, self.waiting, self.encoded = threading.Event(), threading.Event(), []

    def encode_queries(self, texts):
        self.encoded += list(texts)
        if any(len(text) > self.long for text in texts):
            self.waiting.set()
            assert self.gate.wait(60), "the test never opened the gate"
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts):
        return self.inner.encode_passages(texts)


@pytest.fixture(scope="module")
def seed_home(tmp_path_factory) -> Path:
    return build_home(tmp_path_factory.mktemp("costs"), [SEED])


@contextlib.contextmanager
def opened_library(settings: Settings, encoder=None) -> Iterator[Library]:
    library = Library(settings, encoder)
    library.start()
    try:
        yield library
    finally:
        library.close()


@contextlib.contextmanager
def write_locked(home: Path) -> Iterator[None]:
    """Another process holding the store's write lock, as `policykb ingest` does inside a document's transaction."""
    with subprocess.Popen([sys.executable, "-c", "import sqlite3, sys\n"
                           "connection = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                           "connection.execute('BEGIN IMMEDIATE')\nprint('locked', flush=True)\nsys.stdin.read()",
                           str(home / STORE_FILE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout.readline().strip() == "locked"
            yield
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status and body["error"]["code"] == code, body
    assert body["error"]["message"] and "Traceback" not in response.text
    return body["error"]


def upload(client, name: str, content: bytes):
    return client.post("/api/documents", files={"file": (name, content, "text/plain")},
                       headers={"Authorization": f"Bearer {TOKEN}"})


# -- 1. long queries ---------------------------------------------------------------------------

def test_long_queries_do_not_stall_other_searches(seed_home):
    """A long query being encoded holds no lock: an ordinary search is answered meanwhile, and the encoder
    sees at most `encoded_query_chars` of any query."""
    encoder = GatedEncoder()
    settings = Settings(home=seed_home, embed_in_background=False)
    with opened_library(settings, encoder) as library, ThreadPoolExecutor(2) as pool:
        stalled = pool.submit(library.search, LONG, 10, SearchFilters(), "hybrid", "attacker")
        assert encoder.waiting.wait(30)
        normal = pool.submit(library.search, "谁负责污泥处置？", 5, SearchFilters(), "hybrid", "citizen").result(timeout=20)
        assert normal["results"] and not stalled.done()
        encoder.gate.set()
        assert stalled.result(timeout=60)["results"]
    assert encoder.encoded and max(map(len, encoder.encoded)) <= settings.encoded_query_chars


def test_one_client_cannot_take_every_slot_for_long_queries(seed_home):
    """Long queries take turns on `long_query_slots`; one client holds at most `per_client_long_queries`
    of them (429); a long query that finds the slot taken waits `busy_wait_seconds` (503); short
    queries do not queue behind them."""
    encoder = GatedEncoder()
    settings = Settings(home=seed_home, embed_in_background=False, busy_wait_seconds=0.5)
    with opened_library(settings, encoder) as library, ThreadPoolExecutor(1) as pool:
        first = pool.submit(library.search, LONG, 10, SearchFilters(), "hybrid", "attacker")
        assert encoder.waiting.wait(30)
        with pytest.raises(TooManyRequests):
            library.search(LONG[::-1], 10, SearchFilters(), "hybrid", "attacker")
        with pytest.raises(ServiceBusy):
            library.search(LONG[100:], 10, SearchFilters(), "hybrid", "second attacker")
        assert library.search("污泥处置", 5, SearchFilters(), "hybrid", "attacker")["results"]
        encoder.gate.set()
        assert first.result(timeout=60)["results"]
        assert library.search(LONG[100:], 10, SearchFilters(), "hybrid", "second attacker")["results"]


def test_a_query_over_the_length_limit_is_refused_with_a_clear_422(seed_home):
    with TestClient(create_app(Settings(home=seed_home, embed_in_background=False, max_query_chars=100)), base_url=LOCAL) as client:
        error = assert_error(client.get("/api/search", params={"q": "长" * 101}), 422, "invalid_request")
        assert "101" in error["message"] and "100" in error["message"], error
        assert client.get("/api/search", params={"q": LONG[:100]}).status_code == 200
        page = client.get("/", params={"q": "长" * 101})
        assert page.status_code == 422 and "超过上限 100 字" in page.text


# -- 2. a large document -----------------------------------------------------------------------

def test_documents_and_departments_are_served_a_page_at_a_time(tmp_path):
    """Nothing in a document's JSON or page grows with the document beyond `page_size` (or `limit`)."""
    home = build_home(tmp_path / "home", [SEED, *PLANS])
    with TestClient(create_app(Settings(home=home, embed_in_background=False, page_size=10, max_page_size=20)), base_url=LOCAL) as client:
        first = client.get(f"/api/documents/{SEED_ID}").json()
        assert len(first["clauses"]) == 10 and first["page"] == {"offset": 0, "limit": 10, "total": 36}
        measures = {measure["id"] for measure in first["matrix"]["measures"]}
        assert measures <= {clause["id"] for clause in first["clauses"]}
        assert {row["clause_id"] for row in first["crosscheck"]} <= measures and first["crosscheck_status"] == "ready"
        later = client.get(f"/api/documents/{SEED_ID}", params={"offset": 30, "limit": 20}).json()
        assert len(later["clauses"]) == 6 and later["page"]["offset"] == 30
        water = client.get(f"/api/documents/{SEED_ID}", params={"offset": 10, "limit": 20}).json()
        assert f"{SEED_ID}.s4.p12" in {row["clause_id"] for row in water["crosscheck"]}
        assert_error(client.get(f"/api/documents/{SEED_ID}", params={"limit": 21}), 422, "invalid_request")
        entry = client.get("/api/departments/市发改委", params={"limit": 3}).json()["departments"][0]
        assert sum(len(group["duties"]) for group in entry["documents"]) == 3
        assert entry["page"]["total"] == sum(entry["roles"].values()) > 3
        page = client.get(f"/documents/{SEED_ID}").text
        assert "共 36 条" in page and "下一页" in page and "offset=10" in page


def test_reads_go_on_while_a_document_is_written(tmp_path, caplog):
    """An upload waiting for the store's write lock (another process holds it) holds nothing readers need:
    searches, document, clause and department pages are answered meanwhile; then the upload lands."""
    home = build_home(tmp_path / "home", [SEED])
    settings = Settings(home=home, token=TOKEN, embed_in_background=False, busy_timeout_seconds=60)
    with TestClient(create_app(settings), base_url=LOCAL) as client, ThreadPoolExecutor(1) as pool:
        with write_locked(home), caplog.at_level(logging.INFO, logger="search_api.library"):
            writing = pool.submit(upload, client, "分类.txt", UNRELATED)
            assert _eventually(lambda: any("parsed in the upload worker" in record.getMessage()
                                           for record in caplog.records), 60)
            time.sleep(0.5)  # now waiting for SQLite's write lock
            with ThreadPoolExecutor(5) as readers:
                answers = list(readers.map(lambda path: client.get(path), [
                    "/api/search?q=污泥处置", f"/api/documents/{SEED_ID}", f"/api/clauses/{SEED_ID}.s4.p12",
                    "/api/departments/市发改委", "/api/status"]))
            assert [answer.status_code for answer in answers] == [200] * 5
            assert not writing.done(), "the upload should still be waiting for the write lock"
        assert writing.result(timeout=60).status_code == 201
        hits = client.get("/api/search", params={"q": "垃圾分类投放点", "mode": "bm25"}).json()["results"]
        assert hits[0]["doc_id"] == "关于推进社区垃圾分类工作的实施方案"


def test_the_crosscheck_is_computed_once_and_survives_unrelated_writes(tmp_path, caplog):
    """Computed in the background when documents change, cached by the documents it compares: an upload
    of an unrelated document neither drops it nor makes the next page view compute it again."""
    home = build_home(tmp_path / "home", [SEED, *PLANS])
    settings = Settings(home=home, token=TOKEN, embed_in_background=False, crosscheck_wait_seconds=120)
    with caplog.at_level(logging.INFO, logger="search_api.library"), opened_library(settings) as library:
        assert library.document_page(SEED_ID, 0, 100).crosscheck.status == "ready"
        library.add_upload(UNRELATED, "分类.txt")
        assert library.document_page(SEED_ID, 0, 100).crosscheck.status == "ready"
    computed = [record.getMessage() for record in caplog.records if record.getMessage().startswith("cross-check of ")]
    assert sum(SEED_ID in message for message in computed) == 1, computed


# -- 3 and 21. exports and disconnects -----------------------------------------------------------

def test_the_task_table_has_a_row_bound(seed_home):
    with TestClient(create_app(Settings(home=seed_home, embed_in_background=False, export_max_rows=20)), base_url=LOCAL) as client:
        for kind in ("xlsx", "csv"):
            error = assert_error(client.get(f"/api/documents/{SEED_ID}/tasks.{kind}"), 413, "too_large")
            assert "23" in error["message"] and "20" in error["message"]
    with TestClient(create_app(Settings(home=seed_home, embed_in_background=False, export_max_rows=23)), base_url=LOCAL) as client:
        assert client.get(f"/api/documents/{SEED_ID}/tasks.xlsx").status_code == 200


def test_the_streamed_xlsx_reads_back_with_its_text_types_and_styles():
    """spreadsheet.py writes SpreadsheetML itself (openpyxl's cell objects made 10,000 rows cost > 6 s):
    openpyxl must read back every value, text typed as text, the bold frozen header and wrapping."""
    rows = [(1, "=HYPERLINK(\"http://example.invalid\")", "a & b < c > d \"e\"", "  前后有空格  ", "", "控制\x01字符\x1f", 7),
            (2, "+1", "-2", "@3", "第二行", "2025年", "http://x/clauses/a?task=0")]
    buffer = io.BytesIO()
    write_sheet(buffer, "任务分工表", "标题 & 题", ("序号", "一", "二", "三", "四", "五", "六"), (6, 28, 70, 22, 36, 16, 40), rows)
    workbook = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = workbook.active
    assert sheet.title == "任务分工表" and workbook.properties.title == "标题 & 题" and sheet.freeze_panes == "A2"
    values = list(sheet.values)
    assert values[0] == ("序号", "一", "二", "三", "四", "五", "六") and sheet["A1"].font.b
    assert values[1] == (1, '=HYPERLINK("http://example.invalid")', 'a & b < c > d "e"', "  前后有空格  ", None, "控制字符", 7)
    assert values[2] == (2, "+1", "-2", "@3", "第二行", "2025年", "http://x/clauses/a?task=0")
    assert sheet["B2"].data_type == "s" and sheet["C2"].alignment.wrap_text and sheet.column_dimensions["C"].width == 70


def big_plan(tasks: int) -> bytes:
    """A plan of `tasks` measures (sections of 99), each a sentence of the seed and a marker."""
    sentences = [part + "。" for part in SEED.read_text(encoding="utf-8").split("。") if 20 <= len(part) <= 120]
    numerals = "一二三四五六七八九"

    def numeral(n: int) -> str:
        tens, ones = divmod(n, 10)
        return ("" if tens < 2 else numerals[tens - 1]) + ("十" if tens else "") + (numerals[ones - 1] if ones else "")

    lines = ["关于大规模合成测试的实施方案"]
    for number in range(tasks):
        section, item = divmod(number, 99)
        if item == 0:
            lines.append(f"{numeral(section + 1)}、第{section + 1}部分")
        lines.append(f"（{numeral(item + 1)}）{sentences[number % len(sentences)]}（市发改委牵头，市生态环境局配合）")
    return "\n".join(lines).encode()


def test_an_export_stops_when_its_client_leaves_and_sigterm_stops_the_server(tmp_path):
    """A long export is stopped when its client disconnects; SIGTERM during another one stops the server
    within the shutdown timeout instead of waiting for the export."""
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    (tmp_path / "big.txt").write_bytes(big_plan(5000))
    subprocess.run([sys.executable, "-m", "search_api.cli", "--home", str(home), "ingest", str(tmp_path / "big.txt")],
                   check=True, capture_output=True)
    port, log = free_port(), home / "serve.log"
    request = (f"GET /api/documents/{quote('关于大规模合成测试的实施方案')}/tasks.xlsx HTTP/1.1\r\n"
               "Host: 127.0.0.1\r\n\r\n").encode()
    environment = {**os.environ, "POLICYKB_ENCODER": "none", "POLICYKB_EMBED_IN_BACKGROUND": "false",
                   "POLICYKB_SHUTDOWN_TIMEOUT_SECONDS": "1"}
    with log.open("wb") as output, subprocess.Popen(
            [sys.executable, "-m", "search_api.cli", "--home", str(home), "serve", "--port", str(port)],
            env=environment, stdout=output, stderr=subprocess.STDOUT) as server:
        try:
            assert _eventually(lambda: "Uvicorn running" in log.read_text(), 60), log.read_text()
            with socket.create_connection(("127.0.0.1", port)) as connection:
                connection.sendall(request)
                time.sleep(0.2)
            assert _eventually(lambda: "client left" in log.read_text()), log.read_text()[-2000:]
            with socket.create_connection(("127.0.0.1", port)) as connection:
                connection.sendall(request)
                time.sleep(0.2)
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=20)
        finally:
            if server.poll() is None:
                server.kill()
    assert server.returncode in (0, -signal.SIGTERM), log.read_text()[-2000:]  # uvicorn re-raises the signal
    assert "Application shutdown complete" in log.read_text()


# -- 12 is in test_durability.py; 13. another writer ---------------------------------------------

def test_an_upload_meeting_another_writer_answers_503_soon_and_leaves_nothing(tmp_path):
    """While another process holds SQLite's write lock an upload waits `busy_timeout_seconds` (holding no
    lock readers need: a search is answered meanwhile), then answers 503 in the error shape and keeps
    neither its original nor any row."""
    home = build_home(tmp_path / "home", [SEED])
    settings = Settings(home=home, token=TOKEN, embed_in_background=False, busy_timeout_seconds=2)
    with TestClient(create_app(settings), base_url=LOCAL) as client, ThreadPoolExecutor(1) as pool:
        before = client.get("/api/status").json()
        with write_locked(home):
            started = time.monotonic()
            writing = pool.submit(upload, client, "分类.txt", UNRELATED)
            assert client.get("/api/search", params={"q": "污泥处置"}).status_code == 200
            error = assert_error(writing.result(timeout=60), 503, "store_unavailable")
            waited = time.monotonic() - started
        assert "另一个程序" in error["message"] and waited < 20, (error, waited)
        assert client.get("/api/status").json() == before
        assert not list((home / "uploads").iterdir())


# -- 18. a damaged store -----------------------------------------------------------------------

def damage_table(home: Path, table: str) -> None:
    """Overwrite the root page of `table` with garbage, the store closed and its WAL checkpointed."""
    with sqlite3.connect(home / STORE_FILE) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    connection.close()
    with (home / STORE_FILE).open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xa5" * page_size)


def test_a_damaged_store_page_answers_503_and_is_found_at_start_up(tmp_path):
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    damage_table(home, "tasks")
    settings = Settings(home=home, encoder="none", embed_in_background=False, check_store_at_start=False)
    with TestClient(create_app(settings), base_url=LOCAL) as client:
        for path in (f"/api/documents/{SEED_ID}", "/api/search?q=污泥处置"):
            error = assert_error(client.get(path), 503, "store_unavailable")
            assert "数据库" in error["message"] and "备份" in error["message"]
        page = client.get(f"/documents/{SEED_ID}")
        assert page.status_code == 503 and "数据库" in page.text
    with pytest.raises(StoreError, match="已损坏"):
        with TestClient(create_app(Settings(home=home, encoder="none", embed_in_background=False)), base_url=LOCAL):
            pass


# -- 22. disk and memory after large deletes -----------------------------------------------------

def test_disk_space_is_given_back_after_large_writes_and_deletes(tmp_path):
    """After a large write the WAL is truncated; after deleting most of the store its free pages are
    released (the store, made before incremental vacuum, is converted once)."""
    corpus = sorted((SEED.parent.parent / "state_council").glob("*.txt"))[:30]
    home = build_home(tmp_path / "home", [SEED, *corpus], vectors=False)
    settings = Settings(home=home, token=TOKEN, encoder="none", embed_in_background=False, reclaim_wal_mb=0.5)
    with TestClient(create_app(settings), base_url=LOCAL) as client:
        library = client.app.state.library
        assert upload(client, "分类.txt", UNRELATED).status_code == 201
        wal = home / f"{STORE_FILE}-wal"
        assert _eventually(lambda: not wal.exists() or wal.stat().st_size < 0.5 * 2**20), wal.stat().st_size
        full = disk_bytes(library.store)
        for document in client.get("/api/documents").json():
            if document["id"] != SEED_ID:
                assert client.delete(f"/api/documents/{document['id']}", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert _eventually(lambda: disk_bytes(library.store) < 0.5 * full), (disk_bytes(library.store), full)
    with Store.open(home) as store:
        pages = store._connection.execute("PRAGMA page_count").fetchone()[0]
        assert store._connection.execute("PRAGMA freelist_count").fetchone()[0] <= 0.25 * pages
        assert store._connection.execute("PRAGMA auto_vacuum").fetchone()[0] == 2


def _eventually(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
