-- policykb store, format 5 (older stores are migrated on open: format 2 → 3, tasks gained kind and deadline; 3 → 4, twins;
-- 4 → 5, validity: documents.validity, document_changes, validity_marks; replaced versions' clauses). SQLite in WAL mode; the source of truth for every derived index.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, doc_number TEXT NOT NULL, issuers TEXT NOT NULL,
    date TEXT NOT NULL, level TEXT NOT NULL, source TEXT NOT NULL, sha256 TEXT NOT NULL,
    script TEXT NOT NULL, format TEXT NOT NULL, encoding TEXT NOT NULL, addressees TEXT NOT NULL,
    ingested_at TEXT NOT NULL, validity TEXT NOT NULL DEFAULT 'unknown'
);
CREATE INDEX IF NOT EXISTS documents_sha256 ON documents (sha256);
-- The older documents a document repeals or amends (validity 'repealed' or 'amended'), named by title as printed.
CREATE TABLE IF NOT EXISTS document_changes (
    doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE, ordinal INTEGER NOT NULL,
    title TEXT NOT NULL, validity TEXT NOT NULL, PRIMARY KEY (doc_id, ordinal)
);
-- Validity set by staff (PUT /api/documents/{id}/validity): wins over the text; kept when a new version
-- replaces the document (no foreign key), removed with the document.
CREATE TABLE IF NOT EXISTS validity_marks (
    doc_id TEXT PRIMARY KEY, validity TEXT NOT NULL, actor TEXT NOT NULL, marked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS clauses (
    id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, kind TEXT NOT NULL, number TEXT NOT NULL, path TEXT NOT NULL,
    heading_path TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL, topics TEXT NOT NULL,
    measures TEXT NOT NULL, targets TEXT NOT NULL, citations TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS clauses_doc ON clauses (doc_id, ordinal);
CREATE TABLE IF NOT EXISTS tasks (
    clause_id TEXT NOT NULL REFERENCES clauses (id) ON DELETE CASCADE, ordinal INTEGER NOT NULL,
    text TEXT NOT NULL, marker TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'paren',
    deadline TEXT NOT NULL DEFAULT '', PRIMARY KEY (clause_id, ordinal)
);
-- One row per department of a task (task_ordinal >= 0) or inherited by a clause (task_ordinal = -1).
CREATE TABLE IF NOT EXISTS responsibilities (
    clause_id TEXT NOT NULL REFERENCES clauses (id) ON DELETE CASCADE, task_ordinal INTEGER NOT NULL,
    ordinal INTEGER NOT NULL, name TEXT NOT NULL, canonical TEXT NOT NULL, role TEXT NOT NULL,
    basis TEXT NOT NULL, level TEXT NOT NULL, includes TEXT NOT NULL,
    PRIMARY KEY (clause_id, task_ordinal, ordinal)
);
CREATE INDEX IF NOT EXISTS responsibilities_canonical ON responsibilities (canonical, role);
CREATE TABLE IF NOT EXISTS aliases (
    alias TEXT NOT NULL, canonical TEXT NOT NULL,
    doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    PRIMARY KEY (alias, canonical, doc_id)
);
-- Retrieval units: one per task, or one per clause without tasks (task_ordinal = -1).
CREATE TABLE IF NOT EXISTS units (
    id INTEGER PRIMARY KEY, clause_id TEXT NOT NULL REFERENCES clauses (id) ON DELETE CASCADE,
    task_ordinal INTEGER NOT NULL, doc_id TEXT NOT NULL, passage TEXT NOT NULL, passage_hash TEXT NOT NULL,
    UNIQUE (clause_id, task_ordinal)
);
CREATE INDEX IF NOT EXISTS units_doc ON units (doc_id);
-- BM25 over jieba tokens (space-joined); rowid = units.id. Rows are deleted with their document.
CREATE VIRTUAL TABLE IF NOT EXISTS units_fts USING fts5 (tokens, tokenize = 'unicode61 remove_diacritics 0');
-- Embedding cache by (encoder, passage hash): unchanged text is never embedded twice.
CREATE TABLE IF NOT EXISTS embeddings (
    encoder TEXT NOT NULL, passage_hash TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (encoder, passage_hash)
);
-- Every replacement of a stored document by another version: who asked, when, and what was replaced.
-- Kept after the document is deleted (no foreign key): it is the record of what the store held.
CREATE TABLE IF NOT EXISTS replacements (
    doc_id TEXT NOT NULL, replaced_at TEXT NOT NULL, actor TEXT NOT NULL, old_sha256 TEXT NOT NULL,
    old_title TEXT NOT NULL, new_sha256 TEXT NOT NULL, new_title TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS replacements_doc ON replacements (doc_id, replaced_at);
-- The clauses of the version a replacement replaced (replacements.rowid): the document's history, which
-- index/versions.py compares clause by clause. Kept like the replacements.
CREATE TABLE IF NOT EXISTS replaced_clauses (
    replacement INTEGER NOT NULL, ordinal INTEGER NOT NULL, clause_id TEXT NOT NULL, number TEXT NOT NULL,
    title TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (replacement, ordinal)
);
-- The store's history: one row per data version (meta.data_version), with a random token. Derived
-- files name the version they were saved at; a version missing here or with another token is not ours.
CREATE TABLE IF NOT EXISTS versions (version INTEGER PRIMARY KEY, token TEXT NOT NULL);
-- Twins (twins.py): each measure clause's 32 MinHash band keys (in twin_clauses.bands, 8 bytes each,
-- and inverted in twin_bands), and the near-identical clauses of other documents it was found to
-- repeat, one row per direction. twin_store.py keeps them; they go with the clauses they name.
CREATE TABLE IF NOT EXISTS twin_clauses (
    id INTEGER PRIMARY KEY, clause_id TEXT NOT NULL UNIQUE REFERENCES clauses (id) ON DELETE CASCADE,
    bands BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS twin_bands (band INTEGER NOT NULL, clause INTEGER NOT NULL, PRIMARY KEY (band, clause))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS twins (
    clause_id TEXT NOT NULL REFERENCES clauses (id) ON DELETE CASCADE,
    twin_id TEXT NOT NULL REFERENCES clauses (id) ON DELETE CASCADE,
    similarity REAL NOT NULL, PRIMARY KEY (clause_id, twin_id)
);
CREATE INDEX IF NOT EXISTS twins_twin ON twins (twin_id);
