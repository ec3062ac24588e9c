"""Each package's public surface is small and pinned; ingest imports nothing else of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import index
import ingest
import search_api

ROOT = Path(__file__).resolve().parent.parent


def test_public_names_are_pinned():
    assert sorted(ingest.__all__) == ["Citation", "Clause", "Document", "InputError", "ParseError", "PolicyKBError",
                                      "Responsibility", "SourceText", "Target", "Task", "ingest_file",
                                      "parse_document", "read_source"]
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
