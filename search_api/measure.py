"""Latency of the service over HTTP: serve a store from a real `policykb serve` process (one or several
workers) and drive it with eval.load's generator on loopback, beside the same work done in-process
(`policykb load`, `policykb bench --http-seconds`). With `writes`, the store is copied to a temporary
folder first and searched once more while a writer uploads small plans through the API."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Callable

from index import Searcher, Store
from index.dense import has_vectors
from index.encoders import load_encoder
from index.search import SearchFilters
from ingest.errors import StoreError

from .views import search_view


def http_load(store: Store, encoder_spec: str, mode: str, clients: int, seconds: float,
              announce: Callable[[str], None] = lambda text: None, *, workers: int = 1, writes: bool = False) -> dict:
    """Serve this store from `policykb serve --workers N` and drive it over loopback (eval.load): one
    client for half the time, then `clients` at once, then (with `writes`, on a copy of the store) as
    many while a writer adds and replaces plans; beside the same searches in-process.
    `announce` gets a line for the user when the server is up."""
    from eval.bench import machine_description, percentiles
    from eval.load import drive, drive_during_writes
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
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="policykb-load-") as scratch:
        home = copy_home(store, Path(scratch) / "home") if writes else store.path.parent
        environment = {**os.environ, "POLICYKB_ENCODER": encoder_spec, "POLICYKB_EMBED_IN_BACKGROUND": "false",
                       "POLICYKB_WORKERS": str(workers), "POLICYKB_TOKEN": token if writes else ""}
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "search_api.cli", "--home", str(home), "serve",
                                   "--port", str(port)], env=environment, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base, server, workers)
            wait_until_idle([server.pid, *_children(server.pid)])  # start-up work (cross-checks) done
            announce(f"服务已启动（{base}，{workers} 个进程），压测 {seconds:g} 秒……")
            one = drive(base, queries, clients=1, seconds=seconds / 2, mode=mode)
            many = drive(base, queries, clients=clients, seconds=seconds, mode=mode)
            during = drive_during_writes(base, queries, token, clients=clients, seconds=seconds, mode=mode) \
                if writes else None
            memory = worker_memory(server.pid, workers)
        finally:
            server.terminate()
            server.wait(timeout=120)
    reference = percentiles(route_work)
    result = {"machine": machine_description(), "units": store.counts()["units"], "encoder": encoder.name,
              "mode": mode, "workers": workers, "in_process_search_with_encoder": percentiles(in_process),
              "in_process_route_work": reference, "http_one_client": one, "http_concurrent": many,
              "http_concurrent_over_one_client_throughput": round(many["throughput_per_s"] / one["throughput_per_s"], 2)
              if one["throughput_per_s"] else None,
              "http_one_client_p50_over_route_work_p50": round(one["latency"]["p50_ms"] / reference["p50_ms"], 2)
              if one["latency"] else None, "memory_per_worker_mib": memory}
    if during is not None:
        result["http_concurrent_during_writes"] = during
    return result


def copy_home(store: Store, destination: Path) -> Path:
    """A copy of the store (SQLite's online backup) and its derived index files, for measuring writes."""
    destination.mkdir(parents=True)
    store.back_up(destination / store.path.name)
    for path in store.path.parent.iterdir():
        if path.is_file() and not path.name.startswith(store.path.name) and path.name != "serve.log":
            shutil.copy2(path, destination / path.name)
    return destination


def wait_until_serving(base: str, server: subprocess.Popen, workers: int = 1, seconds: float = 900) -> None:
    """Until /api/status answers from every worker (opening a large store's indexes takes a while;
    each new connection goes to one worker), or fail."""
    from eval.load import worker_of

    deadline, answered = time.monotonic() + seconds, set()
    while len(answered) < workers:
        try:
            with urllib.request.urlopen(f"{base}/api/status", timeout=5) as response:
                answered.add(worker_of(response.headers.get("server-timing", "")))
                continue
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise StoreError(f"policykb serve 没有启动（退出码 {server.poll()}）；请先单独运行 policykb serve 查看错误")
        time.sleep(0.5)


def wait_until_idle(processes: list[int], share: float = 0.05, seconds: float = 600) -> None:
    """Until `processes` use less than `share` of one core over a second (or `seconds` have passed)."""
    ticks, deadline = os.sysconf("SC_CLK_TCK"), time.monotonic() + seconds
    before = _cpu_ticks(processes)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _cpu_ticks(processes)
        if (now - before) / ticks < share:
            return
        before = now


def _cpu_ticks(processes: list[int]) -> int:
    total = 0
    for pid in processes:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def worker_memory(server: int, workers: int) -> list[dict[str, float]]:
    """Resident and proportional set size (MiB, Linux /proc) of each worker process of the server:
    the server itself when it is one process; its «spawn» children otherwise. Pages of memory-mapped
    index files count in every worker's RSS but are shared: PSS splits them between the workers."""
    processes = [server] if workers == 1 else [pid for pid in _children(server) if b"spawn_main" in _command(pid)]
    return [_memory(pid) for pid in processes]


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return sorted(found)


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _memory(pid: int) -> dict[str, float]:
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) / 1024  # kB
    except (OSError, ValueError):
        return {}
    return {"rss_mib": round(fields.get("Rss", 0), 1), "pss_mib": round(fields.get("Pss", 0), 1),
            "anonymous_mib": round(fields.get("Anonymous", 0), 1)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_bench(store: Store, arguments: argparse.Namespace) -> int:
    """`policykb bench`: the scale corpus, and with --http-seconds the same store over HTTP."""
    from eval.bench import run_bench as bench
    from eval.run import RESULTS

    if arguments.work.exists() and (arguments.work / "home").exists():
        shutil.rmtree(arguments.work / "home")
    out = arguments.out or RESULTS
    result = bench(store, arguments.work, load_encoder(arguments.encoder), arguments.units, out)
    if arguments.http_seconds > 0:  # the same store over HTTP: a real server and the load generator
        with Store.open(arguments.work / "home") as scaled:
            result["http"] = http_load(scaled, arguments.encoder, "hybrid", 8, arguments.http_seconds, _announce,
                                       workers=arguments.workers)
        (out / f"bench-{arguments.units // 1000}k.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def run_load(store: Store, arguments: argparse.Namespace) -> int:
    """`policykb load`: this store served and driven over loopback; exit 1 when a request failed."""
    from eval.run import RESULTS

    result = http_load(store, arguments.encoder, arguments.mode, arguments.clients, arguments.seconds, _announce,
                       workers=arguments.workers, writes=arguments.writes)
    out = arguments.out or RESULTS
    out.mkdir(parents=True, exist_ok=True)
    name = f"http-{result['units']}" + (f"-{arguments.workers}w" if arguments.workers > 1 else "")
    (out / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    phases = ("http_one_client", "http_concurrent", "http_concurrent_during_writes")
    return 1 if any(result[phase]["errors"] for phase in phases if phase in result) else 0


def _announce(text: str) -> None:
    print(text, file=sys.stderr)
