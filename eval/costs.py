"""`python -m eval.costs`: what issue 12's bounds buy, measured against a real `policykb serve` on loopback.

    attack   a normal search's p50 alone, then while 4 clients — each from its own loopback address —
             send 500-character queries, in the same run (target: at most 3× the p50 alone)
    export   GET tasks.xlsx of a 10,000-task plan (target: at most 3 s)
    upload   the longest any read waits while a 20 MB plan is uploaded (target: at most 100 ms): one
             client alternates a search (tens of ms of work) and a clause read (a few ms), so a wait
             shows on the clause reads undiluted

The plans are built from the bundled corpus' real sentences and responsibility markers, as
eval/bench.py builds its scale corpora. Results go to eval/results/costs.json. On a shared machine
compare within one run: the alone/attacked p50 come from the same run, minutes apart.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, urlencode

from index import Store, ingest_paths
from index.dense import import_vectors
from index.encoders import load_encoder

from .bench import machine_description, material, numeral, percentiles
from .policy import load_questions
from .run import RESULTS

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "costs-measurement"
ATTACKERS = 4
CHEAP_READ = "/api/clauses/" + quote("武汉市减污降碳协同增效实施方案.s4.p12")  # a clause page: a few ms of work
EXPORT_TITLE, UPLOAD_TITLE = "关于任务分工导出测试的实施方案", "关于大文件上传测试的实施方案"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per latency phase (default 20)")
    parser.add_argument("--upload-mb", type=float, default=20.0, help="size of the uploaded plan (default 20)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="policykb-costs-") as scratch:
        result = measure(arguments.work or Path(scratch), arguments.seconds, arguments.upload_mb)
    arguments.out.mkdir(parents=True, exist_ok=True)
    (arguments.out / "costs.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def measure(work: Path, seconds: float, upload_mb: float) -> dict:
    home = work / "home"
    with Store.open(home) as store:
        ingest_paths(store, [ROOT / "corpus"])
        import_vectors(store, ROOT / "eval" / "cache" / "e5-bundled.npz", load_encoder("e5").name)
        sentences, markers = material(store)
    export_plan = work / "export.txt"
    export_plan.write_text(plan(EXPORT_TITLE, sentences, markers, tasks=10_000), encoding="utf-8")
    with Store.open(home) as store:
        ingest_paths(store, [export_plan])
        tasks = store.task_count(EXPORT_TITLE)
    upload = plan_of_size(UPLOAD_TITLE, sentences, markers, int(upload_mb * 2**20)).encode("utf-8")
    result = {"machine": machine_description(), "note": "2 shared cores: other work ran beside this one"}
    with serving(home, POLICYKB_TOKEN=TOKEN, POLICYKB_EMBED_IN_BACKGROUND="false",
                 POLICYKB_MAX_UPLOAD_MB=str(upload_mb + 5)) as port:
        warm_up(port)
        result["attack"] = attack(port, seconds)
        result["export"] = {"tasks": tasks, **export(port)}
        result["upload"] = upload_while_reading(port, upload, seconds)
    return result


def plan(title: str, sentences: list[str], markers: list[str], tasks: int, seed: int = 12) -> str:
    """A plan of `tasks` items: sections 一、 of 99 measures （一）, each measure's items 1. 2. … a real
    sentence and a real marker each."""
    rng, lines = random.Random(seed), [title, "为推进相关工作，制定本方案。"]
    per_measure = max(1, -(-tasks // (99 * 99)))
    for number in range(-(-tasks // per_measure)):
        section, measure = divmod(number, 99)
        if measure == 0:
            lines.append(f"{numeral(section + 1)}、第{section + 1}部分重点任务")
        lines.append(f"（{numeral(measure + 1)}）第{number + 1}项措施")
        lines += [f"{item}. {rng.choice(sentences)}{rng.choice(markers)}" for item in range(1, per_measure + 1)]
    return "\n".join(lines) + "\n"


def plan_of_size(title: str, sentences: list[str], markers: list[str], size: int) -> str:
    """A plan as `plan` builds it, of about `size` bytes (UTF-8)."""
    tasks, text = 2000, ""
    for _ in range(3):  # the bytes per task change a little with the numbering: converge on the size
        text = plan(title, sentences, markers, tasks)
        tasks = int(tasks * size / len(text.encode("utf-8")))
    return text


@contextlib.contextmanager
def serving(home: Path, **environment: str) -> Iterator[int]:
    """A `policykb serve` process on a free loopback port; yields the port once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (home / "serve.log").open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "search_api.cli", "--home", str(home), "serve", "--port",
                                   str(port)], env={**os.environ, **environment}, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 600
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5).read()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"policykb serve did not start: see {home / 'serve.log'}") from None
                    time.sleep(0.5)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=60)


def warm_up(port: int) -> None:
    """Wait for the start-up cross-checks (the three 减污降碳 plans), then a few searches."""
    for doc_id in ("武汉市减污降碳协同增效实施方案", "环综合-2022-42", "鄂环发-2022-33"):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/documents/{quote(doc_id)}", timeout=600).read()
    searches(port, 3.0)


def searches(port: int, seconds: float, stop: threading.Event | None = None, source: str = "127.0.0.1",
             queries: list[str] | None = None,
             cheap: list[tuple[float, float]] | None = None) -> tuple[list[tuple[float, float]], dict[int, int]]:
    """One client sending queries in turn for `seconds` (or until `stop`): (start time, latency) of each
    request and the count of each status. With `cheap`, a clause read follows each search, its
    (start time, latency) appended there."""
    queries = queries or [question.query for question in load_questions()]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(source, 0))
    samples, statuses, sent, deadline = [], {}, 0, time.monotonic() + seconds
    paths = ["/api/search?" + urlencode({"q": query, "k": 10}) for query in queries]
    try:
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            for path, into in ((paths[sent % len(paths)], samples), *(((CHEAP_READ, cheap),) if cheap is not None else ())):
                started = time.perf_counter()
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                into.append((started, time.perf_counter() - started))
                statuses[response.status] = statuses.get(response.status, 0) + 1
            sent += 1
    finally:
        connection.close()
    return samples, statuses


def attack(port: int, seconds: float) -> dict:
    """The normal client's latency alone, then beside ATTACKERS clients sending 500-character queries."""
    corpus = "".join((ROOT / "corpus" / "seed" / "武汉市减污降碳协同增效实施方案.txt").read_text(encoding="utf-8").split())
    long_queries = [corpus[start:start + 500] for start in range(0, len(corpus) - 500, 337)]
    alone, _ = searches(port, seconds)
    stop, attackers = threading.Event(), []
    outcomes: list[dict[int, int]] = []

    def attacker(number: int) -> None:
        outcomes.append(searches(port, seconds * 3, stop, f"127.0.0.{number + 2}", long_queries[number::ATTACKERS])[1])

    for number in range(ATTACKERS):
        attackers.append(threading.Thread(target=attacker, args=(number,), daemon=True))
        attackers[-1].start()
    time.sleep(2.0)  # the attack under way
    attacked, _ = searches(port, seconds)
    stop.set()
    for thread in attackers:
        thread.join(timeout=300)
    statuses: dict[str, int] = {}
    for outcome in outcomes:
        for status, count in outcome.items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    p50_alone = percentiles([latency for _, latency in alone])["p50_ms"]
    p50_attacked = percentiles([latency for _, latency in attacked])["p50_ms"]
    return {"normal_alone": percentiles([latency for _, latency in alone]), "requests_alone": len(alone),
            "normal_under_attack": percentiles([latency for _, latency in attacked]), "requests_under_attack": len(attacked),
            "attackers": ATTACKERS, "attack_query_chars": 500, "attacker_answers_by_status": statuses,
            "p50_ratio": round(p50_attacked / p50_alone, 2), "target_ratio": 3.0}


def export(port: int, rounds: int = 3) -> dict:
    """Seconds for GET tasks.xlsx of the 10,000-task plan, `rounds` times."""
    times, size = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/documents/{quote(EXPORT_TITLE)}/tasks.xlsx",
                                    timeout=600) as response:
            size = len(response.read())
        times.append(round(time.perf_counter() - started, 2))
    return {"xlsx_seconds": times, "xlsx_bytes": size, "target_seconds": 3.0}


def upload_while_reading(port: int, body: bytes, seconds: float) -> dict:
    """Reads (searches, each followed by a clause read) from one client before and while `body` is
    uploaded: the longest reads during the upload, against the same client's reads before it."""
    cheap_before: list[tuple[float, float]] = []
    cheap_during: list[tuple[float, float]] = []
    before, _ = searches(port, seconds / 2, cheap=cheap_before)
    stop, during = threading.Event(), []
    reader = threading.Thread(target=lambda: during.extend(searches(port, 3600, stop, cheap=cheap_during)[0]),
                              daemon=True)
    reader.start()
    time.sleep(1.0)
    boundary = "policykb-costs"
    form = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    started = time.perf_counter()
    connection.request("POST", "/api/documents", body=form, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    finished = time.perf_counter()
    connection.close()
    time.sleep(1.0)
    stop.set()
    reader.join(timeout=300)
    inside = [(start, latency) for start, latency in during if started <= start <= finished]
    worst = sorted(inside, key=lambda sample: -sample[1])[:5]
    cheap_inside = [(start, latency) for start, latency in cheap_during if started <= start <= finished]
    cheap_worst = sorted(cheap_inside, key=lambda sample: -sample[1])[:5]
    return {"upload_mb": round(len(body) / 2**20, 1), "upload_status": response.status, "answer": answer,
            "upload_seconds": round(finished - started, 1), "reads_before": percentiles([t for _, t in before]),
            "longest_read_before_ms": round(max(t for _, t in before) * 1000, 1),
            "reads_during_upload": len(inside),
            "read_latency_during_upload": percentiles([t for _, t in inside]) if inside else None,
            "longest_read_during_upload_ms": round(worst[0][1] * 1000, 1) if worst else None,
            "longest_reads_during_upload": [{"seconds_after_upload_start": round(start - started, 1),
                                             "ms": round(latency * 1000, 1)} for start, latency in worst],
            "clause_reads_before": percentiles([t for _, t in cheap_before]),
            "longest_clause_read_before_ms": round(max(t for _, t in cheap_before) * 1000, 1),
            "clause_reads_during_upload": len(cheap_inside),
            "clause_read_latency_during_upload": percentiles([t for _, t in cheap_inside]) if cheap_inside else None,
            "longest_clause_reads_during_upload": [{"seconds_after_upload_start": round(start - started, 1),
                                                    "ms": round(latency * 1000, 1)} for start, latency in cheap_worst],
            "target_ms": 100}


if __name__ == "__main__":
    sys.exit(main())
