"""The saved HNSW graph of a large vector index (dense.VectorIndex): files beside the store, memory-mapped.

    vectors-<key>.json                    manifest: format, encoder, dimension, kind, store id, node count,
                                          generation, both files' sha256, the store version it was saved at
    vectors-<key>-<generation>.faiss      the graph (faiss IndexHNSWFlat, M = 32)
    vectors-<key>-<generation>.ids.npy    the unit id of each node

A generation's files are written first, each to a temporary name and renamed, then the manifest names
them, so a process opening the graph while another saves the next reads one generation whole; files of
generations older than the one replaced are removed. (A manifest without a generation names format 2's
files, `vectors-<key>.faiss` and `.ids.npy`, read as they are.) Opened with faiss's IO_FLAG_MMAP_IFC, the
graph's vectors stay in the page cache, one copy for every process serving the store (the links are
read into memory); its node ids are a memory-mapped array. The checksums are verified once per
generation: the index of the next snapshot takes the graph of the previous one while the manifest is
the file it was read from. A mapped graph cannot grow: `extend_graph` adds vectors to a private copy and saves
it as the next generation. One process at a time builds or extends a store's graph (a file lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import faiss
import numpy as np

from .files import file_sha256, write_atomically
from .store import Store, StoreVersion

logger = logging.getLogger(__name__)
EF_SEARCH, EF_CONSTRUCTION, LINKS = 128, 80, 32


@dataclass(frozen=True)
class Graph:
    index: faiss.Index  # read-only when mapped: never add to it
    nodes: np.ndarray  # node → unit id
    generation: str  # of the files it was read from ("" for format 2's names)
    vectors: np.ndarray  # node → vector, a view of the index's storage
    stamp: tuple[int, int, int] | None  # the manifest's (graph_stamp) when it was read

    def __len__(self) -> int:
        return len(self.nodes)


def graph_key(encoder_name: str) -> str:
    return hashlib.sha256(encoder_name.encode()).hexdigest()[:12]


def graph_stamp(folder: Path, encoder_name: str) -> tuple[int, int, int] | None:
    """The manifest's inode, modification time and size: it changes when a graph is saved."""
    try:
        status = (folder / f"vectors-{graph_key(encoder_name)}.json").stat()
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


def graph_files(folder: Path, encoder_name: str) -> tuple[Path, ...]:
    """The files of the graph saved for `encoder_name` now: the graph, its node ids, the manifest."""
    key = graph_key(encoder_name)
    manifest_path = folder / f"vectors-{key}.json"
    if not manifest_path.exists():
        return ()
    return (*_paths(folder, key, _saved_generation(manifest_path)), manifest_path)


def open_graph(store: Store, manifest: dict, previous: Graph | None = None) -> Graph | None:
    """The saved graph that matches `manifest` and the store's history (`previous` when the manifest
    still names its generation); None when there is none or it is stale or damaged (logged)."""
    folder, key = store.path.parent, graph_key(manifest["encoder"])
    manifest_path, stamp = folder / f"vectors-{key}.json", graph_stamp(folder, manifest["encoder"])
    if stamp is None:
        return None
    try:
        saved = json.loads(manifest_path.read_text())
        checksums = saved.pop("sha256", None), saved.pop("ids_sha256", None)
        count, at, generation = saved.pop("count", None), saved.pop("at", None), saved.pop("generation", "")
        path, nodes_path = _paths(folder, key, str(generation))
        if saved != manifest:
            logger.info("vector index is stale: rebuilding %s", path.name)
            return None
        if not isinstance(at, list) or not store.has_version(StoreVersion(manifest["store_id"], int(at[0]), str(at[1]))):
            logger.warning("rebuilding %s: it was saved for another history of this store (restored from a backup?)",
                           path.name)
            return None
        if previous is not None and previous.stamp == stamp and previous.generation == generation:
            return previous  # the same files, checked when they were opened
        if checksums != (file_sha256(path), file_sha256(nodes_path)):
            logger.warning("rebuilding %s: the file does not match its checksum (truncated or corrupted)", path.name)
            return None
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        nodes = np.load(nodes_path, mmap_mode="r", allow_pickle=False)
        if index.ntotal != count or len(nodes) != count:
            raise ValueError(f"it holds {index.ntotal} vectors and {len(nodes)} ids, its manifest says {count}")
    except (OSError, ValueError, RuntimeError, AttributeError, KeyError, TypeError) as error:
        logger.warning("rebuilding the vector index of %s: %s", manifest_path.name, error)
        return None
    index.hnsw.efSearch = EF_SEARCH
    return Graph(index, nodes, str(generation), _storage(index), stamp)


def build_graph(store: Store, manifest: dict, ids: np.ndarray, matrix: np.ndarray) -> Graph:
    """A new graph of `matrix` (rows: the units `ids`), saved and opened mapped."""
    logger.info("building HNSW index %s (%d vectors)", f"vectors-{graph_key(manifest['encoder'])}", len(ids))
    index = faiss.IndexHNSWFlat(matrix.shape[1], LINKS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    index.add(matrix)
    return _save(store, manifest, index, ids)


def extend_graph(store: Store, graph: Graph, manifest: dict, ids: np.ndarray, matrix: np.ndarray) -> Graph:
    """`graph` with the vectors `matrix` of the units `ids` added (to a private copy), saved as the next
    generation and opened mapped."""
    path, _ = _paths(store.path.parent, graph_key(manifest["encoder"]), graph.generation)
    index = faiss.read_index(str(path))
    index.add(matrix)
    logger.info("vector index %s: %d vectors added to the graph", path.name, len(ids))
    return _save(store, manifest, index, np.concatenate([np.asarray(graph.nodes), ids]))


@contextlib.contextmanager
def graph_lock(store: Store, encoder_name: str, *, wait: bool) -> Iterator[bool]:
    """Held while this process builds or extends the graph; yields False when another process holds it
    and `wait` is false."""
    path = store.path.parent / f"vectors-{graph_key(encoder_name)}.lock"
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _save(store: Store, manifest: dict, index: faiss.Index, nodes: np.ndarray) -> Graph:
    """The graph and its node ids under a new generation, then the manifest naming their checksums and the
    store version they hold: a crash in between leaves the previous manifest, naming the previous files."""
    folder, key, version = store.path.parent, graph_key(manifest["encoder"]), store.version()
    manifest_path, generation = folder / f"vectors-{key}.json", secrets.token_hex(6)
    path, nodes_path = _paths(folder, key, generation)
    write_atomically(path, lambda temporary: faiss.write_index(index, str(temporary)))
    write_atomically(nodes_path, lambda temporary: np.save(temporary, nodes.astype(np.int64)), suffix=".tmp.npy")
    replaced = _saved_generation(manifest_path)
    saved = {**manifest, "count": int(index.ntotal), "generation": generation, "sha256": file_sha256(path),
             "ids_sha256": file_sha256(nodes_path), "at": [version.data_version, version.token]}
    write_atomically(manifest_path, lambda temporary: temporary.write_text(json.dumps(saved)))
    for old in [*folder.glob(f"vectors-{key}-*.faiss"), *folder.glob(f"vectors-{key}-*.ids.npy")]:
        if old.name.removeprefix(f"vectors-{key}-").split(".", 1)[0] not in (generation, replaced):
            old.unlink(missing_ok=True)
    if replaced:  # format 2's names are older than the generation replaced: nobody opens them now
        for legacy in _paths(folder, key, ""):
            legacy.unlink(missing_ok=True)
    opened = open_graph(store, manifest)
    if opened is None:
        raise ValueError(f"{path.name} could not be read back after it was written")
    return opened


def _paths(folder: Path, key: str, generation: str) -> tuple[Path, Path]:
    stem = f"vectors-{key}-{generation}" if generation else f"vectors-{key}"
    return folder / f"{stem}.faiss", folder / f"{stem}.ids.npy"


def _saved_generation(manifest_path: Path) -> str:
    try:
        return str(json.loads(manifest_path.read_text()).get("generation", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def _storage(index: faiss.Index) -> np.ndarray:
    """The graph's vectors as an array (no copy: the mapped file's pages)."""
    storage = faiss.downcast_index(index.storage)
    return faiss.rev_swig_ptr(storage.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)

