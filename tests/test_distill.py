"""The distilled static encoder: built from a small store by the real e5 teacher, saved, reloaded, used."""

from __future__ import annotations

import json

import numpy as np

from conftest import CORPUS
from eval.bench import run_bench
from index import Searcher, Store, embed_missing, ingest_paths
from index.distill import MANIFEST, distill
from index.encoders import E5Encoder, load_encoder


def test_distilled_encoder_embeds_and_retrieves(tmp_path):
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [CORPUS / "state_council" / "39_国发〔2018〕39号.txt"])
        folder = distill(store, E5Encoder(), store.segmenter, tmp_path / "static", max_words=400, dimensions=64)
        manifest = json.loads((folder / MANIFEST).read_text())
        assert manifest["dimensions"] == 64 and manifest["teacher"].startswith("e5:")
        encoder = load_encoder(f"static:{folder}")
        vectors = encoder.encode_passages(["失业保险", "创业担保贷款", "未登录的词语饕餮"])
        assert vectors.shape == (3, 64) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
        assert embed_missing(store, encoder) == store.counts()["units"]
        hits = Searcher(store, encoder).search("创业担保贷款贴息", k=3, mode="dense")
        assert any(hit.clause_id.endswith("s2.p3") for hit in hits)  # a 400-word, 64-d model: top 3


def test_bench_runs_the_whole_pipeline_at_a_small_scale(tmp_path):
    """`policykb bench` machinery on 200 synthetic clauses with a distilled encoder: every stage timed."""
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [CORPUS / "state_council" / "39_国发〔2018〕39号.txt"])
        folder = distill(store, E5Encoder(), store.segmenter, tmp_path / "static", max_words=300, dimensions=32)
        result = run_bench(store, tmp_path / "work", load_encoder(f"static:{folder}"), 200, tmp_path / "out")
    assert result["documents"] == 2 and result["units"] >= 200 and result["embedded"] == result["units"]
    assert set(result["ingest_seconds_by_stage"]) == {"read", "structure", "segment", "store_and_index"}
    stages = result["ingest_seconds_by_stage"]  # rounded to 10 ms: reading two small files shows as 0
    assert stages["structure"] > 0 and stages["segment"] > 0 and min(stages.values()) >= 0
    latency = result["latency"]
    assert latency["vector_index"] == "flat" and latency["vector_recall_at_10_vs_exact"] == 1.0
    assert 0 < latency["search_excluding_encoder"]["p50_ms"] <= latency["search_excluding_encoder"]["p99_ms"]
    assert set(result["index_bytes_per_clause"]) == {"lexical"}  # exact vectors: no graph file
    assert set(result["searcher_open_seconds_after"]) == {"replacing_a_document", "deleting_it"}
    assert json.loads((tmp_path / "out" / "bench-0k.json").read_text())["units"] == result["units"]
