"""index: the SQLite store of ingested documents (and, later, the lexical and vector indexes)."""

from .ingestion import FileResult, expand_paths, ingest_file_into, ingest_paths
from .store import Store

__all__ = ["FileResult", "Store", "expand_paths", "ingest_file_into", "ingest_paths"]
