"""The background embedder: vectors for units that have none, while the service runs.

A daemon thread with its own connection embeds every unit without a cached vector (resumable: each
batch is committed), sleeps until woken (after an upload) or a minute has passed, and calls
`on_vectors` at most every `REFRESH_SECONDS` and at the end of a round, so the service builds a
searcher that uses them. Progress is in `progress` for /api/status.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from index import Encoder, Store
from index.dense import embed_missing, missing_units

from .uploads import lower_priority

logger = logging.getLogger(__name__)
REFRESH_SECONDS = 20.0  # while embedding, the searcher picks up new vectors at most this often


@dataclass(frozen=True)
class EmbeddingProgress:
    encoder: str
    running: bool = False
    done: int = 0
    total: int = 0
    error: str = ""


class BackgroundEmbedder:
    def __init__(self, home: Path, encoder: Encoder | None, stopping: threading.Event,
                 on_vectors: Callable[[], None]) -> None:
        self.home, self.encoder, self.stopping, self.on_vectors = home, encoder, stopping, on_vectors
        self.progress = EmbeddingProgress(encoder.name if encoder else "none")
        self._wake = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def run(self) -> None:
        """The thread's loop, until `stopping` is set (at a lower CPU priority than the readers)."""
        lower_priority()
        try:
            store = Store.open(self.home)
        except Exception as error:  # noqa: BLE001 - a thread edge: report it in the status, keep serving
            logger.exception("background embedder did not start")
            self.progress = replace(self.progress, error=str(error))
            return
        try:
            while not self.stopping.is_set():
                self._wake.clear()
                try:
                    if total := len(missing_units(store, self.encoder.name)):
                        self._round(store, total)
                except Exception as error:  # noqa: BLE001 - a thread edge: report it, retry on the next wake
                    logger.exception("background embedding failed")
                    self.progress = replace(self.progress, running=False, error=str(error))
                self._wake.wait(timeout=60)
        finally:
            store.close()

    def _round(self, store: Store, total: int) -> None:
        self.progress = EmbeddingProgress(self.encoder.name, True, 0, total)
        last = time.monotonic()

        def advance(done: int, _total: int) -> None:
            nonlocal last
            self.progress = replace(self.progress, done=done)
            if time.monotonic() - last > REFRESH_SECONDS:
                self.on_vectors()
                last = time.monotonic()

        logger.info("embedding %d passages in the background (%s)", total, self.encoder.name)
        embed_missing(store, self.encoder, on_batch=advance, should_stop=self.stopping.is_set)
        self.progress = replace(self.progress, running=False)
        self.on_vectors()
