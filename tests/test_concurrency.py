"""Concurrency: many search clients against a real `policykb serve` while documents are added and
replaced. Every request must succeed, no answer may mix two versions of a document, and the
latency is reported (tests/artifacts/concurrency.json). Bounded in time and in count."""

from __future__ import annotations

import json
import logging
import re
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from conftest import PLANS, SEED, build_home, serving

TOKEN = "concurrency-token"
CLIENTS = 8
REPLACEMENTS = 20
SECONDS = 60  # upper bound on the whole run
REPORT = Path(__file__).resolve().parent / "artifacts" / "concurrency.json"
TITLE = "关于推进社区垃圾分类工作的实施方案"
QUERIES = ["社区垃圾分类投放点", "谁负责污泥处置？", "垃圾分类宣传教育进社区", "市发改委牵头的任务",
           "建筑垃圾资源化利用率目标是多少", "分类投放 甲版 乙版"]
_VERSION = re.compile(r"[甲乙]版")
logger = logging.getLogger(__name__)


def version_text(tag: str, extra: int = 0) -> bytes:
    """A plan whose every measure names its version (甲版 or 乙版); `extra` measures more in 乙版."""
    measures = [f"（{number}）推进垃圾分类第{number}项（{tag}）。在全市社区设置分类投放点，开展分类投放宣传。"
                f"（市城管执法委牵头，市生态环境局配合）" for number in "一二三四五六七八"[:6 + extra]]
    return "\n".join([TITLE, "一、重点任务", *measures]).encode()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = build_home(tmp_path_factory.mktemp("concurrency"), [SEED, *PLANS])
    with serving(home, POLICYKB_TOKEN=TOKEN, POLICYKB_EMBED_IN_BACKGROUND="false") as base:
        yield base


def test_searches_during_adds_and_replacements(server):
    done = threading.Event()
    failures: list[str] = []
    latencies: list[float] = []
    versions_seen: set[str] = set()
    lock = threading.Lock()

    def writer() -> int:
        writes = 0
        with httpx.Client(base_url=server, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            try:
                for round_ in range(REPLACEMENTS):
                    tag = "甲版" if round_ % 2 == 0 else "乙版"
                    answer = client.post("/api/documents", params={"replace": TITLE},  # replacing is explicit
                                         files={"file": (f"v{round_}.txt", version_text(tag, round_ % 3))})
                    if answer.status_code != 201 or answer.json()["status"] not in ("added", "replaced"):
                        failures.append(f"upload {round_}: {answer.status_code} {answer.text[:200]}")
                    extra = client.post("/api/documents", files={"file": (f"other{round_}.txt", (
                        f"关于第{round_}批社区试点的实施方案\n一、重点任务\n（一）开展第{round_}批试点。（市民政局负责）").encode())})
                    if extra.status_code != 201:
                        failures.append(f"add {round_}: {extra.status_code} {extra.text[:200]}")
                    writes += 2
                    time.sleep(0.2)
            finally:
                done.set()
        return writes

    def reader(number: int) -> int:
        served = 0
        with httpx.Client(base_url=server, timeout=60) as client:
            while not done.is_set():
                query = QUERIES[(number + served) % len(QUERIES)]
                started = time.perf_counter()
                if served % 5 == 4:
                    answer = client.get(f"/api/documents/{TITLE}")
                else:
                    answer = client.get("/api/search", params={"q": query, "k": 20, "mode": "hybrid" if number % 2 else "bm25"})
                elapsed = time.perf_counter() - started
                served += 1
                if answer.status_code == 404 and served % 5 == 0:
                    continue  # the plan is not uploaded yet
                if answer.status_code != 200:
                    with lock:
                        failures.append(f"{answer.request.url}: {answer.status_code} {answer.text[:200]}")
                    continue
                body = answer.json()
                texts = ([hit["text"] for hit in body["results"] if hit["doc_id"] == TITLE] if "results" in body
                         else [clause["text"] for clause in body["clauses"]])
                tags = {tag for text in texts for tag in _VERSION.findall(text)}
                with lock:
                    latencies.append(elapsed)
                    versions_seen.update(tags)
                    if len(tags) > 1:
                        failures.append(f"{answer.request.url}: one answer mixes {sorted(tags)}")
        return served

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS + 1) as pool:
        write = pool.submit(writer)
        reads = [pool.submit(reader, number) for number in range(CLIENTS)]
        writes = write.result(timeout=SECONDS)
        served = sum(future.result(timeout=SECONDS) for future in reads)
    wall = time.monotonic() - started
    report = {"clients": CLIENTS, "writes": writes, "reads": served, "failures": len(failures), "seconds": round(wall, 1),
              "throughput_per_s": round(served / wall, 1),
              "latency_ms": {name: round(1000 * percentile(latencies, share), 1)
                             for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))},
              "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else None}
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    logger.info("concurrency: %s", report)
    assert not failures, failures[:5]
    assert served >= 100 and versions_seen == {"甲版", "乙版"}, report


def test_identical_concurrent_uploads_all_succeed(server):
    """Issue 12, defect 10: every writer used `<target>.tmp`, so two identical uploads gave a 500 in 9 of 10."""
    def send(number: int, content: bytes, barrier: threading.Barrier) -> tuple[int, str]:
        with httpx.Client(base_url=server, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            barrier.wait()
            answer = client.post("/api/documents", files={"file": (f"same{number}.txt", content)})
            return answer.status_code, answer.json().get("status", answer.text[:200])

    for trial in range(10):
        content = (f"关于第{trial}批同时上传试点的实施方案\n一、重点任务\n（一）开展第{trial}批试点。（市民政局负责）\n").encode()
        barrier = threading.Barrier(4)
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(send, range(4), [content] * 4, [barrier] * 4))
        assert all(status == 201 for status, _ in results), (trial, results)
        assert sorted(kind for _, kind in results) == ["added", "unchanged", "unchanged", "unchanged"], (trial, results)


@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory):
    home = build_home(tmp_path_factory.mktemp("impatient"), [SEED], vectors=False)
    with serving(home, POLICYKB_TOKEN=TOKEN, POLICYKB_ENCODER="none", POLICYKB_EMBED_IN_BACKGROUND="false",
                 POLICYKB_HEADER_TIMEOUT_SECONDS="1", POLICYKB_BODY_TIMEOUT_SECONDS="2") as base:
        yield base


def closed_within(connection: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing the connection, or None if it is still open after `seconds`."""
    connection.settimeout(0.2)
    received, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = connection.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    return None


@pytest.mark.parametrize("opening", [b"", b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"],
                         ids=["idle", "unfinished-headers"])
def test_idle_and_slow_header_sockets_are_closed(impatient_server, opening):
    host, port = impatient_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(opening)
        assert closed_within(connection, 6) is not None, "the server kept an idle socket open"


def test_a_slow_body_is_refused_with_408(impatient_server):
    host, port = impatient_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(f"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                           "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 5000\r\n\r\n--b\r\n".encode())
        answer = closed_within(connection, 8)
    assert answer is not None and answer.startswith(b"HTTP/1.1 408"), answer
    assert b'"code":"timeout"' in answer.replace(b" ", b"")
