"""Dense vectors: the embedding cache in the store, and the faiss index built from it.

Vectors are cached by (encoder name, passage hash) in the store's `embeddings` table, so unchanged
text is never embedded twice, a new version of a document embeds only its changed units, and a
rebuild of the faiss index never re-embeds. `embed_missing` is resumable: it commits after each
batch. `VectorIndex` is exact for small collections and an HNSW graph saved beside the store for
large ones (see its docstring); either way it holds only units of the current store.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from typing import Callable

import faiss
import numpy as np

from ingest.errors import IndexFormatError

from .encoders import Encoder
from .files import write_atomically
from .graph import Graph, build_graph, extend_graph, graph_lock, graph_stamp, open_graph
from .store import Store

logger = logging.getLogger(__name__)


def missing_units(store: Store, encoder_name: str) -> list[tuple[str, str]]:
    """(passage hash, passage) of units whose passage has no cached vector for this encoder."""
    return store.units_without_vectors(encoder_name)


def has_vectors(store: Store, encoder_name: str) -> bool:
    """Whether any vector of this encoder is cached (cheap: no passage is read)."""
    return store.has_vectors(encoder_name)


def vectors_mark(store: Store) -> int:
    """A number that grows whenever vectors are cached (of any encoder): a service's follower compares it."""
    return store.vectors_mark()


def embed_missing(store: Store, encoder: Encoder, *, batch_size: int = 16,
                  on_batch: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> int:
    """Embed every unit without a cached vector; returns how many passages were embedded.

    Commits after each batch; `should_stop` is asked before each one (a service shutting down).
    """
    todo = missing_units(store, encoder.name)
    for start in range(0, len(todo), batch_size):
        if should_stop is not None and should_stop():
            return start
        batch = todo[start:start + batch_size]
        vectors = encoder.encode_passages([passage for _, passage in batch])
        store.put_vectors(encoder.name, [(passage_hash, vector.astype(np.float32).tobytes())
                                         for (passage_hash, _), vector in zip(batch, vectors)], overwrite=True)
        if on_batch:
            on_batch(min(start + batch_size, len(todo)), len(todo))
    return len(todo)


class VectorIndex:
    """Inner-product search over the units that have a cached vector for `encoder_name`.

    Up to `EXACT_LIMIT` vectors the index is exact (IndexFlatIP over a matrix in memory: a scan of
    100k × 384 floats costs ≈ 15 ms here). Above it, an HNSW graph (M = 32, efSearch = 128) answers
    in about a millisecond; building it takes minutes, so it is saved beside the store and memory-mapped
    (graph.py; shared by every process serving the store), and rebuilt when unreadable or when the
    store's history does not hold the version it was saved at (a store restored from a backup hands
    its unit ids out again). It is updated, not rebuilt, when units change: units with vectors that
    the graph lacks (added since; unit ids are never reused) are searched exactly beside it until they
    reach `ADDED_LIMIT` of it, when they are added to the graph and it is saved again; nodes of deleted
    units are masked out of searches, and the graph is rebuilt once masked nodes reach `MASKED_LIMIT`
    of it. Filtered searches always scan the allowed units exactly.

    `previous`, an index of the same store and encoder opened before (the last snapshot's), lends what
    is still valid: its graph when the files are the same generation, and the vectors of its units, so
    opening the next one reads from the store only the ids and the vectors of new units.
    """

    EXACT_LIMIT = 50_000
    FORMAT_VERSION = 2
    MASKED_LIMIT = 0.2
    ADDED_LIMIT = 0.05

    def __init__(self, store: Store, encoder_name: str, dim: int, *, exact_limit: int | None = None,
                 previous: "VectorIndex | None" = None) -> None:
        self.encoder_name, self.dim = encoder_name, dim
        lender = previous if previous is not None and (previous.encoder_name, previous.dim) == (encoder_name, dim) \
            else None
        self.ids = _embedded_units(store, encoder_name, lender)
        limit = self.EXACT_LIMIT if exact_limit is None else exact_limit
        self.kind, self._graph, self._parameters = "flat", None, None
        if len(self.ids) > limit:
            self.kind = "hnsw"
            manifest = {"format": self.FORMAT_VERSION, "encoder": encoder_name, "dim": dim, "kind": "hnsw",
                        "store_id": store.version().store_id}
            self._graph = self._current_graph(store, manifest, lender)
            self._live = live = np.isin(self._graph.nodes, self.ids)
            if not live.all():  # nodes of deleted units: never returned (the bitmap must outlive searches)
                self._live_bits = np.packbits(live, bitorder="little")
                self._parameters = faiss.SearchParametersHNSW(
                    sel=faiss.IDSelectorBitmap(len(live), faiss.swig_ptr(self._live_bits)), efSearch=128)
        self._extra_ids = self.ids if self._graph is None else self.ids[~np.isin(self.ids, self._graph.nodes)]
        self._extra = _vectors_of(store, encoder_name, dim, self._extra_ids, lender)
        self._exact = faiss.IndexFlatIP(dim)  # the units the graph lacks (all of them without a graph)
        self._exact.add(self._extra)
        logger.info("vector index (%s): %d of the store's units have %s vectors", self.kind, len(self.ids), encoder_name)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def matrix(self) -> np.ndarray:
        """The vectors of `ids`, in that order (a new array with a graph: for checks, not for searching)."""
        if self._graph is None:
            return self._extra
        matrix = np.empty((len(self.ids), self.dim), dtype=np.float32)
        in_graph = np.isin(self.ids, self._graph.nodes)
        order = np.argsort(self._graph.nodes)
        matrix[in_graph] = self._graph.vectors[order[np.searchsorted(self._graph.nodes, self.ids[in_graph],
                                                                     sorter=order)]]
        matrix[~in_graph] = self._extra
        return matrix

    def search(self, query: np.ndarray, limit: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """(unit id, cosine) best first; with `allowed`, an exact scan of just those units."""
        if not len(self.ids) or limit <= 0:
            return []
        query = query.reshape(1, -1).astype(np.float32)
        found: list[tuple[int, float]] = []
        if allowed is not None:
            wanted = np.fromiter(allowed, dtype=np.int64, count=len(allowed))
            if self._graph is not None:
                nodes = np.flatnonzero(np.isin(self._graph.nodes, wanted) & self._live)
                found += zip(self._graph.nodes[nodes].tolist(), (self._graph.vectors[nodes] @ query[0]).tolist())
            extra = np.flatnonzero(np.isin(self._extra_ids, wanted))
            found += zip(self._extra_ids[extra].tolist(), (self._extra[extra] @ query[0]).tolist())
            return [(int(unit), float(score)) for unit, score in sorted(found, key=lambda item: -item[1])[:limit]]
        if self._graph is not None:
            scores, positions = self._graph.index.search(query, min(limit, len(self._graph)), params=self._parameters)
            found += [(int(self._graph.nodes[p]), float(s)) for s, p in zip(scores[0], positions[0]) if p >= 0]
        if len(self._extra_ids):
            scores, positions = self._exact.search(query, min(limit, len(self._extra_ids)))
            found += [(int(self._extra_ids[p]), float(s)) for s, p in zip(scores[0], positions[0]) if p >= 0]
        return sorted(found, key=lambda item: -item[1])[:limit] if self._graph is not None else found

    def _current_graph(self, store: Store, manifest: dict, lender: "VectorIndex | None") -> Graph:
        """The saved graph, extended with the units it lacks when they are many, or rebuilt (and saved)
        when there is none, it is damaged, or too many of its nodes are deleted units."""
        stamp = graph_stamp(store.path.parent, manifest["encoder"])
        graph = open_graph(store, manifest, lender._graph if lender is not None else None)
        if graph is not None:
            added = self.ids[~np.isin(self.ids, graph.nodes)]
            masked = len(graph) - (len(self.ids) - len(added))
            if masked > self.MASKED_LIMIT * (len(graph) + len(added)):
                logger.info("vector index: %d of the graph's nodes are deleted units: rebuilding", masked)
            elif len(added) > self.ADDED_LIMIT * len(graph):
                with graph_lock(store, manifest["encoder"], wait=False) as mine:
                    if mine:  # else another process is saving it: searched exactly meanwhile
                        graph = extend_graph(store, graph, manifest, added,
                                             _vectors_of(store, self.encoder_name, self.dim, added, lender))
                return graph
            else:
                if len(added) or masked:
                    logger.info("vector index: %d vectors added since the graph was saved (searched exactly "
                                "beside it), %d nodes masked", len(added), masked)
                return graph
        with graph_lock(store, manifest["encoder"], wait=True):
            if graph_stamp(store.path.parent, manifest["encoder"]) != stamp:  # another process saved one meanwhile
                saved = open_graph(store, manifest)
                if saved is not None and np.isin(self.ids, saved.nodes).all() \
                        and len(saved) - len(self.ids) <= self.MASKED_LIMIT * len(saved):
                    return saved
            return build_graph(store, manifest, self.ids, _vectors_of(store, self.encoder_name, self.dim, self.ids, lender))


def _embedded_units(store: Store, encoder_name: str, lender: VectorIndex | None) -> np.ndarray:
    """The ids of the store's units that have a vector, in order. With `lender`, only the units it does
    not hold are looked up in the embedding cache (a cached vector is never removed, and a unit's text
    never changes under its id)."""
    if lender is None:
        return np.array(store.embedded_unit_ids(encoder_name), dtype=np.int64)
    present = np.array(store.unit_ids(), dtype=np.int64)
    known = np.isin(present, lender.ids)
    embedded = store.embedded_unit_ids(encoder_name, present[~known].tolist())
    if not embedded:
        return present[known]
    return np.sort(np.concatenate([present[known], np.array(embedded, dtype=np.int64)]))


def _vectors_of(store: Store, encoder_name: str, dim: int, ids: np.ndarray, lender: VectorIndex | None) -> np.ndarray:
    """The cached vectors of the units `ids` (sorted), those `lender` holds in memory taken from it."""
    matrix = np.empty((len(ids), dim), dtype=np.float32)
    missing = np.ones(len(ids), dtype=bool)
    if lender is not None and len(lender._extra_ids) and len(ids):
        at = np.minimum(np.searchsorted(lender._extra_ids, ids), len(lender._extra_ids) - 1)
        held = lender._extra_ids[at] == ids
        matrix[held], missing = lender._extra[at[held]], ~held
    wanted = ids[missing].tolist()
    rows = store.vectors_of_units(encoder_name, wanted)
    if wanted:
        matrix[missing] = np.frombuffer(b"".join(rows[unit] for unit in wanted), dtype=np.float32).reshape(-1, dim)
    return matrix


def export_vectors(store: Store, encoder_name: str, path: Path) -> int:
    """Write the cached vectors of the store's units to an .npz (hashes, vectors, encoder); atomic."""
    rows = store.passage_vectors(encoder_name)
    vectors = np.stack([np.frombuffer(vector, dtype=np.float32) for _, vector in rows]) if rows else np.zeros((0, 0))
    write_atomically(path, lambda temporary: np.savez_compressed(
        temporary, hashes=np.array([h for h, _ in rows]), vectors=vectors.astype(np.float16),
        encoder=np.array(encoder_name)), suffix=".tmp.npz")
    return len(rows)


def import_vectors(store: Store, path: Path, encoder_name: str) -> int:
    """Load an exported vector cache for `encoder_name` (others are refused); returns rows added."""
    try:
        with Path(path).open("rb") as handle, np.load(handle) as data:
            encoder, hashes, vectors = str(data["encoder"]), data["hashes"], data["vectors"].astype(np.float32)
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise IndexFormatError(f"{path} 不是可读的向量文件（{error}）；请用 policykb embed --export 重新导出") from None
    if encoder != encoder_name:
        raise IndexFormatError(f"{path} 是编码器 {encoder} 的向量，不是 {encoder_name}；"
                               f"请用同一编码器重新导出，或运行 policykb embed --encoder … 重新生成")
    if vectors.ndim != 2 or len(vectors) != len(hashes):
        raise IndexFormatError(f"{path} 的向量与文本哈希数目不一致；请用 policykb embed --export 重新导出")
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return store.put_vectors(encoder_name, [(str(h), v.tobytes()) for h, v in zip(hashes, vectors)], overwrite=False)
