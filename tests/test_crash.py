"""Crash safety: `policykb` processes killed with SIGKILL at random points while they ingest a folder,
replace every document of it with a new version, delete its documents, or embed.

After every kill the store is reopened (the restart) and checked: SQLite and FTS5 integrity, no row
without its document, every document present exactly as a clean run stores it (old or new version,
never a mix), the BM25 rows, the lexical index and the vector index holding exactly the store's units,
every cached vector whole. Then the interrupted command's work is finished and the result must equal
a clean run's. Rounds per operation: $POLICYKB_CRASH_ROUNDS (default 30); seeds are fixed.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPUS, ROOT, SEED
from index import Searcher, Store, ingest_paths
from index.dense import VectorIndex, embed_missing, missing_units
from index.encoders import load_encoder

ROUNDS = int(os.environ.get("POLICYKB_CRASH_ROUNDS", "30"))
POLICYKB = [sys.executable, "-m", "search_api.cli"]
REVISION = "本文件为第二版，修订内容见附件。"
REPORT = ROOT / "tests" / "artifacts" / "crash.json"
logger = logging.getLogger(__name__)


_FINGERPRINT_QUERIES = (
    "SELECT id, sha256, title FROM documents",
    "SELECT doc_id, ordinal, id, text, targets FROM clauses",
    "SELECT c.doc_id, t.clause_id, t.ordinal, t.text FROM tasks t JOIN clauses c ON c.id = t.clause_id",
    "SELECT c.doc_id, r.clause_id, r.task_ordinal, r.ordinal, r.canonical, r.role FROM responsibilities r "
    "JOIN clauses c ON c.id = r.clause_id",
    "SELECT doc_id, clause_id, task_ordinal, passage_hash FROM units",
    "SELECT doc_id, alias, canonical FROM aliases",
)


def fingerprints(store: Store) -> dict[str, tuple]:
    """Everything stored for each document, in a comparable form, by document id."""
    parts: dict[str, list[list[tuple]]] = {}
    for position, query in enumerate(_FINGERPRINT_QUERIES):
        for doc_id, *values in store._connection.execute(query):
            parts.setdefault(doc_id, [[] for _ in _FINGERPRINT_QUERIES])[position].append(tuple(values))
    return {doc_id: tuple(tuple(sorted(rows)) for rows in tables) for doc_id, tables in parts.items()}


def snapshot(home: Path) -> dict[str, tuple]:
    with Store.open(home) as store:
        found = fingerprints(store)
        assert set(found) == {document.id for document in store.documents()}, "rows of a document that is not stored"
        return found


def check_consistent(home: Path, allowed: dict[str, set[tuple]]) -> dict[str, tuple]:
    """The restart: open the store and every index, check they agree; returns the documents present."""
    with Store.open(home) as store:
        execute = store._connection.execute
        assert execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert execute("PRAGMA foreign_key_check").fetchall() == []
        execute("INSERT INTO units_fts (units_fts) VALUES ('integrity-check')")  # raises if FTS5 is damaged
        for orphan_query in ("SELECT count(*) FROM clauses WHERE doc_id NOT IN (SELECT id FROM documents)",
                             "SELECT count(*) FROM units WHERE doc_id NOT IN (SELECT id FROM documents)",
                             "SELECT count(*) FROM units u JOIN clauses c ON c.id = u.clause_id WHERE c.doc_id != u.doc_id",
                             "SELECT count(*) FROM aliases WHERE doc_id NOT IN (SELECT id FROM documents)",
                             "SELECT count(*) FROM units_fts WHERE rowid NOT IN (SELECT id FROM units)",
                             "SELECT count(*) FROM units WHERE id NOT IN (SELECT rowid FROM units_fts)"):
            assert execute(orphan_query).fetchone() == (0,), orphan_query
        present = fingerprints(store)
        assert set(present) == {document.id for document in store.documents()}
        for doc_id, stored in present.items():
            assert stored in allowed.get(doc_id, set()), f"{doc_id} is not stored as any clean run stores it"
        unit_ids = {row[0] for row in execute("SELECT id FROM units")}
        searcher = Searcher(store)  # opens (and if stale rebuilds) lexical.npz
        assert set(searcher.lexical.unit_ids.tolist()) == unit_ids
        encoder = load_encoder("e5")  # cached after the first call
        vectors = VectorIndex(store, encoder.name, encoder.dim)
        assert set(vectors.ids.tolist()) <= unit_ids
        assert np.allclose(np.linalg.norm(vectors.matrix, axis=1), 1, atol=1e-3) if len(vectors) else True
        lengths = execute("SELECT DISTINCT length(vector) FROM embeddings").fetchall()
        assert lengths in ([], [(encoder.dim * 4,)]), lengths
        return present


def run_killed(command: list[str], delay: float, after_lines: int = 0) -> bool:
    """Run `policykb …` and SIGKILL it `delay` seconds after start, or after it printed `after_lines`
    lines (then `delay` is a jitter). True when it was still running at the kill."""
    process = subprocess.Popen(POLICYKB + command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for _ in range(after_lines):
        if not process.stdout.readline():
            break
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True
    finally:
        process.stdout.close()


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(POLICYKB + command, cwd=ROOT, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - started


def revised_corpus(folder: Path) -> Path:
    """A copy of the bundled corpus in which every document has a new version (one more line)."""
    shutil.copytree(CORPUS, folder)
    for path in folder.rglob("*.txt"):
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + REVISION + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> dict:
    """Clean runs: the corpus, its revised version, and the start-up time of a `policykb` process."""
    work = tmp_path_factory.mktemp("crash")
    revised = revised_corpus(work / "revised")
    for name, folder in (("v1", CORPUS), ("v2", revised)):
        with Store.open(work / name) as store:
            results = ingest_paths(store, [folder])
            assert all(result.status == "added" for result in results)
    startup = timed(["--home", str(work / "empty"), "docs"])
    return {"work": work, "revised": revised, "v1": snapshot(work / "v1"), "v2": snapshot(work / "v2"),
            "startup": startup}


def rounds(name: str, references: dict, *, prepare, command, finish, versions: list[str], final: str | None,
           duration: float, progress, total: int, count: int = ROUNDS, by_lines: bool = False) -> None:
    """Kill `command` at random points of its run `count` times; check after each kill and after finishing.

    The kill comes at a random time between start-up and `duration`, or with `by_lines` after a random
    number (0 … `total`) of the lines the command prints per item, plus up to 5 ms. `progress(home)`
    counts the work done when the kill came (0 … `total`); the report keeps the counts."""
    randomness = random.Random(f"policykb-crash-{name}")
    outcomes = {"rounds": count, "killed_mid_run": 0, "finished_before_kill": 0, "progress_at_kill": []}
    allowed: dict[str, set[tuple]] = {}
    for version in versions:
        for doc_id, stored in references[version].items():
            allowed.setdefault(doc_id, set()).add(stored)
    for index in range(count):
        home = references["work"] / f"{name}-{index}"
        prepare(home)
        if by_lines:
            killed = run_killed(command(home), randomness.uniform(0, 0.005), randomness.randrange(total))
        else:
            killed = run_killed(command(home), randomness.uniform(0.8 * references["startup"], duration))
        outcomes["killed_mid_run" if killed else "finished_before_kill"] += 1
        check_consistent(home, allowed)
        outcomes["progress_at_kill"].append(progress(home))
        finish(home)
        assert snapshot(home) == (references[final] if final else {})
        check_consistent(home, allowed)
        shutil.rmtree(home)
    logger.info("%s: %s", name, outcomes)
    report = json.loads(REPORT.read_text(encoding="utf-8")) if REPORT.exists() else {}
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({**report, name: outcomes}, ensure_ascii=False, indent=1), encoding="utf-8")
    # The kills must land while there was work left, some of them in the middle of it, or this tests nothing.
    assert outcomes["killed_mid_run"] >= count // 2, outcomes
    assert any(0 < done < total for done in outcomes["progress_at_kill"]), outcomes


def documents_matching(reference: dict[str, tuple]):
    """Progress as the number of documents stored exactly as in `reference`."""
    return lambda home: sum(reference.get(doc_id) == stored for doc_id, stored in snapshot(home).items())


def copy_home(source: Path):
    return lambda home: shutil.copytree(source, home)


def test_kill_during_folder_ingest(references):
    duration = timed(["--home", str(references["work"] / "timing-ingest"), "ingest", str(CORPUS)])

    def finish(home: Path) -> None:
        with Store.open(home) as store:
            ingest_paths(store, [CORPUS])

    rounds("ingest", references, prepare=lambda home: home.mkdir(),
           command=lambda home: ["--home", str(home), "ingest", str(CORPUS)], finish=finish, versions=["v1"],
           final="v1", duration=duration, progress=documents_matching(references["v1"]), total=len(references["v1"]))


def test_kill_while_replacing_documents_with_new_versions(references):
    revised = references["revised"]
    shutil.copytree(references["work"] / "v1", references["work"] / "timing-replace")
    duration = timed(["--home", str(references["work"] / "timing-replace"), "ingest", str(revised)])

    def finish(home: Path) -> None:
        with Store.open(home) as store:
            results = ingest_paths(store, [revised])
            assert {result.status for result in results} <= {"replaced", "unchanged"}

    rounds("replace", references, prepare=copy_home(references["work"] / "v1"),
           command=lambda home: ["--home", str(home), "ingest", str(revised)], finish=finish, versions=["v1", "v2"],
           final="v2", duration=duration, progress=documents_matching(references["v2"]), total=len(references["v2"]))


def test_kill_while_deleting_documents(references):
    doc_ids = sorted(references["v1"])

    def finish(home: Path) -> None:
        with Store.open(home) as store:
            for document in store.documents():
                store.delete_document(document.id)

    rounds("delete", references, prepare=copy_home(references["work"] / "v1"),
           command=lambda home: ["--home", str(home), "delete", *doc_ids], finish=finish, versions=["v1"], final=None,
           duration=0, progress=lambda home: len(doc_ids) - len(snapshot(home)), total=len(doc_ids),
           by_lines=True)


def test_kill_while_embedding(references, tmp_path):
    """`policykb embed` commits a batch at a time: a kill loses at most the batch in flight, and the
    vectors finished afterwards are the ones a clean run gives (the shipped e5 cache)."""
    seed_home = tmp_path / "seed"
    with Store.open(seed_home) as store:
        ingest_paths(store, [SEED])
        units = store.counts()["units"]
    references["seed"] = snapshot(seed_home)
    encoder = load_encoder("e5")
    with np.load(ROOT / "eval" / "cache" / "e5-bundled.npz") as shipped:
        clean = dict(zip(shipped["hashes"].tolist(), shipped["vectors"].astype(np.float32)))

    def finish(home: Path) -> None:
        with Store.open(home) as store:
            embed_missing(store, encoder)
            assert missing_units(store, encoder.name) == []
            for passage_hash, vector in store._connection.execute("SELECT passage_hash, vector FROM embeddings"):
                assert float(np.frombuffer(vector, dtype=np.float32) @ clean[passage_hash]) > 0.99

    def vectors_done(home: Path) -> int:
        with Store.open(home) as store:
            return store.counts()["units"] - len(missing_units(store, encoder.name))

    # Each round embeds for real (≈ 8 units/s), so fewer rounds: the batch commit is the same each time.
    rounds("embed", references, prepare=copy_home(seed_home),
           command=lambda home: ["--home", str(home), "embed", "--encoder", "e5", "--batch", "4"], finish=finish,
           versions=["seed"], final="seed", duration=references["startup"] + units / 8, progress=vectors_done,
           total=units, count=max(3, ROUNDS // 5))
