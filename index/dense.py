"""Dense vectors: the embedding cache in the store, and the faiss index built from it.

Vectors are cached by (encoder name, passage hash) in the store's `embeddings` table, so unchanged
text is never embedded twice, a new version of a document embeds only its changed units, and a
rebuild of the faiss index never re-embeds. `embed_missing` is resumable: it commits after each
batch. `VectorIndex` is exact for small collections and an HNSW graph saved beside the store for
large ones (see its docstring); either way it holds only units of the current store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from pathlib import Path
from typing import Callable

import faiss
import numpy as np

from ingest.errors import IndexFormatError

from .encoders import Encoder
from .files import write_atomically
from .store import Store, StoreVersion

logger = logging.getLogger(__name__)


def missing_units(store: Store, encoder_name: str) -> list[tuple[str, str]]:
    """(passage hash, passage) of units whose passage has no cached vector for this encoder."""
    return store.connection.execute(
        "SELECT DISTINCT u.passage_hash, u.passage FROM units u LEFT JOIN embeddings e "
        "ON e.passage_hash = u.passage_hash AND e.encoder = ? WHERE e.vector IS NULL ORDER BY u.id",
        (encoder_name,)).fetchall()


def has_vectors(store: Store, encoder_name: str) -> bool:
    """Whether any vector of this encoder is cached (cheap: no passage is read)."""
    return store.connection.execute("SELECT EXISTS (SELECT 1 FROM embeddings WHERE encoder = ?)",
                                    (encoder_name,)).fetchone()[0] == 1


def vectors_mark(store: Store) -> int:
    """A number that grows whenever vectors are cached (of any encoder): a service's follower compares it."""
    return store.connection.execute("SELECT COALESCE(MAX(rowid), 0) FROM embeddings").fetchone()[0]


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
        with store.transaction() as connection:
            connection.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", [
                (encoder.name, passage_hash, vector.astype(np.float32).tobytes())
                for (passage_hash, _), vector in zip(batch, vectors)])
        if on_batch:
            on_batch(min(start + batch_size, len(todo)), len(todo))
    return len(todo)


class VectorIndex:
    """Inner-product search over the units that have a cached vector for `encoder_name`.

    Up to `EXACT_LIMIT` vectors the index is exact (IndexFlatIP, built in memory at open: a scan of
    100k × 384 floats costs ≈ 15 ms here). Above it, an HNSW graph (M = 32, efSearch = 128) answers
    in about a millisecond; building it takes minutes, so it is saved as `vectors-<encoder>.faiss`
    beside the store with the unit id of each graph node (`.ids.npy`) and a manifest (format,
    encoder, dimension, count, both files' sha256, the store's identity and version), each written to
    a temporary file and renamed, and rebuilt when unreadable or when the store's history does not
    hold that version (a store restored from a backup hands its unit ids out again). It is updated,
    not rebuilt, when units change: vectors of units added since are appended to the graph (unit ids
    are never reused), nodes of deleted units are masked out of searches, and the graph is rebuilt
    only once masked nodes reach `MASKED_LIMIT` of it. Filtered searches always scan the allowed units
    exactly.
    """

    EXACT_LIMIT = 50_000
    FORMAT_VERSION = 2
    MASKED_LIMIT = 0.2

    def __init__(self, store: Store, encoder_name: str, dim: int, *, exact_limit: int | None = None) -> None:
        rows = store.connection.execute(
            "SELECT u.id, e.vector FROM units u JOIN embeddings e ON e.passage_hash = u.passage_hash "
            "AND e.encoder = ? ORDER BY u.id", (encoder_name,)).fetchall()
        self.ids = np.array([unit_id for unit_id, _ in rows], dtype=np.int64)
        self.matrix = (np.frombuffer(b"".join(vector for _, vector in rows), dtype=np.float32).reshape(-1, dim)
                       if rows else np.zeros((0, dim), dtype=np.float32))
        limit = self.EXACT_LIMIT if exact_limit is None else exact_limit
        self._nodes, self._parameters = self.ids, None  # graph node → unit id; search parameters
        if len(rows) <= limit:
            self.kind, self._index = "flat", faiss.IndexFlatIP(dim)
            self._index.add(self.matrix)
        else:
            self.kind = "hnsw"
            manifest = {"format": self.FORMAT_VERSION, "encoder": encoder_name, "dim": dim, "kind": "hnsw"}
            self._index, self._nodes = _saved_hnsw(store, manifest, self.ids, self.matrix, self.MASKED_LIMIT)
            live = np.isin(self._nodes, self.ids)
            if not live.all():  # nodes of deleted units: never returned (the bitmap must outlive searches)
                self._live_bits = np.packbits(live, bitorder="little")
                self._parameters = faiss.SearchParametersHNSW(
                    sel=faiss.IDSelectorBitmap(len(live), faiss.swig_ptr(self._live_bits)), efSearch=128)
        logger.info("vector index (%s): %d of the store's units have %s vectors", self.kind, len(rows), encoder_name)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: np.ndarray, limit: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """(unit id, cosine) best first; with `allowed`, an exact scan of just those units."""
        if not len(self.ids) or limit <= 0:
            return []
        query = query.reshape(1, -1).astype(np.float32)
        if allowed is not None:
            positions = np.flatnonzero(np.isin(self.ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed))))
            scores = self.matrix[positions] @ query[0]
            best = np.argsort(-scores)[:limit]
            return [(int(self.ids[positions[i]]), float(scores[i])) for i in best]
        scores, positions = self._index.search(query, min(limit, len(self.ids)), params=self._parameters)
        return [(int(self._nodes[p]), float(s)) for s, p in zip(scores[0], positions[0]) if p >= 0]


def _saved_hnsw(store: Store, manifest: dict, ids: np.ndarray, matrix: np.ndarray,
                masked_limit: float) -> tuple[faiss.Index, np.ndarray]:
    """(graph, unit id of each node) for the units `ids` with vectors `matrix`: the saved graph with the
    vectors of units added since appended (and saved again), or a new graph built and saved when there
    is none that matches the manifest, its checksums and the store's history, or when too many of its
    nodes are deleted units."""
    folder, version = store.path.parent, store.version()
    manifest = {**manifest, "store_id": version.store_id}
    key = hashlib.sha256(manifest["encoder"].encode()).hexdigest()[:12]
    path, nodes_path = folder / f"vectors-{key}.faiss", folder / f"vectors-{key}.ids.npy"
    manifest_path = folder / f"vectors-{key}.json"
    if path.exists() and manifest_path.exists():
        try:
            saved = json.loads(manifest_path.read_text())
            checksums = saved.pop("sha256", None), saved.pop("ids_sha256", None)
            count, at = saved.pop("count", None), saved.pop("at", None)
            if saved != manifest:
                logger.info("vector index is stale: rebuilding %s", path.name)
            elif not isinstance(at, list) or not store.has_version(StoreVersion(manifest["store_id"], int(at[0]),
                                                                                str(at[1]))):
                logger.warning("rebuilding %s: it was saved for another history of this store (restored from a "
                               "backup?)", path.name)
            elif checksums != (_file_sha256(path), _file_sha256(nodes_path)):
                logger.warning("rebuilding %s: the file does not match its checksum (truncated or corrupted)", path.name)
            else:
                index = faiss.read_index(str(path))
                with nodes_path.open("rb") as handle:
                    nodes = np.load(handle)
                if index.ntotal != count or len(nodes) != count:
                    raise ValueError(f"it holds {index.ntotal} vectors and {len(nodes)} ids, its manifest says {count}")
                index.hnsw.efSearch = 128
                added = ~np.isin(ids, nodes)
                masked = count - (len(ids) - int(added.sum()))
                if masked <= masked_limit * (count + added.sum()):
                    if added.any():
                        logger.info("vector index %s: %d vectors added, %d nodes masked", path.name, added.sum(), masked)
                        index.add(matrix[added])
                        nodes = np.concatenate([nodes, ids[added]])
                        _save_hnsw(index, nodes, manifest, version, path, nodes_path, manifest_path)
                    return index, nodes
                logger.info("vector index %s: %d of its nodes are deleted units: rebuilding", path.name, masked)
        except (OSError, ValueError, RuntimeError, AttributeError) as error:
            logger.warning("rebuilding %s: %s", path.name, error)
    logger.info("building HNSW index %s (%d vectors)", path.name, len(ids))
    index = faiss.IndexHNSWFlat(matrix.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.add(matrix)
    index.hnsw.efSearch = 128
    _save_hnsw(index, ids, manifest, version, path, nodes_path, manifest_path)
    return index, ids


def _save_hnsw(index: faiss.Index, nodes: np.ndarray, manifest: dict, version: StoreVersion, path: Path,
               nodes_path: Path, manifest_path: Path) -> None:
    """The graph and its node ids first, then the manifest naming their checksums and the store version
    they hold: a crash in between leaves a manifest that does not match, and the next open rebuilds."""
    write_atomically(path, lambda temporary: faiss.write_index(index, str(temporary)))
    write_atomically(nodes_path, lambda temporary: np.save(temporary, nodes), suffix=".tmp.npy")
    saved = {**manifest, "count": int(index.ntotal), "sha256": _file_sha256(path), "ids_sha256": _file_sha256(nodes_path),
             "at": [version.data_version, version.token]}
    write_atomically(manifest_path, lambda temporary: temporary.write_text(json.dumps(saved)))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def export_vectors(store: Store, encoder_name: str, path: Path) -> int:
    """Write the cached vectors of the store's units to an .npz (hashes, vectors, encoder); atomic."""
    rows = store.connection.execute(  # IN (subquery): one pass over units, not one per cached vector
        "SELECT e.passage_hash, e.vector FROM embeddings e WHERE e.encoder = ? "
        "AND e.passage_hash IN (SELECT passage_hash FROM units) ORDER BY e.passage_hash", (encoder_name,)).fetchall()
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
    rows = [(encoder_name, str(h), v.tobytes()) for h, v in zip(hashes, vectors)]
    with store.transaction() as connection:
        before = connection.total_changes
        connection.executemany("INSERT OR IGNORE INTO embeddings VALUES (?, ?, ?)", rows)
        return connection.total_changes - before
