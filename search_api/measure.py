"""Latency of the service over HTTP: serve a store from a real `policykb serve` process and drive it
with eval.load's generator on loopback, beside the same work done in-process (`policykb load`,
`policykb bench --http-seconds`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Callable

from index import Searcher, Store
from index.dense import has_vectors
from index.encoders import load_encoder
from index.search import SearchFilters
from ingest.errors import StoreError

from .views import search_view


def http_load(store: Store, encoder_spec: str, mode: str, clients: int, seconds: float,
              announce: Callable[[str], None] = lambda text: None) -> dict:
    """Serve this store from a `policykb serve` process and drive it over loopback (eval.load): one
    client for half the time, then `clients` at once, beside the same searches in-process.
    `announce` gets a line for the user when the server is up."""
    from eval.bench import machine_description, percentiles
    from eval.load import drive
    from eval.policy import load_questions

    queries = [question.query for question in load_questions()]
    encoder = load_encoder(encoder_spec)
    mode = mode if has_vectors(store, encoder.name) or mode == "bm25" else "bm25"
    searcher, in_process, route_work = Searcher(store, encoder if mode != "bm25" else None), [], []
    for query in queries:  # the same searches without HTTP (query encoding included), for the ratios
        started = time.perf_counter()
        searcher.search(query, 10, mode=mode)
        in_process.append(time.perf_counter() - started)
        started = time.perf_counter()
        search_view(searcher, query, 10, SearchFilters(), mode)  # what the route does: facets over 100 hits
        route_work.append(time.perf_counter() - started)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "POLICYKB_ENCODER": encoder_spec, "POLICYKB_EMBED_IN_BACKGROUND": "false"}
    server = subprocess.Popen([sys.executable, "-m", "search_api.cli", "--home", str(store.path.parent), "serve",
                               "--port", str(port)], env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server)
        announce(f"服务已启动（{base}），压测 {seconds:g} 秒……")
        one = drive(base, queries, clients=1, seconds=seconds / 2, mode=mode)
        many = drive(base, queries, clients=clients, seconds=seconds, mode=mode)
    finally:
        server.terminate()
        server.wait(timeout=60)
    reference = percentiles(route_work)
    return {"machine": machine_description(), "units": store.counts()["units"], "encoder": encoder.name,
            "mode": mode, "in_process_search_with_encoder": percentiles(in_process),
            "in_process_route_work": reference, "http_one_client": one, "http_concurrent": many,
            "http_one_client_p50_over_route_work_p50": round(one["latency"]["p50_ms"] / reference["p50_ms"], 2)
            if one["latency"] else None}


def wait_until_serving(base: str, server: subprocess.Popen, seconds: float = 600) -> None:
    """Until /api/status answers (opening a large store's indexes takes a while), or fail."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status", timeout=5).read()
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise StoreError(f"policykb serve 没有启动（退出码 {server.poll()}）；请先单独运行 policykb serve 查看错误")
            time.sleep(0.5)
