"""Ranking that knows places and levels: twins across levels, the deployment's locality, the relevance
floor and misspelt department names — on the seed, the national and Hubei plans and a State Council
document, with the shipped e5 vectors."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import CORPUS, PLANS, RULE_DOC, SEED, build_home
from index import Searcher, Store, ingest_paths
from index.dense import embed_missing, import_vectors
from index.encoders import load_encoder
from index.store import FORMAT_VERSION
from index.twins import TwinRule, shingles

SEED_ID = "武汉市减污降碳协同增效实施方案"
WATER = f"{SEED_ID}.s4.p12"  # 推进水环境治理协同控制 (污泥处置), at three levels
HUBEI_WATER, NATIONAL_WATER = "鄂环发-2022-33.s4.p11", "环综合-2022-42.s5.p14"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return build_home(tmp_path_factory.mktemp("ranking"), [SEED, *PLANS, RULE_DOC])


@pytest.fixture(scope="module")
def store(home):
    with Store.open(home) as opened:
        yield opened


@pytest.fixture(scope="module")
def encoder():
    return load_encoder("e5")


def test_the_same_measure_at_three_levels_is_linked_when_stored(store):
    twins = {link.clause_id: link for link in store.twins([WATER])[WATER]}
    assert set(twins) == {HUBEI_WATER, NATIONAL_WATER}
    assert twins[NATIONAL_WATER].level == "national" and 0.1 <= twins[NATIONAL_WATER].similarity < 1
    assert WATER in {link.clause_id for link in store.twins([HUBEI_WATER])[HUBEI_WATER]}  # both directions
    # Only measures: the signature block and the notice are never twins, and a State Council document on
    # another subject shares no measure with the plans.
    linked = store._connection.execute("SELECT DISTINCT clause_id FROM twins").fetchall()
    assert not [clause for (clause,) in linked if clause.endswith((".signature", ".notice")) or "国发-2019-3" in clause]


def test_the_twin_rule_tells_a_rewritten_measure_from_one_shared_sentence():
    rule = TwinRule()
    measure = "推进水环境治理协同控制。大力推进污水资源化利用，提高工业用水效率，推进污水处理厂节能降耗，推动污泥处置资源化利用。"
    rewritten = measure.replace("推进污水处理厂节能降耗", "优化污水处理设施能耗").replace("大力", "积极")
    other = "加强固体废物污染防治。推进污泥处置资源化利用，统筹建设危险废物集中处置设施，提升综合利用水平。"
    assert rule.similarity(shingles(measure), shingles(rewritten), same_level=False) is not None
    assert rule.similarity(shingles(measure), shingles(other), same_level=False) is None
    assert rule.similarity(shingles(measure), shingles(rewritten), same_level=True) is None  # same level: near-identical only


def test_deleting_a_document_removes_its_twin_links(tmp_path):
    home = build_home(tmp_path / "home", [SEED, *PLANS], vectors=False)
    with Store.open(home) as store:
        assert store.twins([WATER])
        store.delete_document("鄂环发-2022-33")
        assert {link.clause_id for link in store.twins([WATER])[WATER]} == {NATIONAL_WATER}
        connection = store._connection  # no band key is left pointing at a deleted clause
        assert not connection.execute("SELECT 1 FROM twin_bands b LEFT JOIN twin_clauses t ON t.id = b.clause "
                                      "WHERE t.id IS NULL").fetchall()
        assert not connection.execute("SELECT 1 FROM twin_clauses t JOIN clauses c ON c.id = t.clause_id "
                                      "WHERE c.doc_id = '鄂环发-2022-33'").fetchall()


def test_a_format_3_store_finds_its_twins_when_opened(tmp_path):
    home = build_home(tmp_path / "home", [SEED, *PLANS], vectors=False)
    with sqlite3.connect(home / "policykb.sqlite3") as connection:  # as a store written before twins
        seed_unit, simplified = connection.execute("SELECT id, passage FROM units WHERE clause_id = ?", (WATER,)).fetchone()
        connection.execute("UPDATE units SET passage = ? WHERE id = ?", ("武漢市減污降碳" + simplified[7:], seed_unit))
        connection.execute("UPDATE units_fts SET tokens = '武漢市 減污' WHERE rowid = ?", (seed_unit,))
        connection.execute("DELETE FROM twins")
        connection.execute("DELETE FROM twin_bands")
        connection.execute("DELETE FROM twin_clauses")
        connection.execute("UPDATE meta SET value = '3' WHERE key = 'format_version'")
    with Store.open(home) as store:
        assert {link.clause_id for link in store.twins([WATER])[WATER]} == {HUBEI_WATER, NATIONAL_WATER}
        assert store._connection.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()[0] == str(FORMAT_VERSION)
        # Passages stored as printed (Traditional) get their Simplified matching copy, and BM25 its tokens.
        passage, = store._connection.execute("SELECT passage FROM units WHERE id = ?", (seed_unit,)).fetchone()
        tokens, = store._connection.execute("SELECT tokens FROM units_fts WHERE rowid = ?", (seed_unit,)).fetchone()
        assert passage == simplified and "武汉市" in tokens and "減" not in tokens


def test_twins_are_one_result_with_their_levels(store, encoder):
    hits = Searcher(store, encoder).search("污泥处置资源化利用谁牵头", k=10)
    shown = [hit.clause_id for hit in hits]
    grouped = [twin.clause_id for hit in hits for twin in hit.twins]
    assert not set(shown) & set(grouped), "a clause is a result of its own and a twin of another"
    water = next(hit for hit in hits if WATER in {hit.clause_id, *(twin.clause_id for twin in hit.twins)})
    members = {water.clause_id, *(twin.clause_id for twin in water.twins)}
    assert members == {WATER, HUBEI_WATER, NATIONAL_WATER}
    assert [twin.level for twin in water.twins] == sorted((twin.level for twin in water.twins), key=lambda level: level.rank)
    assert {twin.place for twin in water.twins} <= {"全国", "湖北省", "武汉市"}


def test_the_deployments_locality_shows_its_own_measure_first(store, encoder):
    question = "污水处理厂节能降耗和污泥处置怎么推进"  # names no place
    local = Searcher(store, encoder, locality="武汉市").search(question, k=5)
    assert local[0].clause_id == WATER and {twin.clause_id for twin in local[0].twins} == {HUBEI_WATER, NATIONAL_WATER}
    # A place named in the question wins over the deployment's own.
    named = Searcher(store, encoder, locality="武汉市").search("湖北省" + question, k=5)
    assert named[0].clause_id == HUBEI_WATER


def test_a_question_the_collection_cannot_answer_gets_no_clause(store, encoder):
    searcher = Searcher(store, encoder)
    assert searcher.find("驾驶证到期了怎么换证", k=10).hits == ()  # no word of it occurs anywhere
    # Its words occur but carry no weight there; the year asked about is in no result (plans to 2025).
    for question in ("武汉地铁末班车几点", "2035年煤炭占能源消费的比重要降到多少"):
        outcome = searcher.find(question, k=10)
        assert outcome.hits == () and outcome.relevance is not None, question
        assert outcome.closest, "the closest documents are offered apart"
    # It asks for an amount of a kind (a fine, a time limit) that none of the first results states.
    for question in ("建筑垃圾乱倒被抓到罚多少钱", "固体废物跨省转移审批要多久"):
        assert searcher.find(question, k=10).hits == (), question
    # …and stated in Traditional (「10萬畝」), or a unit that is part of another word (天然气), it answers.
    assert searcher.find("武汉到2025年要植树造林多少亩", k=10).hits[0].clause_id == f"{SEED_ID}.s3.p10"
    assert searcher.find("到2025年武汉一年要用多少天然气", k=10).hits
    answered = searcher.find("谁负责污泥处置？", k=10)
    assert answered.hits and answered.relevance.coverage >= searcher.floor.floor.needed(answered.relevance)
    # Department questions are structured matches: never cut, however few words they share.
    assert searcher.find("市水务局负责哪些任务", k=10).hits


def test_the_coverage_that_answers_depends_on_what_was_found():
    from index.relevance import Floor, Relevance

    floor = Floor(0.24, {"e5": 0.91}, lenient=0.1)
    plan_measure = Relevance(0.2, 0.88)
    assert not floor.admits(plan_measure, "e5:small")  # a plan's measure holds too little of the question
    assert floor.admits(Relevance(0.2, 0.88, law=True), "e5:small")  # a law's article: everyday words
    assert floor.admits(Relevance(0.2, 0.88, worded=False), "e5:small")  # found by its vector alone
    assert floor.admits(Relevance(0.2, 0.92), "e5:small") and not floor.admits(Relevance(0.05, 0.88, law=True), None)
    assert Floor(0.1).needed(Relevance(0.0, None, law=True)) == 0.1  # no lenient floor: the one floor


def test_a_misspelt_department_name_gets_a_suggestion(store, encoder):
    outcome = Searcher(store, encoder).find("市水物局负责哪些任务", k=5)
    assert outcome.suggestions == (("市水物局", "市水务局"),)
    assert Searcher(store, encoder).find("市水务局负责哪些任务", k=5).suggestions == ()


# -- the ranking question set: a gate on its recorded scores ----------------------------------------

TOLERANCE = 0.02


@pytest.fixture(scope="module")
def ranking(shared, tmp_path_factory):
    """The ranking set over the bundled corpus and the 2026 work reports (../shared), shipped e5 vectors."""
    from eval.ranking import evaluate_ranking
    from eval.run import CACHE

    with Store.open(tmp_path_factory.mktemp("ranking-set")) as store:
        ingest_paths(store, [CORPUS, shared / "corpus" / "gov_work_reports_2026"])
        encoder = load_encoder("e5")
        for cache in ("e5-bundled.npz", "e5-reports-2026.npz"):
            import_vectors(store, CACHE / cache, encoder.name)
        assert embed_missing(store, encoder) <= 20, "the vector caches are stale: see eval/README.md"
        yield evaluate_ranking(store, encoder, ("bm25", "hybrid"))


def test_ranking_set_holds_its_recorded_scores(ranking):
    from eval.run import RESULTS

    record = json.loads((RESULTS / "ranking.json").read_text(encoding="utf-8"))["systems"]
    for system, localities in ranking.items():
        for locality, splits in localities.items():
            for kind, scores in splits["all"].items():
                for metric, value in scores.items():
                    recorded = record[system][locality]["all"][kind][metric]
                    worse = value > recorded + TOLERANCE if metric == "lost" else value < recorded - TOLERANCE
                    assert not worse, (system, locality, kind, metric, value, recorded)
    hybrid = ranking["hybrid"]
    assert hybrid["武汉市"]["all"]["asked"]["local@1"] >= 0.85  # the local clause first with POLICYKB_LOCALITY
    assert all(hybrid[locality]["all"][kind]["lost"] == 0 for locality in hybrid for kind in ("asked", "named"))
