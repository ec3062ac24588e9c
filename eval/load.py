"""Latency over HTTP: a load generator for a running policykb service on loopback, bounded in time.

`drive(base_url, queries, clients=N, seconds=S)` runs N client threads, each with one keep-alive
connection (the standard library's http.client, so the generator costs little next to the server),
sending `GET /api/search` for the policy questions in turn until S seconds have passed. It reports
the requests served, errors, throughput and latency percentiles as the clients saw them, how long the
requests waited for a reader connection inside the server (its `Server-Timing: wait` header) and
which worker process answered them (`worker;desc=N`).

`write_stream(base_url, token, stop)` is a writer for the same service: until `stop` is set it uploads
small plans through the API, alternately a new one and a new version of one plan (`replace=`), so a
`drive` meanwhile measures searches during writes.
"""

from __future__ import annotations

import http.client
import re
import secrets
import threading
import time
from collections import Counter
from urllib.parse import quote, urlencode, urlsplit

from .bench import percentiles

REPLACED_TITLE = "关于推进负载测试写入工作的实施方案"  # the plan the writer replaces again and again
_WAIT = re.compile(r"(?:^|,)\s*wait;dur=([0-9.]+)")
_WORKER = re.compile(r"worker;desc=(\d+)")
_PAUSE_SECONDS = 0.2  # between two writes


def drive(base_url: str, queries: list[str], *, clients: int, seconds: float, mode: str = "hybrid") -> dict:
    address = urlsplit(base_url)
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    waits: list[float] = []
    workers: Counter[str] = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        mine, waited, answered_by, failed, sent = [], [], Counter(), [], 0
        try:
            while time.monotonic() < deadline:
                query = queries[(number * 7 + sent) % len(queries)]
                sent += 1
                started = time.perf_counter()
                connection.request("GET", "/api/search?" + urlencode({"q": query, "k": 10, "mode": mode}))
                response = connection.getresponse()
                response.read()
                mine.append(time.perf_counter() - started)
                timing = response.getheader("server-timing") or ""
                if found := _WAIT.search(timing):
                    waited.append(float(found[1]) / 1000)
                worker = _WORKER.search(timing)
                answered_by[worker[1] if worker else "?"] += 1
                if response.status != 200:
                    failed.append(f"{response.status} for {query}")
        except (OSError, http.client.HTTPException) as error:
            failed.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)
                waits.extend(waited)
                workers.update(answered_by)
                errors.extend(failed)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(number,), daemon=True) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    wall = time.monotonic() - started
    return {"clients": clients, "mode": mode, "seconds": round(wall, 1), "requests": len(latencies),
            "errors": len(errors), "first_errors": errors[:3],
            "throughput_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
            "latency": percentiles(latencies) if latencies else None,
            "waited_for_reader": with_max(waits), "by_worker": dict(sorted(workers.items()))}


def write_stream(base_url: str, token: str, stop: threading.Event, started: threading.Event | None = None) -> dict:
    """Upload small plans until `stop` is set: a new plan, then a new version of `REPLACED_TITLE`, in
    turn, `_PAUSE_SECONDS` apart, after one plan that is not counted (the server starts its upload worker
    then); `started` is set after it. Returns the writes, errors and each write's latency percentiles."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
    latencies: list[float] = []
    errors: list[str] = []
    number = 0
    try:
        _upload(connection, token, "warm-up.txt", f"{REPLACED_TITLE}\n一、重点任务\n（一）预热。（市民政局负责）\n".encode(),
                REPLACED_TITLE)
        if started is not None:
            started.set()
        while not stop.is_set():
            replacing = number % 2 == 1
            title = REPLACED_TITLE if replacing else f"关于推进第{number}批负载测试试点的实施方案"
            text = (f"{title}\n一、重点任务\n（一）开展第{number}批负载测试试点，建立写入台账。（市民政局牵头，市财政局配合）\n"
                    f"（二）第{number}版总结试点经验。（市发展改革委负责）\n")
            started = time.perf_counter()
            status, body = _upload(connection, token, f"load-{number}.txt", text.encode(),
                                   REPLACED_TITLE if replacing else None)
            latencies.append(time.perf_counter() - started)
            if status != 201:
                errors.append(f"{status}: {body[:200]}")
            number += 1
            stop.wait(_PAUSE_SECONDS)
    except (OSError, http.client.HTTPException) as error:
        errors.append(f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    return {"writes": len(latencies), "errors": len(errors), "first_errors": errors[:3],
            "latency": percentiles(latencies) if latencies else None}


def drive_during_writes(base_url: str, queries: list[str], token: str, *, clients: int, seconds: float,
                        mode: str = "hybrid") -> dict:
    """`drive` while `write_stream` writes; the writer's report under "writes"."""
    stop, writing, report = threading.Event(), threading.Event(), {}
    writer = threading.Thread(target=lambda: report.update(write_stream(base_url, token, stop, writing)), daemon=True)
    writer.start()
    try:
        writing.wait(timeout=300)
        result = drive(base_url, queries, clients=clients, seconds=seconds, mode=mode)
    finally:
        stop.set()
        writer.join(timeout=180)
    return {**result, "writes": report}


def worker_of(timing: str) -> int:
    """The worker process named in a Server-Timing header (0 when it names none)."""
    return int(found[1]) if (found := _WORKER.search(timing)) else 0


def with_max(samples: list[float]) -> dict | None:
    """Percentiles (ms) and the largest sample."""
    if not samples:
        return None
    return {**percentiles(samples), "max_ms": round(max(samples) * 1000, 2)}


def _upload(connection: http.client.HTTPConnection, token: str, name: str, data: bytes,
            replace: str | None) -> tuple[int, str]:
    boundary = secrets.token_hex(16)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    path = "/api/documents" + (f"?replace={quote(replace)}" if replace else "")
    connection.request("POST", path, body=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = connection.getresponse()
    return response.status, response.read().decode("utf-8", "replace")
