"""STARD over every article of ../shared/corpus/laws: the article names resolve, and BM25 keeps its record.

The dense and hybrid STARD runs need e5 vectors of ~50k articles (79 minutes on 2 cores), so they
are local commands (eval/README.md); this gate runs BM25 alone, a couple of minutes with the ingest.
"""

from __future__ import annotations

import json

import pytest

from eval.run import RESULTS, systems_for
from eval.stard import evaluate_stard, load_stard
from index import Store, ingest_paths

TOLERANCE = 0.02


@pytest.fixture(scope="module")
def laws_store(shared, tmp_path_factory):
    if not (shared / "eval" / "stard" / "train.jsonl").is_file():
        pytest.skip("../shared/eval/stard/train.jsonl 不存在：STARD 评测需要共享数据")
    with Store.open(tmp_path_factory.mktemp("laws")) as store:
        ingest_paths(store, [shared / "corpus" / "laws"])
        yield store


def test_stard_bm25_keeps_its_record_and_every_article_resolves(laws_store, shared):
    path = shared / "eval" / "stard" / "train.jsonl"
    recorded = json.loads((RESULTS / "stard.json").read_text(encoding="utf-8"))
    results = evaluate_stard(laws_store, systems_for(laws_store, None, ("bm25",)), path)
    assert results["questions"] == len(load_stard(path)) == recorded["questions"]
    assert results["unresolved_articles"] == 0
    for metric in ("R@10", "R@100", "MRR@10"):
        assert results["systems"]["bm25"][metric] >= recorded["systems"]["bm25"][metric] - TOLERANCE, metric
    # A law-level hit is easier than an article-level one.
    assert results["law_level"]["bm25"]["R@100"] >= results["systems"]["bm25"]["R@100"]
