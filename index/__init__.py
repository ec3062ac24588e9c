"""index: the SQLite store of ingested documents, its BM25 and vector indexes, and clause search."""

from .dense import embed_missing
from .encoders import Encoder, load_encoder
from .ingestion import FileResult, expand_paths, ingest_file_into, ingest_paths
from .resolve import Resolution, resolve
from .search import Searcher, SearchFilters, SearchHit
from .store import Store

__all__ = ["Encoder", "FileResult", "Resolution", "SearchFilters", "SearchHit", "Searcher", "Store",
           "embed_missing", "expand_paths", "ingest_file_into", "ingest_paths", "load_encoder", "resolve"]
