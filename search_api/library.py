"""The service's state: the store, snapshots of its derived indexes, and background threads.

Readers never wait for writers (snapshots.py): each request reads through a reader connection of its own,
held in a read transaction at the version of the store its snapshot was built from. An upload is parsed
in a worker process (uploads.py), no lock held; then a write — the upload's, a delete — takes the write
lock (writers only), commits in its own transaction, builds the next snapshot and installs it (builder.py);
readers go on with the previous one meanwhile (SQLite WAL). A write that meets another process's write
lock gives up after the busy timeout with StoreError (503), leaving nothing behind. When another process
changed the store, the follower thread builds the next snapshot in the background (builder.py), so no
request ever builds one. Which process of several checks the store at start and which embeds is its `ProcessRole`.

Costly requests are bounded (admission.py): long queries and exports share a lane of a few slots, one
per client; every request waits a bounded time for a reader connection. The maintenance thread
computes the cross-checks pages show when documents change (derived.py) and gives disk space back
after large writes; a daemon thread embeds units that have no vector yet (resumable: every batch is
committed; embedding.py), and the searcher picks up its vectors.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import re
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from index import Encoder, Searcher, SearchFilters, Store, load_encoder
from index.crosscheck import cross_check, missing_measures, related_documents
from index.directory import find_department
from index.rows import Outcome, Replacement
from index.search import QueryLimits, SearchMode
from index.upkeep import check_store, reclaim
from index.versions import document_history
from ingest import InputError, ParseError
from ingest.errors import DocumentConflict, StoreError
from ingest.records import Validity
from ingest.readers import reader_for

from . import exports
from .admission import Lane, ServiceBusy, note_wait
from .derived import NONE, READY, TOO_LARGE, CrossCheck, CrossCheckKey, CrossChecks
from .embedding import BackgroundEmbedder, EmbeddingProgress
from .originals import Originals
from .settings import Settings
from .builder import SnapshotBuilder
from .snapshots import Readers, Snapshot
from .uploads import Ingested, UploadWorker, lower_priority
from .views import DocumentPage, clause_view, department_view, history_json, search_view, validity_json

logger = logging.getLogger(__name__)
UPLOADS = "uploads"
_BACKGROUND_READERS = 2  # connections besides the requests': the maintenance thread's (a cross-check holds one
# for seconds) and a writer's (it reads the documents related to what it wrote)
_BUILD_TRIES = 5  # a snapshot's version moved on before its connections were reserved: try again
T = TypeVar("T")


@dataclass(frozen=True)
class ProcessRole:
    """What this process does besides serving, when several serve one store (server.py)."""

    checks: bool = True  # at start: the store's quick_check, and uploads no document accounts for removed
    embeds: bool = True  # the background embedder runs here (when the settings ask for it)
    worker: int = 0  # which of the processes this is (0 when one serves)


@dataclass(frozen=True)
class Upload:
    status: Outcome  # added | replaced | unchanged | older
    doc_id: str
    title: str
    clauses: int
    replaced: Replacement | None = None  # what a replacement replaced


class Library:
    def __init__(self, settings: Settings, encoder: Encoder | None = None, role: ProcessRole = ProcessRole()) -> None:
        """`encoder` replaces the one `settings.encoder` names (a test's)."""
        self.settings, self.role = settings, role
        self.store = Store.open(settings.home, busy_timeout=settings.busy_timeout_seconds)  # the writer's and builder's
        serving = settings.read_connections + _BACKGROUND_READERS
        self._readers = Readers([self.store.open_reader() for _ in range(3 * serving)], serving)
        self._write_lock = threading.Lock()
        self.encoder = encoder or (None if settings.encoder == "none" else load_encoder(settings.encoder))
        self.limits = QueryLimits(settings.analysed_query_chars, settings.encoded_query_chars)
        self._snapshots = SnapshotBuilder(self.store, self._readers, self._write_lock, self.encoder, self.limits,
                                          settings.busy_wait_seconds, settings.locality)
        self.stopping, self._reclaim_wanted = threading.Event(), threading.Event()
        self.embedder = BackgroundEmbedder(settings.home, self.encoder, self.stopping, self._snapshots.new_vectors)
        self.long_work = Lane("长查询和导出", settings.long_query_slots, settings.per_client_long_queries,
                              settings.busy_wait_seconds)
        self.crosschecks = CrossChecks()
        self.uploads = UploadWorker(settings.home, settings.busy_timeout_seconds, self.stopping)
        self.originals = Originals(settings.home / UPLOADS)
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Check the store, open the derived indexes now (an unreadable or stale index file is rebuilt here,
        with a log line, not on the first request), queue the cross-checks and start the threads."""
        try:
            if self.settings.check_store_at_start and self.role.checks:
                check_store(self.store)
            with self._write_lock:
                if not any(self._snapshots.install_next() for _ in range(_BUILD_TRIES)):
                    raise StoreError("数据库一直在被其他程序修改，无法取得一致的快照；请等写入结束后再启动服务")
        except sqlite3.DatabaseError as error:
            raise StoreError(f"无法读取数据库 {self.store.path}（{error}）；请从备份恢复这个文件，"
                             "或换一个 --home 重新运行 policykb ingest") from None
        if self.role.checks:
            with self._write_lock:
                self.originals.reconcile(self.store.has_sha256)
        self.crosschecks.want([document.id for document in self.store.documents()])
        self._spawn("policykb-maintenance", self._maintain_loop)
        self._spawn("policykb-follower", lambda: self._snapshots.follow(self.stopping))
        if self.encoder is not None and self.settings.embed_in_background and self.role.embeds:
            self._spawn("policykb-embedder", self.embedder.run)

    @property
    def progress(self) -> EmbeddingProgress:
        return self.embedder.progress

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        self.stopping.set()
        self.embedder.wake()
        self.uploads.close()
        for thread in self._threads:
            thread.join(timeout=60)
        with self._write_lock:
            self._readers.close(wait=self.settings.shutdown_timeout_seconds)  # work in flight sees `stopping`
            self._snapshots.close()
            self.store.close()

    # -- reading --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[Searcher]:
        """A searcher over the current snapshot, reading the store through a reader connection of its own."""
        with self._reading() as (searcher, _):
            yield searcher

    @contextlib.contextmanager
    def _reading(self) -> Iterator[tuple[Searcher, Snapshot]]:
        with self._readers.reading(self.settings.busy_wait_seconds) as reading:
            note_wait(reading.waited)
            yield reading.snapshot.searcher_on(reading.store), reading.snapshot

    def search(self, query: str, k: int, filters: SearchFilters, mode: SearchMode, client: str) -> dict:
        """`views.search_view`; a long query waits its turn in the lane for costly work."""
        lane = self.long_work.admitted(client) if len(query) > self.settings.long_query_chars else contextlib.nullcontext()
        with lane, self.reading() as searcher:
            return search_view(searcher, query, k, filters, mode)

    def clause(self, clause_id: str) -> dict:
        """A clause in context (`views.clause_view`)."""
        with self._reading() as (searcher, snapshot):
            return clause_view(searcher.store, clause_id, snapshot.cited_by)

    def department(self, name: str, offset: int, limit: int) -> dict:
        """`views.department_view`: a page of each department's duties."""
        with self._reading() as (searcher, snapshot):
            return department_view(searcher.store, searcher.names, list(snapshot.departments), name, offset, limit)

    def departments(self) -> list:
        with self._reading() as (_, snapshot):
            return list(snapshot.departments)

    def document_page(self, doc_id: str, offset: int, limit: int) -> DocumentPage:
        """A page of a document's clauses, its related documents and the cross-check of the page's measures
        (computed by the maintenance thread; waited for a bounded time)."""
        with self.reading() as searcher:
            header, total = searcher.store.document_header(doc_id), searcher.store.clause_count(doc_id)
            clauses = searcher.store.document_clauses(doc_id, offset, limit)
            related = related_documents(searcher, doc_id)
            key = _crosscheck_key(searcher, doc_id, related)
        found = self.crosschecks.get(key, self.settings.crosscheck_wait_seconds) if related else CrossCheck(NONE)
        shown = {clause.id for clause in clauses}
        found = replace(found, rows=tuple(row for row in found.rows if row.clause_id in shown))
        return DocumentPage(replace(header, clauses=clauses), offset, limit, total, tuple(related), found)

    def task_table(self, doc_id: str, base_url: str, kind: str, client: str,
                   should_stop: Callable[[], bool]) -> tuple[str, bytes]:
        """(document title, its 督查台账 as xlsx or csv bytes), read from one snapshot a page at a time;
        refused over `export_max_rows` rows, stopped when `should_stop` says so (the client left)."""
        with self.long_work.admitted(client), self.reading() as searcher:
            ledger = exports.document_ledger(searcher.store, doc_id, base_url, self.settings.export_max_rows)
            return ledger.title, self._write_ledger(ledger, kind, should_stop)

    def department_table(self, name: str, base_url: str, kind: str, client: str,
                         should_stop: Callable[[], bool]) -> tuple[str, bytes]:
        """(department, its 督查台账 across documents as xlsx or csv bytes): the duties of every department
        the name stands for, read a page at a time; refused over `export_max_rows` rows (NotFound for an
        unknown name)."""
        with self.long_work.admitted(client), self._reading() as (searcher, snapshot):
            known = {item.canonical for item in snapshot.departments}
            ledger = exports.department_ledger(searcher.store, find_department(known, searcher.names, name), name,
                                               base_url, self.settings.export_max_rows)
            return ledger.title, self._write_ledger(ledger, kind, should_stop)

    def _write_ledger(self, ledger: exports.Ledger, kind: str, should_stop: Callable[[], bool]) -> bytes:
        buffer = io.BytesIO()
        stop = lambda: should_stop() or self.stopping.is_set()  # noqa: E731
        (exports.write_xlsx if kind == "xlsx" else exports.write_csv)(ledger, buffer, stop)
        return buffer.getvalue()

    def status(self) -> dict:
        with self.reading() as searcher:
            counts = searcher.store.counts()
            vectors = 0 if self.encoder is None else searcher.store.embedded_unit_count(self.encoder.name)
        return {"documents": counts["documents"], "clauses": counts["clauses"], "tasks": counts["tasks"],
                "units": counts["units"], "vectors": vectors, "read_only": self.settings.token is None,
                "embedding": asdict(self.embedder.progress)}

    # -- writing --------------------------------------------------------------------------------

    def add_upload(self, data: bytes, filename: str, *, replace_id: str | None = None, actor: str = "") -> Upload:
        """Ingest an uploaded file through the upload worker (read and parsed there, no lock held; stored
        from there under the write lock) and keep it under its content hash; nothing is kept if it fails.

        A stored document of the same id with other content is replaced only when `replace_id` names
        it (else DocumentConflict); the store records the replacement with `actor`."""
        name = clean_filename(filename)
        reader_for(name)  # refuse an unsupported type before anything is written
        incoming = self.originals.receive(data, Path(name).suffix.lower())
        try:
            with self.uploads.turn(self.settings.busy_wait_seconds):
                started = time.perf_counter()
                doc_id = self.uploads.parse(incoming, name, self.settings.max_upload_bytes, self.settings.read_options)
                logger.info("upload %s parsed in the upload worker in %.1f s", doc_id, time.perf_counter() - started)
                if replace_id not in (None, doc_id):
                    self.uploads.drop()
                    raise InputError(f"{name}: 这是文件 {doc_id}，不是要替换的 {replace_id}（文件 ID 由文号或标题决定）")

                def store_it(store: Store) -> Ingested:
                    ingested = self.uploads.write(replace=replace_id is not None, actor=actor)
                    if ingested.status in (Outcome.ADDED, Outcome.REPLACED, Outcome.UNCHANGED):
                        self.originals.keep(incoming, ingested.sha256)
                    if ingested.replaced and not store.has_sha256(ingested.replaced.old_sha256):
                        self.originals.drop(ingested.replaced.old_sha256)
                    return ingested

                try:
                    ingested = self._write(store_it, touched=[doc_id])
                except StoreError:
                    self.uploads.drop()
                    raise
        except (InputError, ParseError) as error:
            message = str(error).replace(str(incoming), name).replace(incoming.name, name)
            raise type(error)(message) from None
        finally:
            incoming.unlink(missing_ok=True)
        if ingested.status == Outcome.EXISTS:
            with self.reading() as searcher:
                stored = searcher.store.document_header(ingested.doc_id).title
            raise DocumentConflict(f"{name}: 库中已有文件 {ingested.doc_id}（《{stored}》）的另一版本；如要用上传的版本替换它，"
                                   f"请加参数 replace={ingested.doc_id}（网页上填写「替换的文件 ID」）")
        self.embedder.wake()
        return Upload(ingested.status, ingested.doc_id, ingested.title, ingested.clauses, ingested.replaced)

    def set_validity(self, doc_id: str, validity: Validity | None, actor: str) -> dict:
        """Staff's validity of a document (None: clear it); returns `validity_json` of the document after."""
        self._write(lambda store: store.set_validity(doc_id, validity, actor), touched=[])
        with self.reading() as searcher:
            return validity_json(searcher.store.document_header(doc_id), searcher.store.validity_mark(doc_id))

    def history(self, doc_id: str) -> dict:
        """`history_json` of a stored document: the versions newer ones replaced, with their clause changes."""
        with self.reading() as searcher:
            return history_json(searcher.store.document_header(doc_id), document_history(searcher.store, doc_id))

    def delete(self, doc_id: str) -> None:
        """Delete a document, then its uploaded original (if it came by upload and no other document has it)."""
        with self.reading() as searcher:
            related = [other for other, _, _ in related_documents(searcher, doc_id)]

        def change(store: Store) -> None:
            sha256 = store.document_sha256(doc_id)
            store.delete_document(doc_id)
            if sha256 and not store.has_sha256(sha256):
                self.originals.drop(sha256)

        self._write(change, touched=related)


    def _write(self, change: Callable[[Store], T], touched: list[str]) -> T:
        """Run `change` on the writer's connection (its own transaction) and install the next snapshot,
        readers going on with the current one meanwhile. `touched`: documents whose cross-check may change."""
        if not self._write_lock.acquire(timeout=self.settings.busy_timeout_seconds):
            raise StoreError(f"另一个写入（上传、删除或空间回收）{self.settings.busy_timeout_seconds:g} 秒内没有结束；请稍后重试")
        try:
            before = self._readers.current
            result = change(self.store)
            if self.store.data_version() != before.version:
                self._snapshots.install_next()  # else (the store moved on meanwhile) the follower installs it
        finally:
            self._write_lock.release()
        if self._readers.current is not before:
            with self.reading() as searcher:
                related = [other for doc in touched for other, _, _ in related_documents(searcher, doc)]
            self.crosschecks.want(list(dict.fromkeys([*touched, *related])))
            self._reclaim_wanted.set()
        return result

    def _drop_original(self, sha256: str) -> None:
        for path in (self.settings.home / UPLOADS).glob(f"{sha256}.*"):
            path.unlink(missing_ok=True)

    # -- background work ------------------------------------------------------------------------

    def _maintain_loop(self) -> None:
        lower_priority()
        while not self.stopping.is_set():
            try:
                if (doc_id := self.crosschecks.next_job(timeout=0.5)) is not None:
                    try:
                        self._compute_crosscheck(doc_id)
                    except ServiceBusy:  # every reader connection busy: later
                        self.crosschecks.want([doc_id])
                        self.stopping.wait(1.0)
                if self._reclaim_wanted.is_set():
                    self._reclaim_wanted.clear()
                    self._reclaim()
            except Exception:  # noqa: BLE001 - a thread edge: log it, keep serving
                logger.exception("background maintenance failed")

    def _compute_crosscheck(self, doc_id: str) -> None:
        with self.reading() as searcher:
            related = related_documents(searcher, doc_id)
            if not related or (key := _crosscheck_key(searcher, doc_id, related)) is None or self.crosschecks.has(key):
                return
            if (measures := searcher.store.task_count(doc_id, measures=True)) > self.settings.crosscheck_max_measures:
                result = CrossCheck(TOO_LARGE)
            else:
                started = time.perf_counter()
                rows = cross_check(searcher.store, doc_id, [other for other, _, _ in related], self.stopping.is_set)
                if self.stopping.is_set():
                    return
                level = searcher.store.document_header(doc_id).level
                higher = [other for other, _, other_level in related if other_level.rank < level.rank]
                result = CrossCheck(READY, tuple(rows), tuple(missing_measures(searcher.store, doc_id, higher)))
                logger.info("cross-check of %s (%d measures) computed in %.1f s", doc_id, measures,
                            time.perf_counter() - started)
        self.crosschecks.put(key, result)

    def _reclaim(self) -> None:
        """After a write: the WAL checkpointed and truncated when large, free pages released when many."""
        if not self._write_lock.acquire(timeout=self.settings.busy_wait_seconds):
            self._reclaim_wanted.set()  # a write is under way: after it
            return
        try:
            before, after = reclaim(self.store, int(self.settings.reclaim_wal_mb * 2**20), self.settings.reclaim_free_share,
                                    self._snapshots.release_wal)
        except StoreError:
            logger.info("disk space not reclaimed now: another process is writing")
            return
        finally:
            self._write_lock.release()
        if after < before:
            _return_memory()

def _crosscheck_key(searcher: Searcher, doc_id: str, related: list[tuple[str, str, str]]) -> CrossCheckKey | None:
    ids = [doc_id, *(other for other, _, _ in related)]
    shas = searcher.store.document_hashes(ids)
    if doc_id not in shas:
        return None
    return CrossCheckKey(doc_id, shas[doc_id], tuple((other, shas.get(other, "")) for other in ids[1:]),
                         searcher.vectors is not None)


def _return_memory() -> None:
    """Hand freed heap back to the system after large deletes (glibc keeps it otherwise)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def clean_filename(filename: str) -> str:
    """The client's file name reduced to a display name: no folders, no control characters, ≤ 100 chars."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[-100:] or "未命名"

