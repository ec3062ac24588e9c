"""The service's state: one store behind a lock, a searcher kept current, and a background embedder.

Every request thread takes `Library.lock` around its use of the store, so one SQLite connection
serves them all and a search never sees a half-applied change. The `Searcher` is a snapshot of the
derived indexes; it is rebuilt on the next request after the store's data version or the vector
cache changed. A daemon thread with its own connection embeds units that have no vector yet
(resumable: every batch is committed) and wakes again after an upload.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

from index import Searcher, Store, load_encoder
from index.crosscheck import CrossCheckRow, cross_check, related_documents
from index.dense import embed_missing, has_vectors, missing_units
from index.resolve import citing_clauses
from index.store import Replacement
from index.ingestion import place_document
from ingest import Document, InputError, ParseError, parse_document, read_source
from ingest.errors import DocumentConflict
from ingest.readers import reader_for

from .originals import Originals
from .settings import Settings
from .views import clause_view

logger = logging.getLogger(__name__)
UPLOADS = "uploads"
_REFRESH_SECONDS = 20.0  # while embedding, the searcher picks up new vectors at most this often


@dataclass(frozen=True)
class EmbeddingProgress:
    encoder: str
    running: bool = False
    done: int = 0
    total: int = 0
    error: str = ""


@dataclass(frozen=True)
class Upload:
    status: str  # added | replaced | unchanged | older
    doc_id: str
    title: str
    clauses: int
    replaced: Replacement | None = None  # what a replacement replaced


class Library:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store.open(settings.home)
        self.originals = Originals(settings.home / UPLOADS)
        self.lock = threading.RLock()
        self.encoder = None if settings.encoder == "none" else load_encoder(settings.encoder)
        self.progress = EmbeddingProgress(self.encoder.name if self.encoder else "none")
        self._searcher: Searcher | None = None
        self._searcher_key: tuple[int, int] | None = None
        self._vector_generation = 0
        self._derived_values: dict[tuple, object] = {}
        self._stop, self._wake = threading.Event(), threading.Event()
        self._embedder: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the derived indexes now (an unreadable or stale index file is rebuilt here, with a log
        line, not on the first request) and start the background embedder when there is an encoder."""
        with self.reading():
            pass
        with self.lock:
            self.originals.reconcile(self.store.has_sha256)
        if self.encoder is not None and self.settings.embed_in_background:
            self._embedder = threading.Thread(target=self._embed_loop, name="policykb-embedder", daemon=True)
            self._embedder.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._embedder is not None:
            self._embedder.join(timeout=60)
        with self.lock:
            self.store.close()

    # -- reading --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[Searcher]:
        """The current searcher (its `.store` is the store), with the lock held."""
        with self.lock:
            key = (self.store.data_version(), self._vector_generation)
            if self._searcher is None or key != self._searcher_key:
                encoder = self.encoder if self.encoder and has_vectors(self.store, self.encoder.name) else None
                started = time.perf_counter()
                self._searcher, self._searcher_key = Searcher(self.store, encoder), key
                self._derived_values = {}
                logger.info("searcher rebuilt in %.2f s (data version %d)", time.perf_counter() - started, key[0])
            yield self._searcher

    def clause(self, clause_id: str) -> dict:
        """A clause in context (`views.clause_view`), with the cited-by map built once per snapshot."""
        with self.reading() as searcher:
            cited_by = self._derived("cited_by", None, lambda: citing_clauses(searcher.store))
            return clause_view(searcher.store, clause_id, cited_by)

    def document_overview(self, doc_id: str) -> tuple[Document, list[tuple[str, str, str]], list[CrossCheckRow]]:
        """A document, the same-topic documents at other levels, and its cross-check against them
        (computed once per snapshot: it runs a search per measure and related document)."""
        with self.reading() as searcher:
            document = searcher.store.document(doc_id)
            related = related_documents(searcher, doc_id)
            rows = self._derived("crosscheck", doc_id,
                                 lambda: cross_check(searcher, doc_id, [other for other, _, _ in related]))
        return document, related, rows

    def _derived(self, name: str, argument: object, compute: Callable[[], object]) -> object:
        """A value computed from the current snapshot, cached until the store or the vectors change.
        Call it inside `reading()`."""
        key = (name, argument)
        if key not in self._derived_values:
            self._derived_values[key] = compute()
        return self._derived_values[key]

    # -- writing --------------------------------------------------------------------------------

    def add_upload(self, data: bytes, filename: str, *, replace_id: str | None = None, actor: str = "") -> Upload:
        """Ingest an uploaded file and keep it under its content hash; nothing is kept if it fails.

        A stored document of the same id with other content is replaced only when `replace_id` names
        it (else DocumentConflict); the store records the replacement with `actor`."""
        name = clean_filename(filename)
        reader_for(name)  # refuse an unsupported type before anything is written
        incoming = self.originals.receive(data, Path(name).suffix.lower())
        try:
            try:
                source = read_source(incoming, max_bytes=self.settings.max_upload_bytes,
                                     options=self.settings.read_options)
                document = parse_document(replace(source, source=f"上传：{name}"), {})
            except (InputError, ParseError) as error:
                message = str(error).replace(str(incoming), name).replace(incoming.name, name)
                raise type(error)(message) from None
            with self.lock:
                document = place_document(self.store, document)
                if replace_id not in (None, document.id):
                    raise InputError(f"{name}: 这是文件 {document.id}，不是要替换的 {replace_id}（文件 ID 由文号或标题决定）")
                status = self.store.put_document(document, replace=replace_id is not None, actor=actor)
                replaced = self.store.replacements(document.id)[-1] if status == "replaced" else None
                if status in ("added", "replaced", "unchanged"):
                    self.originals.keep(incoming, document.sha256)
                if replaced and not self.store.has_sha256(replaced.old_sha256):
                    self.originals.drop(replaced.old_sha256)
        finally:
            incoming.unlink(missing_ok=True)
        if status == "exists":
            stored = self.store_title(document.id)
            raise DocumentConflict(f"{name}: 库中已有文件 {document.id}（《{stored}》）的另一版本；如要用上传的版本替换它，"
                                   f"请加参数 replace={document.id}（网页上填写「替换的文件 ID」）")
        self._wake.set()
        return Upload(status, document.id, document.title, len(document.clauses), replaced)

    def store_title(self, doc_id: str) -> str:
        with self.lock:
            header = self.store.document_header(doc_id)
        return header.title if header else ""

    def delete(self, doc_id: str) -> None:
        """Delete a document, then its uploaded original (if it came by upload)."""
        with self.lock:
            sha256 = self.store.document_sha256(doc_id)
            self.store.delete_document(doc_id)
            if sha256 and not self.store.has_sha256(sha256):
                self.originals.drop(sha256)

    # -- background embedding -------------------------------------------------------------------

    def _embed_loop(self) -> None:
        try:
            store, encoder = Store.open(self.settings.home), load_encoder(self.settings.encoder)
        except Exception as error:  # noqa: BLE001 - a thread edge: report it in the status, keep serving
            logger.exception("background embedder did not start")
            self.progress = replace(self.progress, error=str(error))
            return
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    if total := len(missing_units(store, encoder.name)):
                        self._embed_round(store, encoder, total)
                except Exception as error:  # noqa: BLE001 - a thread edge: report it, retry on the next wake
                    logger.exception("background embedding failed")
                    self.progress = replace(self.progress, running=False, error=str(error))
                self._wake.wait(timeout=60)
        finally:
            store.close()

    def _embed_round(self, store: Store, encoder, total: int) -> None:
        self.progress = EmbeddingProgress(encoder.name, True, 0, total)
        last = time.monotonic()

        def advance(done: int, _total: int) -> None:
            nonlocal last
            self.progress = replace(self.progress, done=done)
            if time.monotonic() - last > _REFRESH_SECONDS:
                self._vector_generation += 1
                last = time.monotonic()

        logger.info("embedding %d passages in the background (%s)", total, encoder.name)
        embed_missing(store, encoder, on_batch=advance, should_stop=self._stop.is_set)
        self.progress = replace(self.progress, running=False)
        self._vector_generation += 1

    def status(self) -> dict:
        with self.lock:
            counts = self.store.counts()
            vectors = 0 if self.encoder is None else self.store.connection.execute(
                "SELECT count(*) FROM units u JOIN embeddings e ON e.passage_hash = u.passage_hash AND e.encoder = ?",
                (self.encoder.name,)).fetchone()[0]
        return {"documents": counts["documents"], "clauses": counts["clauses"], "tasks": counts["tasks"],
                "units": counts["units"], "vectors": vectors, "read_only": self.settings.token is None,
                "embedding": {"encoder": self.progress.encoder, "running": self.progress.running,
                              "done": self.progress.done, "total": self.progress.total, "error": self.progress.error}}


def clean_filename(filename: str) -> str:
    """The client's file name reduced to a display name: no folders, no control characters, ≤ 100 chars."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[-100:] or "未命名"
