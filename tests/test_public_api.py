"""Each package's public surface is small and pinned; ingest imports nothing else of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import index
import ingest
import search_api

ROOT = Path(__file__).resolve().parent.parent


def test_public_names_are_pinned():
    assert sorted(ingest.__all__) == ["Citation", "Clause", "Document", "InputError", "Level", "ParseError",
                                      "PolicyKBError", "Responsibility", "Role", "SourceText", "Target", "Task",
                                      "ingest_file", "parse_document", "read_source"]
    assert sorted(index.__all__) == ["Encoder", "FileResult", "Resolution", "SearchFilters", "SearchHit", "Searcher",
                                     "Store", "embed_missing", "expand_paths", "ingest_file_into", "ingest_paths",
                                     "load_encoder", "resolve"]
    assert sorted(search_api.__all__) == ["Settings", "clause_json", "create_app", "document_json", "get_settings",
                                          "hit_json"]


def imported_packages(package: str) -> set[str]:
    names = set()
    for path in (ROOT / package).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def test_dependencies_point_one_way():
    assert not imported_packages("ingest") & {"index", "search_api", "eval"}
    assert not imported_packages("index") & {"search_api", "eval"}


def test_modules_stay_small():
    for package in ("ingest", "index", "search_api", "eval"):
        for path in (ROOT / package).glob("*.py"):
            assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path


STORE_API = {"index/store.py", "index/reads.py", "index/vector_reads.py", "index/twin_store.py", "index/validity_store.py"}  # the one door to the data (DESIGN.md)
_SQL_NAMES = {"execute", "executemany", "executescript", "cursor", "connection", "_connection"}


def test_only_the_store_api_touches_the_database():
    """No module but the store API runs SQL or holds the store's connection."""
    offenders = []
    for package in ("ingest", "index", "search_api", "eval"):
        for path in sorted((ROOT / package).glob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in STORE_API:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in _SQL_NAMES:
                    offenders.append(f"{name}:{node.lineno} .{node.attr}")
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect" \
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "sqlite3":
                    offenders.append(f"{name}:{node.lineno} sqlite3.connect")
    assert not offenders, ("SQL outside the store API (index/store.py, index/reads.py, index/vector_reads.py, "
                           "index/twin_store.py, index/validity_store.py): " + ", ".join(offenders))
