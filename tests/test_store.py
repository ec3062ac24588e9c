"""The SQLite store: round trip, no-op re-ingest, replacement in one transaction, CLI JSON contract."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import sqlite3

import pytest

from conftest import CORPUS, SEED
from index import Store, ingest_paths
from ingest import ingest_file
from ingest.errors import NotFound, StoreError
from search_api.cli import main


@pytest.fixture()
def store(tmp_path):
    with Store.open(tmp_path / "home") as opened:
        yield opened


def test_round_trip_gives_back_the_parsed_document(store, seed):
    assert store.put_document(seed) == "added"
    stored = store.document(seed.id)
    assert stored.clauses == seed.clauses
    assert dataclasses.replace(stored, clauses=(), aliases=()) == dataclasses.replace(seed, clauses=(), aliases=())
    assert dict(stored.aliases) == dict(seed.aliases)


def test_reingesting_the_same_file_is_a_no_op(store, tmp_path):
    first = ingest_paths(store, [SEED])
    again = ingest_paths(store, [SEED])
    assert [r.status for r in first] == ["added"] and [r.status for r in again] == ["unchanged"]
    assert store.counts()["documents"] == 1


def test_a_changed_file_replaces_the_old_version_and_keeps_unchanged_ids(store, tmp_path, seed):
    ingest_paths(store, [SEED])
    changed = tmp_path / SEED.name
    text = SEED.read_text(encoding="utf-8")
    changed.write_text(text.replace("提高工業用水效率", "大力提高工業用水效率").rsplit("\n(二十六)", 1)[0] + "\n",
                       encoding="utf-8")
    (result,) = ingest_paths(store, [changed])
    assert result.status == "replaced" and result.doc_id == seed.id
    stored = store.document(seed.id)
    assert store.counts()["documents"] == 1
    assert [c.id for c in stored.clauses] == [c.id for c in seed.clauses if c.number != "(二十六)"]
    twelfth = next(c for c in stored.clauses if c.id.endswith(".s4.p12"))
    assert "大力提高工業用水效率" in twelfth.text


def test_a_failed_write_leaves_the_previous_version_whole(store, seed):
    store.put_document(seed)
    before = store.counts()
    duplicate = dataclasses.replace(seed, sha256="0" * 64, clauses=seed.clauses + seed.clauses[-1:])
    with pytest.raises(sqlite3.IntegrityError):
        store.put_document(duplicate)
    assert store.counts() == before
    assert store.document(seed.id).clauses == seed.clauses


def test_delete_and_not_found(store, seed):
    store.put_document(seed)
    store.delete_document(seed.id)
    assert store.counts() == {"documents": 0, "clauses": 0, "tasks": 0, "responsibilities": 0, "units": 0, "units_fts": 0}
    with pytest.raises(NotFound, match="policykb docs"):
        store.document(seed.id)


def test_a_foreign_file_is_not_opened_as_a_store(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "policykb.sqlite3").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="--home"):
        Store.open(tmp_path / "home")


def test_show_json_follows_the_contract(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["--home", home, "ingest", str(SEED)]) == 0
    capsys.readouterr()
    assert main(["--home", home, "show", "武汉市减污降碳协同增效实施方案", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown) == {"document", "clauses"}
    clause = next(c for c in shown["clauses"] if c["number"] == "(十二)")
    assert set(clause) == {"id", "number", "heading_path", "title", "text", "tasks", "departments", "tags",
                           "targets", "citations"}
    assert set(clause["tasks"][0]) == {"text", "departments"}
    assert clause["tasks"][0]["departments"][0] == {"name": "市生態環境局", "canonical": "武汉市生态环境局",
                                                    "role": "lead"}
    assert clause["departments"][-1]["role"] == "inherited"
    assert main(["--home", home, "show", "no-such-doc"]) == 2
    assert "policykb docs" in capsys.readouterr().err


def test_docs_lists_documents(tmp_path, capsys):
    home = str(tmp_path / "home")
    main(["--home", home, "docs"])
    assert "还没有导入文件" in capsys.readouterr().out
    main(["--home", home, "ingest", str(SEED)])
    capsys.readouterr()
    assert main(["--home", home, "docs", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["id"] == "武汉市减污降碳协同增效实施方案" and listed["level"] == "municipal"


def test_bundled_corpus_ingests_and_its_manifest_matches(tmp_path):
    for manifest in CORPUS.glob("*/MANIFEST.tsv"):
        for row in csv.DictReader(manifest.read_text(encoding="utf-8").splitlines(), delimiter="\t"):
            data = (manifest.parent / row["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == row["sha256"], row["file"]
    with Store.open(tmp_path / "home") as store:
        results = ingest_paths(store, [CORPUS])
        assert {r.status for r in results} == {"added"} and len(results) == 61
        national = store.document("环综合-2022-42")
        assert national.level == "national" and national.date == "2022-06-10"
        assert ingest_file(CORPUS / "seed" / SEED.name).id in {d.id for d in store.documents()}


def test_an_older_version_does_not_replace_a_newer_one(store, seed):
    newer = dataclasses.replace(seed, sha256="1" * 64, date="2024-01-01")
    assert store.put_document(newer) == "added"
    assert store.put_document(seed) == "older"
    assert store.document(seed.id).date == "2024-01-01"
    assert store.put_document(dataclasses.replace(seed, sha256="2" * 64, date="2025-01-01")) == "replaced"
