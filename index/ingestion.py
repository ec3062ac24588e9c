"""Ingest files and folders into a store: per-file results, one transaction per document.

A folder may carry a `MANIFEST.tsv` (columns: file, title, doc_number, issuer, date, level, source, validity,
sha256, provenance) whose values override what is read from the files: the bundled corpus uses it
for documents whose text does not print their 文号 or issuer.

A file whose id is held by a different document (`same_document`: another title and other issuers
under the same 文号, or the same title from disjoint issuers) is stored beside it under a
disambiguated id (`place_document`), never over it.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ingest import Document, InputError, ParseError, parse_document, read_source
from ingest.errors import NotFound
from ingest.identity import short_hash, title_key, with_document_id
from ingest.normalize import compact
from ingest.options import ReadOptions
from ingest.readers import DEFAULT_MAX_BYTES, SUFFIXES

from .rows import Outcome
from .store import Store

logger = logging.getLogger(__name__)
MANIFEST = "MANIFEST.tsv"
# Files in a folder that describe the folder rather than being documents of it.
_FOLDER_NOTES = ("readme", "provenance", "license", "changelog", "manifest", "filelist", "_index")
_OVERRIDE_COLUMNS = ("title", "doc_number", "issuer", "date", "level", "source", "validity")


@dataclass(frozen=True)
class FileResult:
    path: Path
    status: Outcome
    doc_id: str = ""
    error: str = ""


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given, and the supported files inside folders (recursively, sorted), less README and the like."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                            and not p.name.startswith(".") and not p.stem.lower().startswith(_FOLDER_NOTES))
        else:
            files.append(path)
    return files


def read_manifest(folder: Path) -> dict[str, dict[str, str]]:
    """Overrides by file name from a folder's MANIFEST.tsv (empty when there is none)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return {}
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return {row["file"]: {key: row[key] for key in _OVERRIDE_COLUMNS if row.get(key)} for row in rows}


def same_document(stored: Document, document: Document) -> bool:
    """Whether `document` is a version of `stored`, which holds its id: the same title or a common
    issuer, and not two disjoint lists of issuers. A 文号 alone is no proof: another title from other
    (or unnamed) issuers under a stored 文号 is another document."""
    stored_issuers, issuers = {compact(name) for name in stored.issuers}, {compact(name) for name in document.issuers}
    if stored_issuers and issuers and not stored_issuers & issuers:
        return False
    return title_key(stored.title) == title_key(document.title) or bool(stored_issuers & issuers)


def place_document(store: Store, document: Document) -> Document:
    """The document under the id it is to be stored as: its own, unless a different document holds
    that id; then the id with `-` and a hash of its title and issuers (the same for its next version)."""
    try:
        stored = store.document_header(document.id)
    except NotFound:
        return document
    if same_document(stored, document):
        return document
    identity = "\n".join((title_key(document.title), *sorted(compact(name) for name in document.issuers)))
    placed = with_document_id(document, f"{document.id}-{short_hash(identity)}")
    logger.warning("%s is held by another document (%s); storing %s as %s", document.id, stored.title,
                   document.title, placed.id)
    return placed


def ingest_file_into(store: Store, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, actor: str = "",
                     options: ReadOptions = ReadOptions()) -> FileResult:
    """Read, parse and store one file; an unreadable file gives a failed result and writes nothing.
    `actor` (who ingests) is recorded with any replacement; `options` bound paged and converted formats."""
    try:
        if not path.is_file():
            raise InputError(f"{path}: 文件不存在或不是普通文件")
        overrides = read_manifest(path.parent).get(path.name, {})
        source = read_source(path, max_bytes=max_bytes, options=options)
        if store.has_sha256(source.sha256) and not overrides:
            return FileResult(path, Outcome.UNCHANGED)
        document = place_document(store, parse_document(source, overrides))
        return FileResult(path, store.put_document(document, actor=actor), document.id)
    except (InputError, ParseError) as error:
        logger.warning("%s", error)
        return FileResult(path, Outcome.FAILED, error=str(error))


def ingest_paths(store: Store, paths: Iterable[Path | str], *, max_bytes: int = DEFAULT_MAX_BYTES,
                 on_result: Callable[[FileResult], None] | None = None, actor: str = "",
                 options: ReadOptions = ReadOptions()) -> list[FileResult]:
    results = []
    for path in expand_paths(paths):
        result = ingest_file_into(store, path, max_bytes=max_bytes, actor=actor, options=options)
        results.append(result)
        if on_result:
            on_result(result)
    return results
