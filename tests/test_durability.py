"""Durability of the derived index files: a truncated, corrupted or missing file is detected when the
index is opened (at service start-up) and rebuilt from the store, with a log line saying so."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import PLANS, SEED, build_home
from index import Store, ingest_paths
from index.dense import VectorIndex
from index.graph import graph_files
from index.encoders import load_encoder
from index.lexical import FILE_NAME, LexicalIndex, lexical_files, terms
from index.store import STORE_FILE
from search_api import Settings, create_app


def truncate_half(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(255 - byte for byte in data[middle:middle + 64])
    path.write_bytes(bytes(data))


def garbage(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def drop_tail(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-1])


CORRUPTIONS = {"truncated": truncate_half, "empty": empty, "bit-flipped": flip_middle, "garbage": garbage,
               "last byte missing": drop_tail}


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return build_home(tmp_path_factory.mktemp("durable"), [SEED])


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_damaged_lexical_index_is_rebuilt_with_a_log_line(home, corruption, caplog):
    with Store.open(home) as store:
        before = LexicalIndex.open(store)
        expected = before.search(["污泥"], 20)
        CORRUPTIONS[corruption](home / FILE_NAME)
        with caplog.at_level(logging.WARNING, logger="index.lexical"):
            rebuilt = LexicalIndex.open(store)
        assert any(f"rebuilding {FILE_NAME}" in record.getMessage() for record in caplog.records), caplog.text
        assert rebuilt.search(["污泥"], 20) == expected and expected
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="index.lexical"):
            LexicalIndex.open(store)  # the rebuilt file is whole: read without a rebuild
        assert not caplog.records, caplog.text


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_damaged_lexical_array_is_rebuilt_with_a_log_line(home, corruption, caplog):
    """The arrays are memory-mapped .npy files: their checksums in the manifest find what the zip's CRC found."""
    with Store.open(home) as store:
        expected = LexicalIndex.open(store).search(["污泥"], 20)
        units = next(path for path in lexical_files(home) if path.name.endswith(".units.npy"))
        CORRUPTIONS[corruption](units)
        with caplog.at_level(logging.WARNING, logger="index.lexical"):
            rebuilt = LexicalIndex.open(store)
        assert any(f"rebuilding {FILE_NAME}" in record.getMessage() for record in caplog.records), caplog.text
        assert rebuilt.search(["污泥"], 20) == expected and expected


@pytest.mark.parametrize("corruption", [*sorted(CORRUPTIONS), "manifest missing"])
def test_a_damaged_vector_graph_is_rebuilt_with_a_log_line(home, corruption, caplog):
    encoder = load_encoder("e5")
    with Store.open(home) as store:
        before = VectorIndex(store, encoder.name, encoder.dim, exact_limit=0)  # HNSW, saved beside the store
        assert before.kind == "hnsw"
        query = encoder.encode_queries(["污泥处置"])[0]
        expected = before.search(query, 10)
        graph, _, manifest = graph_files(home, encoder.name)
        if corruption == "manifest missing":
            manifest.unlink()
        else:
            CORRUPTIONS[corruption](graph)
        with caplog.at_level(logging.INFO, logger="index"):
            rebuilt = VectorIndex(store, encoder.name, encoder.dim, exact_limit=0)
        assert any("building HNSW index" in record.getMessage() for record in caplog.records), caplog.text
        if corruption != "manifest missing":
            assert any(f"rebuilding {graph.name}" in record.getMessage() for record in caplog.records), caplog.text
        assert [unit for unit, _ in rebuilt.search(query, 10)] == [unit for unit, _ in expected]
        assert np.allclose([score for _, score in rebuilt.search(query, 10)], [score for _, score in expected], atol=1e-5)


def test_the_service_checks_its_index_files_at_start_up(tmp_path, caplog):
    home = build_home(tmp_path / "home", [SEED])
    with TestClient(create_app(Settings(home=home, embed_in_background=False)), base_url="http://127.0.0.1") as client:
        top = client.get("/api/search", params={"q": "污泥处置", "mode": "bm25"}).json()["results"][0]["clause_id"]
    flip_middle(home / FILE_NAME)
    with caplog.at_level(logging.WARNING, logger="index.lexical"):
        with TestClient(create_app(Settings(home=home, embed_in_background=False)), base_url="http://127.0.0.1") as client:
            assert any(f"rebuilding {FILE_NAME}" in record.getMessage() for record in caplog.records), \
                "the damaged file must be found at start-up, before any request"
            answer = client.get("/api/search", params={"q": "污泥处置", "mode": "bm25"})
    assert answer.status_code == 200 and answer.json()["results"][0]["clause_id"] == top


def back_up(home: Path, target: Path) -> None:
    """A consistent copy of the store file (SQLite's backup API), as an operator's backup job makes it."""
    with sqlite3.connect(home / STORE_FILE) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    copy.close()
    source.close()


def restore(backup: Path, home: Path) -> None:
    """Put the older copy back in place of the store, leaving the index files beside it as they are."""
    for suffix in ("-wal", "-shm"):
        (home / f"{STORE_FILE}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, home / STORE_FILE)


def test_index_files_newer_than_a_restored_store_are_not_taken_as_current(tmp_path, caplog):
    """Defect 12: the store restored from a backup hands the same unit ids out again, to other units (here
    the two plans ingested in the other order, up to the same data version), beside index files saved
    after the backup. The BM25 arrays and the HNSW graph must answer as freshly built ones do."""
    home, encoder = build_home(tmp_path / "home", [SEED]), load_encoder("e5")
    back_up(home, tmp_path / "backup.sqlite3")
    with Store.open(home) as store:
        ingest_paths(store, PLANS)
        LexicalIndex.open(store)  # the plans' units are more than a tenth: rebuilt and saved with them
        VectorIndex(store, encoder.name, encoder.dim, exact_limit=0)
    restore(tmp_path / "backup.sqlite3", home)
    with Store.open(home) as store:
        ingest_paths(store, PLANS[::-1])
        query, words = encoder.encode_queries(["协同推进减污降碳"])[0], terms("减污 降碳 协同 增效 固体 废物")
        with caplog.at_level(logging.WARNING):
            lexical = LexicalIndex.open(store)
            graph = VectorIndex(store, encoder.name, encoder.dim, exact_limit=0)
        assert lexical.search(words, 30) == LexicalIndex.build(store).search(words, 30)
        exact = VectorIndex(store, encoder.name, encoder.dim)
        assert [unit for unit, _ in graph.search(query, 10)] == [unit for unit, _ in exact.search(query, 10)]
        assert sum("restored from a backup" in record.getMessage() for record in caplog.records) == 2, caplog.text
