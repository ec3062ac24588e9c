"""`policykb serve --workers N`: several server processes on one port, and readers that never build a
snapshot (issue 14). Real server processes on real sockets, and two libraries on one store standing in
for two processes where a test must hold a build at a known point."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from conftest import PLANS, SEED, build_home, free_port
from index import SearchFilters
from search_api import Settings
from search_api.library import Library, ProcessRole
from search_api.server import send_without_delay
from search_api.snapshots import Snapshot

TOKEN = "workers-token-0123456789"
TITLE = "关于推进多进程同步试点工作的实施方案"
PLAN = f"{TITLE}\n一、重点任务\n（一）开展多进程同步试点，建立同步台账。（市民政局牵头）\n".encode()
_WORKER = re.compile(r"worker;desc=(\d+)")


@contextlib.contextmanager
def serving_workers(home: Path, workers: int, **environment: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`policykb serve --workers N` on a free port; yields (base URL, the parent process) once it answers."""
    port, log = free_port(), home / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "search_api.cli", "--home", str(home), "serve", "--port",
                                    str(port), "--workers", str(workers)], env={**os.environ, **environment},
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while f"{workers} workers serving" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"policykb serve --workers {workers} did not start: {log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=60)


def worker_of(response: httpx.Response) -> int:
    return int(_WORKER.search(response.headers["server-timing"])[1])


def descendants_of(parent: int) -> list[int]:
    """Every process below `parent` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
    found, queue = [], [parent]
    while queue:
        found += (below := children.get(queue.pop(), []))
        queue += below
    return found


def _stat(pid: int) -> list[str]:
    """State, parent, … of a process (the fields of /proc/PID/stat after its name)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def running(pid: int) -> bool:
    try:
        return _stat(pid)[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    home = build_home(tmp_path_factory.mktemp("workers"), [SEED, *PLANS])
    with serving_workers(home, 2, POLICYKB_TOKEN=TOKEN, POLICYKB_EMBED_IN_BACKGROUND="false") as served:
        yield served


def test_two_workers_share_the_port_and_both_answer(two_workers):
    base, _ = two_workers
    seen = set()
    deadline = time.monotonic() + 30
    while seen != {0, 1} and time.monotonic() < deadline:
        with httpx.Client(base_url=base, timeout=30) as client:  # a new connection each time
            answer = client.get("/api/search", params={"q": "污泥处置", "mode": "bm25"})
            assert answer.status_code == 200 and answer.json()["results"]
            seen.add(worker_of(answer))
    assert seen == {0, 1}


def test_an_upload_through_one_worker_is_found_through_every_worker(two_workers):
    base, _ = two_workers
    with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        answer = client.post("/api/documents", files={"file": ("sync.txt", PLAN)})
        assert answer.status_code == 201, answer.text
        written_by, uploaded = worker_of(answer), time.monotonic()
    found_by: dict[int, float] = {}
    while set(found_by) != {0, 1} and time.monotonic() < uploaded + 30:
        with httpx.Client(base_url=base, timeout=30) as client:
            answer = client.get("/api/search", params={"q": "多进程同步试点", "mode": "bm25"})
        assert answer.status_code == 200
        if answer.json()["results"] and answer.json()["results"][0]["doc_id"] == TITLE:
            found_by.setdefault(worker_of(answer), time.monotonic() - uploaded)
        elif worker_of(answer) == written_by:
            pytest.fail("the worker that stored the upload answered without it")
    assert set(found_by) == {0, 1}, found_by


class _Transport:
    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection

    def get_extra_info(self, name: str, default=None):
        return self.connection if name == "socket" else default


def test_connections_of_the_shared_socket_send_without_nagle_delay():
    """A socket bound for the workers has protocol 0, so asyncio left Nagle on for its connections: every
    response waited 40 ms for the client's delayed ACK of its headers (a single client got half the speed).
    HeaderTimeoutProtocol.connection_made sets TCP_NODELAY itself."""
    with socket.socket(socket.AF_INET) as listening:  # as uvicorn.Config.bind_socket makes it
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        with socket.create_connection(listening.getsockname()):
            accepted, _ = listening.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
                send_without_delay(_Transport(accepted))  # type: ignore[arg-type]
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_sigterm_stops_every_worker(tmp_path):
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    with serving_workers(home, 2, POLICYKB_ENCODER="none") as (base, parent):
        below = descendants_of(parent.pid)
        assert len(below) >= 2, below  # the workers (and multiprocessing's resource tracker)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while [pid for pid in below if running(pid)]:
            assert time.monotonic() < deadline, [pid for pid in below if running(pid)]
            time.sleep(0.2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/api/status", timeout=5)


def test_a_worker_that_cannot_start_makes_the_parent_exit_non_zero(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "policykb.sqlite3").write_bytes(b"this is not a database" * 100)
    answer = subprocess.run([sys.executable, "-m", "search_api.cli", "--home", str(home), "serve", "--port",
                             str(free_port()), "--workers", "2"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "POLICYKB_ENCODER": "none"})
    assert answer.returncode == 1, answer.stderr[-2000:]
    assert "worker 0 exited before serving" in answer.stderr


def test_only_the_first_worker_embeds_and_every_worker_uses_its_vectors(tmp_path):
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    with serving_workers(home, 2, POLICYKB_TOKEN=TOKEN) as (base, _):
        deadline, vectors = time.monotonic() + 240, {}
        while (len(vectors) < 2 or min(vectors.values()) == 0) and time.monotonic() < deadline:
            with httpx.Client(base_url=base, timeout=30) as client:
                answer = client.get("/api/search", params={"q": "污泥处置", "mode": "dense"})
            vectors[worker_of(answer)] = len(answer.json()["results"])
            time.sleep(0.5)
        assert len(vectors) == 2 and min(vectors.values()) > 0, vectors
    log = (home / "serve.log").read_text()
    rounds = re.findall(r"(policykb-worker-\d+) search_api.embedding: embedding \d+ passages", log)
    assert rounds and set(rounds) == {"policykb-worker-0"}, rounds


# -- readers never build: two libraries on one store stand for two processes --------------------------

def test_a_write_elsewhere_is_built_by_the_follower_while_requests_read_the_previous_snapshot(tmp_path):
    """Library B learns of A's write from the store; its follower builds the next snapshot (held here at a
    gate) while B's searches are answered from the previous one, never building one themselves."""
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    settings = Settings(home=home, token=TOKEN, encoder="none", embed_in_background=False)
    writer, reader = Library(settings), Library(settings, role=ProcessRole(checks=False, embeds=False, worker=1))
    gate, building, builders = threading.Event(), threading.Event(), []
    build = reader._snapshots._build

    def gated_build() -> Snapshot | None:
        builders.append(threading.current_thread().name)
        if len(builders) > 1:  # the first is the start-up's
            building.set()
            assert gate.wait(60)
        return build()

    reader._snapshots._build = gated_build  # type: ignore[method-assign]
    writer.start()
    reader.start()
    try:
        writer.add_upload(PLAN, "sync.txt")
        assert building.wait(30), "the follower did not notice the write"
        started = time.perf_counter()
        hits = reader.search("多进程同步试点", 5, SearchFilters(), "bm25", "test")["results"]
        assert time.perf_counter() - started < 5 and not any(hit["doc_id"] == TITLE for hit in hits)
        gate.set()
        deadline = time.monotonic() + 30
        while not any(hit["doc_id"] == TITLE for hit in reader.search("多进程同步试点", 5, SearchFilters(), "bm25",
                                                                       "test")["results"]):
            assert time.monotonic() < deadline, "the follower's snapshot was never installed"
            time.sleep(0.1)
    finally:
        gate.set()
        reader.close()
        writer.close()
    assert builders[1:] and set(builders[1:]) == {"policykb-follower"}, builders



# -- a snapshot is built from the previous one ------------------------------------------------------

def test_the_next_indexes_borrow_from_the_previous_ones_and_answer_as_fresh_ones(tmp_path, monkeypatch, caplog):
    """What the follower builds after each write: the saved BM25 arrays and HNSW graph are taken from the
    previous index (not read and checked again), vectors already in memory are not read from the store,
    and department counts are queried for changed documents only — with the answers of a fresh build."""
    from index import Store, ingest_paths
    from index.dense import VectorIndex, import_vectors
    from index.department_counts import DepartmentCounts
    from index.directory import list_departments
    from index.encoders import load_encoder
    from index.lexical import LexicalIndex, terms

    council = sorted((SEED.parent.parent / "state_council").glob("*.txt"))
    encoder, cache = load_encoder("e5"), SEED.parent.parent.parent / "eval" / "cache" / "e5-bundled.npz"
    caplog.set_level("INFO", logger="index")
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [SEED, *PLANS, *council[:-2]])
        import_vectors(store, cache, encoder.name)
        graph, lexical, counts = (VectorIndex(store, encoder.name, encoder.dim, exact_limit=10),
                                  LexicalIndex.open(store), DepartmentCounts.of(store))
        assert counts.summaries() == list_departments(store)
        for added, limit in ((council[-2], 0.5), (council[-1], 0.0)):  # searched beside the graph; added to it
            monkeypatch.setattr(VectorIndex, "ADDED_LIMIT", limit)
            ingest_paths(store, [added])
            import_vectors(store, cache, encoder.name)
            store.delete_document("国办发-2019-6" if added == council[-2] else "国发-2019-5")
            graph = VectorIndex(store, encoder.name, encoder.dim, exact_limit=10, previous=graph)
            borrowed, counts = LexicalIndex.open(store, lexical), DepartmentCounts.of(store, counts)
            assert borrowed.saved is lexical.saved  # the same mapped arrays: not read and checked again
            lexical = borrowed
            exact = VectorIndex(store, encoder.name, encoder.dim)
            assert graph.kind == "hnsw" and exact.kind == "flat" and list(graph.ids) == list(exact.ids)
            for text in ("污泥处置", "减污降碳协同增效", "综合保税区", "失业保险"):
                vector = encoder.encode_queries([text])[0]
                assert [unit for unit, _ in graph.search(vector, 5)] == [unit for unit, _ in exact.search(vector, 5)]
                assert lexical.search(terms(text), 10) == LexicalIndex.open(store).search(terms(text), 10)
            assert counts.summaries() == list_departments(store)
    assert caplog.text.count("building HNSW index") == 1 and "searched exactly beside it" in caplog.text
    assert "vectors added to the graph" in caplog.text
    assert "rebuilding" not in caplog.text and caplog.text.count("built BM25 index") == 1


def test_a_write_landing_while_the_readers_are_renewed_leaves_every_connection_serving(tmp_path, monkeypatch):
    """The follower renews the readers' transactions each second. When a write committed while the spares
    opened theirs, the renewal handed requests only the spares opened before it and made the rest spare:
    fewer connections served than requests came, and requests waited up to 300 ms for one."""
    from index import Store
    from search_api import snapshots
    from search_api.snapshots import Readers

    home = build_home(tmp_path / "home", [SEED, *PLANS], vectors=False)
    with Store.open(home) as writer:
        readers = Readers([writer.open_reader() for _ in range(6)], serving=2)
        first = Snapshot(writer.data_version(), 0, None, {}, (), None)  # type: ignore[arg-type]
        assert readers.reserve(first.version)
        readers.install(first)
        begin, opened = snapshots._begin, []

        def begin_then_write(store):  # the second spare opens its transaction after a commit
            opened.append(version := begin(store))
            if len(opened) == 1:
                writer.delete_document(writer.documents()[-1].id)
            return version

        monkeypatch.setattr(snapshots, "_begin", begin_then_write)
        assert not readers.renew() and opened[0] != opened[1]
        with contextlib.ExitStack() as held:
            readings = [held.enter_context(readers.reading(wait=0.5)) for _ in range(2)]
            assert [reading.snapshot for reading in readings] == [first, first]
            assert max(reading.waited for reading in readings) < 0.1
        readers.close(wait=1)


def test_connections_opened_at_once_are_spread_over_the_workers(two_workers):
    """Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads connections over
    them. On one shared socket this held only by chance: the worker whose event loop woke first accepted
    every connection waiting, and in one of three load runs all eight clients went to one worker."""
    base, _ = two_workers
    for _ in range(3):
        clients = [httpx.Client(base_url=base, timeout=30) for _ in range(16)]
        try:
            with ThreadPoolExecutor(16) as pool:
                answers = list(pool.map(lambda client: client.get("/api/status"), clients))
        finally:
            for client in clients:
                client.close()
        assert {worker_of(answer) for answer in answers} == {0, 1}, [worker_of(answer) for answer in answers]
