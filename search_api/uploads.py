"""Uploads are read, parsed and tokenised in a worker process, and stored from there.

Parsing a large document is seconds to minutes of Python, with single regular-expression calls over
the whole text that hold the interpreter lock for hundreds of milliseconds, and garbage collections
over millions of new objects: in the service's process every reader would wait through them. The
worker is a separate interpreter (multiprocessing «spawn»), started at the first upload and kept
warm for the next, at a lower CPU priority than the service; one upload at a time goes through it:

    parse(path)   the worker reads and parses the file, places it under an id no other     (no lock held)
                  document holds (index.ingestion.place_document) and tokenises its units
    write()       the worker stores it in one transaction          (the caller holds its write lock),
                  replacing another version only when asked, and recording who asked
                  and brings the saved BM25 arrays up to date, so the service loads them, not builds them

A worker whose peak memory passed `RECYCLE_BYTES` (a large document, a decompression bomb) is replaced
after its upload, so its memory goes back to the system; one that dies (killed, out of memory) is
reported as a refused file and replaced. Stopping the service kills a worker in the middle of a
parse or a write: SQLite's transaction leaves the store as it was.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
import sqlite3
import sys
import threading
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Iterator

from index.rows import Outcome, Replacement
from ingest import PolicyKBError, parse_document, read_source
from ingest.errors import ParseError, StoreError
from ingest.options import ReadOptions

from .admission import Cancelled, ServiceBusy

logger = logging.getLogger(__name__)
RECYCLE_BYTES = 512 * 2**20
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Ingested:
    status: Outcome
    doc_id: str
    title: str
    clauses: int
    sha256: str  # of the uploaded file
    replaced: Replacement | None  # the replacement recorded, if it replaced a version


class UploadWorker:
    """The worker process and the one upload going through it. Thread-safe: uploads take turns."""

    def __init__(self, home: Path, busy_timeout: float, stopping: threading.Event) -> None:
        self.home, self.busy_timeout, self.stopping = home, busy_timeout, stopping
        self._turn = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipe: Connection | None = None

    @contextlib.contextmanager
    def turn(self, wait: float) -> Iterator[None]:
        """Held by an upload from `parse` to `write`; ServiceBusy when another keeps it `wait` seconds."""
        if not self._turn.acquire(timeout=wait):
            raise ServiceBusy(f"另一个上传正在处理，{wait:g} 秒内没有结束；请稍后重试")
        try:
            yield
        finally:
            self._turn.release()

    def parse(self, path: Path, name: str, max_bytes: int, options: ReadOptions) -> str:
        """Read and parse `path` (shown as `name`) in the worker; the id it is to be stored as. Raises
        what reading or parsing raises, with `name` in the message."""
        self._ensure_started()
        self._send(("parse", str(path), name, max_bytes, options))
        return self._receive(name)

    def write(self, *, replace: bool, actor: str) -> Ingested:
        """Store the parsed document (call with the service's write lock held); another stored version
        is replaced only with `replace` ("exists" otherwise), the replacement recorded with `actor`."""
        self._send(("write", replace, actor))
        return self._receive("")

    def drop(self) -> None:
        """Forget the parsed document (the write was not wanted)."""
        if self._pipe is not None and self._process is not None and self._process.is_alive():
            self._send(("drop",))
            self._receive("")

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=10)
        self._process = self._pipe = None

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        context = multiprocessing.get_context("spawn")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, str(self.home), self.busy_timeout),
                                        name="policykb-upload-worker", daemon=True)
        self._process.start()
        theirs.close()

    def _send(self, message: tuple) -> None:
        assert self._pipe is not None
        self._pipe.send(message)

    def _receive(self, name: str):
        """The worker's answer; raises its error, Cancelled when the service stops meanwhile, ParseError
        when the worker died (replaced at the next upload)."""
        pipe, process = self._pipe, self._process
        assert pipe is not None and process is not None
        while not pipe.poll(_POLL_SECONDS):
            if self.stopping.is_set():
                self.close()
                raise Cancelled("服务正在停止，上传未完成；请重新上传")
            if not process.is_alive():
                self.close()
                raise ParseError(f"{name}: 解析这个文件的进程意外退出（退出码 {process.exitcode}，可能内存不足）；"
                                 "文件可能过大或已损坏，请检查后重新上传")
        kind, value, peak = pipe.recv()
        if peak > RECYCLE_BYTES and kind != "parsed":  # its job is done: give its memory back
            logger.info("upload worker used %.0f MB: replaced", peak / 2**20)
            self.close()
        if kind == "error":
            raise value
        return value


def _serve(pipe: Connection, home: str, busy_timeout: float) -> None:
    """The worker's loop: parse, then write or drop, until the pipe closes. It runs at a lower CPU
    priority than the service, and after a write brings the BM25 file up to date (rebuilt when the
    document is large) so that the service's next searcher loads it instead of building it."""
    from index import Store
    from index.ingestion import place_document
    from index.lexical import LexicalIndex

    lower_priority()
    store, parsed, lexical = None, None, None
    while True:
        try:
            message = pipe.recv()
        except EOFError:
            return
        try:
            store = store or Store.open(home, busy_timeout=busy_timeout)
            if message[0] == "parse":
                _, path, name, max_bytes, options = message
                source = read_source(Path(path), max_bytes=max_bytes, options=options)
                document = place_document(store, parse_document(replace(source, source=f"上传：{name}"), {}))
                parsed = (document, store.tokenized_units(document))
                answer = ("parsed", document.id)
            elif message[0] == "write":
                _, replacing, actor = message
                (document, units), parsed = parsed, None
                if (placed := place_document(store, document)).id != document.id:  # the id was taken meanwhile
                    document, units = placed, store.tokenized_units(placed)
                status = store.put_document(document, units, replace=replacing, actor=actor)
                replaced = store.replacements(document.id)[-1] if status == Outcome.REPLACED else None
                if status in (Outcome.ADDED, Outcome.REPLACED):
                    lexical = LexicalIndex.open(store, lexical)  # the saved arrays read once, not per upload
                answer = ("done", Ingested(status, document.id, document.title, len(document.clauses), document.sha256,
                                           replaced))
            else:
                parsed, answer = None, ("dropped", None)
        except (PolicyKBError, sqlite3.DatabaseError) as error:
            parsed, answer = None, ("error", _picklable(error))
        pipe.send((*answer, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))


def lower_priority(niceness: int = 10) -> None:
    """Let the calling thread (on Linux) or process yield the CPU to the service's readers."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id() if sys.platform == "linux" else 0, niceness)


def _picklable(error: Exception) -> Exception:
    """The error as the parent can rebuild it (sqlite3's carry attributes a pickle loses)."""
    if isinstance(error, sqlite3.OperationalError):
        return StoreError(f"数据库无法写入（{error}）；请稍后重试")
    return error if isinstance(error, PolicyKBError) else sqlite3.DatabaseError(str(error))
