"""Values pages need that cost a search per measure: the cross-check, computed off the request path.

A cross-check depends on the document, the documents it is compared with and whether vectors take
part, so it is cached under exactly that (`CrossCheckKey`): a write of an unrelated document keeps
it. One worker (the library's maintenance thread) computes them — after a write for the documents it
touched, at start-up for every document with related documents, and first of all for those a page
is waiting for. A page waits a bounded time for its cross-check and says «计算中» after that.
"""

from __future__ import annotations

import collections
import enum
import threading
from dataclasses import dataclass

from index.crosscheck import CrossCheckRow, MissingMeasure



class CrossCheckStatus(enum.StrEnum):
    READY = "ready"
    TOO_LARGE = "too_large"  # more measures than the limit
    NONE = "none"  # no related document
    PENDING = "pending"  # not computed within the wait


READY, TOO_LARGE, NONE, PENDING = CrossCheckStatus


@dataclass(frozen=True)
class CrossCheckKey:
    doc_id: str
    sha256: str
    related: tuple[tuple[str, str], ...]  # (id, sha256) of each related document, in comparison order
    dense: bool  # vectors took part in the matching


@dataclass(frozen=True)
class CrossCheck:
    status: CrossCheckStatus
    rows: tuple[CrossCheckRow, ...] = ()
    missing: tuple[MissingMeasure, ...] = ()  # the higher levels' measures this document lacks


class CrossChecks:
    """Computed cross-checks by key (the latest `capacity` of them) and the documents waiting for one."""

    def __init__(self, capacity: int = 256, max_waiting: int = 4) -> None:
        self._done: collections.OrderedDict[CrossCheckKey, CrossCheck] = collections.OrderedDict()
        self._queue: collections.OrderedDict[str, bool] = collections.OrderedDict()  # doc id → urgent
        self._condition = threading.Condition()
        self._capacity, self._max_waiting, self._waiting = capacity, max_waiting, 0

    def get(self, key: CrossCheckKey, wait: float) -> CrossCheck:
        """The cross-check for `key`, waiting up to `wait` seconds for the worker (when fewer than
        `max_waiting` requests wait already: each holds a server thread); PENDING after that."""
        with self._condition:
            if key not in self._done:
                self._queue[key.doc_id] = True
                self._queue.move_to_end(key.doc_id, last=False)
                self._condition.notify_all()
                if self._waiting < self._max_waiting:
                    self._waiting += 1
                    try:
                        self._condition.wait_for(lambda: key in self._done, timeout=wait)
                    finally:
                        self._waiting -= 1
            return self._done.get(key, CrossCheck(PENDING))

    def has(self, key: CrossCheckKey) -> bool:
        with self._condition:
            return key in self._done

    def want(self, doc_ids: list[str]) -> None:
        """Compute these when nothing more urgent waits (after a write, at start-up)."""
        with self._condition:
            for doc_id in doc_ids:
                self._queue.setdefault(doc_id, False)
            self._condition.notify_all()

    def next_job(self, timeout: float) -> str | None:
        """The next document to compute for (urgent ones first), or None after `timeout` seconds."""
        with self._condition:
            if not self._condition.wait_for(lambda: self._queue, timeout=timeout):
                return None
            return self._queue.popitem(last=False)[0]

    def put(self, key: CrossCheckKey, result: CrossCheck) -> None:
        with self._condition:
            self._done[key] = result
            while len(self._done) > self._capacity:
                self._done.popitem(last=False)
            self._condition.notify_all()
