"""ingest: read policy documents and laws into clauses, tasks and responsible departments.

Imports nothing else of policykb. `read_source` reads a file into paragraphs; `parse_document`
turns them into a `Document`; `ingest_file` does both.
"""

from .errors import InputError, ParseError, PolicyKBError
from .parse import parse_document
from .readers import DEFAULT_MAX_BYTES, read_source
from .records import Citation, Clause, Document, Level, Responsibility, Role, SourceText, Target, Task


def ingest_file(path, *, overrides=None, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Read and parse one file; raises an `InputError` or `ParseError` naming the file."""
    return parse_document(read_source(path, max_bytes=max_bytes), overrides)


__all__ = [
    "Citation", "Clause", "Document", "InputError", "Level", "ParseError", "PolicyKBError", "Responsibility", "Role",
    "SourceText", "Target", "Task", "ingest_file", "parse_document", "read_source",
]
