"""Latency over HTTP: a load generator for a running policykb service on loopback, bounded in time.

`drive(base_url, queries, clients=N, seconds=S)` runs N client threads, each with one keep-alive
connection (the standard library's http.client, so the generator costs little next to the server),
sending `GET /api/search` for the policy questions in turn until S seconds have passed. It reports
the requests served, errors, throughput and latency percentiles as the clients saw them.
"""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlencode, urlsplit

from .bench import percentiles


def drive(base_url: str, queries: list[str], *, clients: int, seconds: float, mode: str = "hybrid") -> dict:
    address = urlsplit(base_url)
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        mine, failed, sent = [], [], 0
        try:
            while time.monotonic() < deadline:
                query = queries[(number * 7 + sent) % len(queries)]
                sent += 1
                started = time.perf_counter()
                connection.request("GET", "/api/search?" + urlencode({"q": query, "k": 10, "mode": mode}))
                response = connection.getresponse()
                response.read()
                mine.append(time.perf_counter() - started)
                if response.status != 200:
                    failed.append(f"{response.status} for {query}")
        except (OSError, http.client.HTTPException) as error:
            failed.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)
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
            "latency": percentiles(latencies) if latencies else None}
