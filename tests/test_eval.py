"""Quality gates: the policy question set on the bundled corpus, with the shipped e5 vector cache.

The recorded scores are `eval/results/policy.json` (written by `policykb eval --record`; a plain run
writes to its own folder and leaves them alone, or the gate would compare a run with itself). A score may not drop
more than TOLERANCE below its record; hybrid must beat both BM25 and dense. The cache holds float16
vectors, so dense scores can differ from a fresh float32 run in the last digits, hence the tolerance.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import CORPUS, SEED, build_home
from eval.metrics import mrr_at, ndcg_at, recall_at
from eval.policy import evaluate, judged_clauses, load_questions, write_qrels, write_queries
from eval.run import CACHE, RESULTS, systems_for
from index import Store, ingest_paths
from index.dense import embed_missing, import_vectors
from index.encoders import E5Encoder
from search_api.cli import main

TOLERANCE = 0.02
RECORD = json.loads((RESULTS / "policy.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    with Store.open(tmp_path_factory.mktemp("eval")) as store:
        ingest_paths(store, [CORPUS])
        encoder = E5Encoder()
        import_vectors(store, CACHE / "e5-bundled.npz", encoder.name)
        assert embed_missing(store, encoder) <= 20, "the vector cache is stale: run policykb embed --export"
        yield evaluate(store, systems_for(store, encoder, ("bm25", "dense", "hybrid", "bigram")))


def test_question_set_is_large_and_mixed():
    questions = load_questions()
    assert len(questions) >= 200
    assert {q.type for q in questions} == {"para", "who", "target", "dept", "ref", "cross", "trad"}
    documents = {clause.split(".")[0] for q in questions for clause in q.relevant if not clause.startswith("dept:")}
    assert len(documents) >= 8


@pytest.mark.parametrize("system", ["bm25", "dense", "hybrid", "bigram"])
@pytest.mark.parametrize("metric", ["R@5", "MRR@10", "nDCG@10"])
def test_scores_do_not_drift_below_the_record(results, system, metric):
    recorded = RECORD["systems"][system]["clause"][metric]
    assert results[system]["clause"][metric] >= recorded - TOLERANCE, (system, metric, recorded)


def test_hybrid_beats_bm25_and_dense(results):
    for metric in ("R@5", "MRR@10"):
        assert results["hybrid"]["clause"][metric] > results["bm25"]["clause"][metric]
        assert results["hybrid"]["clause"][metric] > results["dense"]["clause"][metric]


def test_metrics_by_hand():
    ranked, relevant = ["a", "b", "c", "d"], {"b", "d", "z"}
    assert recall_at(ranked, relevant, 2) == pytest.approx(1 / 3)
    assert mrr_at(ranked, relevant) == pytest.approx(1 / 2)
    dcg = 1 / 1.5849625007211562 + 1 / 2.321928094887362
    ideal = 1 + 1 / 1.5849625007211562 + 1 / 2
    assert ndcg_at(ranked, relevant) == pytest.approx(dcg / ideal)


def test_trec_topics_and_qrels_match_the_question_set(tmp_path):
    # The TREC files beside the runs are generated: they must be what the question set says today.
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [CORPUS])
        write_qrels(store, tmp_path / "qrels.txt")
    write_queries(tmp_path / "queries.tsv")
    for name, recorded in (("qrels.txt", "policy-qrels.txt"), ("queries.tsv", "policy-queries.tsv")):
        assert (tmp_path / name).read_text(encoding="utf-8") == (RESULTS / recorded).read_text(encoding="utf-8")
    judged = {line.split()[0] for line in (RESULTS / "policy-qrels.txt").read_text(encoding="utf-8").splitlines()}
    assert judged == {q.qid for q in load_questions()}


def test_department_questions_expand_from_marker_text(tmp_path):
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [CORPUS / "seed"])
        (question,) = [q for q in load_questions() if q.qid == "p059"]
        clauses = judged_clauses(store, question)
        assert len(clauses) == 9 and all(".s" in clause for clause in clauses)


def test_department_attribution_against_hand_gold(tmp_path):
    from eval.attribution import evaluate_attribution

    recorded = json.loads((RESULTS / "attribution.json").read_text(encoding="utf-8"))
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [CORPUS / "seed"] + [CORPUS / "state_council" / name for name in
                     ("05_国发〔2019〕3号.txt", "39_国发〔2018〕39号.txt", "07_国办发〔2018〕128号.txt")])
        result = evaluate_attribution(store)
    assert result["gold"] >= 360 and len(result["documents"]) == 4
    assert result["lead"]["f1"] == 1.0 and result["support"]["f1"] == 1.0, (result["missed"], result["extra"])
    for role in ("all", "co", "inherited"):
        assert result[role]["f1"] >= recorded[role]["f1"] - TOLERANCE, role
    for doc_id, scores in recorded["by_document"].items():
        assert result["by_document"][doc_id]["f1"] >= scores["f1"] - TOLERANCE, doc_id


def test_eval_run_does_not_overwrite_the_recorded_baseline(tmp_path, monkeypatch, capsys):
    import eval.run

    def contents(folder: Path) -> dict[str, bytes]:
        return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}

    baseline = Path(shutil.copytree(RESULTS, tmp_path / "results"))  # a copy, so a regression spoils no record
    monkeypatch.setattr(eval.run, "RESULTS", baseline)
    recorded = contents(baseline)
    home = build_home(tmp_path / "home", [CORPUS], vectors=False)
    assert main(["--home", str(home), "eval", "--modes", "bm25,bigram"]) == 0
    assert main(["--home", str(home), "eval", "--set", "attribution"]) == 0
    assert contents(baseline) == recorded
    run = home / "eval"
    assert {"policy.json", "policy-qrels.txt", "runs/policy-bm25.trec", "attribution.json"} <= set(contents(run))
    assert "更新基线：policykb eval --record" in capsys.readouterr().out
    assert main(["--home", str(home), "eval", "--modes", "bm25", "--out", str(baseline)]) == 2
    assert "--record" in capsys.readouterr().err and contents(baseline) == recorded
    assert main(["--home", str(home), "eval", "--modes", "bm25", "--record"]) == 0
    assert set(json.loads((baseline / "policy.json").read_text(encoding="utf-8"))["systems"]) == {"bm25"}


def test_load_generator_drives_a_real_server(tmp_path, capsys):
    """`policykb load`: a `policykb serve` process on loopback, one client then several, bounded in time."""
    home = build_home(tmp_path / "home", [SEED])
    assert main(["--home", str(home), "load", "--seconds", "3", "--clients", "3", "--out", str(tmp_path)]) == 0
    [written] = tmp_path.glob("http-*.json")
    result = json.loads(written.read_text(encoding="utf-8"))
    assert result["mode"] == "hybrid" and result["in_process_search_with_encoder"]["p50_ms"] > 0
    for run, clients in (("http_one_client", 1), ("http_concurrent", 3)):
        assert result[run]["clients"] == clients and result[run]["errors"] == 0 and result[run]["requests"] > 5
        latency = result[run]["latency"]
        assert 0 < latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"]
    assert result["http_concurrent"]["seconds"] < 3 + 30  # bounded: the clients stop at the deadline
    assert '"http_concurrent"' in capsys.readouterr().out
