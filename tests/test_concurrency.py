"""Concurrency: many search clients against a real `policykb serve` while documents are added and
replaced. Every request must succeed, no answer may mix two versions of a document, and the
latency is reported (tests/artifacts/concurrency.json). Bounded in time and in count."""

from __future__ import annotations

import json
import logging
import re
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
                    answer = client.post("/api/documents", files={"file": (f"v{round_}.txt", version_text(tag, round_ % 3))})
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
